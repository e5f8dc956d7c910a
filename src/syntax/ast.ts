import type { Span } from '../diagnostics/span.ts';

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type UnaryOp = '-' | '+' | 'not';

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'call'; readonly callee: string; readonly calleeSpan: Span; readonly args: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly span: Span; readonly opSpan: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span; readonly opSpan: Span }
  | { readonly kind: 'if'; readonly condition: Expr; readonly then: Expr; readonly else: Expr; readonly span: Span };

export type Statement =
  | { readonly kind: 'let'; readonly name: string; readonly nameSpan: Span; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'return'; readonly value: Expr; readonly span: Span };

export interface Param {
  readonly name: string;
  readonly span: Span;
  readonly isConst: boolean;
}

export interface FunctionDecl {
  readonly kind: 'function';
  readonly name: string;
  readonly nameSpan: Span;
  readonly params: readonly Param[];
  /** An expression-bodied `fn f(x) = e` is stored as the block `{ return e }`. */
  readonly body: readonly Statement[];
  /** The closing brace of a block, or the end of the expression: where a missing `return` is reported. */
  readonly endSpan: Span;
  readonly span: Span;
}

export interface Program {
  readonly functions: readonly FunctionDecl[];
}


export type BinaryExpr = Extract<Expr, { kind: 'binary' }>;

/**
 * A left-leaning chain `((a + b) - c) * d` as its innermost left operand and its binary nodes from
 * the inside out. Passes walk chains with this loop, so a sum of any length costs no stack; only
 * right operands (and other children) are visited recursively.
 */
export function leftSpine(e: BinaryExpr): { readonly base: Expr; readonly chain: readonly BinaryExpr[] } {
  const chain: BinaryExpr[] = [];
  let current: Expr = e;
  while (current.kind === 'binary') {
    chain.push(current);
    current = current.left;
  }
  return { base: current, chain: chain.reverse() };
}

/** The direct subexpressions of an expression, for walks that must not recurse. */
export function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'number':
    case 'name':
      return [];
    case 'call':
      return e.args;
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'if':
      return [e.condition, e.then, e.else];
    default:
      return assertNever(e);
  }
}

/** A fully parenthesised rendering for tests and debugging: `1+2*3` → `(1 + (2 * 3))`. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'name':
      return e.name;
    case 'call':
      return `${e.callee}(${e.args.map(printExpr).join(', ')})`;
    case 'unary':
      return e.op === 'not' ? `(not ${printExpr(e.operand)})` : `(${e.op}${printExpr(e.operand)})`;
    case 'binary':
      return `(${printExpr(e.left)} ${e.op} ${printExpr(e.right)})`;
    case 'if':
      return `(if ${printExpr(e.condition)} then ${printExpr(e.then)} else ${printExpr(e.else)})`;
    default:
      return assertNever(e);
  }
}


export function assertNever(x: never): never {
  throw new Error(`unexpected node ${JSON.stringify(x)}`);
}
