/**
 * Limits that keep every pass within the stack for any input: past them, a diagnostic.
 */

/** Parentheses, calls, `if`s and `not`s nested in one statement (the parser recurses on these). */
export const MAX_NESTING = 100;

/** How deep an expression tree may be, left operands of chains not counted: later passes recurse. */
export const MAX_EXPRESSION_DEPTH = 1000;
