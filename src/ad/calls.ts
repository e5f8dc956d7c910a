import { KEEP_WORK, type CallGraph, type CallPolicy } from '../ir/call-graph.ts';
import { constant, forEachInstr, type CallKind, type Callee, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import type { Builder } from '../ir/builder.ts';
import { lowerFunction } from '../ir/lower.ts';
import { nestedGradient } from './nested.ts';
import { optimize } from '../ir/optimize.ts';
import { cotangentParameterName } from '../emit/names.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import { forwardMode } from './forward.ts';
import { reverseMode, type ReverseOptions } from './reverse.ts';

/**
 * Calls that stay calls (src/ir/call-graph.ts decides which): the derivative of `r = f(args)`
 * without f's body. Each kept function f is compiled once in each form the module needs, as an
 * IR function of numbers (the forms are named in ir.ts, `Callee`):
 *
 *   reverse:  r = f(a, b)       ḡ = adjoint of r        →  c = f$adjoint(a, b, ḡ);  ā += c[0];  b̄ += c[1]
 *   forward:  r = f(a, b)                               →  ṙ = f$tangent(a, b, ȧ, ḃ)
 *   forward over reverse:  c = f$adjoint(a, b, ḡ)        →  ċ = f$adjointTangent(a, b, ḡ, ȧ, ḃ, ġ)
 *
 * The adjoint recomputes f's values from its arguments (f's forward sweep, then its reverse
 * sweep seeded with ḡ) rather than receiving them from the primal call: the caller's forward
 * sweep calls the plain value function, nothing is stored between a call and its reverse, and
 * the adjoint is the same code whether the call is in a loop, a branch or a reduction (whose
 * reverse recomputes each iteration anyway). The price is one more evaluation of f per adjoint
 * call (for a chain of kept calls k deep, the innermost value is computed k + 1 times); the
 * README ("Calls") says what was measured.
 */

/** The reverse of `y = call(args)` with ḡ the adjoint of y: each active argument's contribution. */
export function reverseCall(b: Builder, expr: Expr, g: Operand, isActive: (o: Operand) => boolean, accumulate: (name: string, c: Expr | Operand) => void): void {
  const callee = expr.callee!;
  if (callee.kind !== 'primal') throw new Error(`internal error: reverse mode over a call of ${callee.kind} '${callee.fn}'`);
  const adjoints = b.call({ fn: callee.fn, kind: 'adjoint' }, [...expr.args, g]);
  expr.args.forEach((arg, k) => {
    if (arg.kind !== 'var' || !isActive(arg)) return;
    // One argument: the adjoint is a number; more: an array of them, one per argument.
    accumulate(arg.name, expr.args.length === 1 ? adjoints : { op: 'load', args: [adjoints, constant(k)] });
  });
}

/** The tangent of `y = call(args)`, given the arguments' tangents (undefined: 0). */
export function tangentOfCall(b: Builder, expr: Expr, dots: readonly (Operand | undefined)[]): Operand {
  const callee = expr.callee!;
  const tangents = dots.map((d) => d ?? constant(0));
  switch (callee.kind) {
    case 'primal':
      return b.call({ fn: callee.fn, kind: 'tangent' }, [...expr.args, ...tangents]);
    case 'adjoint':
      // The arguments, then ḡ: their tangents in the same order.
      return b.call({ fn: callee.fn, kind: 'adjointTangent' }, [...expr.args, ...tangents]);
    default:
      throw new Error(`internal error: forward mode over a call of ${callee.kind} '${callee.fn}'`);
  }
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
  const { ir, names } = lowerFunction(decl, table, nestedGradient, kept);
  const primal: IrFunction = { ...ir, params: ir.params.map((p) => ({ ...p, isConst: false })) };
  const adjoint = (): IrFunction => {
    const reversed = reverseMode(primal, names, { ...options, cotangent: cotangentParameterName });
    return { ...reversed, params: [...primal.params, { name: cotangentParameterName, sourceName: 'cotangent', isConst: true }] };
  };
  const paramNames = (fn: IrFunction) => fn.params.map((p) => p.name);
  switch (callee.kind) {
    case 'primal':
      throw new Error('internal error: the primal form is the value function');
    case 'adjoint': {
      // The value itself is not returned (the caller has it): nothing keeps it alive.
      const fn = optimize({ ...adjoint(), value: constant(0) }, names);
      return { callee, ir: fn, params: paramNames(fn), results: fn.gradient!.map((g) => g.adjoint) };
    }
    case 'tangent': {
      const fn = optimize({ ...forwardMode(primal, names), value: constant(0) }, names);
      const seeds = fn.tangent!.seeds.map((s) => s.tangent);
      return { callee, ir: fn, params: [...paramNames(fn), ...seeds], results: [fn.tangent!.value ?? constant(0)] };
    }
    case 'adjointTangent': {
      const a = adjoint();
      const fn = optimize({ ...forwardMode(a, names, paramNames(a)), value: constant(0), gradient: [] }, names);
      const seeds = fn.tangent!.seeds.map((s) => s.tangent);
      return { callee, ir: fn, params: [...paramNames(fn), ...seeds], results: fn.tangent!.gradient!.map((t) => t ?? constant(0)) };
    }
  }
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

const formOrder: readonly CallKind[] = ['adjoint', 'tangent', 'adjointTangent'];

/**
 * The forms of kept functions a module calls: noted from each function's IR as it is compiled,
 * then built on demand (a form may call other forms: the adjoint of f calls the adjoint of each
 * kept function f calls), once each.
 */
export class CallForms {
  private readonly wanted = new Map<string, Set<CallKind>>();

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
    if (!kinds) this.wanted.set(c.fn, (kinds = new Set()));
    if (kinds.has(c.kind)) return false;
    kinds.add(c.kind);
    return true;
  }

  /** Every form called, built, with the forms those call; in source order of the functions. */
  forms(): KeptFunctionForms[] {
    const kept = new Set(this.graph.kept.keys());
    const built = new Map<string, CalledForm>();
    const key = (c: Callee) => `${c.kind} ${c.fn}`;
    for (let pending = true; pending; ) {
      pending = false;
      for (const [fn, kinds] of [...this.wanted]) {
        for (const kind of [...kinds]) {
          if (kind === 'primal' || built.has(key({ fn, kind }))) continue;
          const form = buildCalledForm({ fn, kind }, this.table.get(fn)!, this.table, kept, this.options);
          built.set(key({ fn, kind }), form);
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
      result.push({
        name: fn,
        why: `${reason}\nIts adjoint recomputes ${fn}'s values from the arguments: nothing is stored\nbetween a call and its reverse.`,
        primal: kinds.has('primal'),
        forms: formOrder.filter((k) => kinds.has(k)).map((k) => built.get(key({ fn, kind: k }))!),
      });
    }
    // Source order, whatever order the graph decided them in.
    const order = new Map([...this.table.keys()].map((name, i) => [name, i]));
    return result.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  }
}

/** What the emitter prints for one kept function (emit-js.ts `KeptFunction`). */
export interface KeptFunctionForms {
  readonly name: string;
  readonly why: string;
  readonly primal: boolean;
  readonly forms: readonly CalledForm[];
}
