import { KEEP_WORK, callLayout, sizeNamesOf, type CallGraph, type CallPolicy } from '../ir/call-graph.ts';
import { constant, forEachInstr, mapNested, resultLength, variable, type CallKind, type CallLayout, type Callee, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import type { Builder, NameSupply } from '../ir/builder.ts';
import { lowerFunction } from '../ir/lower.ts';
import { nestedDerivative } from './nested.ts';
import { optimize } from '../ir/optimize.ts';
import { calledFunctionName, cotangentParameterName } from '../emit/names.ts';
import { returnsArray, type FunctionDecl } from '../syntax/ast.ts';
import { forwardMode } from './forward.ts';
import { reverseMode, type ReverseOptions } from './reverse.ts';

/**
 * Calls that stay calls (src/ir/call-graph.ts decides which): the derivative of `r = f(args)`
 * without f's body. Each kept function f is compiled once in each form the module needs, as an
 * IR function (the forms are named in ir.ts, `Callee`):
 *
 *   reverse:  r = f(a, b)   →  forward sweep:  v = f$gradient(a, b);  r = v[0]
 *                               reverse sweep: ā += ḡ·v[1];  b̄ += ḡ·v[2]      (ḡ the adjoint of r)
 *   forward:  r = f(a, b)                     →  ṙ = f$tangent(a, b, ȧ, ḃ)
 *   forward over reverse:  v = f$gradient(a, b)  →  v̇ = f$gradientTangent(a, b, ȧ, ḃ)
 *
 * The rule (said in the generated comment above the forms): f returns a number, so the adjoints
 * of its arguments are ḡ times its gradient, which does not depend on ḡ. The caller's forward
 * sweep calls f$gradient (f's forward sweep, then its reverse sweep seeded with 1) instead of f,
 * keeps the gradient, and its reverse sweep multiplies: nothing of f is computed again. Nested
 * kept calls then cost a constant factor per level (f$gradient calls its callees' gradient forms
 * once each), where an adjoint form recomputing f's values from the arguments compounded: for a
 * chain k deep the innermost value was computed k + 1 times (the README's "Calls" has the
 * figures). Inside a loop, whose reverse recomputes each iteration, the forward sweep calls f
 * (values only) and the recomputed iteration calls f$gradient. A call whose value does not
 * depend on the differentiated parameters stays a call of f.
 *
 * A function returning an array (issue #15) has a gradient per element of its result: the caller's
 * reverse sweep cannot multiply one gradient by ḡ. Its reverse is the adjoint form instead, called
 * where the reverse sweep reaches the call, with the adjoint array ū of the result:
 *
 *   reverse:  r = f(a, x)  (r an array)  →  forward sweep:  r = f$primal(a, x)
 *                                            reverse sweep: v = f$adjoint(a, x, ū);  ā += v[0];  x̄[i] += v[1][i]
 *   forward:  ṙ = f$tangent(a, x, ȧ, ẋ)   (an array, the result's tangents)
 *
 * f$adjoint runs f's forward sweep again (it recomputes f's values from the arguments rather than
 * having the primal call return them: f$primal stays what the value function needs, and the
 * forward sweep stores nothing) and then its reverse sweep seeded with ū, as fVjp does. A chain
 * of such functions k deep computes the innermost value k + 1 times in the gradient; the output
 * holds each function's forms once. Forward over reverse (fHvp, fHessian, and the gradientTangent
 * and adjointTangent forms) keeps such calls too: the adjoint form has a tangent form, forward mode
 * over f$adjoint (over its forward sweep and its reverse sweep seeded with ū), taking the
 * arguments, ū, their tangents and ū's tangent u̇ (zeros where ū does not depend on the direction):
 *
 *   forward over reverse:  v = f$adjoint(a, x, ū)  →  v̇ = f$adjointTangent(a, x, ū, ȧ, ẋ, u̇)
 *
 * so fHvp of a chain of such functions is linear in the source, as fGrad is (it used to inline
 * them, doubling the code per level of a doubling chain).
 */

/**
 * The calls a reverse sweep turns into calls of the gradient form, by result: the gradient's
 * variable, the call, and the parameters whose derivatives it needs (undefined: all).
 */
export type RecordedCalls = Map<string, { readonly gradient: string; readonly call: Expr; readonly wrt?: readonly number[] }>;

/**
 * ḡ times a gradient entry, 0 where the entry is exactly 0 (the callee does not use the argument,
 * or its derivative is 0 there) even if ḡ is infinite (no test when ḡ is a finite constant): what the inlined body gives, where no
 * path from the result reaches the argument (the 0·∞ convention of Decisions in ARCHITECTURE.md).
 */
function times(b: Builder, g: Operand, entry: Operand): Operand {
  if (g.kind === 'const' && Number.isFinite(g.value)) return b.op('mul', g, entry);
  return b.op('select', b.op('eq', entry, constant(0)), constant(0), b.op('mul', g, entry));
}

/**
 * The reverse of `y = call(args)` with ḡ the adjoint of y: each active argument's contribution,
 * ḡ times the argument's entry of the gradient the forward sweep's call of f$gradient returned
 * (`recorded` notes which call becomes one, `recordCalls` rewrites it). An array argument's
 * gradient is a new array, added element by element (times ḡ) into the caller's adjoint array
 * of that argument (`adjointArray`).
 */
export function reverseCall(
  b: Builder,
  target: string,
  expr: Expr,
  g: Operand,
  recorded: RecordedCalls,
  isActive: (o: Operand) => boolean,
  accumulate: (name: string, c: Expr | Operand) => void,
  adjointArray: (name: string) => string | undefined,
): void {
  const callee = expr.callee!;
  if (callee.kind !== 'primal') throw new Error(`internal error: reverse mode over a call of ${callee.kind} '${callee.fn}'`);
  const layout = callee.layout;
  // The parameters' arguments (the sizes after them have no adjoints).
  const count = layout ? layout.params.length : expr.args.length;
  if (!recorded.has(target)) {
    // Arguments constant here (numbers, the caller's constants) need no derivative: a gradient
    // form for the others only, where some are constant (issue #15).
    const wrt = expr.args.slice(0, count).flatMap((arg, k) => (arg.kind === 'var' && isActive(arg) ? [k] : []));
    recorded.set(target, { gradient: b.names.temp(), call: expr, ...(wrt.length < count && { wrt }) });
  }
  const { gradient } = recorded.get(target)!;
  expr.args.slice(0, count).forEach((arg, k) => {
    if (arg.kind !== 'var' || !isActive(arg)) return;
    const entry = b.op('load', variable(gradient), constant(k + 1));
    const dims = layout?.params[k];
    if (!dims) return accumulate(arg.name, times(b, g, entry));
    const into = adjointArray(arg.name);
    if (!into) throw new Error(`internal error: no adjoint array for '${arg.name}'`);
    const length = flatLength(b, dims, expr.args.slice(count));
    const index = b.names.user('i');
    const body = b.loopBody(index, () => {
      const element = times(b, g, b.op('load', entry, variable(index)));
      b.emit({ kind: 'store', array: into, index: variable(index), expr: { op: 'copy', args: [element] }, accumulate: true, origin: b.origin });
    });
    b.emit({ kind: 'loop', index, from: constant(0), to: length, descending: false, body, origin: b.origin });
  });
}

/**
 * Calls of a function returning an array made twice with the same arguments in a function's
 * top-level code (`f(x)[0] * f(x)[1]`): each later one by the first one it repeats. The reverse
 * sweep gives the later call the first's adjoint array (both uses add into one ū) and calls
 * f$adjoint once, where it reaches the first: f$adjoint is linear in ū, so
 * f$adjoint(args, ū₁) + f$adjoint(args, ū₂) = f$adjoint(args, ū₁ + ū₂) up to rounding, and the
 * arguments' adjoints it adds are read only before the first call, later in the reverse sweep.
 * Only where nothing between the two calls writes an argument (a `let`/`set`/`add` of a number,
 * a store into an array, at any depth), so the two results are the same numbers.
 */
export function repeatedArrayCalls(body: readonly Instr[]): Map<string, string> {
  const repeats = new Map<string, string>();
  const first = new Map<string, { target: string; at: number; reads: ReadonlySet<string> }>();
  const key = (e: Expr) => `${e.callee!.fn}(${e.args.map((a) => (a.kind === 'var' ? a.name : `#${a.value}`)).join(',')})`;
  body.forEach((instr, at) => {
    if (instr.kind !== 'const' || instr.expr.op !== 'call' || instr.expr.callee?.kind !== 'primal' || !instr.expr.callee.result) return;
    const k = key(instr.expr);
    const earlier = first.get(k);
    if (!earlier) {
      const reads = new Set(instr.expr.args.flatMap((a) => (a.kind === 'var' ? [a.name] : [])));
      first.set(k, { target: instr.target, at, reads });
      return;
    }
    let written = false;
    forEachInstr(body.slice(earlier.at + 1, at), (i) => {
      const target = i.kind === 'store' ? i.array : i.kind === 'let' || i.kind === 'set' || i.kind === 'add' ? i.target : undefined;
      if (target !== undefined && earlier.reads.has(target)) written = true;
    });
    if (written) first.set(k, { ...earlier, target: instr.target, at });
    else repeats.set(instr.target, earlier.target);
  });
  return repeats;
}

/**
 * The reverse of `r = call(args)` for f returning an array, with `adjoint` r's adjoint array (ū):
 * `v = f$adjoint(args, ū)`, then each active argument's adjoint added in, a number's `v[k]`, an
 * array's element by element into the caller's adjoint array of it. Nothing is multiplied: ū is
 * in f$adjoint's seed.
 */
export function reverseArrayCall(
  b: Builder,
  expr: Expr,
  adjoint: string,
  isActive: (o: Operand) => boolean,
  accumulate: (name: string, c: Operand) => void,
  adjointArray: (name: string) => string | undefined,
): void {
  const callee = expr.callee!;
  if (callee.kind !== 'primal' || !callee.result) throw new Error(`internal error: the adjoint of a call of ${callee.kind} '${callee.fn}'`);
  const layout = callee.layout;
  const count = layout ? layout.params.length : expr.args.length;
  const active = expr.args.slice(0, count).filter((arg) => arg.kind === 'var' && isActive(arg));
  if (active.length === 0) return;
  // (The call keeps `result`, ū's length, for forward mode over it: tangentOfCall.)
  const v = b.call({ ...callee, kind: 'adjoint' }, [...expr.args, variable(adjoint)]);
  expr.args.slice(0, count).forEach((arg, k) => {
    if (arg.kind !== 'var' || !isActive(arg)) return;
    const entry = b.op('load', v, constant(k));
    const dims = layout?.params[k];
    if (!dims) return accumulate(arg.name, entry);
    const into = adjointArray(arg.name);
    if (!into) throw new Error(`internal error: no adjoint array for '${arg.name}'`);
    const length = flatLength(b, dims, expr.args.slice(count));
    const index = b.names.user('i');
    const body = b.loopBody(index, () => {
      const element = b.op('load', entry, variable(index));
      b.emit({ kind: 'store', array: into, index: variable(index), expr: { op: 'copy', args: [element] }, accumulate: true, origin: b.origin });
    });
    b.emit({ kind: 'loop', index, from: constant(0), to: length, descending: false, body, origin: b.origin });
  });
}

/**
 * After a reverse sweep is built: each call `recorded` names (in the forward sweep, or in an
 * iteration the reverse sweep recomputes) calls the gradient form instead, `v = f$gradient(args)`,
 * its value being `v[0]`. Where the recomputation reads the value back from an array it was
 * stored in rather than calling f again, the gradient form is called beside that read. A call
 * inside a branch is a variable declared before it (so the reverse sweep, outside the branch,
 * reads it): the gradient is declared beside it.
 */
export function recordCalls(block: readonly Instr[], recorded: RecordedCalls): Instr[] {
  if (recorded.size === 0) return [...block];
  const declared = new Set<string>();
  forEachInstr(block, (i) => {
    if (i.kind === 'set' && recorded.has(i.target)) declared.add(i.target);
  });
  const rewrite = (instrs: readonly Instr[]): Instr[] =>
    instrs.flatMap((i): Instr[] => {
      if (i.kind === 'if' || i.kind === 'loop') return [mapNested(i, rewrite)];
      if (i.kind === 'let' && !i.expr && declared.has(i.target)) return [i, { ...i, target: recorded.get(i.target)!.gradient }];
      if ((i.kind !== 'const' && i.kind !== 'set' && i.kind !== 'let') || !i.expr || !recorded.has(i.target)) return [i];
      const { gradient, call, wrt } = recorded.get(i.target)!;
      const form: Expr = { ...call, callee: { ...call.callee!, kind: 'gradient', ...(wrt && { wrt }) } };
      const define = (expr: Expr): Instr => (i.kind === 'set' ? { ...i, target: gradient, expr } : { kind: 'const', target: gradient, expr, origin: i.origin });
      if (i.expr.op !== 'call') return [i, define(form)];
      return [define(form), { ...i, expr: { op: 'load', args: [variable(gradient), constant(0)] } }];
    });
  return rewrite(block);
}

/** The flat length of an array parameter, from its dimensions and the call's size arguments. */
function flatLength(b: Builder, dims: NonNullable<CallLayout['params'][number]>, sizes: readonly Operand[]): Operand {
  let length: Operand = constant(1);
  for (const d of dims) length = b.op('mul', length, typeof d === 'number' ? constant(d) : sizes[d.size]);
  return length;
}

/**
 * The tangent of `y = call(args)`, given the arguments' tangents (undefined: 0). The tangent
 * forms take a tangent per parameter, none per size; an array argument without one gets a
 * zero-filled array of its length.
 */
export function tangentOfCall(b: Builder, expr: Expr, dots: readonly (Operand | undefined)[]): Operand {
  const callee = expr.callee!;
  const layout = callee.layout;
  const count = layout ? layout.params.length : expr.args.length;
  const sizes = layout ? expr.args.slice(count, count + layout.sizes) : [];
  const tangentOf = (k: number): Operand => {
    const dims = layout?.params[k];
    if (dots[k]) return dots[k]!;
    if (!dims) return constant(0);
    const target = b.names.temp();
    b.emit({ kind: 'array', target, length: flatLength(b, dims, sizes), origin: b.origin });
    return variable(target);
  };
  const tangents = expr.args.slice(0, count).map((_, k) => tangentOf(k));
  // An adjoint form's call (in a reverse sweep) also takes ū, after the sizes, and then its tangent
  // u̇: zeros of ū's length (the callee's result length) where ū does not depend on the direction.
  if (callee.kind === 'adjoint') {
    const u = count + (layout?.sizes ?? 0);
    if (!callee.result) throw new Error(`internal error: the adjoint call of '${callee.fn}' has no result length`);
    let dot = dots[u];
    if (!dot) {
      const target = b.names.temp();
      b.emit({ kind: 'array', target, length: callee.result.length, origin: b.origin });
      dot = variable(target);
    }
    tangents.push(dot);
  }
  const kind: Record<CallKind, CallKind | undefined> = { primal: 'tangent', gradient: 'gradientTangent', adjoint: 'adjointTangent', tangent: undefined, gradientTangent: undefined, adjointTangent: undefined };
  const form = kind[callee.kind];
  if (!form) throw new Error(`internal error: forward mode over a call of ${callee.kind} '${callee.fn}'`);
  return b.call({ fn: callee.fn, kind: form, ...(layout && { layout }) }, [...expr.args, ...tangents]);
}

/** A compiled form of a kept function, ready to print: its IR, its parameters and its results. */
export interface CalledForm {
  readonly callee: Callee;
  readonly ir: IrFunction;
  /** The IR variables of its JavaScript parameters, in order. */
  readonly params: readonly string[];
  /** What it returns: one number, or (more than one) an array of them. */
  readonly results: readonly Operand[];
}

/**
 * Builds one form of a kept function from its declaration: its primal IR with every parameter
 * differentiated (a caller's derivative flows through f's `const` parameters too, as when f is
 * inlined), then reverse mode seeded with the cotangent parameter, forward mode, or both.
 */
export function buildCalledForm(
  callee: Callee,
  decl: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  kept: ReadonlySet<string>,
  options: Pick<ReverseOptions, 'checkpointMemory'>,
): CalledForm {
  // Arrays flat, then the sizes (CallLayout), which stay const: they have no derivative.
  const layout = callLayout(decl);
  const { ir, names } = lowerFunction(decl, table, nestedDerivative, kept, { flatArrays: layout !== undefined });
  const sizes = new Set(layout ? ir.params.slice(decl.params.length).map((p) => p.name) : []);
  // A gradient form for some parameters only: the others are constants to it (their entries 0).
  const wrt = callee.kind === 'gradient' ? callee.wrt : undefined;
  const constant_ = (p: IrFunction['params'][number], k: number) => sizes.has(p.name) || (wrt !== undefined && !wrt.includes(k));
  const primal: IrFunction = { ...ir, params: ir.params.map((p, k) => ({ ...p, isConst: constant_(p, k) })) };
  // f's forward sweep, then its reverse sweep seeded with 1: the value and the gradient.
  const gradient = (): IrFunction => reverseMode(primal, names, options);
  const paramNames = (fn: IrFunction) => fn.params.map((p) => p.name);
  switch (callee.kind) {
    case 'primal': {
      // Only a function with arrays in or out has one of its own (else it is the value function).
      if (!hasPrimalForm(decl, table)) throw new Error('internal error: the primal form is the value function');
      const fn = optimize(primal, names);
      return { callee, ir: fn, params: paramNames(fn), results: [fn.value] };
    }
    case 'adjoint': {
      // f's forward sweep, then its reverse sweep seeded with the result's adjoint array ū (as fVjp's).
      // (Its value is not returned: once the sweep is built, what only the value needed is dead code.)
      const swept = reverseMode(primal, names, { ...options, cotangent: cotangentParameterName });
      const fn = optimize({ ...swept, value: constant(0), result: undefined }, names);
      // (An array parameter's adjoint is its adjoint array, a new array per call: never a constant.)
      return { callee, ir: fn, params: [...paramNames(fn), cotangentParameterName], results: fn.gradient!.map((g) => g.adjoint) };
    }
    case 'adjointTangent': {
      // Forward mode over the adjoint form's sweeps (made without the guards that skip an adjoint
      // of exactly 0, whose tangent need not be 0, as for fHvp), along every argument and ū.
      const swept = reverseMode(primal, names, { ...options, cotangent: cotangentParameterName, guardZeros: false });
      const adjoint: IrFunction = { ...swept, value: constant(0), result: undefined };
      const forward = forwardMode(adjoint, names, [...paramNames(adjoint).filter((p) => !sizes.has(p)), cotangentParameterName]);
      const zeros: Instr[] = [];
      const tangents = forward.tangent!.gradient!.map((t, k): Operand => {
        if (t) return t;
        const shape = adjoint.gradient![k].param.shape;
        if (!shape) return constant(0);
        // (Flat: an array parameter of a kept form is one array of all its elements.)
        let length: Operand = constant(1);
        const sizeOf = (s: number | { readonly name: string }) => (typeof s === 'number' ? constant(s) : variable(s.name));
        for (const s of shape.sizes) length = length.kind === 'const' && length.value === 1 ? sizeOf(s) : mulInto(length, sizeOf(s), names, zeros, decl);
        return zeroFilled(length, names, zeros, decl);
      });
      const withZeros = { ...forward, body: [...forward.body, ...zeros] };
      const fn = optimize({ ...withZeros, tangent: { ...forward.tangent!, gradient: tangents } }, names);
      const seeds = fn.tangent!.seeds.map((s) => s.tangent);
      return { callee, ir: fn, params: [...paramNames(fn), cotangentParameterName, ...seeds, names.tangent(cotangentParameterName)], results: fn.tangent!.gradient!.map((t) => t ?? constant(0)) };
    }
    case 'gradient': {
      const fn = optimize(gradient(), names);
      // An entry per parameter, in order (a constant one's is 0), so that callers read entry k + 1 for k.
      const adjoints = new Map(fn.gradient!.map((g) => [g.param.name, g.adjoint]));
      const entries = decl.params.map((_, k) => adjoints.get(fn.params[k].name) ?? constant(0));
      return { callee, ir: fn, params: paramNames(fn), results: [fn.value, ...entries] };
    }
    case 'tangent': {
      const forward = forwardMode(primal, names);
      // An array result whose tangent is 0 (f does not depend on its arguments) is a zero-filled array.
      const zeros: Instr[] = [];
      const value = forward.tangent!.value ?? (primal.result && primal.value.kind === 'var' ? zeroFilled(resultLength(primal.body, primal.value.name), names, zeros, decl) : constant(0));
      const withZeros = { ...forward, body: [...forward.body, ...zeros], tangent: { ...forward.tangent!, value } };
      const fn = optimize({ ...withZeros, value: constant(0) }, names);
      const seeds = fn.tangent!.seeds.map((s) => s.tangent);
      return { callee, ir: fn, params: [...paramNames(fn), ...seeds], results: [fn.tangent!.value ?? constant(0)] };
    }
    case 'gradientTangent': {
      const g = gradient();
      const forward = forwardMode(g, names, paramNames(g).filter((p) => !sizes.has(p)));
      // An array parameter's gradient whose tangent is 0 (f linear in it) is a zero-filled array.
      const zeros: Instr[] = [];
      const tangents = forward.tangent!.gradient!.map((t, k): Operand => {
        if (t) return t;
        const shape = g.gradient![k].param.shape;
        if (!shape) return constant(0);
        const target = names.temp();
        const size = shape.sizes[0];
        zeros.push({ kind: 'array', target, length: typeof size === 'number' ? constant(size) : variable(size.name), origin: { span: decl.span, statement: decl.span } });
        return variable(target);
      });
      const withZeros = { ...forward, reverse: [...(forward.reverse ?? []), ...zeros] };
      const fn = optimize({ ...withZeros, tangent: { ...forward.tangent!, gradient: tangents } }, names);
      const seeds = fn.tangent!.seeds.map((s) => s.tangent);
      return { callee, ir: fn, params: [...paramNames(fn), ...seeds], results: [fn.tangent!.value ?? constant(0), ...fn.tangent!.gradient!.map((t) => t ?? constant(0))] };
    }
  }
}

/** a·b, computed by an instruction added to `into`. */
function mulInto(a: Operand, b: Operand, names: NameSupply, into: Instr[], decl: FunctionDecl): Operand {
  const target = names.temp();
  into.push({ kind: 'const', target, expr: { op: 'mul', args: [a, b] }, origin: { span: decl.span, statement: decl.span } });
  return variable(target);
}

/** A new zero-filled array of `length` numbers, made by an instruction added to `into`. */
function zeroFilled(length: Operand, names: NameSupply, into: Instr[], decl: FunctionDecl): Operand {
  const target = names.temp();
  into.push({ kind: 'array', target, length, origin: { span: decl.span, statement: decl.span } });
  return variable(target);
}

/** Whether a kept function has a primal form of its own: it takes or returns arrays (they are flat there). */
export function hasPrimalForm(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>): boolean {
  return callLayout(decl) !== undefined || returnsArray(decl, table);
}

/** The calls an IR function makes (kept functions' forms), in program order. */
export function callsIn(fn: IrFunction): Callee[] {
  const found: Callee[] = [];
  const visit = (i: Instr) => {
    if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set' || i.kind === 'add') && i.expr?.op === 'call') found.push(i.expr.callee!);
  };
  forEachInstr(fn.body, visit);
  forEachInstr(fn.reverse ?? [], visit);
  return found;
}

const formOrder: readonly CallKind[] = ['gradient', 'adjoint', 'tangent', 'gradientTangent', 'adjointTangent'];

/**
 * The forms of kept functions a module calls: noted from each function's IR as it is compiled,
 * then built on demand (a form may call other forms: the adjoint of f calls the adjoint of each
 * kept function f calls), once each.
 */
export class CallForms {
  /** By function: the forms wanted, by key (`formKey`). */
  private readonly wanted = new Map<string, Map<string, Callee>>();

  constructor(
    private readonly table: ReadonlyMap<string, FunctionDecl>,
    private readonly graph: CallGraph,
    private readonly policy: CallPolicy,
    private readonly options: Pick<ReverseOptions, 'checkpointMemory'>,
  ) {}

  /** Notes the calls of the IR functions one source function compiled to. */
  note(made: Iterable<IrFunction | undefined>): Callee[] {
    const found: Callee[] = [];
    for (const fn of made) if (fn) found.push(...callsIn(fn));
    this.noteCalls(found);
    return found;
  }

  /** Notes calls made by code compiled earlier (a function reused from the compile cache). */
  noteCalls(found: readonly Callee[]): void {
    for (const c of found) this.want(c);
  }

  private want(c: Callee): boolean {
    let kinds = this.wanted.get(c.fn);
    if (!kinds) this.wanted.set(c.fn, (kinds = new Map()));
    const key = formKey(c);
    if (kinds.has(key)) return false;
    kinds.set(key, { fn: c.fn, kind: c.kind, ...(c.wrt && { wrt: c.wrt }) });
    return true;
  }

  /** Every form called, built, with the forms those call; in source order of the functions. */
  forms(): KeptFunctionForms[] {
    const kept = new Set(this.graph.kept.keys());
    const built = new Map<string, CalledForm>();
    const key = (c: Callee) => `${c.fn} ${formKey(c)}`;
    for (let pending = true; pending; ) {
      pending = false;
      for (const [fn, kinds] of [...this.wanted]) {
        for (const wanted of [...kinds.values()]) {
          const decl = this.table.get(fn)!;
          const layout = callLayout(decl);
          // A function of numbers is its own primal form (the value function).
          if ((wanted.kind === 'primal' && !hasPrimalForm(decl, this.table)) || built.has(key(wanted))) continue;
          const form = buildCalledForm({ ...wanted, ...(layout && { layout }) }, decl, this.table, kept, this.options);
          built.set(key(wanted), form);
          for (const c of callsIn(form.ir)) if (this.want(c)) pending = true;
          pending = true;
        }
      }
    }
    const result: KeptFunctionForms[] = [];
    for (const [fn, why] of this.graph.kept) {
      const kinds = this.wanted.get(fn);
      if (!kinds) continue;
      const reason = why.recursive
        ? `${fn} is compiled once and called, not inlined: it calls itself (bounded: each call passes a\nsmaller number for a parameter, inside 'if' that parameter is above a bound).`
        : why.perIndex
        ? `${fn} is compiled once and called, not inlined: it has state (a loop, a var or an if block)\nand is called once per index of a reduction or an array.`
        : this.policy === 'keep'
          ? `${fn} is compiled once and called, not inlined (the option calls: 'keep').`
          : `${fn} is compiled once and called, not inlined: ${why.size} operations × ${why.sites} call site${why.sites === 1 ? '' : 's'}\n(inlined, that would copy more than ${KEEP_WORK} operations).`;
      const decl = this.table.get(fn)!;
      const layout = callLayout(decl);
      const arrays = layout
        ? `\nIts forms take each array flat (a matrix's rows one after the other), then its sizes\n(${sizeNamesOf(decl).join(', ')}) from the caller's arrays; an array's derivative is returned as a new array.` +
          (why.recursive ? `\nA call may be running when the same form is called again (recursion): its\nwork arrays are new arrays, not the module's reused ones.` : '')
        : '';
      const derivatives = returnsArray(decl, this.table)
        ? `It returns an array (flat, a new array per call), so a gradient's reverse sweep calls\n${calledFunctionName(fn, 'adjoint')} with the adjoint array of the result: it computes ${fn}'s values again\nfrom the arguments (nothing is stored by the forward sweep), then the arguments' adjoints.`
        : `A gradient's forward sweep calls ${calledFunctionName(fn, 'gradient')} (its value and its derivatives at the\narguments) and its reverse sweep multiplies those by the call's adjoint: nothing of\n${fn} is computed again (in a loop, the iteration the reverse sweep recomputes calls it).`;
      result.push({
        name: fn,
        why: `${reason}\n${derivatives}${arrays}`,
        // (A function of numbers is its own primal form: an alias, printed only if a call reads it.)
        primal: kinds.has('primal'),
        reentrant: why.recursive === true,
        // By kind, and a kind's forms for some parameters only after its form for all, in order of their positions.
        forms: (hasPrimalForm(decl, this.table) ? (['primal', ...formOrder] as const) : formOrder).flatMap((k) =>
          [...kinds.values()]
            .filter((c) => c.kind === k)
            .sort((a, b) => formKey(a).localeCompare(formKey(b)))
            .map((c) => built.get(key(c))!),
        ),
      });
    }
    // Source order, whatever order the graph decided them in.
    const order = new Map([...this.table.keys()].map((name, i) => [name, i]));
    return result.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  }
}

/** A form's key among its function's: its kind, and the parameters a gradient form is for (`gradient 1 2`). */
function formKey(c: Callee): string {
  return c.wrt ? `${c.kind} ${c.wrt.map((k) => String(k).padStart(4, '0')).join(' ')}` : c.kind;
}

/** What the emitter prints for one kept function (emit-js.ts `KeptFunction`). */
export interface KeptFunctionForms {
  readonly name: string;
  readonly why: string;
  /** Whether something calls its value: an alias of the value function, or (arrays) a form of its own in `forms`. */
  readonly primal: boolean;
  /** Its forms may be running when called again (recursion): no work array is shared between calls. */
  readonly reentrant: boolean;
  readonly forms: readonly CalledForm[];
}
