import { reverseMode } from '../ad/reverse.ts';
import { NameSupply, simplify } from '../ir/builder.ts';
import { constants, isBuiltin } from '../ir/builtins.ts';
import { constant, forEachInstr, readsOf, variable, type IrFunction, type Op, type Operand } from '../ir/ir.ts';
import { lowerFunction } from '../ir/lower.ts';
import { optimize } from '../ir/optimize.ts';
import { assertNever, leftSpine, type BinaryOp, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import type { Graph } from './graph.ts';
import { generatedForm, run } from './interpret.ts';
import { ruleDerivative, type Arg } from './partials.ts';

/**
 * What an expression evaluates to, as lowering sees it: a node of the graph, or a number or a
 * condition that is not a node. `folded` says the compiler knows it at compile time (a literal, pi,
 * an operation on such): it is then a constant in the IR. Anything bound to a name (a `let`, the
 * result of an `if`) is a variable there, even when its value never changes.
 */
type Value =
  | { readonly kind: 'node'; readonly id: string; readonly value: number; readonly active: boolean }
  | { readonly kind: 'number'; readonly value: number; readonly folded: boolean }
  | { readonly kind: 'condition'; readonly value: boolean; readonly folded: boolean };

// The same spelling-to-operation map as src/ir/lower.ts.
const binaryOps: Record<BinaryOp, Op> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '^': 'pow',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
  and: 'and',
  or: 'or',
};
const aliases = new Map<string, Op>([
  ['ln', 'log'],
  ['pow', 'pow'],
]);
const isCondition = (op: Op) => ['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or', 'not'].includes(op);

/**
 * The seed's view (Fig. 2.1): one node per user-function call and per built-in or operator in the
 * explained function's own body; constants are folded into the partials. It follows
 * src/ir/lower.ts step by step (simplification, folding, `if` on a constant), so that what it
 * computes is what the generated code computes. A call's value, partials and contributions come
 * from the callee's reverse sweep as the compiler writes it inline (see `wrapper`), run at the
 * argument values. Only the branch of an `if` that is taken is evaluated.
 */
export function buildCollapsed(
  g: Graph,
  fn: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  point: readonly number[],
): { output: string; inputs: string[] } {
  const num = (v: Value): number => (v.kind === 'condition' ? +v.value : v.value);
  const isFolded = (v: Value) => v.kind !== 'node' && v.folded;

  // One gradient per callee and folded arguments (those are part of the code, as when inlined),
  // with the parameters whose adjoint the reverse sweep touches at all: before the optimiser, an
  // adjoint nobody contributes to is the constant 0, while one that an `if` starts at 0 is a
  // variable (and that 0 flows on, as it does inline).
  const gradients = new Map<string, { ir: IrFunction; touched: Set<string> }>();
  const gradientOf = (callee: FunctionDecl, args: readonly Value[], detached = false) => {
    const folded = args.map((a) => (isFolded(a) ? num(a) : undefined));
    const key = `${detached ? 'detached ' : ''}${callee.name}(${folded.map((c) => (c === undefined ? '_' : Object.is(c, -0) ? '-0' : String(c))).join(',')})`;
    let entry = gradients.get(key);
    if (!entry) {
      const lowered = lowerFunction(wrapper(callee, folded, detached ? 'detached' : 'scaled'), table);
      const raw = reverseMode(lowered.ir, lowered.names);
      const touched = new Set(raw.gradient!.filter((x) => x.adjoint.kind !== 'const' || x.adjoint.value !== 0).map((x) => x.param.sourceName));
      entry = { ir: optimize(raw, lowered.names), touched };
      gradients.set(key, entry);
    }
    return entry;
  };

  // A call lowered on its own, with folded arguments written in: which parameters its code reads.
  const probes = new Map<string, IrFunction>();
  const probe = (callee: FunctionDecl, folded: readonly (number | undefined)[]): IrFunction => {
    const key = `${callee.name}(${folded.map((c) => (c === undefined ? '_' : Object.is(c, -0) ? '-0' : String(c))).join(',')})`;
    let ir = probes.get(key);
    if (!ir) probes.set(key, (ir = lowerFunction(wrapper(callee, folded, 'plain'), table).ir));
    return ir;
  };

  const scope = new Map<string, Value>();
  fn.params.forEach((p, i) => {
    g.add({ id: p.name, kind: 'input', label: p.name, span: p.span, op: 'param', value: point[i], active: !p.isConst });
    scope.set(p.name, { kind: 'node', id: p.name, value: point[i], active: !p.isConst });
  });

  /** A name's value: a variable in the IR (a `let` or the result of an `if`), never folded. */
  const bound = (v: Value): Value => (v.kind === 'node' ? v : { ...v, folded: false });

  /**
   * A built-in or an operator, as `Builder.op` makes it: folded when every argument is folded,
   * simplified away (x·1, x/1, x^1) or rewritten (x·-1 is -x), otherwise a node — or, for a
   * comparison or `and`/`or`/`not`, a condition.
   */
  const operation = (op: Op, args: readonly Value[], e: Expr): Value => {
    const operands: Operand[] = args.map((a, i) => (isFolded(a) ? constant(num(a)) : variable(`a${i}`)));
    const simplified = simplify({ op, args: operands });
    const argOf = (o: Operand): Value => (o.kind === 'const' ? { kind: 'number', value: o.value, folded: true } : args[Number(o.name.slice(1))]);
    if (!('op' in simplified)) {
      if (simplified.kind === 'var') return argOf(simplified);
      return isCondition(op) ? { kind: 'condition', value: simplified.value !== 0, folded: true } : { kind: 'number', value: simplified.value, folded: true };
    }
    const used = simplified.args.map(argOf);
    const env = new Map(used.map((a, i) => [`b${i}`, num(a)] as const));
    const value = generatedForm([], { op: simplified.op, args: used.map((a, i) => (isFolded(a) ? constant(num(a)) : variable(`b${i}`))) }, new NameSupply())(env);
    if (typeof value === 'boolean') return { kind: 'condition', value, folded: false };
    if (!used.some((a) => a.kind === 'node')) return { kind: 'number', value, folded: false }; // on constant variables only
    const active = used.some((a) => a.kind === 'node' && a.active);
    const id = g.nextId();
    g.add({ id, kind: e.kind === 'call' ? 'builtin' : 'operator', label: g.label(e.span), span: e.span, op: simplified.op, value, active });
    const asArg = (a: Value): Arg => ({ value: num(a), isConstant: isFolded(a) });
    used.forEach((a, k) => {
      if (a.kind !== 'node') return;
      const d = active && a.active ? ruleDerivative(simplified.op, used.map(asArg), k, value) : undefined;
      g.edge({ from: id, to: a.id, argIndex: k, partial: d?.partial, ...(d?.blocked ? { blocked: true } : {}) }, d?.contribution);
    });
    return { kind: 'node', id, value, active };
  };

  const call = (callee: FunctionDecl, args: readonly Value[], e: Expr): Value => {
    // The inlined call may fold to a constant (every argument folded, or a callee that ignores
    // them): the caller then sees a constant. The node stays, for what an `if` inside sends back.
    const plain = probe(callee, args.map((a) => (isFolded(a) ? num(a) : undefined))).value;
    const folded: Value | undefined = plain.kind === 'const' ? { kind: 'number', value: plain.value, folded: true } : undefined;
    if (folded && args.every(isFolded)) return folded;
    const { ir, touched } = gradientOf(callee, args);
    const inputs = args.filter((a) => !isFolded(a)).map(num);
    // The callee's reverse sweep as the inlined code runs it, for the call's adjoint ḡ.
    const sweeps = new Map<string, Map<string, number>>();
    const sweep = (gbar: number) => {
      const key = Object.is(gbar, -0) ? '-0' : String(gbar);
      let r = sweeps.get(key);
      if (!r) sweeps.set(key, (r = run(ir, [...inputs, gbar]).gradient));
      return r;
    };
    const value = run(ir, [...inputs, 1]).value;
    if (!args.some((a) => a.kind === 'node')) return folded ?? { kind: 'number', value, folded: false };
    const active = args.some((a) => a.kind === 'node' && a.active);
    // What the callee's reverse sweep adds when the call has no adjoint: only an `if` in it can add anything.
    const loose = active ? gradientOf(callee, args, true) : undefined;
    const alone = loose && run(loose.ir, [...inputs, 1]).gradient;
    const id = g.nextId();
    g.add({ id, kind: 'call', label: callee.name, span: e.span, op: callee.name, value, active });
    args.forEach((a, k) => {
      if (a.kind !== 'node') return;
      const parameter = callee.params[k].name;
      // No derivative when the argument is constant, or when the callee's reverse sweep never touches the parameter.
      if (!active || !a.active || !touched.has(`a${k}`)) {
        g.edge({ from: id, to: a.id, argIndex: k, parameter, partial: undefined });
        return;
      }
      const contribution = (gbar: number) => sweep(gbar).get(`a${k}`)!;
      const blocked = !Number.isNaN(contribution(NaN));
      const detached = loose!.touched.has(`a${k}`) ? alone!.get(`a${k}`) : undefined;
      g.edge({ from: id, to: a.id, argIndex: k, parameter, partial: contribution(1), ...(blocked ? { blocked: true } : {}) }, contribution, detached);
    });
    return folded ?? { kind: 'node', id, value, active };
  };

  /**
   * As in src/ad/reverse.ts: before an `if`, the reverse sweep starts at 0 the adjoint of every
   * active variable from outside that an instruction in either branch reads — the branch not taken
   * included. Outside values reach a branch only through names (parameters and `let`s).
   */
  const declareReads = (e: Expr, at: Expr): void => {
    for (const name of namesRead(e, scope, table, probe)) {
      const v = scope.get(name);
      if (v?.kind === 'node' && v.active) g.declare(v.id, at.span);
    }
  };

  const evaluate = (e: Expr): Value => {
    switch (e.kind) {
      case 'number':
        return { kind: 'number', value: e.value, folded: true };
      case 'name':
        return scope.get(e.name) ?? { kind: 'number', value: constants.get(e.name)!, folded: true };
      case 'unary': {
        const v = evaluate(e.operand);
        if (e.op === '+') return v;
        return operation(e.op === '-' ? 'neg' : 'not', [v], e);
      }
      case 'binary': {
        // Left to right, as lowering does it (both sides of `and`/`or` too); chains in a loop.
        const { base, chain } = leftSpine(e);
        let acc = evaluate(base);
        for (const node of chain) acc = operation(binaryOps[node.op], [acc, evaluate(node.right)], node);
        return acc;
      }
      case 'call': {
        const args = e.args.map(evaluate);
        const alias = aliases.get(e.callee);
        if (alias) return operation(alias, args, e);
        if (isBuiltin(e.callee)) return operation(e.callee, args, e);
        return call(table.get(e.callee)!, args, e);
      }
      case 'if': {
        const condition = evaluate(e.condition);
        // A condition known at compile time keeps only its branch; otherwise the code has both.
        if (!isFolded(condition)) {
          declareReads(e.then, e);
          declareReads(e.else, e);
        }
        return bound(evaluate(condition.value ? e.then : e.else));
      }
      default:
        return assertNever(e);
    }
  };

  for (const s of fn.body) {
    const v = evaluate(s.value);
    if (s.kind === 'let') {
      scope.set(s.name, bound(v));
      if (v.kind === 'node') {
        const node = g.nodes.find((n) => n.id === v.id)!;
        if (node.kind !== 'input' && node.variable === undefined) node.variable = s.name;
      }
      continue;
    }
    let output: string;
    if (v.kind === 'node') output = v.id;
    else {
      // A constant result: a node of its own, so the graph has an output.
      output = g.nextId();
      g.add({ id: output, kind: 'constant', label: g.label(s.value.span), span: s.value.span, op: 'const', value: num(v), active: false });
    }
    return { output, inputs: fn.params.filter((p) => !p.isConst).map((p) => p.name) };
  }
  throw new Error(`internal error: '${fn.name}' has no return`);
}

/** An operand as lowering produces it, without values: a constant, a name's variable, or a temporary. */
type Sym = { readonly kind: 'const'; readonly value: number } | { readonly kind: 'name'; readonly name: string } | { readonly kind: 'temp' };

/**
 * The names (parameters and `let`s) whose variables an instruction of `e`'s code reads, following
 * src/ir/lower.ts without evaluating anything: folding and simplification (x·1 reads nothing, it is
 * x), `if` on a constant (one branch only), and calls, whose code is lowered to see which of their
 * parameters it reads and whether it returns one of them as it is.
 */
function namesRead(
  e: Expr,
  scope: ReadonlyMap<string, Value>,
  table: ReadonlyMap<string, FunctionDecl>,
  probe: (callee: FunctionDecl, folded: readonly (number | undefined)[]) => IrFunction,
): Set<string> {
  const read = new Set<string>();
  const consume = (s: Sym) => {
    if (s.kind === 'name') read.add(s.name);
  };
  const operand = (s: Sym, i: number): Operand => (s.kind === 'const' ? constant(s.value) : variable(`s${i}`));
  /** `Builder.op`: folded, simplified to one of its operands, or an instruction that reads them all. */
  const op = (o: Op, args: readonly Sym[]): Sym => {
    const r = simplify({ op: o, args: args.map(operand) });
    if (!('op' in r)) return r.kind === 'const' ? r : args[Number(r.name.slice(1))];
    args.forEach(consume);
    return { kind: 'temp' };
  };
  const lower = (x: Expr): Sym => {
    switch (x.kind) {
      case 'number':
        return { kind: 'const', value: x.value };
      case 'name':
        return scope.has(x.name) ? { kind: 'name', name: x.name } : { kind: 'const', value: constants.get(x.name)! };
      case 'unary': {
        const v = lower(x.operand);
        return x.op === '+' ? v : op(x.op === '-' ? 'neg' : 'not', [v]);
      }
      case 'binary': {
        const { base, chain } = leftSpine(x);
        let acc = lower(base);
        for (const node of chain) acc = op(binaryOps[node.op], [acc, lower(node.right)]);
        return acc;
      }
      case 'call': {
        const args = x.args.map(lower);
        const alias = aliases.get(x.callee);
        if (alias) return op(alias, args);
        if (isBuiltin(x.callee)) return op(x.callee, args);
        const ir = probe(
          table.get(x.callee)!,
          args.map((a) => (a.kind === 'const' ? a.value : undefined)),
        );
        const reads = new Set<string>();
        forEachInstr(ir.body, (i) => readsOf(i).forEach((r) => r.kind === 'var' && reads.add(r.name)));
        args.forEach((a, k) => {
          if (a.kind !== 'const' && reads.has(ir.params.find((p) => p.sourceName === `a${k}`)!.name)) consume(a);
        });
        if (ir.value.kind === 'const') return { kind: 'const', value: ir.value.value };
        const returned = ir.params.findIndex((p) => ir.value.kind === 'var' && p.name === ir.value.name);
        if (returned >= 0) return args[Number(ir.params[returned].sourceName.slice(1))];
        return { kind: 'temp' };
      }
      case 'if': {
        const c = lower(x.condition);
        // `let t = copy(taken)` on a constant condition; otherwise `set t = copy(…)` in each branch.
        if (c.kind === 'const') consume(lower(c.value !== 0 ? x.then : x.else));
        else {
          consume(lower(x.then));
          consume(lower(x.else));
        }
        return { kind: 'temp' };
      }
      default:
        return assertNever(x);
    }
  };
  // The branch's value is read by the `set` that makes it the `if`'s result.
  consume(lower(e));
  return read;
}

/**
 * A function around one call, built as an AST: a parameter `a<k>` for each argument that is not
 * folded, and each folded argument written in as a number, as it is when the call is inlined.
 *   scaled:   `fn callee'(a…, const gbar) = callee(args) * gbar` — its gradient is the callee's
 *             reverse sweep exactly as the compiler writes it inline, every parameter
 *             differentiated (a `const` parameter of the callee can receive an active argument),
 *             with the call's adjoint ḡ an input instead of 1;
 *   detached: the call's result unused (`let r = callee(args)`, returning gbar);
 *   plain:    `= callee(args)`, to see whether the call folds to a constant.
 */
function wrapper(callee: FunctionDecl, folded: readonly (number | undefined)[], form: 'scaled' | 'detached' | 'plain'): FunctionDecl {
  const at = callee.span;
  const name = (n: string): Expr => ({ kind: 'name', name: n, span: at });
  const params = folded.flatMap((c, k) => (c === undefined ? [{ name: `a${k}`, span: at, isConst: false }] : []));
  const args = folded.map((c, k): Expr => (c === undefined ? name(`a${k}`) : { kind: 'number', value: c, span: at }));
  const call: Expr = { kind: 'call', callee: callee.name, calleeSpan: at, args, span: at };
  const scaled: Expr = { kind: 'binary', op: '*', left: call, right: name('gbar'), span: at, opSpan: at };
  const body: FunctionDecl['body'] =
    form === 'plain'
      ? [{ kind: 'return', value: call, span: at }]
      : form === 'scaled'
        ? [{ kind: 'return', value: scaled, span: at }]
        : [
            { kind: 'let', name: 'r', nameSpan: at, value: call, span: at },
            { kind: 'return', value: name('gbar'), span: at },
          ];
  return {
    kind: 'function',
    name: callee.name,
    nameSpan: callee.nameSpan,
    params: form === 'plain' ? params : [...params, { name: 'gbar', span: at, isConst: true }],
    body,
    endSpan: at,
    span: at,
  };
}
