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
/** `copy` moves a value; `select(c, a, b)` is `c ? a : b` with both sides already computed. */
export type Op = ArithmeticOp | CompareOp | LogicOp | BuiltinName | 'copy' | 'select';

export interface Expr {
  readonly op: Op;
  readonly args: readonly Operand[];
}

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
  | { readonly kind: 'if'; readonly condition: Operand; readonly then: readonly Instr[]; readonly else: readonly Instr[]; readonly origin: Origin };

export interface Param {
  /** The variable in the IR (and the generated code). */
  readonly name: string;
  /** The name the user wrote: the gradient's key. */
  readonly sourceName: string;
  readonly isConst: boolean;
}

export interface IrFunction {
  /** The user's function name, exported as written. */
  readonly name: string;
  readonly params: readonly Param[];
  readonly body: readonly Instr[];
  readonly value: Operand;
  /** Present on a gradient function: the reverse sweep, which runs after `body` (the forward sweep). */
  readonly reverse?: readonly Instr[];
  /** Present on a gradient function: the adjoint of each differentiated parameter, in order. */
  readonly gradient?: readonly { readonly param: Param; readonly adjoint: Operand }[];
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
export function forEachInstr(body: readonly Instr[], fn: (instr: Instr) => void): void {
  for (const instr of body) {
    fn(instr);
    if (instr.kind === 'if') {
      forEachInstr(instr.then, fn);
      forEachInstr(instr.else, fn);
    }
  }
}

/** The operands an instruction reads. */
export function readsOf(instr: Instr): readonly Operand[] {
  if (instr.kind === 'if') return [instr.condition];
  return instr.expr ? instr.expr.args : [];
}
