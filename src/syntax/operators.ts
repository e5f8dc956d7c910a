import type { BinaryOp } from './ast.ts';

/**
 * Operator precedence, shared by the parser's precedence climbing (to-ast.ts) and by the
 * JavaScript printer, so that parentheses are only where the meaning needs them.
 * Higher binds tighter. `^` is right-associative; everything else is left-associative.
 */
export const precedence = {
  or: 1,
  and: 2,
  not: 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '==': 4,
  '!=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  /** Unary minus and plus: `-x * y` is `(-x) * y`, `-x^2` is `-(x^2)`. */
  sign: 7,
  '^': 8,
} as const;

export function binaryPrecedence(op: BinaryOp): number {
  return precedence[op];
}
