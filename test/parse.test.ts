import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../src/diagnostics/diagnostic.ts';
import { printExpr } from '../src/syntax/ast.ts';
import { parse } from '../src/syntax/parse.ts';

/** Parses `fn f(...) = <expr>` and prints the body fully parenthesised. */
function tree(expr: string): string {
  const d = new DiagnosticBag();
  const p = parse(`fn f(x, y, z, a, b, c) = ${expr}`, d);
  if (!p) throw new Error(d.items.map((i) => i.message).join('; '));
  const last = p.functions[0].body.at(-1)!;
  if (last.kind !== 'return') throw new Error('expected a return');
  return printExpr(last.value);
}

describe('precedence and associativity', () => {
  it.each([
    ['1+2*3^2', '(1 + (2 * (3 ^ 2)))'],
    ['x - y - z', '((x - y) - z)'],
    ['x / y / z', '((x / y) / z)'],
    ['x ^ y ^ 2', '(x ^ (y ^ 2))'],
    ['-x^2', '(-(x ^ 2))'],
    ['2^-x', '(2 ^ (-x))'],
    ['2^-x^2', '(2 ^ (-(x ^ 2)))'],
    ['-x * y', '((-x) * y)'],
    ['- -x', '(-(-x))'],
    ['+x', '(+x)'],
    ['(x + y) * z', '((x + y) * z)'],
    ['sin(x)^2', '(sin(x) ^ 2)'],
    ['.5 + 3. + 1e-3 + 2.5E2', '(((0.5 + 3) + 0.001) + 250)'],
    ['if x < y then a else b + c', '(if (x < y) then a else (b + c))'],
    ['1 + if x < y then a else b', '(1 + (if (x < y) then a else b))'],
    ['if x < 1 or y > 2 and not z == 3 then a else b', '(if ((x < 1) or ((y > 2) and (not (z == 3)))) then a else b)'],
    ['if not x < y and z != 1 then a else b', '(if ((not (x < y)) and (z != 1)) then a else b)'],
    ['if x <= y + 1 then a else b', '(if (x <= (y + 1)) then a else b)'],
    ['atan2(y, x) * hypot(a, b)', '(atan2(y, x) * hypot(a, b))'],
  ])('%s  →  %s', (input, expected) => {
    expect(tree(input)).toBe(expected);
  });
});

describe('statements', () => {
  it('parses a block of lets with and without semicolons, and comments', () => {
    const d = new DiagnosticBag();
    const p = parse('fn f(x, const y) {\n  let a = x * y; # a comment\n  let b = a + 1\n  return b\n}\n', d);
    expect(d.items).toEqual([]);
    const f = p!.functions[0];
    expect(f.params.map((q) => [q.name, q.isConst])).toEqual([
      ['x', false],
      ['y', true],
    ]);
    expect(f.body.map((s) => s.kind)).toEqual(['let', 'let', 'return']);
  });
});

describe('error recovery', () => {
  // The parser first runs without Chevrotain's error recovery (src/syntax/parser.ts) and parses
  // again with it only when that fails: every error it can recover from must still be reported,
  // and a good file parsed after a bad one (the parsers are reused) must parse as before.
  const lines = (src: string, d: DiagnosticBag) => d.items.map((i) => src.slice(0, i.span.start).split('\n').length);

  it('reports an error in each of several statements and functions, in one parse', () => {
    const src = 'fn f(x) {\n  let a = x +* 2\n  let b = a )\n  return b\n}\nfn g(y) = y * * 2\n';
    const d = new DiagnosticBag();
    expect(parse(src, d)).toBeUndefined();
    expect(d.items.every((i) => i.code.startsWith('AD1'))).toBe(true);
    expect(new Set(lines(src, d))).toEqual(new Set([2, 3, 6]));
  });

  it('parses a good file after a bad one, and the bad one again the same way', () => {
    const bad = 'fn f(x) = x +* 2\nfn g(y) = (y\n';
    const first = new DiagnosticBag();
    parse(bad, first);
    const good = new DiagnosticBag();
    expect(parse('fn f(x) = x * 2 + 1', good)?.functions.map((f) => f.name)).toEqual(['f']);
    expect(good.items).toEqual([]);
    const again = new DiagnosticBag();
    parse(bad, again);
    expect(again.items).toEqual(first.items);
    expect(first.items.length).toBeGreaterThanOrEqual(2);
  });
});
