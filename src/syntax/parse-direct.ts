import type { IToken, TokenType } from 'chevrotain';
import { cover, span, type Span } from '../diagnostics/span.ts';
import type { ArrayType, BinaryOp, Binder, Expr, FunctionDecl, Param, Program, ReduceOp, Size, Statement } from './ast.ts';
import * as t from './lexer.ts';
import { binaryPrecedence, precedence } from './operators.ts';

/**
 * The fast path of parsing: the grammar of parser.ts read straight into the AST that to-ast.ts
 * builds from its CST, for a file without a single syntax error. Chevrotain's CST (a node per rule
 * per operand, then a second walk to turn it into the AST) was about a quarter of compiling
 * straight-line code; this reads each token once and builds each AST node once.
 *
 * It knows no error recovery and reports nothing: at the first token it does not expect it gives
 * up (undefined), and parse.ts runs the Chevrotain parser, whose errors and recovery are the
 * reference. So a file with a syntax error is reported exactly as before, and a file without one
 * gets the same AST either way; test/parse-direct.test.ts checks both on every example, the
 * property generators' programs and random token soup. Keep the two in step: a rule changed in
 * parser.ts or to-ast.ts is changed here too (the test fails until it is).
 *
 * Recursion is at parentheses, brackets, argument lists, `if` and `not`, as in the parser;
 * check-depth.ts bounds it before either runs.
 */
export function parseDirect(tokens: readonly IToken[]): Program | undefined {
  try {
    return new DirectParser(tokens).program();
  } catch (e) {
    if (e === giveUp) return undefined;
    throw e;
  }
}

/** Thrown at the first unexpected token; caught only by parseDirect. */
const giveUp = new Error('not parsed directly');

const binaryOperators: ReadonlySet<TokenType> = new Set([t.Or, t.And, t.Less, t.LessEqual, t.Greater, t.GreaterEqual, t.EqualEqual, t.NotEqual, t.Plus, t.Minus, t.Star, t.Slash]);

/** The tokens that start a statement (parser.ts `statement`); the Identifier starts an assignment. */
const statementStarts: ReadonlySet<TokenType> = new Set([t.Let, t.Return, t.Var, t.For, t.While, t.If, t.Identifier]);

/** The tokens that start an expression: `not`, a sign, or a primary. */
const expressionStarts: ReadonlySet<TokenType> = new Set([t.Not, t.Minus, t.Plus, t.NumberLiteral, t.Identifier, t.LParen, t.If, t.LBracket]);

function tokenSpan(tok: IToken): Span {
  return span(tok.startOffset, tok.startOffset + tok.image.length);
}

/** One operand of a flat operator chain, before precedence is applied (to-ast.ts `operand`). */
interface Operand {
  readonly nots: readonly IToken[];
  readonly signs: readonly IToken[];
  readonly power: Expr;
}

class DirectParser {
  private next = 0;

  constructor(private readonly tokens: readonly IToken[]) {}

  private peek(k = 0): TokenType | undefined {
    return this.tokens[this.next + k]?.tokenType;
  }

  private at(type: TokenType): boolean {
    return this.tokens[this.next]?.tokenType === type;
  }

  private consume(type: TokenType): IToken {
    const tok = this.tokens[this.next];
    if (tok?.tokenType !== type) throw giveUp;
    this.next++;
    return tok;
  }

  program(): Program {
    const functions: FunctionDecl[] = [];
    while (this.at(t.Fn)) functions.push(this.functionDecl());
    if (this.next !== this.tokens.length) throw giveUp;
    return { functions };
  }

  private functionDecl(): FunctionDecl {
    const fnTok = this.consume(t.Fn);
    const nameTok = this.consume(t.Identifier);
    this.consume(t.LParen);
    const params: Param[] = [];
    if (this.at(t.Const) || this.at(t.Identifier)) {
      params.push(this.param());
      while (this.at(t.Comma)) {
        this.next++;
        params.push(this.param());
      }
    }
    this.consume(t.RParen);
    let body: Statement[];
    let endSpan: Span;
    if (this.at(t.Equals)) {
      this.next++;
      const value = this.expression();
      body = [{ kind: 'return', value, span: value.span }];
      endSpan = span(value.span.end, value.span.end);
    } else {
      const block = this.block();
      body = block.statements;
      endSpan = tokenSpan(block.close);
    }
    return { kind: 'function', name: nameTok.image, nameSpan: tokenSpan(nameTok), params, body, endSpan, span: span(fnTok.startOffset, endSpan.end) };
  }

  private param(): Param {
    const isConst = this.at(t.Const);
    if (isConst) this.next++;
    const tok = this.consume(t.Identifier);
    let type: ArrayType | undefined;
    if (this.at(t.Colon)) {
      this.next++;
      type = this.arrayType();
    }
    return { name: tok.image, span: tokenSpan(tok), isConst, ...(type && { type }) };
  }

  private arrayType(): ArrayType {
    const kindTok = this.consume(t.Identifier);
    this.consume(t.LBracket);
    const sizes: Size[] = [this.size()];
    while (this.at(t.Comma)) {
      this.next++;
      sizes.push(this.size());
    }
    const close = this.consume(t.RBracket);
    return { kind: kindTok.image, kindSpan: tokenSpan(kindTok), sizes, span: span(kindTok.startOffset, close.startOffset + 1) };
  }

  private size(): Size {
    if (this.at(t.Identifier)) {
      const tok = this.consume(t.Identifier);
      return { kind: 'name', name: tok.image, span: tokenSpan(tok) };
    }
    const tok = this.consume(t.NumberLiteral);
    return { kind: 'number', value: Number(tok.image), span: tokenSpan(tok) };
  }

  private binder(): Binder {
    const tok = this.consume(t.Identifier);
    if (!this.at(t.In)) return { name: tok.image, span: tokenSpan(tok) };
    this.next++;
    const from = this.expression();
    this.consume(t.DotDot);
    const to = this.expression();
    return { name: tok.image, span: tokenSpan(tok), range: { from, to } };
  }

  /** A block's statements, its span and its closing brace. */
  private block(): { statements: Statement[]; span: Span; close: IToken } {
    const open = this.consume(t.LBrace);
    const statements: Statement[] = [];
    while (statementStarts.has(this.peek()!)) {
      statements.push(this.statement());
      if (this.at(t.Semicolon)) this.next++;
    }
    const close = this.consume(t.RBrace);
    return { statements, span: span(open.startOffset, close.startOffset + 1), close };
  }

  private statement(): Statement {
    switch (this.peek()) {
      case t.Let:
        return this.letStatement();
      case t.Return: {
        const returnTok = this.consume(t.Return);
        const value = this.expression();
        return { kind: 'return', value, span: cover(tokenSpan(returnTok), value.span) };
      }
      case t.Var: {
        const varTok = this.consume(t.Var);
        const nameTok = this.consume(t.Identifier);
        let type: ArrayType | undefined;
        if (this.at(t.Colon)) {
          this.next++;
          type = this.arrayType();
        }
        this.consume(t.Equals);
        const value = this.expression();
        return { kind: 'var', name: nameTok.image, nameSpan: tokenSpan(nameTok), ...(type && { type }), value, span: cover(tokenSpan(varTok), value.span) };
      }
      case t.For: {
        const forTok = this.consume(t.For);
        const binder = this.binder();
        const body = this.block();
        return { kind: 'for', binder, body: body.statements, span: cover(tokenSpan(forTok), body.span) };
      }
      case t.While: {
        const keywordSpan = tokenSpan(this.consume(t.While));
        const condition = this.expression();
        let limit: Expr | undefined;
        if (this.at(t.Identifier) && this.tokens[this.next].image === 'max') {
          this.next++;
          limit = this.expression();
        }
        const body = this.block();
        return { kind: 'while', condition, ...(limit && { limit }), keywordSpan, body: body.statements, span: cover(keywordSpan, body.span) };
      }
      case t.If:
        return this.ifStatement();
      default:
        return this.assignment();
    }
  }

  private letStatement(): Statement {
    const letTok = this.consume(t.Let);
    const nameTok = this.consume(t.Identifier);
    let indices: Binder[] | undefined;
    if (this.at(t.LBracket)) {
      this.next++;
      indices = [this.binder()];
      while (this.at(t.Comma)) {
        this.next++;
        indices.push(this.binder());
      }
      this.consume(t.RBracket);
    }
    this.consume(t.Equals);
    const value = this.expression();
    return { kind: 'let', name: nameTok.image, nameSpan: tokenSpan(nameTok), ...(indices && { indices }), value, span: cover(tokenSpan(letTok), value.span) };
  }

  private assignment(): Statement {
    const nameTok = this.consume(t.Identifier);
    let indices: Expr[] | undefined;
    if (this.at(t.LBracket)) {
      this.next++;
      indices = this.expressions();
      this.consume(t.RBracket);
    }
    this.consume(t.Equals);
    const value = this.expression();
    const nameSpan = tokenSpan(nameTok);
    return { kind: 'assign', name: nameTok.image, nameSpan, ...(indices && { indices }), value, span: cover(nameSpan, value.span) };
  }

  private ifStatement(): Statement {
    const ifTok = this.consume(t.If);
    const condition = this.expression();
    const then = this.block();
    let otherwise: Statement[] = [];
    let end = then.span;
    if (this.at(t.Else)) {
      this.next++;
      if (this.at(t.If)) {
        const nested = this.ifStatement();
        otherwise = [nested];
        end = nested.span;
      } else {
        const block = this.block();
        otherwise = block.statements;
        end = block.span;
      }
    }
    return { kind: 'if', condition, then: then.statements, else: otherwise, span: cover(tokenSpan(ifTok), end) };
  }

  /** `e (, e)*`: at least one expression. */
  private expressions(): Expr[] {
    const items = [this.expression()];
    while (this.at(t.Comma)) {
      this.next++;
      items.push(this.expression());
    }
    return items;
  }

  /** The flat chain `operand (operator operand)*`, then precedence climbing exactly as in to-ast.ts. */
  private expression(): Expr {
    const operands: Operand[] = [this.operand()];
    const operators: IToken[] = [];
    while (binaryOperators.has(this.peek()!)) {
      operators.push(this.tokens[this.next++]);
      operands.push(this.operand());
    }
    let next = 0; // index of the next operand; operators[next - 1] precedes it
    const climb = (left: Expr, minPrec: number): Expr => {
      while (next - 1 < operators.length && next > 0) {
        const opTok = operators[next - 1];
        const prec = binaryPrecedence(opTok.image as BinaryOp);
        if (prec < minPrec) break;
        const right = climb(operand(), prec + 1);
        left = { kind: 'binary', op: opTok.image as BinaryOp, left, right, span: cover(left.span, right.span), opSpan: tokenSpan(opTok) };
      }
      return left;
    };
    const operand = (): Expr => {
      const o = operands[next++];
      const base = prefix(o.signs, o.power);
      if (o.nots.length === 0) return base;
      // `not` takes the comparison after it: `not a < b and c` is `(not (a < b)) and c`.
      return prefix(o.nots, climb(base, precedence.not + 1));
    };
    return climb(operand(), 0);
  }

  private operand(): Operand {
    const nots: IToken[] = [];
    while (this.at(t.Not)) nots.push(this.tokens[this.next++]);
    return { nots, signs: this.signs(), power: this.power() };
  }

  private signs(): IToken[] {
    const signs: IToken[] = [];
    while (this.at(t.Minus) || this.at(t.Plus)) signs.push(this.tokens[this.next++]);
    return signs;
  }

  /** `a ^ b ^ c` folds to the right; each exponent's signs apply after the fold (to-ast.ts `power`). */
  private power(): Expr {
    const base = this.primary();
    if (!this.at(t.Caret)) return base;
    const carets: IToken[] = [];
    const exponents: { signs: IToken[]; operand: Expr }[] = [];
    while (this.at(t.Caret)) {
      carets.push(this.tokens[this.next++]);
      exponents.push({ signs: this.signs(), operand: this.primary() });
    }
    const last = exponents.length - 1;
    let acc = prefix(exponents[last].signs, exponents[last].operand);
    for (let i = last - 1; i >= 0; i--) {
      const operand = exponents[i].operand;
      const raised: Expr = { kind: 'binary', op: '^', left: operand, right: acc, span: cover(operand.span, acc.span), opSpan: tokenSpan(carets[i + 1]) };
      acc = prefix(exponents[i].signs, raised);
    }
    return { kind: 'binary', op: '^', left: base, right: acc, span: cover(base.span, acc.span), opSpan: tokenSpan(carets[0]) };
  }

  private primary(): Expr {
    switch (this.peek()) {
      case t.NumberLiteral: {
        const tok = this.consume(t.NumberLiteral);
        return { kind: 'number', value: Number(tok.image), span: tokenSpan(tok) };
      }
      case t.Identifier:
        return this.reference();
      case t.LParen: {
        const open = this.consume(t.LParen);
        const inner = this.expression();
        const close = this.consume(t.RParen);
        // Keep the parentheses in the span so carets point at what the user wrote.
        return { ...inner, span: span(open.startOffset, close.startOffset + 1) };
      }
      case t.If: {
        const ifTok = this.consume(t.If);
        const condition = this.expression();
        this.consume(t.Then);
        const then = this.expression();
        this.consume(t.Else);
        const otherwise = this.expression();
        return { kind: 'if', condition, then, else: otherwise, span: cover(tokenSpan(ifTok), otherwise.span) };
      }
      case t.LBracket: {
        const open = this.consume(t.LBracket);
        const items = this.expressions();
        const close = this.consume(t.RBracket);
        const value: Expr = { kind: 'list', items, span: span(open.startOffset, close.startOffset + 1) };
        return this.at(t.LBracket) ? this.element(value) : value;
      }
      default:
        throw giveUp;
    }
  }

  private reference(): Expr {
    const nameTok = this.consume(t.Identifier);
    const nameSpan = tokenSpan(nameTok);
    if (this.at(t.LBracket)) {
      this.next++;
      const indices = this.expressions();
      const close = this.consume(t.RBracket);
      return { kind: 'index', array: nameTok.image, arraySpan: nameSpan, indices, span: span(nameSpan.start, close.startOffset + 1) };
    }
    if (!this.at(t.LParen)) return { kind: 'name', name: nameTok.image, span: nameSpan };
    const open = this.consume(t.LParen);
    // A reduction's argument list starts with its index variable: `sum(i: e)`, `sum(i in 0..n: e)`.
    if (this.at(t.Identifier) && (this.peek(1) === t.Colon || this.peek(1) === t.In)) {
      const binder = this.binder();
      this.consume(t.Colon);
      const body = this.expression();
      const close = this.consume(t.RParen);
      // The grammar allows a second argument list and indices after a reduction too, and
      // to-ast.ts leaves them out of the AST: read and left out the same way.
      if (this.at(t.LParen)) this.applyArgs();
      if (this.at(t.LBracket)) this.element({ kind: 'list', items: [], span: span(0, 0) });
      return { kind: 'reduce', op: nameTok.image as ReduceOp, opSpan: nameSpan, binder, body, span: span(nameSpan.start, close.startOffset + 1) };
    }
    const args = expressionStarts.has(this.peek()!) ? this.expressions() : [];
    const close = this.consume(t.RParen);
    const callSpan = span(nameSpan.start, close.startOffset + 1);
    let call: Expr;
    if (this.at(t.LParen)) {
      // A second argument list applies a derivative of a function: `grad(f, x)(a, b)`.
      const { applyArgs, applyClose } = this.applyArgs();
      call = {
        kind: 'derivative',
        transform: nameTok.image,
        transformSpan: nameSpan,
        of: args,
        ofSpan: span(open.startOffset, callSpan.end),
        args: applyArgs,
        span: span(nameSpan.start, applyClose.startOffset + 1),
      };
    } else call = { kind: 'call', callee: nameTok.image, calleeSpan: nameSpan, args, span: callSpan };
    return this.at(t.LBracket) ? this.element(call) : call;
  }

  /** A second argument list, `(a, b)` of `grad(f, x)(a, b)`. */
  private applyArgs(): { applyArgs: Expr[]; applyClose: IToken } {
    this.consume(t.LParen);
    const applyArgs = expressionStarts.has(this.peek()!) ? this.expressions() : [];
    return { applyArgs, applyClose: this.consume(t.RParen) };
  }

  /** `base[i, j]` for an array-valued expression that is not a name. */
  private element(base: Expr): Expr {
    this.consume(t.LBracket);
    const indices = this.expressions();
    const close = this.consume(t.RBracket);
    return { kind: 'element', base, indices, span: span(base.span.start, close.startOffset + 1) };
  }
}

function prefix(ops: readonly IToken[], operand: Expr): Expr {
  let acc = operand;
  for (let i = ops.length - 1; i >= 0; i--) {
    const opSpan = tokenSpan(ops[i]);
    acc = { kind: 'unary', op: ops[i].image as '-' | '+' | 'not', operand: acc, span: cover(opSpan, acc.span), opSpan };
  }
  return acc;
}
