import { binaryOps } from '../ir/lower.ts';
import { reverseMode } from '../ad/reverse.ts';
import { NameSupply, simplify } from '../ir/builder.ts';
import { constants, isBuiltin } from '../ir/builtins.ts';
import { adjointName } from '../emit/names.ts';
import { isDifferentiable, rules } from '../ad/rules.ts';
import { constant, variable, type IrFunction, type Op, type Operand } from '../ir/ir.ts';
import { lowerFunction } from '../ir/lower.ts';
import { nestedDerivative } from '../ad/nested.ts';
import { optimize } from '../ir/optimize.ts';
import { assertNever, childrenOf, leftSpine, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import type { Graph } from './graph.ts';
import { generatedForm, run, zeroStartedAdjoints } from './interpret.ts';
import { ruleDerivative, type Arg, type Folded } from './partials.ts';

/**
 * What an expression evaluates to, as lowering sees it: a node of the graph, or a number or a
 * condition that is not a node. `folded` says the compiler knows it at compile time (a literal, pi,
 * an operation on such, a `let` of such): it is then a constant in the IR. The result of an `if`
 * is a variable there, even when its value never changes.
 */
type Value =
  | { readonly kind: 'node'; readonly id: string; readonly value: number; readonly active: boolean }
  | { readonly kind: 'number'; readonly value: number; readonly folded: boolean }
  | { readonly kind: 'condition'; readonly value: boolean; readonly folded: boolean };

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

  const keyOf = (callee: FunctionDecl, folded: readonly (number | undefined)[]) =>
    `${callee.name}(${folded.map((c) => (c === undefined ? '_' : Object.is(c, -0) ? '-0' : String(c))).join(',')})`;

  // One gradient per callee, form and folded arguments (those are part of the code, as when
  // inlined), with the parameters whose adjoint its reverse sweep touches at all (before the
  // optimiser, an adjoint nobody adds to is the constant 0) and those it starts at 0.
  const gradients = new Map<string, { ir: IrFunction; touched: Set<string>; zeroStarted: Set<string>; constants: Map<string, number> }>();
  const gradientOf = (callee: FunctionDecl, args: readonly Value[], form: Form = 'scaled') => {
    const folded = args.map((a) => (isFolded(a) ? num(a) : undefined));
    const key = `${typeof form === 'number' ? `×${form}` : form} ${keyOf(callee, folded)}`;
    let entry = gradients.get(key);
    if (!entry) {
      const lowered = lowerFunction(wrapper(callee, folded, form), table, nestedDerivative);
      const raw = reverseMode(lowered.ir, lowered.names);
      const touched = new Set(raw.gradient!.filter((x) => x.adjoint.kind !== 'const' || x.adjoint.value !== 0).map((x) => x.param.sourceName));
      const constants = new Map(raw.gradient!.flatMap((x) => (x.adjoint.kind === 'const' ? [[x.param.sourceName, x.adjoint.value] as const] : [])));
      // Parameters whose adjoint the callee's code guards (started at 0 by an `if`, or by a min/max).
      const byAdjoint = new Map(raw.params.map((p) => [adjointName(p.name), p.sourceName] as const));
      const zeroStarted = new Set([...zeroStartedAdjoints(raw.reverse!).keys()].flatMap((v) => (byAdjoint.has(v) ? [byAdjoint.get(v)!] : [])));
      entry = { ir: optimize(raw, lowered.names), touched, zeroStarted, constants };
      gradients.set(key, entry);
    }
    return entry;
  };

  // A call lowered on its own, with folded arguments written in: whether it folds to a constant,
  // or hands back one of its arguments.
  const probes = new Map<string, IrFunction>();
  const probe = (callee: FunctionDecl, folded: readonly (number | undefined)[]): IrFunction => {
    const key = keyOf(callee, folded);
    let ir = probes.get(key);
    if (!ir) probes.set(key, (ir = lowerFunction(wrapper(callee, folded, 'plain'), table, nestedDerivative).ir));
    return ir;
  };

  const scope = new Map<string, Value>();
  fn.params.forEach((p, i) => {
    g.add({ id: p.name, kind: 'input', label: p.name, span: p.span, op: 'param', value: point[i], active: !p.isConst });
    scope.set(p.name, { kind: 'node', id: p.name, value: point[i], active: !p.isConst });
  });

  /** A value held in a variable of the IR (the result of an `if`, a `let` of anything not folded): never folded. */
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
      g.edge(
        { from: id, to: a.id, argIndex: k, partial: d?.partial, ...(d?.blocked ? { blocked: true } : {}) },
        { contribution: d?.contribution, passThrough: d?.passThrough, zeroStartAt: d?.selects ? e.span : undefined, withConstant: d?.withConstant },
      );
    });
    return { kind: 'node', id, value, active };
  };

  const call = (callee: FunctionDecl, args: readonly Value[], e: Expr): Value => {
    // The inlined call may fold to a constant (every argument folded, or a callee that ignores
    // them): the caller then sees a constant. The node stays, for what an `if` inside sends back.
    const plain = probe(callee, args.map((a) => (isFolded(a) ? num(a) : undefined))).value;
    const folded: Value | undefined = plain.kind === 'const' ? { kind: 'number', value: plain.value, folded: true } : undefined;
    if (folded && args.every(isFolded)) return folded;
    const { ir, touched, zeroStarted } = gradientOf(callee, args);
    const inputs = args.filter((a) => !isFolded(a)).map(num);
    // The callee's reverse sweep as the inlined code runs it, for the call's adjoint ḡ; and as it
    // runs when that adjoint was started at 0 (then every adjoint inside is, and skips while 0).
    const sweeps = new Map<string, Map<string, number>>();
    const sweep = (gbar: number, guarded = false) => {
      const key = `${guarded} ${Object.is(gbar, -0) ? '-0' : String(gbar)}`;
      let r = sweeps.get(key);
      if (!r) sweeps.set(key, (r = guarded ? run(gradientOf(callee, args, 'guarded').ir, [...inputs, gbar, 1]).gradient : run(ir, [...inputs, gbar]).gradient));
      return r;
    };
    const value = run(ir, [...inputs, 1]).value;
    if (!args.some((a) => a.kind === 'node')) return folded ?? { kind: 'number', value, folded: false };
    const active = args.some((a) => a.kind === 'node' && a.active);
    // What the callee's reverse sweep adds when the call has no adjoint: only an `if` in it can add anything.
    const loose = active ? gradientOf(callee, args, 'detached') : undefined;
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
      const guardedContribution = (gbar: number) => sweep(gbar, true).get(`a${k}`) ?? 0;
      const blocked = !Number.isNaN(contribution(NaN));
      const detached = loose!.touched.has(`a${k}`) ? alone!.get(`a${k}`) : undefined;
      const zeroStartAt = zeroStarted.has(`a${k}`) || loose!.zeroStarted.has(`a${k}`) ? e.span : undefined;
      // The call's adjoint a compile-time constant c: the callee's reverse sweep folds with it.
      const withConstant = (c: number): Folded => {
        const seeded = gradientOf(callee, args, c);
        if (!seeded.touched.has(`a${k}`)) return 'dropped';
        const constant = seeded.constants.get(`a${k}`);
        return constant !== undefined ? { value: constant, constant: true } : { value: run(seeded.ir, inputs).gradient.get(`a${k}`)!, constant: false };
      };
      g.edge(
        { from: id, to: a.id, argIndex: k, parameter, partial: contribution(1), ...(blocked ? { blocked: true } : {}) },
        { contribution, guardedContribution, detached, zeroStartAt, withConstant },
      );
    });
    return folded ?? { kind: 'node', id, value, active };
  };

  /**
   * As in src/ad/reverse.ts: before an `if`, the reverse sweep starts at 0 the adjoint of every
   * active variable from outside that the reverse code of either branch adds to — the branch not
   * taken included. Outside values reach a branch only through names (parameters and `let`s).
   * Called once the `if`'s node is made: in the reverse sweep the `if` comes after its users and
   * before everything it contains.
   */
  const declareReads = (names: ReadonlySet<string>, at: Expr): void => {
    for (const name of names) {
      const v = scope.get(name);
      if (v?.kind === 'node' && v.active) g.declare(v.id, at.span, g.nodes.length);
    }
  };
  const touches = (callee: FunctionDecl, folded: readonly (number | undefined)[]): ReadonlySet<number> => {
    const args = folded.map((c): Value => (c === undefined ? { kind: 'number', value: NaN, folded: false } : { kind: 'number', value: c, folded: true }));
    const scaled = gradientOf(callee, args).touched;
    const detached = gradientOf(callee, args, 'detached').touched;
    return new Set(folded.flatMap((_, k) => (scaled.has(`a${k}`) || detached.has(`a${k}`) ? [k] : [])));
  };

  /** Whether an operation's rule sends anything to argument k (as far as can be told before lowering). */
  const carries = (op: Op, k: number) => isDifferentiable(op) && rules[op][k] !== null;

  /**
   * `live`: whether the expression's value receives a derivative in the generated code (statically:
   * it is used, by rules that are not zero, up to the result). Only an `if` that is live makes the
   * reverse sweep start adjoints at 0; nothing flows into one in an unused `let` or a condition.
   */
  const evaluate = (e: Expr, live: boolean): Value => {
    switch (e.kind) {
      case 'number':
        return { kind: 'number', value: e.value, folded: true };
      case 'name':
        return scope.get(e.name) ?? { kind: 'number', value: constants.get(e.name)!, folded: true };
      case 'unary': {
        const v = evaluate(e.operand, live && e.op !== 'not');
        if (e.op === '+') return v;
        return operation(e.op === '-' ? 'neg' : 'not', [v], e);
      }
      case 'binary': {
        // Left to right, as lowering does it (both sides of `and`/`or` too); chains in a loop.
        const { base, chain } = leftSpine(e);
        const liveAfter: boolean[] = []; // whether the result of chain[j] is live
        let l = live;
        for (let j = chain.length - 1; j >= 0; j--) {
          liveAfter[j] = l;
          l = l && carries(binaryOps[chain[j].op], 0);
        }
        let acc = evaluate(base, l);
        chain.forEach((node, j) => {
          const op = binaryOps[node.op];
          acc = operation(op, [acc, evaluate(node.right, liveAfter[j] && carries(op, 1))], node);
        });
        return acc;
      }
      case 'call': {
        const alias = aliases.get(e.callee) ?? (isBuiltin(e.callee) ? e.callee : undefined);
        if (alias) return operation(alias, e.args.map((x, k) => evaluate(x, live && carries(alias, k))), e);
        const callee = table.get(e.callee)!;
        const free = callee.params.map(() => undefined);
        const always = gradientOf(callee, free.map((): Value => ({ kind: 'number', value: NaN, folded: false })), 'detached').touched;
        const touched = touches(callee, free);
        return call(callee, e.args.map((x, k) => evaluate(x, always.has(`a${k}`) || (live && touched.has(k)))), e);
      }
      case 'if': {
        const condition = evaluate(e.condition, false);
        // A condition known at compile time keeps only its branch; otherwise the code has both,
        // and the reverse sweep starts at 0 what their reverse code adds to.
        const reads = isFolded(condition) || !live ? undefined : new Set([...namesAdded(e.then, scope, table, probe, touches), ...namesAdded(e.else, scope, table, probe, touches)]);
        const taken = evaluate(condition.value ? e.then : e.else, live);
        // The `if`'s result is a variable of its own (set to the branch's value): a node when it
        // is active, which it is when either branch's value may depend on an input.
        const named = new Set([...namesIn(e.then), ...namesIn(e.else)]);
        const active = (taken.kind === 'node' && taken.active) || [...named].some((n) => { const v = scope.get(n); return v?.kind === 'node' && v.active; });
        if (!active) return bound(taken);
        const id = g.nextId();
        g.add({ id, kind: 'if', label: g.label(e.span), span: e.span, op: 'copy', value: num(taken), active });
        if (taken.kind === 'node') {
          const d = taken.active ? ruleDerivative('copy', [{ value: taken.value, isConstant: false }], 0, taken.value) : undefined;
          g.edge({ from: id, to: taken.id, argIndex: 0, partial: d?.partial }, { contribution: d?.contribution, passThrough: true, withConstant: d?.withConstant });
        }
        if (reads) declareReads(reads, e);
        return { kind: 'node', id, value: num(taken), active };
      }
      case 'index':
      case 'element':
      case 'list':
      case 'reduce':
        throw new Error('internal error: explain reached an array expression');
      case 'derivative':
        throw new Error('internal error: explain reached a derivative');
      default:
        return assertNever(e);
    }
  };

  // A `let` is live when a later statement uses its name.
  const usedLater: boolean[] = [];
  const mentioned = new Set<string>();
  // explain.ts refuses functions with `var`s, loops and `if` blocks before this point.
  const body = fn.body.map((s) => {
    if (s.kind !== 'let' && s.kind !== 'return') throw new Error('internal error: explain reached a statement with state');
    return s;
  });
  for (let i = body.length - 1; i >= 0; i--) {
    const s = body[i];
    usedLater[i] = s.kind === 'return' || mentioned.has(s.name);
    for (const n of namesIn(s.value)) mentioned.add(n);
  }

  for (const [i, s] of body.entries()) {
    const v = evaluate(s.value, usedLater[i]);
    if (s.kind === 'let') {
      // As src/ir/lower.ts binds a `let`: a folded constant stays a constant (so conditions on
      // it fold); anything else is a variable, an `if`'s result included.
      scope.set(s.name, s.value.kind !== 'if' && isFolded(v) ? v : bound(v));
      if (v.kind === 'node') {
        const node = g.node(v.id);
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

/** The names an expression mentions. */
function namesIn(e: Expr): Set<string> {
  const names = new Set<string>();
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.kind === 'name') names.add(x.name);
    else stack.push(...childrenOf(x));
  }
  return names;
}

/** An operand as lowering produces it, without values: a constant, a name's variable, or a temporary. */
type Sym = { readonly kind: 'const'; readonly value: number } | { readonly kind: 'name'; readonly name: string } | { readonly kind: 'temp' };

/**
 * The names (parameters and `let`s) whose adjoints the reverse code of `e` (a branch of an `if`)
 * adds to, following src/ir/lower.ts without evaluating anything: folding and simplification (x·1
 * is x itself), `if` on a constant (one branch only), derivative rules that are zero (`sign`,
 * comparisons), and calls, whose own reverse sweep is compiled to see which parameters it adds to.
 */
function namesAdded(
  e: Expr,
  scope: ReadonlyMap<string, Value>,
  table: ReadonlyMap<string, FunctionDecl>,
  probe: (callee: FunctionDecl, folded: readonly (number | undefined)[]) => IrFunction,
  touches: (callee: FunctionDecl, folded: readonly (number | undefined)[]) => ReadonlySet<number>,
): Set<string> {
  const added = new Set<string>();
  const add = (s: Sym) => {
    if (s.kind === 'name') added.add(s.name);
  };
  const operand = (s: Sym, i: number): Operand => (s.kind === 'const' ? constant(s.value) : variable(`s${i}`));
  /** `Builder.op`: folded, simplified to one of its operands, or an instruction whose rules add to its arguments. */
  const op = (o: Op, args: readonly Sym[]): Sym => {
    const r = simplify({ op: o, args: args.map(operand) });
    if (!('op' in r)) return r.kind === 'const' ? r : args[Number(r.name.slice(1))];
    if (isDifferentiable(r.op)) r.args.forEach((a, k) => a.kind === 'var' && rules[r.op as keyof typeof rules][k] && add(args[Number(a.name.slice(1))]));
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
        const callee = table.get(x.callee)!;
        const folded = args.map((a) => (a.kind === 'const' ? a.value : undefined));
        const touched = touches(callee, folded);
        args.forEach((a, k) => touched.has(k) && add(a));
        const ir = probe(callee, folded);
        if (ir.value.kind === 'const') return { kind: 'const', value: ir.value.value };
        // A callee that returns a parameter as it is hands back the argument's own variable.
        const returned = ir.params.find((p) => ir.value.kind === 'var' && p.name === ir.value.name);
        return returned ? args[Number(returned.sourceName.slice(1))] : { kind: 'temp' };
      }
      case 'if': {
        const c = lower(x.condition);
        // `let t = copy(taken)` on a constant condition; otherwise `set t = copy(…)` in each branch.
        if (c.kind === 'const') add(lower(c.value !== 0 ? x.then : x.else));
        else {
          add(lower(x.then));
          add(lower(x.else));
        }
        return { kind: 'temp' };
      }
      case 'index':
      case 'element':
      case 'list':
      case 'reduce':
        throw new Error('internal error: explain reached an array expression');
      case 'derivative':
        throw new Error('internal error: explain reached a derivative');
      default:
        return assertNever(x);
    }
  };
  // The branch's value is copied into the `if`'s result, whose adjoint it receives.
  add(lower(e));
  return added;
}

/**
 * A function around one call, built as an AST: a parameter `a<k>` for each argument that is not
 * folded, and each folded argument written in as a number, as it is when the call is inlined.
 *   scaled:   `fn callee'(a…, const gbar) = callee(args) * gbar` — its gradient is the callee's
 *             reverse sweep exactly as the compiler writes it inline, every parameter
 *             differentiated (a `const` parameter of the callee can receive an active argument),
 *             with the call's adjoint ḡ an input instead of 1;
 *   detached: the call's result unused (`let r = callee(args)`, returning gbar);
 *   guarded:  `let r = callee(args); return if c > 0 then r * gbar else 0` — the call's adjoint is
 *             started at 0 by the `if`, as when the call sits where an `if` reads it: the callee's
 *             reverse sweep then runs under guards (run it with c = 1);
 *   plain:    `= callee(args)`, to see whether the call folds to a constant;
 *   a number c: `= callee(args) * c` — the reverse sweep with ḡ the compile-time constant c.
 */
/** See `wrapper`; a number is the `constant` form, with that constant for ḡ. */
type Form = 'scaled' | 'detached' | 'guarded' | 'plain' | number;

function wrapper(callee: FunctionDecl, folded: readonly (number | undefined)[], form: Form): FunctionDecl {
  const at = callee.span;
  const name = (n: string): Expr => ({ kind: 'name', name: n, span: at });
  const params = folded.flatMap((c, k) => (c === undefined ? [{ name: `a${k}`, span: at, isConst: false }] : []));
  const args = folded.map((c, k): Expr => (c === undefined ? name(`a${k}`) : { kind: 'number', value: c, span: at }));
  const call: Expr = { kind: 'call', callee: callee.name, calleeSpan: at, args, span: at };
  const scaled: Expr = { kind: 'binary', op: '*', left: call, right: name('gbar'), span: at, opSpan: at };
  const r = (value: Expr) => [{ kind: 'let' as const, name: 'r', nameSpan: at, value: call, span: at }, { kind: 'return' as const, value, span: at }];
  const scaledR: Expr = { kind: 'binary', op: '*', left: name('r'), right: name('gbar'), span: at, opSpan: at };
  const condition: Expr = { kind: 'binary', op: '>', left: name('c'), right: { kind: 'number', value: 0, span: at }, span: at, opSpan: at };
  const times = (c: number): Expr => ({ kind: 'binary', op: '*', left: call, right: { kind: 'number', value: c, span: at }, span: at, opSpan: at });
  const body: FunctionDecl['body'] =
    typeof form === 'number'
      ? [{ kind: 'return', value: times(form), span: at }]
      : form === 'plain'
      ? [{ kind: 'return', value: call, span: at }]
      : form === 'scaled'
        ? [{ kind: 'return', value: scaled, span: at }]
        : form === 'detached'
          ? r(name('gbar'))
          : r({ kind: 'if', condition, then: scaledR, else: { kind: 'number', value: 0, span: at }, span: at });
  const extra = form === 'plain' || typeof form === 'number' ? [] : form === 'guarded' ? ['gbar', 'c'] : ['gbar'];
  return {
    kind: 'function',
    name: callee.name,
    nameSpan: callee.nameSpan,
    params: [...params, ...extra.map((n) => ({ name: n, span: at, isConst: true }))],
    body,
    endSpan: at,
    span: at,
  };
}
