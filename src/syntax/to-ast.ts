import type { IToken } from 'chevrotain';
import { cover, span, type Span } from '../diagnostics/span.ts';
import type { ArrayType, BinaryOp, Binder, Expr, FunctionDecl, Param, Program, ReduceOp, Size, Statement } from './ast.ts';
import { binaryPrecedence, precedence } from './operators.ts';
import type * as cst from './cst.generated.d.ts';

/**
 * Turns the CST into the AST. This is the only module that knows the grammar's labels. Operator
 * chains arrive as flat lists and get their precedence here; `^` chains fold to the right.
 */
export function toAst(program: cst.ProgramCstNode): Program {
  const functions = (program.children.functions ?? []).map((f) => functionDecl(f));
  return { functions };
}

function tokenSpan(tok: IToken): Span {
  return span(tok.startOffset, tok.startOffset + tok.image.length);
}

function functionDecl(node: cst.FunctionDeclCstNode): FunctionDecl {
  const c = node.children;
  const nameTok = c.name[0];
  const params: Param[] = (c.params ?? []).map((p) => {
    const tok = p.children.name[0];
    const type = p.children.type ? arrayType(p.children.type[0]) : undefined;
    return { name: tok.image, span: tokenSpan(tok), isConst: p.children.const !== undefined, ...(type && { type }) };
  });
  let body: Statement[];
  let endSpan: Span;
  if (c.body) {
    const value = expression(c.body[0]);
    body = [{ kind: 'return', value, span: value.span }];
    endSpan = span(value.span.end, value.span.end);
  } else {
    const block = c.block![0].children;
    body = statements(c.block![0]);
    endSpan = tokenSpan(block.RBrace[0]);
  }
  const start = c.Fn[0].startOffset;
  return { kind: 'function', name: nameTok.image, nameSpan: tokenSpan(nameTok), params, body, endSpan, span: span(start, endSpan.end) };
}

function arrayType(node: cst.ArrayTypeCstNode): ArrayType {
  const c = node.children;
  const sizes = c.sizes.map((s): Size => {
    const tok = (s.children.name ?? s.children.number)![0];
    return s.children.name ? { kind: 'name', name: tok.image, span: tokenSpan(tok) } : { kind: 'number', value: Number(tok.image), span: tokenSpan(tok) };
  });
  const kindTok = c.kind[0];
  return { kind: kindTok.image, kindSpan: tokenSpan(kindTok), sizes, span: span(kindTok.startOffset, c.close[0].startOffset + 1) };
}

function binder(node: cst.BinderCstNode): Binder {
  const c = node.children;
  const tok = c.name[0];
  if (!c.from) return { name: tok.image, span: tokenSpan(tok) };
  return { name: tok.image, span: tokenSpan(tok), range: { from: expression(c.from[0]), to: expression(c.to![0]) } };
}

function statements(node: cst.BlockCstNode): Statement[] {
  return (node.children.statements ?? []).map((s) => statement(s));
}

function blockSpan(node: cst.BlockCstNode): Span {
  return span(node.children.LBrace[0].startOffset, node.children.RBrace[0].startOffset + 1);
}

function ifStatement(node: cst.IfStatementCstNode): Statement {
  const c = node.children;
  const condition = expression(c.condition[0]);
  const then = statements(c.then[0]);
  let otherwise: Statement[] = [];
  let end = blockSpan(c.then[0]);
  if (c.elseIf) {
    const nested = ifStatement(c.elseIf[0]);
    otherwise = [nested];
    end = nested.span;
  } else if (c.else) {
    otherwise = statements(c.else[0]);
    end = blockSpan(c.else[0]);
  }
  return { kind: 'if', condition, then, else: otherwise, span: cover(tokenSpan(c.If[0]), end) };
}

function statement(node: cst.StatementCstNode): Statement {
  const c = node.children;
  if (c.var) {
    const v = c.var[0].children;
    const value = expression(v.value[0]);
    const type = v.type ? arrayType(v.type[0]) : undefined;
    return { kind: 'var', name: v.name[0].image, nameSpan: tokenSpan(v.name[0]), ...(type && { type }), value, span: cover(tokenSpan(v.Var[0]), value.span) };
  }
  if (c.assign) {
    const a = c.assign[0].children;
    const value = expression(a.value[0]);
    const indices = a.indices?.map((x) => expression(x));
    const nameSpan = tokenSpan(a.name[0]);
    return { kind: 'assign', name: a.name[0].image, nameSpan, ...(indices && { indices }), value, span: cover(nameSpan, value.span) };
  }
  if (c.for) {
    const f = c.for[0].children;
    return { kind: 'for', binder: binder(f.binder[0]), body: statements(f.body[0]), span: cover(tokenSpan(f.For[0]), blockSpan(f.body[0])) };
  }
  if (c.while) {
    const w = c.while[0].children;
    const keywordSpan = tokenSpan(w.While[0]);
    const limit = w.limit ? expression(w.limit[0]) : undefined;
    const condition = expression(w.condition[0]);
    return { kind: 'while', condition, ...(limit && { limit }), keywordSpan, body: statements(w.body[0]), span: cover(keywordSpan, blockSpan(w.body[0])) };
  }
  if (c.if) return ifStatement(c.if[0]);
  if (c.let) {
    const l = c.let[0].children;
    const value = expression(l.value[0]);
    const indices = l.indices?.map(binder);
    return { kind: 'let', name: l.name[0].image, nameSpan: tokenSpan(l.name[0]), ...(indices && { indices }), value, span: cover(tokenSpan(l.Let[0]), value.span) };
  }
  const r = c.return![0].children;
  const value = expression(r.value[0]);
  return { kind: 'return', value, span: cover(tokenSpan(r.Return[0]), value.span) };
}

function binary(left: Expr, opTok: IToken, right: Expr): Expr {
  return { kind: 'binary', op: opTok.image as BinaryOp, left, right, span: cover(left.span, right.span), opSpan: tokenSpan(opTok) };
}

/**
 * Precedence climbing over the flat chain `operand (operator operand)*`. Recursion is bounded by
 * the number of precedence levels (and by `not`s, which check-depth.ts counts), not by the length
 * of the chain: left-associative runs are loops.
 */
function expression(node: cst.ExpressionCstNode): Expr {
  const operands = node.children.operands;
  const operators = (node.children.operators ?? []).map((o) => o.children.operator![0]);
  let next = 0; // index of the next operand; operators[next - 1] precedes it

  const climb = (left: Expr, minPrec: number): Expr => {
    while (next - 1 < operators.length && next > 0) {
      const opTok = operators[next - 1];
      const prec = binaryPrecedence(opTok.image as BinaryOp);
      if (prec < minPrec) break;
      const right = climb(operand(), prec + 1);
      left = binary(left, opTok, right);
    }
    return left;
  };

  const operand = (): Expr => {
    const c = operands[next++].children;
    const base = prefix(signs(c.signs), power(c.power[0]));
    if (!c.nots) return base;
    // `not` takes the comparison after it: `not a < b and c` is `(not (a < b)) and c`.
    return prefix(c.nots, climb(base, precedence.not + 1));
  };

  return climb(operand(), 0);
}

function prefix(ops: IToken[], operand: Expr): Expr {
  let acc = operand;
  for (let i = ops.length - 1; i >= 0; i--) {
    const opSpan = tokenSpan(ops[i]);
    acc = { kind: 'unary', op: ops[i].image as '-' | '+' | 'not', operand: acc, span: cover(opSpan, acc.span), opSpan };
  }
  return acc;
}

function signs(nodes: cst.SignCstNode[] | undefined): IToken[] {
  return (nodes ?? []).map((s) => s.children.operator![0]);
}

function power(node: cst.PowerCstNode): Expr {
  const base = primary(node.children.base[0]);
  const exponents = node.children.exponents ?? [];
  const carets = node.children.carets ?? [];
  if (exponents.length === 0) return base;
  // a ^ -b ^ c  is  a ^ (-(b ^ c)): fold from the right, applying each exponent's signs after the fold.
  const last = exponents.length - 1;
  let acc = exponentOperand(exponents[last]);
  acc = prefix(signs(exponents[last].children.signs), acc);
  for (let i = last - 1; i >= 0; i--) {
    const operand = exponentOperand(exponents[i]);
    const raised: Expr = { kind: 'binary', op: '^', left: operand, right: acc, span: cover(operand.span, acc.span), opSpan: tokenSpan(carets[i + 1]) };
    acc = prefix(signs(exponents[i].children.signs), raised);
  }
  return { kind: 'binary', op: '^', left: base, right: acc, span: cover(base.span, acc.span), opSpan: tokenSpan(carets[0]) };
}

function exponentOperand(node: cst.ExponentCstNode): Expr {
  return primary(node.children.operand[0]);
}

function primary(node: cst.PrimaryCstNode): Expr {
  const c = node.children;
  if (c.number) return numberLiteral(c.number[0]);
  if (c.reference) return reference(c.reference[0]);
  if (c.parenthesized) {
    const p = c.parenthesized[0].children;
    const inner = expression(p.inner[0]);
    // Keep the parentheses in the span so carets point at what the user wrote.
    return { ...inner, span: span(p.LParen[0].startOffset, p.RParen[0].startOffset + 1) };
  }
  if (c.list) return list(c.list[0]);
  const k = c.conditional![0].children;
  const condition = expression(k.condition[0]);
  const then = expression(k.then[0]);
  const otherwise = expression(k.else[0]);
  return { kind: 'if', condition, then, else: otherwise, span: cover(tokenSpan(k.If[0]), otherwise.span) };
}

/** parse.ts has already reported a number with an incomplete exponent (`1e+`). */
function numberLiteral(tok: IToken): Expr {
  return { kind: 'number', value: Number(tok.image), span: tokenSpan(tok) };
}

function reference(node: cst.ReferenceCstNode): Expr {
  const c = node.children;
  const nameTok = c.name[0];
  const nameSpan = tokenSpan(nameTok);
  if (c.openIndex) {
    const indices = (c.indices ?? []).map((a) => expression(a));
    return { kind: 'index', array: nameTok.image, arraySpan: nameSpan, indices, span: span(nameSpan.start, c.closeIndex![0].startOffset + 1) };
  }
  if (!c.open) return { kind: 'name', name: nameTok.image, span: nameSpan };
  if (c.binder) {
    // Whether the name is a reduction is for the checker to say; an unknown one is a call error there.
    const body = expression(c.body![0]);
    const reduce: Expr = {
      kind: 'reduce',
      op: nameTok.image as ReduceOp,
      opSpan: nameSpan,
      binder: binder(c.binder[0]),
      body,
      span: span(nameSpan.start, c.close![0].startOffset + 1),
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
          args: (c.applyArgs ?? []).map((a) => expression(a)),
          span: span(nameSpan.start, c.applyClose![0].startOffset + 1),
        }
      : reduce;
    return c.subscript ? element(applied, c.subscript[0]) : applied;
  }
  const args = (c.args ?? []).map((a) => expression(a));
  const callSpan = span(nameSpan.start, c.close![0].startOffset + 1);
  const call: Expr = c.applyOpen
    ? {
        kind: 'derivative',
        transform: nameTok.image,
        transformSpan: nameSpan,
        of: args,
        ofSpan: span(c.open[0].startOffset, callSpan.end),
        args: (c.applyArgs ?? []).map((a) => expression(a)),
        span: span(nameSpan.start, c.applyClose![0].startOffset + 1),
      }
    : { kind: 'call', callee: nameTok.image, calleeSpan: nameSpan, args, span: callSpan };
  return c.subscript ? element(call, c.subscript[0]) : call;
}

function list(node: cst.ListCstNode): Expr {
  const c = node.children;
  const items = c.items.map((a) => expression(a));
  const value: Expr = { kind: 'list', items, span: span(c.LBracket[0].startOffset, c.close[0].startOffset + 1) };
  return c.subscript ? element(value, c.subscript[0]) : value;
}

/** `base[i, j]` for an array-valued expression that is not a name. */
function element(base: Expr, node: cst.SubscriptCstNode): Expr {
  const c = node.children;
  const indices = c.indices.map((a) => expression(a));
  return { kind: 'element', base, indices, span: span(base.span.start, c.close[0].startOffset + 1) };
}
