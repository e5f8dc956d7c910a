import type { IToken } from 'chevrotain';
import { cover, span, type Span } from '../diagnostics/span.ts';
import type { ArrayType, BinaryOp, Binder, Expr, FunctionDecl, Param, ReduceOp, Size, Statement } from './ast.ts';
import { binaryPrecedence, precedence } from './operators.ts';

/**
 * The AST nodes, built from tokens and the nodes of sub-rules. The parser (parser.ts) calls these
 * from its rules' actions as it recognises each rule, so no CST is built and walked: the grammar
 * says what is read, this module what it means. Operator chains arrive as flat lists and get their
 * precedence here; `^` chains fold to the right.
 */

/** A block's statements and braces (the braces give the spans of loops and branches). */
export interface Block {
  readonly statements: Statement[];
  readonly open: IToken;
  readonly close: IToken;
}

/** One operand of an operator chain: its `not`s (applied after climbing, see `expression`) and the rest. */
export interface Operand {
  readonly nots: IToken[] | undefined;
  readonly base: Expr;
}

/** An exponent of a `^` chain: its signs and the primary they apply to. */
export interface Exponent {
  readonly signs: IToken[] | undefined;
  readonly operand: Expr;
}

/** The indices of an element of an array-valued expression, and the closing bracket. */
export interface Subscript {
  readonly indices: Expr[];
  readonly close: IToken;
}

function tokenSpan(tok: IToken): Span {
  return span(tok.startOffset, tok.startOffset + tok.image.length);
}

/** `fn name(params) = body` (an expression body) or `fn name(params) { block }`. */
export function functionDecl(fnTok: IToken, nameTok: IToken, params: Param[], body: Expr | undefined, block: Block | undefined): FunctionDecl {
  let statements: Statement[];
  let endSpan: Span;
  if (body) {
    statements = [{ kind: 'return', value: body, span: body.span }];
    endSpan = span(body.span.end, body.span.end);
  } else {
    statements = block!.statements;
    endSpan = tokenSpan(block!.close);
  }
  return { kind: 'function', name: nameTok.image, nameSpan: tokenSpan(nameTok), params, body: statements, endSpan, span: span(fnTok.startOffset, endSpan.end) };
}

export function param(constTok: IToken | undefined, nameTok: IToken, type: ArrayType | undefined): Param {
  return { name: nameTok.image, span: tokenSpan(nameTok), isConst: constTok !== undefined, ...(type && { type }) };
}

export function arrayType(kindTok: IToken, sizes: Size[], closeTok: IToken): ArrayType {
  return { kind: kindTok.image, kindSpan: tokenSpan(kindTok), sizes, span: span(kindTok.startOffset, closeTok.startOffset + 1) };
}

export function size(nameTok: IToken | undefined, numberTok: IToken | undefined): Size {
  if (nameTok) return { kind: 'name', name: nameTok.image, span: tokenSpan(nameTok) };
  return { kind: 'number', value: Number(numberTok!.image), span: tokenSpan(numberTok!) };
}

export function binder(nameTok: IToken, from: Expr | undefined, to: Expr | undefined): Binder {
  if (!from) return { name: nameTok.image, span: tokenSpan(nameTok) };
  return { name: nameTok.image, span: tokenSpan(nameTok), range: { from, to: to! } };
}

function blockSpan(block: Block): Span {
  return span(block.open.startOffset, block.close.startOffset + 1);
}

export function ifStatement(ifTok: IToken, condition: Expr, then: Block, elseIf: Statement | undefined, otherwise: Block | undefined): Statement {
  let statements: Statement[] = [];
  let end = blockSpan(then);
  if (elseIf) {
    statements = [elseIf];
    end = elseIf.span;
  } else if (otherwise) {
    statements = otherwise.statements;
    end = blockSpan(otherwise);
  }
  return { kind: 'if', condition, then: then.statements, else: statements, span: cover(tokenSpan(ifTok), end) };
}

export function varStatement(varTok: IToken, nameTok: IToken, type: ArrayType | undefined, value: Expr): Statement {
  return { kind: 'var', name: nameTok.image, nameSpan: tokenSpan(nameTok), ...(type && { type }), value, span: cover(tokenSpan(varTok), value.span) };
}

export function assignment(nameTok: IToken, indices: Expr[] | undefined, value: Expr): Statement {
  const nameSpan = tokenSpan(nameTok);
  return { kind: 'assign', name: nameTok.image, nameSpan, ...(indices && { indices }), value, span: cover(nameSpan, value.span) };
}

export function forStatement(forTok: IToken, indexVariable: Binder, body: Block): Statement {
  return { kind: 'for', binder: indexVariable, body: body.statements, span: cover(tokenSpan(forTok), blockSpan(body)) };
}

export function whileStatement(whileTok: IToken, condition: Expr, limit: Expr | undefined, body: Block): Statement {
  const keywordSpan = tokenSpan(whileTok);
  return { kind: 'while', condition, ...(limit && { limit }), keywordSpan, body: body.statements, span: cover(keywordSpan, blockSpan(body)) };
}

export function letStatement(letTok: IToken, nameTok: IToken, indices: Binder[] | undefined, value: Expr): Statement {
  return { kind: 'let', name: nameTok.image, nameSpan: tokenSpan(nameTok), ...(indices && { indices }), value, span: cover(tokenSpan(letTok), value.span) };
}

export function returnStatement(returnTok: IToken, value: Expr): Statement {
  return { kind: 'return', value, span: cover(tokenSpan(returnTok), value.span) };
}

function binary(left: Expr, opTok: IToken, right: Expr): Expr {
  return { kind: 'binary', op: opTok.image as BinaryOp, left, right, span: cover(left.span, right.span), opSpan: tokenSpan(opTok) };
}

/**
 * Precedence climbing over the flat chain `operand (operator operand)*`. Recursion is bounded by
 * the number of precedence levels (and by `not`s, which check-depth.ts counts), not by the length
 * of the chain: left-associative runs are loops.
 */
export function expression(first: Operand, rest: readonly (IToken | Operand)[] | undefined): Expr {
  // One operand, no `not`: the common case (an argument, an index, a condition) needs no climbing.
  if (rest === undefined && first.nots === undefined) return first.base;
  // The operators and the operands after the first alternate in `rest`: rest[2k] is the operator
  // before operand k + 1, rest[2k + 1] that operand.
  const chain = rest ?? [];
  const count = 1 + chain.length / 2;
  let next = 0; // index of the next operand; the operator before it is chain[2 * (next - 1)]

  const climb = (left: Expr, minPrec: number): Expr => {
    while (next < count && next > 0) {
      const opTok = chain[2 * (next - 1)] as IToken;
      const prec = binaryPrecedence(opTok.image as BinaryOp);
      if (prec < minPrec) break;
      const right = climb(operand(), prec + 1);
      left = binary(left, opTok, right);
    }
    return left;
  };

  const operand = (): Expr => {
    const { nots, base } = next === 0 ? first : (chain[2 * next - 1] as Operand);
    next++;
    if (!nots) return base;
    // `not` takes the comparison after it: `not a < b and c` is `(not (a < b)) and c`.
    return prefix(nots, climb(base, precedence.not + 1));
  };

  return climb(operand(), 0);
}

/** Unary operators written before an operand, the innermost last: `- - x` is `-(-x)`. */
export function prefix(ops: readonly IToken[] | undefined, operand: Expr): Expr {
  let acc = operand;
  if (!ops) return acc;
  for (let i = ops.length - 1; i >= 0; i--) {
    const opSpan = tokenSpan(ops[i]);
    acc = { kind: 'unary', op: ops[i].image as '-' | '+' | 'not', operand: acc, span: cover(opSpan, acc.span), opSpan };
  }
  return acc;
}

/** `base ^ e1 ^ e2 …`: the carets and the exponents alternate in `chain` (chain[2k] is the caret before exponent k). */
export function power(base: Expr, chain: readonly (IToken | Exponent)[]): Expr {
  const carets = chain.filter((_, k) => k % 2 === 0) as IToken[];
  const exponents = chain.filter((_, k) => k % 2 === 1) as Exponent[];
  // a ^ -b ^ c  is  a ^ (-(b ^ c)): fold from the right, applying each exponent's signs after the fold.
  const last = exponents.length - 1;
  let acc = prefix(exponents[last].signs, exponents[last].operand);
  for (let i = last - 1; i >= 0; i--) {
    const operand = exponents[i].operand;
    const raised: Expr = { kind: 'binary', op: '^', left: operand, right: acc, span: cover(operand.span, acc.span), opSpan: tokenSpan(carets[i + 1]) };
    acc = prefix(exponents[i].signs, raised);
  }
  return { kind: 'binary', op: '^', left: base, right: acc, span: cover(base.span, acc.span), opSpan: tokenSpan(carets[0]) };
}

/** Keep the parentheses in the span so carets point at what the user wrote. */
export function parenthesized(open: IToken, inner: Expr, close: IToken): Expr {
  return { ...inner, span: span(open.startOffset, close.startOffset + 1) };
}

export function conditional(ifTok: IToken, condition: Expr, then: Expr, otherwise: Expr): Expr {
  return { kind: 'if', condition, then, else: otherwise, span: cover(tokenSpan(ifTok), otherwise.span) };
}

/** parse.ts has already reported a number with an incomplete exponent (`1e+`). */
export function numberLiteral(tok: IToken): Expr {
  return { kind: 'number', value: Number(tok.image), span: tokenSpan(tok) };
}

function name(tok: IToken): Expr {
  return { kind: 'name', name: tok.image, span: tokenSpan(tok) };
}

/** `x[i]`, `A[i, j]`. */
function index(nameTok: IToken, indices: Expr[], close: IToken): Expr {
  const nameSpan = tokenSpan(nameTok);
  return { kind: 'index', array: nameTok.image, arraySpan: nameSpan, indices, span: span(nameSpan.start, close.startOffset + 1) };
}

/** What follows a reference's name: an argument list (a call) or indices (an element). */
export type ReferenceTail = CallParts | { readonly kind: 'index'; readonly indices: Expr[]; readonly close: IToken };

/** A name, a call, a reduction, a derivative applied or an element of an array. */
export function reference(nameTok: IToken, tail: ReferenceTail | undefined): Expr {
  if (tail === undefined) return name(nameTok);
  return tail.kind === 'call' ? call(nameTok, tail) : index(nameTok, tail.indices, tail.close);
}

/** What follows a call's `(`: its argument list, or a reduction's binder and body. */
export interface CallParts {
  readonly kind: 'call';
  readonly open: IToken;
  readonly binder: Binder | undefined;
  readonly body: Expr | undefined;
  readonly args: Expr[];
  readonly close: IToken;
  /** A second argument list: a derivative applied, `grad(f, x)(a, b)`. */
  readonly applyOpen: IToken | undefined;
  readonly applyArgs: Expr[] | undefined;
  readonly applyClose: IToken | undefined;
  readonly subscript: Subscript | undefined;
}

/** A call, a reduction or a derivative applied, maybe followed by indices. */
function call(nameTok: IToken, c: CallParts): Expr {
  const nameSpan = tokenSpan(nameTok);
  if (c.binder) {
    // Whether the name is a reduction is for the checker to say; an unknown one is a call error there.
    const reduce: Expr = {
      kind: 'reduce',
      op: nameTok.image as ReduceOp,
      opSpan: nameSpan,
      binder: c.binder,
      body: c.body!,
      span: span(nameSpan.start, c.close.startOffset + 1),
    };
    // What follows a reduction is kept, for the checker to refuse (its value is a number): a second
    // argument list as a derivative applied to it, indices as an element of it.
    const applied: Expr = c.applyOpen
      ? {
          kind: 'derivative',
          transform: nameTok.image,
          transformSpan: nameSpan,
          of: [reduce],
          ofSpan: reduce.span,
          args: c.applyArgs ?? [],
          span: span(nameSpan.start, c.applyClose!.startOffset + 1),
        }
      : reduce;
    return c.subscript ? element(applied, c.subscript) : applied;
  }
  const callSpan = span(nameSpan.start, c.close.startOffset + 1);
  const result: Expr = c.applyOpen
    ? {
        kind: 'derivative',
        transform: nameTok.image,
        transformSpan: nameSpan,
        of: c.args,
        ofSpan: span(c.open.startOffset, callSpan.end),
        args: c.applyArgs ?? [],
        span: span(nameSpan.start, c.applyClose!.startOffset + 1),
      }
    : { kind: 'call', callee: nameTok.image, calleeSpan: nameSpan, args: c.args, span: callSpan };
  return c.subscript ? element(result, c.subscript) : result;
}

export function list(open: IToken, items: Expr[], close: IToken, subscript: Subscript | undefined): Expr {
  const value: Expr = { kind: 'list', items, span: span(open.startOffset, close.startOffset + 1) };
  return subscript ? element(value, subscript) : value;
}

/** `base[i, j]` for an array-valued expression that is not a name. */
function element(base: Expr, subscript: Subscript): Expr {
  return { kind: 'element', base, indices: subscript.indices, span: span(base.span.start, subscript.close.startOffset + 1) };
}
