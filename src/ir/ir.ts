import type { Span } from '../diagnostics/span.ts';
import type { BuiltinName } from './builtins.ts';

/**
 * The IR: structured, three-address code over numbers and booleans. Each instruction applies one
 * operation to operands (variables or constants). It is the same language for primal code and for
 * the derivative code the AD pass writes (mutable accumulators, `if` on a saved condition), so a
 * pass can be applied to its own output.
 */
export type Operand = { readonly kind: 'var'; readonly name: string } | { readonly kind: 'const'; readonly value: number };

export type ArithmeticOp = 'add' | 'sub' | 'mul' | 'div' | 'neg' | 'pow';
export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
export type LogicOp = 'and' | 'or' | 'not';
/**
 * `copy` moves a value; `select(c, a, b)` is `c ? a : b` with both sides already computed.
 * `load(a, i)` reads element i of a flat array (or of a row); `row(m, r)` is row r of a matrix
 * parameter (an array of rows): array-valued operands appear only as their first argument.
 */
export type Op = ArithmeticOp | CompareOp | LogicOp | BuiltinName | 'copy' | 'select' | 'load' | 'row' | 'call';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'logsumexp';

/** What a loop computes besides its stores: one reduction of a value its body computes per iteration. */
export interface Reduction {
  readonly op: ReduceOp;
  /** The result, defined after the loop. */
  readonly target: string;
  /** The term of each iteration, defined by the body. */
  readonly value: Operand;
  /** max and min: the first index where the result is reached (-1 for an empty range). */
  readonly arg?: string;
  /** prod: the product of the nonzero terms and how many terms are zero (for exact derivatives at zeros). */
  readonly nonzero?: string;
  readonly zeros?: string;
  /**
   * logsumexp in a gradient's forward sweep (src/ad/loops.ts): the loop also stores each term's
   * exp(term - maximum) into `array` at `offset + index`, and defines `scale` = 1 / Σ exp(term -
   * maximum), so the reverse sweep's ∂R/∂term = exp(term - R) is a load and a multiplication
   * instead of an exp. Only on a loop `isTwoPassLogsumexp` accepts (the maximum is then known
   * before the terms' exps are taken).
   */
  readonly tape?: { readonly array: string; readonly offset: Operand; readonly scale: string };
}

/**
 * Operations too costly to compute twice (exp, log, trigonometry, powers, calls). A logsumexp whose
 * innermost body uses none of them runs in two passes, the maximum first (no exp), then
 * exp(term - maximum) per term, instead of the one pass that rescales its sum whenever the
 * maximum grows. The test must give the same answer for a loop in a value function and for its
 * copies in every derivative (fGrad's forward sweep adds stores, fJvp's loop adds the tangents'
 * arithmetic, never one of these unless the value's body has it), so their values agree to the bit.
 */
export const costlyOps: ReadonlySet<Op> = new Set<Op>(['exp', 'expm1', 'log', 'log1p', 'log2', 'log10', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh', 'cbrt', 'hypot', 'pow', 'call']);

/** Whether a logsumexp loop is emitted in two passes (src/emit/emit-js.ts). Its body runs twice: it may store (the same value twice), not accumulate. */
export function isTwoPassLogsumexp(loop: Extract<Instr, { kind: 'loop' }>): boolean {
  if (loop.reduction?.op !== 'logsumexp' || loop.descending || loop.exit || loop.carried) return false;
  return loop.body.every((i) => (i.kind === 'const' && !costlyOps.has(i.expr.op)) || i.kind === 'check' || (i.kind === 'store' && !i.accumulate && !i.old));
}

export interface Expr {
  readonly op: Op;
  readonly args: readonly Operand[];
  /** `call` only: which compiled function it calls (a user function kept as a call, src/ad/calls.ts). */
  readonly callee?: Callee;
}

/**
 * A call that stays a call: a user function compiled once and called, instead of inlined
 * (src/ir/call-graph.ts decides which). `kind` is which of its compiled forms is called, each a
 * function of numbers, pure (no state between calls):
 *   primal           f(args) → the value
 *   gradient         (args) → [the value, ∂f/∂ each argument (a number, or an array for an array)]
 *   tangent          (args, ȧrgs) → the tangent of the value
 *   gradientTangent  (args, ȧrgs) → the tangents of gradient's results (forward over reverse)
 *   adjoint          (args, ū) → [ūᵀ·∂f/∂ each argument], for f returning an array (ū the adjoint
 *                    array of its result, given by the caller's reverse sweep)
 *   adjointTangent   (args, ū, ȧrgs, u̇) → the tangents of adjoint's results (forward over reverse)
 * A reverse sweep calls `gradient` where its forward sweep would call `primal`, and multiplies
 * the gradient by the call's adjoint ḡ (src/ad/calls.ts says why).
 */
export interface Callee {
  readonly fn: string;
  readonly kind: CallKind;
  /**
   * A function with array parameters: its forms take each array flat (a matrix's rows one after
   * the other) and, after the parameters, the value of each of its sizes (see `CallLayout`).
   */
  readonly layout?: CallLayout;
  /**
   * A function returning an array: its `primal` and `tangent` forms return a flat array of
   * `length` numbers (in the caller's variables), and the reverse sweep takes that array's adjoint
   * array, of the same length, which it passes to the `adjoint` form (whose call keeps `result`
   * for that length: forward mode over it passes zeros when the adjoint array has no tangent).
   */
  readonly result?: { readonly length: Operand };
  /**
   * A `gradient` form computing the derivatives for these parameters only (their positions, in
   * order): the others are constant at the call site, and their entries are 0. Undefined: all.
   */
  readonly wrt?: readonly number[];
}

/**
 * How a call of a function with array parameters passes them: the arguments are the parameters
 * (numbers, and arrays as flat arrays), then one argument per size name of the callee, in order of
 * first appearance in its parameter types. `params[k]` is parameter k's dimensions (each a fixed
 * length, or the position of its size among the size arguments), undefined for a number.
 */
export interface CallLayout {
  readonly params: readonly (readonly (number | { readonly size: number })[] | undefined)[];
  readonly sizes: number;
}
export type CallKind = 'primal' | 'gradient' | 'tangent' | 'gradientTangent' | 'adjoint' | 'adjointTangent';

/** Where an instruction comes from: the source expression, and the statement that contains it. */
export interface Origin {
  readonly span: Span;
  readonly statement: Span;
}

export type Instr =
  /** `const target = expr`: defined once, never changed. */
  | { readonly kind: 'const'; readonly target: string; readonly expr: Expr; readonly origin: Origin }
  /** `let target = expr` (or uninitialised): a mutable variable. */
  | { readonly kind: 'let'; readonly target: string; readonly expr: Expr | undefined; readonly origin: Origin }
  /** `target = expr` for a variable declared with `let`. */
  | { readonly kind: 'set'; readonly target: string; readonly expr: Expr; readonly origin: Origin }
  /** `target += expr`, the reverse sweep's accumulation. */
  | { readonly kind: 'add'; readonly target: string; readonly expr: Expr; readonly origin: Origin }
  | { readonly kind: 'if'; readonly condition: Operand; readonly then: readonly Instr[]; readonly else: readonly Instr[]; readonly origin: Origin }
  /**
   * `for (index = from; index < to; index++) body` (from to - 1 down to from when descending).
   * Names defined in the body are local to one iteration; only the reduction's result (and its
   * state) and stores outlive it.
   */
  | {
      readonly kind: 'loop';
      readonly index: string;
      readonly from: Operand;
      readonly to: Operand;
      readonly descending: boolean;
      readonly body: readonly Instr[];
      readonly reduction?: Reduction;
      /** The reduction's result and state are declared before (hoisted out of a branch): assign them. */
      readonly declared?: boolean;
      /** Why this loop is here, printed as a comment (a recomputation in the reverse sweep). */
      readonly note?: string;
      /**
       * A loop that carries state: these `let` variables, declared before the loop, hold the state
       * at the start of each iteration and the final state after it. Lowered `for`/`while`
       * statements declare them just before the loop and assign them (`set`) only in the last
       * instructions of the body, one each, from values the body computed (never from another
       * carried variable directly): one iteration is a function state_{t+1} = F(state_t, t), which
       * is what the reverse sweep reverses. (The reverse sweep's own loop over such a loop carries
       * the state's adjoints, which it assigns the same way.)
       */
      readonly carried?: readonly string[];
      /**
       * Array state: each array variable the loop updates has a buffer of its own (`name`, of
       * `length` numbers, flat), filled before the loop and updated in place by the body's stores.
       * It holds the state at the start of each iteration and the final state after the loop.
       */
      readonly carriedArrays?: readonly { readonly name: string; readonly length: Operand }[];
      /**
       * A `while`: `body` computes `condition` at the start of each iteration, from the state; the
       * loop stops when it is false (or at `to`, the `max`). The body's first instruction then sets
       * `trips` (declared before, 0) to the number of iterations run so far.
       */
      readonly exit?: { readonly body: readonly Instr[]; readonly condition: Operand; readonly trips: string };
      /**
       * Bookkeeping of the checkpoint schedule (src/ad/checkpoint.ts): a loop over positions, not
       * values, which reverse mode leaves alone (it carries state only for dead-code elimination).
       */
      readonly schedule?: true;
      readonly origin: Origin;
    }
  /**
   * `array[index] = expr`, or `+=` when accumulating (an adjoint array). With `old`, an update in
   * place of an element already written (an array variable's buffer, in a block): `old` is its
   * value before, which the reverse sweep restores after taking the element's adjoint.
   */
  | {
      readonly kind: 'store';
      readonly array: string;
      readonly index: Operand;
      readonly expr: Expr;
      readonly accumulate: boolean;
      readonly old?: Operand;
      readonly note?: string;
      readonly origin: Origin;
    }
  /**
   * A zero-filled Float64Array of `length` elements (unless `overwritten`). With `rows`, an array of that many rows of
   * `length` elements each: the gradient of a matrix parameter.
   */
  | {
      readonly kind: 'array';
      readonly target: string;
      readonly length: Operand;
      readonly rows?: Operand;
      /** Every element is written before it is read: the array need not be zeroed. */
      readonly overwritten?: boolean;
      /** The function's result: a new array per call, never a work array kept between calls. */
      readonly returned?: boolean;
      /** The variable is declared before (hoisted out of a branch): assign it. */
      readonly declared?: boolean;
      readonly note?: string;
      readonly origin: Origin;
    }
  /**
   * Throws a RangeError with `message` unless `index` is a whole number in [0, length); or, for a
   * `bound` (a loop's range bound), unless it is a safe integer (a loop counting past 2^53 never ends).
   */
  | { readonly kind: 'check'; readonly index: Operand; readonly length: Operand; readonly from?: Operand; readonly bound?: boolean; readonly message: string; readonly origin: Origin };

export interface Param {
  /** The variable in the IR (and the generated code). */
  readonly name: string;
  /** The name the user wrote: the gradient's key. */
  readonly sourceName: string;
  readonly isConst: boolean;
  /** A vector or matrix parameter: its sizes, each the IR variable it binds (or checks) or a fixed length. */
  readonly shape?: { readonly kind: 'vec' | 'mat'; readonly sizes: readonly (SizeBinding | number)[] };
}

/** A size name as an IR variable, with the name the user wrote (for error messages). */
export interface SizeBinding {
  readonly name: string;
  readonly sourceName: string;
}

export interface IrFunction {
  /** The user's function name, exported as written. */
  readonly name: string;
  readonly params: readonly Param[];
  readonly body: readonly Instr[];
  /** The result: a number, or (with `result`) the flat array the function returns. */
  readonly value: Operand;
  /** A function returning an array: a vector, or a matrix of `rows` rows (the array is returned as rows). */
  readonly result?: { readonly kind: 'vec' | 'mat'; readonly rows?: Operand };
  /** Present on a gradient function: the reverse sweep, which runs after `body` (the forward sweep). */
  readonly reverse?: readonly Instr[];
  /** Present on a gradient function: the adjoint of each differentiated parameter, in order. */
  readonly gradient?: readonly { readonly param: Param; readonly adjoint: Operand }[];
  /**
   * Present on a forward-mode (tangent) function: the tangent variable of each seeded parameter
   * (read from the caller's tangent object), and the tangents of the results: of `value`, and of
   * each `gradient` adjoint (forward over reverse). Undefined where a result does not depend on
   * the seeds: its tangent is 0.
   */
  readonly tangent?: {
    readonly seeds: readonly { readonly param: Param; readonly tangent: string }[];
    readonly value: Operand | undefined;
    readonly gradient?: readonly (Operand | undefined)[];
    /**
     * Several directions at once (forwardMode's `directions` K > 1): each direction's seed
     * tangents (in the order of `seeds`) and the value's tangent along it; the first is `seeds`
     * and `value` again.
     */
    readonly directions?: readonly { readonly seeds: readonly string[]; readonly value: Operand | undefined }[];
  };
  readonly span: Span;
}

export const constant = (value: number): Operand => ({ kind: 'const', value });
export const variable = (name: string): Operand => ({ kind: 'var', name });

export function isBooleanOp(op: Op): boolean {
  switch (op) {
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
    case 'eq':
    case 'ne':
    case 'and':
    case 'or':
    case 'not':
      return true;
    default:
      return false;
  }
}

/** Calls fn on every instruction, nested ones included, in program order. */
/** Whether a block holds a loop, at any depth (in its branches too). */
export function hasLoop(block: readonly Instr[]): boolean {
  for (let k = 0; k < block.length; k++) {
    const i = block[k];
    if (i.kind === 'loop' || (i.kind === 'if' && (hasLoop(i.then) || hasLoop(i.else)))) return true;
  }
  return false;
}

export function forEachInstr(body: readonly Instr[], fn: (instr: Instr) => void): void {
  // (Indexed: a for-of loop in code not yet optimised makes an iterator result per instruction.)
  for (let k = 0; k < body.length; k++) {
    const instr = body[k];
    fn(instr);
    if (instr.kind === 'if') {
      forEachInstr(instr.then, fn);
      forEachInstr(instr.else, fn);
    } else if (instr.kind === 'loop') {
      if (instr.exit) forEachInstr(instr.exit.body, fn);
      forEachInstr(instr.body, fn);
    }
  }
}

/** The operands an instruction reads (a loop: its bounds and its reduction's term, not its body). */
export function readsOf(instr: Instr): readonly Operand[] {
  switch (instr.kind) {
    case 'if':
      return [instr.condition];
    case 'loop':
      return [
        instr.from,
        instr.to,
        ...(instr.reduction ? [instr.reduction.value] : []),
        ...(instr.reduction?.tape ? [variable(instr.reduction.tape.array), instr.reduction.tape.offset] : []),
        ...(instr.exit ? [instr.exit.condition] : []),
      ];
    case 'store':
      return [variable(instr.array), instr.index, ...instr.expr.args];
    case 'array':
      return instr.rows ? [instr.length, instr.rows] : [instr.length];
    case 'check':
      return instr.from ? [instr.index, instr.length, instr.from] : [instr.index, instr.length];
    default:
      return instr.expr ? instr.expr.args : [];
  }
}

/** The variables an instruction defines where it stands (a loop: its reduction's result and state). */
export function definesOf(instr: Instr): readonly string[] {
  switch (instr.kind) {
    case 'const':
    case 'let':
    case 'array':
      return [instr.target];
    case 'loop': {
      const r = instr.reduction;
      return r ? [r.target, ...[r.arg, r.nonzero, r.zeros, r.tape?.scale].filter((n): n is string => n !== undefined)] : [];
    }
    default:
      return [];
  }
}

/** The variables a block declares, at any depth: definitions, reductions' results, loop indices. */
export function declaredIn(body: readonly Instr[]): Set<string> {
  const names = new Set<string>();
  forEachInstr(body, (i) => {
    for (const d of definesOf(i)) names.add(d);
    if (i.kind === 'loop') names.add(i.index);
  });
  return names;
}

/** Applies a rewrite to the blocks nested in an instruction (an if's branches, a loop's body). */
export function mapNested(instr: Instr, rewrite: (block: readonly Instr[]) => Instr[]): Instr {
  if (instr.kind === 'if') return { ...instr, then: rewrite(instr.then), else: rewrite(instr.else) };
  if (instr.kind === 'loop') return { ...instr, ...(instr.exit && { exit: { ...instr.exit, body: rewrite(instr.exit.body) } }), body: rewrite(instr.body) };
  return instr;
}

/** The length of the (flat) array a function returns, from its allocation. */
export function resultLength(body: readonly Instr[], name: string): Operand {
  let length: Operand | undefined;
  forEachInstr(body, (i) => {
    if (i.kind === 'array' && i.target === name && !i.rows) length = i.length;
  });
  if (!length) throw new Error(`internal error: no flat allocation of the result '${name}'`);
  return length;
}

/**
 * Whether a loop body loads from an array it also stores into: an iteration may then read what an
 * earlier one stored (a product's partial products, and their adjoints), so analyses that follow
 * values through the body go round it until nothing changes, as for carried state.
 */
export function readsWhatItStores(body: readonly Instr[]): boolean {
  const stored = new Set<string>();
  const loaded = new Set<string>();
  forEachInstr(body, (i) => {
    if (i.kind === 'store') stored.add(i.array);
    else if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr?.op === 'load' && i.expr.args[0].kind === 'var') loaded.add(i.expr.args[0].name);
  });
  return [...stored].some((a) => loaded.has(a));
}
