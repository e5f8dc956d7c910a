import { reverseMode } from '../ad/reverse.ts';
import type { LineMap, Span } from '../diagnostics/span.ts';
import { adjointName } from '../emit/names.ts';
import { isBuiltin } from '../ir/builtins.ts';
import { definesOf, forEachInstr, isBooleanOp, type Expr, type Instr, type Operand, type Origin, type Reduction } from '../ir/ir.ts';
import { lowerFunction } from '../ir/lower.ts';
import { nestedDerivative } from '../ad/nested.ts';
import { assertNever, type FunctionDecl } from '../syntax/ast.ts';
import type { EdgeCode, Graph } from './graph.ts';
import { generatedForm, zeroStartedAdjoints, type Scalar } from './interpret.ts';
import { shorten } from './labels.ts';
import { ruleDerivative } from './partials.ts';
import type { ControlStep, PointValue } from './types.ts';

/**
 * The most nodes an unrolled graph may have (inputs, one per array element, included). A report
 * lists every node and edge, and a reader follows a few hundred at most; the collapsed and expanded
 * views of 1,200 lets (3,600 nodes) are the largest explained before, in about a second.
 */
export const maxUnrolledNodes = 2000;

/**
 * The most IR instructions (and loop iterations) run to build one graph. A loop whose iterations
 * make no nodes (on constants only) still costs time: past this, explain stops at once with the
 * size message instead of running a million iterations.
 */
export const maxUnrolledSteps = 100_000;

/** The computation at the point is larger than the limits above (a usage mistake: explain it at a smaller size). */
export class TooLarge extends Error {}

/** The function's code throws at the point (a range check), as the generated code would. */
export class Stopped extends Error {}

/** Two array arguments disagree about a size (`n`), as the generated code's prologue would say: a usage mistake. */
export class SizeMismatch extends Error {}

/** The array elements of a vector (or of one row of a matrix): their values, and the node holding each (none for a constant). */
interface Cells {
  readonly values: number[];
  readonly nodes: (string | undefined)[];
}
type Value = Scalar | Cells | Cells[];

/** A computed value, with the node that holds it (none when it does not depend on an input). */
interface Computed {
  readonly value: Scalar;
  readonly node?: string;
}

/**
 * The unrolled view, for functions with arrays or statements: the primal IR (`lowerFunction`,
 * callees inlined) run at the point, one node per operation actually executed and per array
 * element. Loops are unrolled (a node per iteration, labelled with the loop indices), only the
 * branch taken of an `if` runs, and a `while` runs until its condition fails or its `max`.
 * Elements are per-element nodes rather than one node per array operation: then every value and
 * partial is one number, and the sweeps, the paths and forward mode are the same as for scalar
 * functions (a vector node would need a Jacobian on each edge, which no report shows readably).
 *
 * Loads, rows and copies make no node: they hand on the node of the element or variable read, so
 * the graph is the data flow of the numbers. A reduction is one node with an edge to each term
 * (partial 1 for a sum, the product of the other terms for prod, 1 to the selected term of max
 * and min, exp(term − result) for logsumexp), as the reverse sweep differentiates it. Partials of
 * operations come from the derivative table, as in the expanded view.
 *
 * Throws `TooLarge` past `maxUnrolledNodes` or `maxUnrolledSteps`, and `Stopped` where the
 * generated code throws (an index out of range).
 */
export function buildUnrolled(
  g: Graph,
  fn: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  point: readonly PointValue[],
  lines: LineMap,
): { output: string; inputs: string[]; control: ControlStep[] } {
  const { ir, names } = lowerFunction(fn, table, nestedDerivative);
  const env = new Map<string, Value>();
  /** The node a scalar variable holds, when its value depends on an input. */
  const nodeOf = new Map<string, string>();
  const inputs: string[] = [];
  let steps = 0;

  const tooLarge = (what: string) =>
    new TooLarge(
      `the computation of '${fn.name}' at this point ${what}, too many to explain (at most ${maxUnrolledNodes} nodes and ${maxUnrolledSteps} operations run); ` +
        'explain it with smaller arrays or fewer iterations',
    );
  const tick = (n = 1) => {
    steps += n;
    if (steps > maxUnrolledSteps) throw tooLarge(`runs more than ${maxUnrolledSteps} operations`);
  };
  const addNode = (node: Parameters<Graph['add']>[0]) => {
    if (g.nodes.length >= maxUnrolledNodes) throw tooLarge(`has more than ${maxUnrolledNodes} nodes (one per operation run and per array element)`);
    g.add(node);
    return node.id;
  };

  // The enclosing loops' indices, for labels: `t=2: x + dt * v` (in front, so that shortening keeps them).
  const indices: { name: string; value: number }[] = [];
  const sourceName = (name: string) => name.replace(/\$\d+$/, '');
  const label = (span: Origin['span']) => {
    const text = g.label(span);
    return indices.length === 0 ? text : `${indices.map((i) => `${sourceName(i.name)}=${i.value}`).join(',')}: ${text}`;
  };

  // The inputs: a node per parameter, and per element of an array parameter (`x[1]`, `A[0,1]`).
  const sizeFrom = new Map<string, string>();
  const bindSize = (size: string | number, sizeName: string, actual: number, param: string, what: string) => {
    const known = typeof size === 'number' ? size : (env.get(size) as number | undefined);
    if (known === undefined) {
      env.set(size as string, actual);
      sizeFrom.set(size as string, param);
      return;
    }
    if (known === actual) return;
    const from = typeof size === 'number' ? `its type says ${size}` : `${sizeName} is ${known} (from '${sizeFrom.get(size)}')`;
    throw new SizeMismatch(`'${param}' has ${actual} ${what}, but ${from}`);
  };
  ir.params.forEach((p, k) => {
    const decl = fn.params[k];
    const v = point[k];
    const active = !p.isConst;
    const input = (id: string, value: number) => {
      addNode({ id, kind: 'input', label: id, span: decl.span, op: 'param', value, active });
      if (active) inputs.push(id);
      return id;
    };
    const sizes = p.shape?.sizes.map((s) => (typeof s === 'number' ? { at: s, name: String(s) } : { at: s.name, name: s.sourceName }));
    if (!sizes) {
      env.set(p.name, v as number);
      nodeOf.set(p.name, input(p.sourceName, v as number));
    } else if (p.shape!.kind === 'vec') {
      const values = [...(v as readonly number[])];
      bindSize(sizes[0].at, sizes[0].name, values.length, p.sourceName, 'elements');
      env.set(p.name, { values, nodes: values.map((x, i) => input(`${p.sourceName}[${i}]`, x)) });
    } else {
      const rows = v as readonly (readonly number[])[];
      bindSize(sizes[0].at, sizes[0].name, rows.length, p.sourceName, 'rows');
      rows.forEach((r) => bindSize(sizes[1].at, sizes[1].name, r.length, p.sourceName, 'columns'));
      env.set(
        p.name,
        rows.map((r, i) => ({ values: [...r], nodes: r.map((x, j) => input(`${p.sourceName}[${i},${j}]`, x)) })),
      );
    }
  });

  // A matrix without rows says nothing about its columns: with no other array giving that size, it is 0.
  ir.params.forEach((p) => {
    const columns = p.shape?.kind === 'mat' ? p.shape.sizes[1] : undefined;
    if (columns !== undefined && typeof columns !== 'number' && !env.has(columns.name)) env.set(columns.name, 0);
  });

  const scalar = (o: Operand): Scalar => {
    if (o.kind === 'const') return o.value;
    const v = env.get(o.name);
    if (v === undefined || typeof v === 'object') throw new Error(`internal error: '${o.name}' is not a number here`);
    return v;
  };
  const operand = (o: Operand): Computed => {
    const value = scalar(o);
    const node = o.kind === 'var' ? nodeOf.get(o.name) : undefined;
    return node === undefined ? { value } : { value, node };
  };

  // Each operation as the generated code computes it (after strength reduction), made once per expression.
  const forms = new WeakMap<Expr, (env: ReadonlyMap<string, Scalar>) => Scalar>();
  const evaluate = (expr: Expr): Scalar => {
    let form = forms.get(expr);
    if (!form) forms.set(expr, (form = generatedForm([], expr, names)));
    const scope = new Map<string, Scalar>();
    for (const a of expr.args) if (a.kind === 'var') scope.set(a.name, scalar(a));
    return form(scope);
  };

  /** An operation's value, and its node when an argument has one. */
  const compute = (expr: Expr, origin: Origin, target?: string): Computed => {
    if (expr.op === 'copy') return operand(expr.args[0]);
    if (expr.op === 'load') {
      const cells = env.get((expr.args[0] as Extract<Operand, { kind: 'var' }>).name) as Cells;
      const i = scalar(expr.args[1]) as number;
      if (!(i >= 0 && i < cells.values.length)) throw new Error(`internal error: a read outside an array at ${i}`);
      const node = cells.nodes[i];
      return node === undefined ? { value: cells.values[i] } : { value: cells.values[i], node };
    }
    const value = evaluate(expr);
    const args = expr.args.map(operand);
    // Only what depends on a differentiated input is a node: a loop bound or `dt * t` on const
    // inputs is a number here, as a constant is (unrolled, they would crowd the graph).
    const active = args.some((a) => a.node !== undefined && g.node(a.node).active);
    if (typeof value === 'boolean' || isBooleanOp(expr.op) || !active) return { value };
    const id = addNode({ id: g.nextId(), kind: isBuiltin(expr.op) ? 'builtin' : 'operator', label: label(origin.span), span: origin.span, op: expr.op, ...(target ? { variable: target } : {}), value, active });
    const values = expr.args.map((a, k) => ({ value: Number(args[k].value), isConstant: a.kind === 'const' }));
    args.forEach((a, k) => {
      if (a.node === undefined) return;
      const d = active && g.node(a.node).active ? ruleDerivative(expr.op, values, k, value) : undefined;
      g.edge({ from: id, to: a.node, argIndex: k, partial: d?.partial, ...(d?.blocked ? { blocked: true } : {}) }, { contribution: d?.contribution, passThrough: d?.passThrough, withConstant: d?.withConstant });
    });
    return { value, node: id };
  };

  const setScalar = (name: string, c: Computed) => {
    env.set(name, c.value);
    if (c.node === undefined) nodeOf.delete(name);
    else nodeOf.set(name, c.node);
  };

  // What each `if` and loop did, in the order first reached.
  const control = new Map<Instr, { -readonly [K in keyof ControlStep]: ControlStep[K] }>();
  const head = (instr: Instr) => {
    const text = g.text(instr.origin.span);
    // A statement's head (`for t in 0..steps`, `if x > 0`) rather than its whole block.
    const brace = text.indexOf('{');
    return shorten((brace > 0 ? text.slice(0, brace) : text).replace(/\s+/g, ' ').trim(), 60);
  };
  const record = (instr: Extract<Instr, { kind: 'if' | 'loop' }>) => {
    let step = control.get(instr);
    if (!step) {
      const kind = instr.kind === 'if' ? 'if' : instr.exit ? 'while' : 'loop';
      step = { kind, text: head(instr), location: lines.position(instr.origin.span.start), reached: 0 };
      control.set(instr, step);
    }
    step.reached++;
    return step;
  };

  const run = (block: readonly Instr[]) => {
    for (const instr of block) {
      tick();
      switch (instr.kind) {
        case 'const':
        case 'let':
        case 'set':
          if (!instr.expr) break;
          if (instr.expr.op === 'row') {
            env.set(instr.target, (env.get((instr.expr.args[0] as Extract<Operand, { kind: 'var' }>).name) as Cells[])[scalar(instr.expr.args[1]) as number]);
            break;
          }
          if (instr.expr.op === 'copy' && instr.expr.args[0].kind === 'var' && typeof env.get(instr.expr.args[0].name) === 'object') {
            env.set(instr.target, env.get(instr.expr.args[0].name)!); // an array handed on
            break;
          }
          setScalar(instr.target, compute(instr.expr, instr.origin, instr.target));
          break;
        case 'add':
          throw new Error("internal error: '+=' in a primal function");
        case 'if': {
          const taken = scalar(instr.condition) ? 'then' : 'else';
          const step = record(instr);
          step[taken] = (step[taken] ?? 0) + 1;
          run(instr[taken]);
          break;
        }
        case 'loop':
          loop(instr);
          break;
        case 'store': {
          if (instr.accumulate) throw new Error("internal error: '+=' in a primal function");
          const cells = env.get(instr.array) as Cells;
          const i = scalar(instr.index) as number;
          const c = compute(instr.expr, instr.origin);
          cells.values[i] = c.value as number;
          cells.nodes[i] = c.node;
          break;
        }
        case 'array': {
          const length = scalar(instr.length) as number;
          const rows = instr.rows ? (scalar(instr.rows) as number) : undefined;
          tick(length * (rows ?? 1));
          const cells = (): Cells => ({ values: new Array<number>(length).fill(0), nodes: new Array<string | undefined>(length).fill(undefined) });
          env.set(instr.target, rows === undefined ? cells() : Array.from({ length: rows }, cells));
          break;
        }
        case 'check':
          check(instr);
          break;
        default:
          assertNever(instr);
      }
    }
  };

  /** A range check, as the generated code makes it (src/emit/js/emit-js.ts): where it would throw a RangeError, explain stops. */
  const check = (instr: Extract<Instr, { kind: 'check' }>) => {
    const i = scalar(instr.index) as number;
    const where = `${fn.name}, line ${lines.position(instr.origin.statement.start).line}: ${instr.message} is ${i}`;
    if (instr.bound) {
      if (!Number.isSafeInteger(i)) throw new Stopped(`${where}, not a whole number a loop can count to (within 2^53)`);
      return;
    }
    const n = scalar(instr.length) as number;
    const from = instr.from ? (scalar(instr.from) as number) : 0;
    if (!(i >>> 0 === i && i >= from && i < n)) throw new Stopped(`${where}, outside ${instr.from ? `the elements defined, ${from}..${n - 1}` : `0..${n - 1}`}`);
  };

  const loop = (instr: Extract<Instr, { kind: 'loop' }>) => {
    const from = scalar(instr.from) as number;
    const to = scalar(instr.to) as number;
    const step = record(instr);
    const r = instr.reduction;
    const terms: Computed[] = [];
    const index = { name: instr.index, value: 0 };
    indices.push(index);
    let iterations = 0;
    let stopped = false;
    for (let i = instr.descending ? to - 1 : from; instr.descending ? i >= from : i < to; instr.descending ? i-- : i++) {
      tick();
      index.value = i;
      env.set(instr.index, i);
      if (instr.exit) {
        run(instr.exit.body);
        if (!scalar(instr.exit.condition)) {
          stopped = true;
          break;
        }
      }
      run(instr.body);
      if (r) terms.push(operand(r.value));
      iterations++;
    }
    indices.pop();
    step.iterations = (step.iterations ?? 0) + iterations;
    if (instr.exit && !stopped) step.reachedMax = (step.reachedMax ?? 0) + 1;
    if (r) reduce(r, terms, instr.origin);
  };

  /** A reduction's result as the generated code computes it, and its node with an edge to each term that has one. */
  const reduce = (r: Reduction, terms: readonly Computed[], origin: Origin) => {
    const t = terms.map((c) => c.value as number);
    let result: number;
    let partial: (k: number) => number;
    let blocked = (_k: number) => false;
    switch (r.op) {
      case 'sum':
        result = 0;
        for (const x of t) result += x;
        partial = () => 1;
        break;
      case 'prod': {
        // Zeros are counted, not multiplied in; the partial is the product of the other terms.
        let nonzero = 1;
        let zeros = 0;
        for (const x of t) {
          if (x === 0) zeros++;
          else nonzero *= x;
        }
        result = zeros === 0 ? nonzero : 0 * nonzero;
        env.set(r.nonzero!, nonzero);
        env.set(r.zeros!, zeros);
        partial = (k) => {
          let p = 1;
          t.forEach((x, j) => j !== k && (p *= x));
          return p;
        };
        break;
      }
      case 'max':
      case 'min': {
        // The first index reaching the extreme; a NaN term makes the result NaN. Only it gets the adjoint.
        result = r.op === 'max' ? -Infinity : Infinity;
        let arg = -1;
        t.forEach((x, k) => {
          if ((r.op === 'max' ? x > result : x < result) || arg < 0 || x !== x) {
            result = x;
            arg = k;
          }
        });
        env.set(r.arg!, arg);
        partial = (k) => (k === arg ? 1 : 0);
        blocked = (k) => k !== arg;
        break;
      }
      case 'logsumexp': {
        let max = -Infinity;
        let sum = 0;
        for (const x of t) {
          if (x > max) {
            sum = (sum + 1) * Math.exp(max - x);
            max = x;
          } else if (x !== -Infinity && x !== Infinity) sum += Math.exp(x - max);
        }
        result = max + Math.log1p(sum);
        partial = (k) => Math.exp(t[k] - result);
        break;
      }
      default:
        return assertNever(r.op);
    }
    const active = terms.some((c) => c.node !== undefined && g.node(c.node).active);
    if (!active) {
      setScalar(r.target, { value: result });
      return;
    }
    const id = addNode({ id: g.nextId(), kind: 'reduction', label: label(origin.span), span: origin.span, op: r.op, variable: r.target, value: result, active });
    terms.forEach((c, k) => {
      if (c.node === undefined) return;
      if (!active || !g.node(c.node).active) {
        g.edge({ from: id, to: c.node, argIndex: k, partial: undefined });
        return;
      }
      const p = partial(k);
      const code: EdgeCode = blocked(k)
        ? { contribution: () => 0 }
        : r.op === 'sum'
          ? { contribution: (gbar) => gbar, passThrough: true, withConstant: (c) => ({ value: c, constant: true }) }
          : { contribution: (gbar) => gbar * p };
      g.edge({ from: id, to: c.node, argIndex: k, partial: p, ...(blocked(k) ? { blocked: true } : {}) }, code);
    });
    setScalar(r.target, { value: result, node: id });
  };

  run(ir.body);

  let output: string;
  const result = ir.value.kind === 'var' ? operand(ir.value) : { value: ir.value.value };
  if (result.node !== undefined) output = result.node;
  else {
    // A result that depends on no input: a node of its own, so the graph has an output.
    const last = fn.body[fn.body.length - 1];
    const span = last.kind === 'return' ? last.value.span : fn.span;
    output = addNode({ id: g.nextId(), kind: 'constant', label: g.label(span), span, op: 'const', value: result.value as number, active: false });
  }
  // The adjoints the compiled reverse sweep starts at 0 (before an `if`, or from a min/max's
  // select) and guards, read off the compiler's own reverse sweep of this IR, as in the expanded
  // view. Inside loops the reverse sweep recomputes each iteration under new names, which do not
  // lead back to nodes: those guards are not reproduced (see the README).
  const byAdjoint = new Map<string, string>();
  forEachInstr(ir.body, (i) => {
    for (const target of definesOf(i)) byAdjoint.set(adjointName(target), target);
  });
  const guarded = new Map<string, Span>();
  for (const [name, at] of zeroStartedAdjoints(reverseMode(ir, names).reverse!)) {
    const v = byAdjoint.get(name);
    if (v !== undefined) guarded.set(v, at);
  }
  const zeroStarted = new Map<string, Span>();
  for (const n of g.nodes) if (n.variable !== undefined && guarded.has(n.variable)) zeroStarted.set(n.id, guarded.get(n.variable)!);
  g.zeroStarted = zeroStarted;
  return { output, inputs, control: [...control.values()] };
}

