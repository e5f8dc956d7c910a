import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics } from '../src/index.ts';
import { checkProgram } from '../src/check/check-program.ts';
import { DiagnosticBag } from '../src/diagnostics/diagnostic.ts';
import { parse } from '../src/syntax/parse.ts';
import * as catalogue from '../src/diagnostics/messages.ts';
import { diagnose, only } from './support/diagnostics.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * One test per diagnostic the compiler can produce (src/diagnostics/messages.ts): the exact code,
 * message and 1-based line:column of each. Sources span several lines so that line numbers matter.
 */

describe('lexing (AD1001)', () => {
  it('reports an unknown ASCII character', () => {
    expect(only('fn f(x) {\n  let y = x\n  return y $\n}\n')).toEqual({
      code: 'AD1001',
      message: "unknown character '$' (U+0024)",
      line: 3,
      column: 12,
    });
  });

  it('reports an unknown non-ASCII character by its code point', () => {
    expect(only('fn f(x) =\n  2 * x²\n')).toEqual({ code: 'AD1001', message: "unknown character '²' (U+00B2)", line: 2, column: 8 });
  });

  it('reports a character outside the BMP as one character, with the column in code points', () => {
    expect(only('fn f(x) =\n  x 😀\n')).toEqual({ code: 'AD1001', message: "unknown character '😀' (U+1F600)", line: 2, column: 5 });
  });

  it('spans the whole surrogate pair of a character outside the BMP', () => {
    // BUG (src/syntax/parse.ts): the span is `offset + 1`, which ends between the two halves of the pair.
    const source = 'fn f(x) =\n  x 😀\n';
    const [d] = compileSync(source).diagnostics;
    expect(d.code).toBe('AD1001');
    expect(source.slice(d.span.start, d.span.end)).toBe('😀');
  });

  it('reports a control character by its code point only', () => {
    expect(only('fn f(x) =\n  x\u0000\n')).toEqual({ code: 'AD1001', message: 'unknown character U+0000', line: 2, column: 4 });
  });

  it('reports U+FFFD (what invalid UTF-8 decodes to) as not valid UTF-8', () => {
    expect(only('fn f(x) =\n  x\uFFFD\n')).toEqual({
      code: 'AD1001',
      message: 'unknown character U+FFFD (the file is not valid UTF-8 here)',
      line: 2,
      column: 4,
    });
  });
});

describe('parsing (AD1002 to AD1005)', () => {
  it('reports an unexpected token where an expression was expected', () => {
    expect(only('fn f(x) =\n  x * * 2\n')).toEqual({ code: 'AD1002', message: "unexpected '*', expected an expression", line: 2, column: 7 });
  });

  it.each([
    ['a missing body', 'fn f(x)\n  x + 1\n', "unexpected name 'x', expected '=' or '{' to start the function body", 2, 3],
    ['a keyword as a function name', '# comment\nfn let(x) = x\n', "unexpected 'let', expected a name", 2, 4],
    ['a missing parameter name', 'fn f(x,\n     const) = x\n', "unexpected ')', expected a parameter name", 2, 11],
    ['a missing closing parenthesis', 'fn g(x) = x\nfn f(x = x + 1\n', "unexpected '=', expected ')'", 2, 8],
    ['text outside a function', 'fn g(x) = x\nx = 2\n', "unexpected name 'x', expected an operator, or 'fn' to start a function", 2, 1],
    ['a stray closing parenthesis', 'fn f(x) = x\n)\n', "unexpected ')', expected an operator, or 'fn' to start a function", 2, 1],
  ])('reports an unexpected token: %s', (_, source, message, line, column) => {
    expect(only(source)).toEqual({ code: 'AD1002', message, line, column });
  });

  it.each([
    ['`**` for a power', 'fn f(x) = x ** 2\n', "'**' is not an operator in .ad: write a power with '^', as in x ^ 2", 1, 13],
    ['`//` for a comment, at the start of a file', '// the model\nfn f(x) = x\n', "'//' does not start a comment in .ad: comments start with '#'", 1, 1],
    ['`//` for a comment, after code', 'fn f(x) = x // the model\n', "'//' does not start a comment in .ad: comments start with '#'", 1, 13],
    ['`? :` for a choice', 'fn f(x) = x > 0 ? x : -x\n', "'?' is not an operator in .ad: write a choice as 'if x > 0 then a else b'", 1, 17],
    ['`=` in a condition', 'fn f(x) = if x = 0 then 1 else x\n', "'=' defines a name in .ad: to compare, write '=='", 1, 16],
    ['`&&`', 'fn f(x, y) = if x > 0 && y > 0 then 1 else 0\n', "'&&' is not an operator in .ad: write 'and'", 1, 23],
    ['`||`', 'fn f(x, y) = if x > 0 || y > 0 then 1 else 0\n', "'||' is not an operator in .ad: write 'or'", 1, 23],
    ['`!`', 'fn f(x) = if !(x > 0) then 1 else 0\n', "'!' is not an operator in .ad: write 'not'", 1, 14],
    [
      'a block ending in an expression without `return`',
      'fn f(x) {\n  let a = x * 2\n  a + 1\n}\n',
      "an expression alone is not a statement in .ad: to return its value, write 'return' before it",
      3,
      3,
    ],
    [
      'a block ending in an element without `return` (it starts like an assignment)',
      'fn f(x: vec[n]) {\n  let a = x[0] * 2\n  x[1] * a\n}\n',
      "an expression alone is not a statement in .ad: to return its value, write 'return' before it",
      3,
      3,
    ],
    ['`f(x) = …` without `fn`', 'fn g(x) = x\nf(x) = x^2\n', "a function definition starts with 'fn': write 'fn f(…) = …'", 2, 1],
    ['`def`', 'def f(x) = x^2\n', "'def' does not define functions in .ad: write 'fn f(x) = …' or 'fn f(x) { … return … }'", 1, 1],
    ['`function`', 'function f(x) { return x }\n', "'function' does not define functions in .ad: write 'fn f(x) = …' or 'fn f(x) { … return … }'", 1, 1],
    ['`const` at the top level', 'const a = 2\nfn f(x) = a * x\n', "a file holds only functions, so 'const' cannot start one: define values with 'let' inside a function", 1, 1],
    ['a call ending a block without `return`', 'fn f(x) {\n  let a = x\n  sin(a) * 2\n}\n', "an expression alone is not a statement in .ad: to return its value, write 'return' before it", 3, 3],
    ['`x += 1`', 'fn f(x) {\n  var a = x\n  a += 1\n  return a\n}\n', "'+=' is not an operator in .ad: write 'a = a + …'", 3, 5],
    ['`let a = 1, b = 2`', 'fn f(x) {\n  let a = 1, b = 2\n  return a + b * x\n}\n', "one 'let' defines one name: give the next its own 'let', on a new line or after ';'", 2, 12],
  ])('says how .ad writes a habit from another language: %s (AD1007, and nothing else)', (_, source, message, line, column) => {
    expect(only(source)).toEqual({ code: 'AD1007', message, line, column });
  });

  it("keeps '!=' a comparison and ';' between statements, and says only 'fn' is expected at the start of a file", () => {
    expect(compileSync('fn f(x) {\n  let a = 1; let b = 2;\n  return if x != 0 then a else b\n}\n').diagnostics).toEqual([]);
    expect(only('x = 2\nfn f(x) = x\n')).toEqual({ code: 'AD1002', message: "unexpected name 'x', expected 'fn' to start a function", line: 1, column: 1 });
    expect(only(') fn f(x) = x\n')).toEqual({ code: 'AD1002', message: "unexpected ')', expected 'fn' to start a function", line: 1, column: 1 });
  });

  it('reports an unexpected end of input inside an expression, just after the last token', () => {
    expect(only('fn f(x) =\n  x *\n')).toEqual({ code: 'AD1002', message: 'unexpected end of input, expected an expression', line: 2, column: 6 });
  });

  it('reports an unexpected end of input inside a block', () => {
    expect(only('fn f(x) {\n  return x\n')).toEqual({ code: 'AD1002', message: "unexpected end of input, expected '}'", line: 2, column: 11 });
  });

  it.each([
    ['1e+', 'fn f(x) =\n  x * 1e+\n', 2, 7],
    ['1e', 'fn f(x) =\n  1e\n', 2, 3],
    ['2.5E-', 'fn f(x) {\n  let a = x\n  return a * 2.5E-\n}\n', 3, 14],
  ])('reports the invalid number %s', (text, source, line, column) => {
    expect(only(source)).toEqual({ code: 'AD1004', message: `invalid number '${text}'`, line, column });
  });

  it('reports nesting too deep at the first parenthesis past the limit', () => {
    const source = 'fn f(x) =\n  ' + '('.repeat(150) + 'x' + ')'.repeat(150) + '\n';
    // The 101st '(' is at column 2 + 101.
    expect(only(source)).toEqual({ code: 'AD1003', message: 'nesting too deep (the limit is 100 levels)', line: 2, column: 103 });
  });

  it('reports 100,000 nested parentheses as too deep, without overflowing the stack', () => {
    const n = 100_000;
    const source = 'fn f(x) =\n  ' + '('.repeat(n) + 'x' + ')'.repeat(n) + '\n';
    expect(only(source)).toEqual({ code: 'AD1003', message: 'nesting too deep (the limit is 100 levels)', line: 2, column: 103 });
  });

  it('reports 100,000 nested ifs as too deep, without overflowing the stack', () => {
    const n = 100_000;
    const source = 'fn f(x) =\n  ' + 'if x > 0 then '.repeat(n) + 'x' + ' else 0'.repeat(n) + '\n';
    // The 101st `if` starts at column 3 + 100 * 'if x > 0 then '.length.
    expect(only(source)).toEqual({ code: 'AD1003', message: 'nesting too deep (the limit is 100 levels)', line: 2, column: 1403 });
  });

  it('reports 100,000 nested calls and nots as too deep', () => {
    const n = 100_000;
    const calls = 'fn f(x) =\n  ' + 'sin('.repeat(n) + 'x' + ')'.repeat(n) + '\n';
    expect(only(calls)).toMatchObject({ code: 'AD1003', line: 2, column: 2 + 4 * 101 });
    const nots = 'fn f(x) =\n  if ' + 'not '.repeat(n) + 'x > 0 then 1 else 2\n';
    expect(only(nots)).toMatchObject({ code: 'AD1003', line: 2 });
  });

  it('reports an empty file at its end', () => {
    const message = "no functions in this file (expected 'fn name(params) = expr')";
    expect(only('# only a comment\n\n')).toEqual({ code: 'AD1005', message, line: 3, column: 1 });
    expect(only('')).toEqual({ code: 'AD1005', message, line: 1, column: 1 });
  });
});

describe('long operator chains', () => {
  // Left-leaning chains are walked in loops by every pass, so they compile at any length.
  it.each([
    ['a sum of 3,000 terms', 'fn f(x) =\n  x' + ' + x'.repeat(3_000) + '\n', 3001],
    ['a conjunction of 3,000 comparisons', 'fn f(x) =\n  if x > 0' + ' and x > 0'.repeat(3_000) + ' then 1 else 2\n', 1],
  ])('%s compiles', async (_, source, expected) => {
    const m = await import('./support/instantiate.ts').then((s) => s.compileAndInstantiate(source));
    expect(m.f(1)).toBe(expected);
  });

  // Right-nested trees (signs, powers) cost stack in every pass: past the limit they are reported.
  it.each([
    ['10,000 unary minus signs', 'fn f(x) =\n  ' + '-'.repeat(10_000) + 'x\n'],
    ['a chain of 10,000 powers', 'fn f(x) =\n  x' + '^x'.repeat(10_000) + '\n'],
  ])('%s is reported as too deep, without throwing', (_, source) => {
    const result = compileSync(source);
    expect(result.code).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['AD1006', "expression nested too deeply (the limit is 1000 levels); split it with 'let'"],
    ]);
  });
});

describe('names (AD2xxx)', () => {
  it('reports an unknown variable with a did-you-mean suggestion', () => {
    expect(only('fn f(rate, x) =\n  x * rat\n')).toEqual({
      code: 'AD2001',
      message: "unknown variable 'rat' (did you mean 'rate'?)",
      line: 2,
      column: 7,
    });
  });

  it('suggests a constant for a misspelt constant, and nothing when no name is close', () => {
    expect(only('fn f(x) {\n  return x * pii\n}\n')).toEqual({
      code: 'AD2001',
      message: "unknown variable 'pii' (did you mean 'pi'?)",
      line: 2,
      column: 14,
    });
    expect(only('fn f(x) =\n  x + zzz\n')).toEqual({ code: 'AD2001', message: "unknown variable 'zzz'", line: 2, column: 7 });
  });

  it('reports an unknown function with a built-in suggestion', () => {
    expect(only('fn f(x) =\n  1 + sqr(x)\n')).toEqual({
      code: 'AD2002',
      message: "unknown function 'sqr' (did you mean 'sqrt'?)",
      line: 2,
      column: 7,
    });
  });

  it('reports an unknown function with a suggestion from the file', () => {
    expect(only('fn square(x) = x^2\nfn f(x) =\n  sqare(x)\n')).toEqual({
      code: 'AD2002',
      message: "unknown function 'sqare' (did you mean 'square'?)",
      line: 3,
      column: 3,
    });
  });

  it('reports a duplicate parameter, noting the first', () => {
    expect(only('fn f(x,\n     x) = x\n')).toEqual({
      code: 'AD2003',
      message: "duplicate parameter 'x'",
      line: 2,
      column: 6,
      notes: [{ message: 'first defined here', line: 1, column: 6 }],
    });
  });

  it('reports a duplicate function, noting the first', () => {
    expect(only('fn f(x) = x\n\nfn f(y) = 2 * y\n')).toEqual({
      code: 'AD2004',
      message: "duplicate function 'f'",
      line: 3,
      column: 4,
      notes: [{ message: 'first defined here', line: 1, column: 4 }],
    });
  });

  it('reports a duplicate let, noting the first', () => {
    expect(only('fn f(x) {\n  let a = x\n  let a = 2\n  return a\n}\n')).toEqual({
      code: 'AD2005',
      message: "'a' is already defined in this function",
      line: 3,
      column: 7,
      notes: [{ message: 'first defined here', line: 2, column: 7 }],
    });
  });

  it('reports a let that redefines a parameter, noting the parameter', () => {
    expect(only('fn f(x) {\n  let x = 2\n  return x\n}\n')).toEqual({
      code: 'AD2005',
      message: "'x' is already defined in this function",
      line: 2,
      column: 7,
      notes: [{ message: 'first defined here', line: 1, column: 6 }],
    });
  });

  it.each([
    ['a parameter', 'fn f(x,\n     pi) = x\n', 'pi', 2, 6],
    ['a let', 'fn f(x) {\n  let e = x\n  return e\n}\n', 'e', 2, 7],
    ['a function', 'fn g(x) = x\nfn pi(x) = x\n', 'pi', 2, 4],
  ])('reports shadowing a constant with %s', (_, source, name, line, column) => {
    expect(only(source)).toEqual({ code: 'AD2006', message: `'${name}' is a built-in constant and cannot be redefined`, line, column });
  });

  it('reports shadowing a built-in function', () => {
    expect(only('fn g(x) = x\nfn sin(x) = x\n')).toEqual({
      code: 'AD2007',
      message: "'sin' is a built-in function and cannot be redefined",
      line: 2,
      column: 4,
    });
  });

  it('reports a function named like a generated gradient, noting the function it belongs to', () => {
    expect(only('fn f(x) = x\nfn fGrad(x) = x\n')).toEqual({
      code: 'AD2008',
      message: "function 'fGrad' collides with the gradient function generated for 'f'",
      line: 2,
      column: 4,
      notes: [{ message: "'fGrad' is generated for this function", line: 1, column: 4 }],
    });
    // Whichever comes first in the file, the user's `fGrad` is the one reported.
    expect(only('fn fGrad(x) = x\nfn f(x) = x\n')).toMatchObject({ code: 'AD2008', line: 1, column: 4, notes: [{ line: 2, column: 4 }] });
  });

  it('names the kind of generated function collided with (fJvp is not a gradient function)', () => {
    const cases: [string, string][] = [
      ['fJvp', 'forward-mode (jvp)'],
      ['fVjp', 'reverse-mode (vjp)'],
      ['fJacobian', 'Jacobian'],
      ['fHvp', 'Hessian-vector product (hvp)'],
      ['fHessian', 'Hessian'],
    ];
    for (const [name, what] of cases) {
      expect(only(`fn f(x) = x\nfn ${name}(x) = x\n`)).toEqual({
        code: 'AD2008',
        message: `function '${name}' collides with the ${what} function generated for 'f'`,
        line: 2,
        column: 4,
        notes: [{ message: `'${name}' is generated for this function`, line: 1, column: 4 }],
      });
    }
    expect(only('fn f(x: vec[n]) = x[0]\nfn fGradInto(x) = x\n')).toMatchObject({
      code: 'AD2008',
      message: "function 'fGradInto' collides with the in-place gradient function generated for 'f'",
      line: 2,
      column: 4,
    });
  });

  it('reports a variable used as a function', () => {
    expect(only('fn f(x) =\n  x(2)\n')).toEqual({ code: 'AD2009', message: "'x' is a variable, not a function", line: 2, column: 3 });
    expect(only('fn f(x) =\n  x * pi(2)\n')).toEqual({ code: 'AD2009', message: "'pi' is a variable, not a function", line: 2, column: 7 });
  });

  it('reports a function used as a variable', () => {
    expect(diagnose('fn g(x) = x\nfn f(x) =\n  g + sin\n')).toEqual([
      { code: 'AD2010', message: "'g' is a function; call it with arguments", line: 3, column: 3 },
      { code: 'AD2010', message: "'sin' is a function; call it with arguments", line: 3, column: 7 },
    ]);
  });
});

describe('functions and calls (AD3xxx)', () => {
  it('reports the wrong number of arguments to a built-in', () => {
    expect(only('fn f(x) =\n  atan2(x)\n')).toEqual({ code: 'AD3001', message: "'atan2' takes 2 arguments, but 1 was given", line: 2, column: 3 });
    expect(only('fn f(x) =\n  x + sin()\n')).toEqual({ code: 'AD3001', message: "'sin' takes 1 argument, but 0 were given", line: 2, column: 7 });
  });

  it('reports the wrong number of arguments to a function of the file', () => {
    expect(only('fn g(x, y) = x * y\nfn f(x) =\n  g(x, x, x)\n')).toEqual({
      code: 'AD3001',
      message: "'g' takes 2 arguments, but 3 were given",
      line: 3,
      column: 3,
    });
  });

  it('reports direct recursion at the call', () => {
    // A function of numbers may call itself only with a bound the compiler checks (test/calls.test.ts).
    expect(only('fn f(x) =\n  f(x) + 1\n')).toEqual({
      code: 'AD3008',
      message: "'f' calls itself here without a bound adc can check: pass 'p - c' for a number parameter p (c a positive number), or arrays whose lengths make a size p that much smaller, and call it only inside 'if p > k then …' (or >=)",
      line: 2,
      column: 3,
    });
    expect(only('fn f(x) =\n  f(x) + 1\n', { calls: 'inline' })).toEqual({ code: 'AD3002', message: 'recursion is not supported: f → f', line: 2, column: 3 });
    // A function taking arrays may recurse over a size that decreases (test/array-calls.test.ts); x keeps n.
    expect(only('fn f(x: vec[n]) =\n  f(x) + 1\n')?.code).toBe('AD3008');
    expect(only('fn f(x: vec[n]) =\n  f(x) + 1\n', { calls: 'inline' })).toEqual({ code: 'AD3002', message: 'recursion is not supported: f → f', line: 2, column: 3 });
  });

  it('reports mutual recursion once, naming the whole cycle, at the call that closes it', () => {
    expect(only('fn a(x) = b(x)\nfn b(x) =\n  c(x)\nfn c(x) = 1 + a(x)\n')).toEqual({
      code: 'AD3002',
      message: 'recursion is not supported: a → b → c → a',
      line: 4,
      column: 15,
    });
  });

  it('reports a block without return at its closing brace', () => {
    expect(only('fn f(x) {\n  let a = x\n}\n')).toEqual({ code: 'AD3003', message: "function 'f' has no 'return' at the end of its block", line: 3, column: 1 });
    expect(only('fn g(x) = x\nfn f(x) {\n}\n')).toEqual({ code: 'AD3003', message: "function 'f' has no 'return' at the end of its block", line: 3, column: 1 });
  });

  it('reports a statement after return', () => {
    expect(only('fn f(x) {\n  return x\n  return 2 * x\n}\n')).toEqual({
      code: 'AD3004',
      message: "'return' must be the last statement of a block",
      line: 3,
      column: 3,
    });
  });
});

describe('syntax errors and the functions that parsed', () => {
  it('reports the semantic errors of the functions that parsed beside a syntax error, in source order', () => {
    const source = 'fn f(x) = x * * 2\nfn g(x) = x + yy\nfn h(x) = f(x) + q(x)\nfn k(x) {\n  let a = x\n  a + 1\n}\nfn m(x) = k(x) + zz\n';
    expect(diagnose(source)).toEqual([
      { code: 'AD1002', message: "unexpected '*', expected an expression", line: 1, column: 15 },
      { code: 'AD2001', message: "unknown variable 'yy'", line: 2, column: 15 },
      // f and k could not be read, so calls to them are not reported; q is unknown.
      { code: 'AD2002', message: "unknown function 'q'", line: 3, column: 18 },
      { code: 'AD1007', message: "an expression alone is not a statement in .ad: to return its value, write 'return' before it", line: 6, column: 3 },
      { code: 'AD2001', message: "unknown variable 'zz'", line: 8, column: 18 },
    ]);
  });

  it('leaves out a function whose text holds a reported problem, and the one an unfinished function runs into', () => {
    // g's own text is fine, but f ran into it: the error is at g's 'fn', and g is still checked.
    expect(diagnose('fn f(x) = x +\nfn g(x) = x + yy\n').map((d) => d.code)).toEqual(['AD1002', 'AD2001']);
    // A `//` comment and an unknown character make their function unreadable; nothing more is said of it.
    expect(diagnose('fn f(x) = yy // c\nfn g(x) = x @ zz\nfn h(x) = ww\n').map((d) => [d.code, d.line])).toEqual([
      ['AD1007', 1],
      ['AD1001', 2],
      ['AD2001', 3],
    ]);
  });
});

describe('types (AD4xxx)', () => {
  it('reports a condition used as a number', () => {
    expect(only('fn f(x) =\n  (x < 1) + 2\n')).toEqual({ code: 'AD4001', message: "expected a number, but this '<' is a condition", line: 2, column: 3 });
  });

  it('reports a let holding a condition used as a number, and a condition as an argument', () => {
    expect(only('fn f(x) {\n  let c = x < 1\n  return c * 2\n}\n')).toEqual({
      code: 'AD4001',
      message: "expected a number, but 'c' is a condition",
      line: 3,
      column: 10,
    });
    expect(only('fn f(x) =\n  sin(x >= 1)\n')).toEqual({ code: 'AD4001', message: "expected a number, but this '>=' is a condition", line: 2, column: 7 });
  });

  it('reports a number used as a condition', () => {
    const message = "expected a condition (a comparison such as 'x > 0'), but 'x' is a number";
    expect(only('fn f(x) =\n  if x then 1 else 2\n')).toEqual({ code: 'AD4002', message, line: 2, column: 6 });
    expect(only('fn f(x) =\n  if x > 1 and x then 1 else 2\n')).toEqual({ code: 'AD4002', message, line: 2, column: 16 });
  });

  it('reports a function that returns a condition', () => {
    expect(only('fn f(x) =\n  x < 1\n')).toEqual({ code: 'AD4003', message: "function 'f' must return a number, not a condition", line: 2, column: 3 });
    expect(only('fn f(x) {\n  let c = x < 1\n  return c\n}\n')).toEqual({
      code: 'AD4003',
      message: "function 'f' must return a number, not a condition",
      line: 3,
      column: 10,
    });
  });
});

describe('several errors in one file', () => {
  it('reports an unknown variable in each of two functions in one run', () => {
    expect(diagnose('fn a(x) =\n  x + yy\n\nfn b(x) {\n  return zz * x\n}\n')).toEqual([
      { code: 'AD2001', message: "unknown variable 'yy'", line: 2, column: 7 },
      { code: 'AD2001', message: "unknown variable 'zz'", line: 5, column: 10 },
    ]);
  });

  it('reports parse errors in two separate functions in one run', () => {
    expect(diagnose('fn a(x) = x * * 2\nfn b(x) = x\nfn c(y) = y + )\nfn d(z) = z\n')).toEqual([
      { code: 'AD1002', message: "unexpected '*', expected an expression", line: 1, column: 15 },
      { code: 'AD1002', message: "unexpected ')', expected an expression", line: 3, column: 15 },
    ]);
  });

  it('reports name, call, type and recursion errors of different functions together', () => {
    const source = [
      'fn f(x, x) = x', //                 1: duplicate parameter
      'fn g(x) = sinn(x)', //              2: unknown function
      'fn h(x) = if x then 1 else 2', //   3: number as condition
      'fn k(x) = atan2(x)', //             4: argument count
      'fn r1(x) = r2(x)', //               5
      'fn r2(x) = r1(x)', //               6: recursion
    ].join('\n');
    expect(diagnose(source).map((d) => `${d.code}@${d.line}:${d.column}`)).toEqual(['AD2003@1:9', 'AD2002@2:11', 'AD4002@3:14', 'AD3001@4:11', 'AD3002@6:12']);
  });
});

describe('formatDiagnostics', () => {
  it('prints file:line:col, the message and code, the line, a caret under the token, and the note', () => {
    const source = 'fn area(radius) =\n  pi * radius^2\n\n# again\nfn area(r) = r\n';
    const result = compileSync(source, { filename: 'shapes.ad' });
    expect(formatDiagnostics(result.diagnostics, source, 'src/shapes.ad')).toBe(
      [
        "src/shapes.ad:5:4: error: duplicate function 'area' [AD2004]",
        '  fn area(r) = r',
        '     ^~~~',
        'src/shapes.ad:1:4: note: first defined here',
        '  fn area(radius) =',
        '     ^~~~',
      ].join('\n'),
    );
  });

  it('prints several diagnostics one after another, keeping tabs so the caret lines up', () => {
    const source = 'fn f(rate) =\n\trat * sqr(rate)\n';
    const result = compileSync(source, { filename: 't.ad' });
    expect(formatDiagnostics(result.diagnostics, source, 't.ad')).toBe(
      [
        "t.ad:2:2: error: unknown variable 'rat' (did you mean 'rate'?) [AD2001]",
        '  \trat * sqr(rate)',
        '  \t^~~',
        "t.ad:2:8: error: unknown function 'sqr' (did you mean 'sqrt'?) [AD2002]",
        '  \trat * sqr(rate)',
        '  \t      ^~~',
      ].join('\n'),
    );
  });
});

describe('suggestions and use before definition', () => {
  it('suggests only names closer than the name is long: a one-letter typo gets no suggestion', () => {
    expect(only('fn f(x) =\n  x + y\n').message).toBe("unknown variable 'y'");
  });

  it('prefers the candidate sharing the longer prefix, and counts a swap of two letters as one edit', () => {
    expect(only('fn f(x) =\n  sinn(x)\n').message).toBe("unknown function 'sinn' (did you mean 'sin'?)");
    expect(only('fn f(value) =\n  valeu * 2\n').message).toBe("unknown variable 'valeu' (did you mean 'value'?)");
  });

  it("says a name is used before its 'let', pointing at the let", () => {
    expect(only('fn f(x) {\n  let a = b * 2\n  let b = x\n  return a\n}\n')).toEqual({
      code: 'AD2011',
      message: "'b' is used before its 'let'",
      line: 2,
      column: 11,
      notes: [{ message: 'defined here', line: 3, column: 7 }],
    });
  });

  it('reports diagnostics in source order', () => {
    const seen = diagnose('fn f(x) = y1\nfn sin(x) = x\nfn f(x) = z1\n');
    expect(seen.map((d) => d.line)).toEqual([...seen.map((d) => d.line)].sort((a, b) => a - b));
    expect(seen.map((d) => d.code)).toEqual(['AD2001', 'AD2007', 'AD2004']);
  });

  it('a byte-order mark at the start is white space', () => {
    expect(compileSync('\uFEFFfn f(x) = x\n').diagnostics).toEqual([]);
  });
});

// With every call inlined (the option calls: 'inline'), the limits of inlining apply to every
// function; by default they remain only for functions taking arrays and returning a number (always
// inlined), and functions returning arrays called inside blocks (inlined there).
describe('limits of inlining calls (AD3005–AD3007), every call inlined', () => {
  const inline = { calls: 'inline' } as const;
  it('reports a function whose inlined calls nest too deeply, at the deepest call', () => {
    const source = ['fn f0(x) = x', ...[1, 2, 3].map((i) => `fn f${i}(x) = ${'-'.repeat(900)}f${i - 1}(x)`)].join('\n') + '\n';
    const seen = only(source, inline);
    expect(seen.code).toBe('AD3005');
    expect(seen.message).toBe("'f2' nests too deeply once its calls are inlined (the limit is 1000 levels; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks); split expressions with 'let'");
    expect(seen.line).toBe(3);
  });

  it('reports a function that doubles its callee at every level', () => {
    const source = ['fn f0(x) = sin(x)', ...Array.from({ length: 16 }, (_, k) => `fn f${k + 1}(x) = f${k}(x) + f${k}(2 * x)`)].join('\n') + '\n';
    expect(only(source, inline)).toEqual({
      code: 'AD3006',
      message:
        "'f14' grows to 147449 operations once calls are inlined, 147442 of them from its calls (the limit is 100000 from calls; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks); call large array functions from fewer places",
      line: 15,
      column: 4,
    });
  });

  it('does not apply the inlining limit to a long function without calls (issue #12 item 16)', () => {
    // 20,000 lets are 120,000 operations, all written: AD3006 reported them as "grown by
    // inlining". Only the checks run here; compiling it whole takes seconds per 10,000 lets.
    const lets = Array.from({ length: 20_000 }, (_, k) => `  let a${k + 1} = sin(a${k}) * 1.0001 + x`).join('\n');
    const source = `fn f(x) {\n  let a0 = x\n${lets}\n  return a20000\n}\n`;
    const bag = new DiagnosticBag();
    const program = parse(source, bag);
    expect(program && checkProgram(program, bag)).toBeDefined();
    expect(bag.items).toEqual([]);
  });

  it('counts only the operations calls add against the inlining limit', () => {
    // 60,000 written operations and 60,000 from calls: under the limit of 100,000 from calls.
    const lets = Array.from({ length: 10_000 }, (_, k) => `  let a${k + 1} = sin(a${k}) * 1.0001 + x`).join('\n');
    const big = `fn g(x) {\n  let a0 = x\n${lets}\n  return a10000\n}\n`;
    const source = `${big}fn f(x) {\n  let a0 = g(x)\n${lets}\n  return a10000\n}\n`;
    const bag = new DiagnosticBag();
    const program = parse(source, bag);
    expect(program && checkProgram(program, bag)).toBeDefined();
    expect(bag.items).toEqual([]);
    // Two calls to g add 2 × 60,002: refused, with the share from calls in the message.
    const twice = source.replace('let a0 = g(x)', 'let a0 = g(x) + g(2 * x)');
    const refused = new DiagnosticBag();
    checkProgram(parse(twice, refused)!, refused, 'inline');
    expect(refused.items.map((d) => d.code)).toEqual(['AD3006']);
    expect(refused.items[0].message).toMatch(/^'f' grows to \d+ operations once calls are inlined, 120004 of them from its calls \(the limit is 100000 from calls; /);
  });

  it('does not cap a long function that inlines no call (its code is what was written)', () => {
    // 20,000 statements of 3 operations and more: past the 100,000 operations AD3006 caps inlining at.
    const lines = Array.from({ length: 20_000 }, (_, i) => `  let v${i + 1} = v${i} * 1.5 + x`);
    const source = `fn chain(x) {\n  let v0 = x\n${lines.join('\n')}\n  return v20000\n}\nfn twice(x) = chain(x) + chain(x)\n`;
    const diagnostics = new DiagnosticBag();
    const program = parse(source, diagnostics)!;
    checkProgram(program, diagnostics, 'inline');
    // chain itself passes; twice, which inlines it twice, is still refused.
    expect(diagnostics.items.map((d) => [d.code, source.slice(d.span.start, d.span.end)])).toEqual([['AD3006', 'twice']]);
  });

  it('reports a file that inlining grows far beyond what was written', () => {
    const source = ['fn f0(x) = x', ...Array.from({ length: 2000 }, (_, k) => `fn f${k + 1}(x) = f${k}(x) * 1.01`)].join('\n') + '\n';
    const seen = only(source, inline);
    expect(seen.code).toBe('AD3007');
    expect(seen.message).toMatch(/^inlining calls grows this file to \d+ operations by 'f\d+' \(the limit here is \d+; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks\); call large array functions from fewer places$/);
  });
});

describe('limits of inlining calls (AD3005–AD3007) by default: only where calls of array functions are inlined', () => {
  const doubling = (n: number) => ['fn f0(x) = sin(x)', ...Array.from({ length: n }, (_, k) => `fn f${k + 1}(x) = f${k}(x) + f${k}(2 * x)`)].join('\n') + '\n';

  it('compiles what inlining could not: calls of functions of numbers stay calls', () => {
    // The four programs the limits refuse above when every call is inlined.
    const deep = ['fn f0(x) = x', ...[1, 2, 3].map((i) => `fn f${i}(x) = ${'-'.repeat(900)}f${i - 1}(x)`)].join('\n') + '\n';
    const chain = ['fn f0(x) = x', ...Array.from({ length: 2000 }, (_, k) => `fn f${k + 1}(x) = f${k}(x) * 1.01`)].join('\n') + '\n';
    for (const source of [deep, doubling(16), chain]) {
      const bag = new DiagnosticBag();
      expect(checkProgram(parse(source, bag)!, bag)).toBeDefined();
      expect(bag.items).toEqual([]);
    }
    const result = compileSync(doubling(16));
    expect(result.diagnostics).toEqual([]);
    expect(result.code).toMatch(/^\/\/ f\d+ is compiled once and called, not inlined: \d+ operations × 2 call sites$/m);
  });

  it('still reports a function that doubles a callee taking an array, naming that limit', () => {
    const source = ['fn f0(v: vec[n]) = sum(i: sin(v[i]))', ...Array.from({ length: 16 }, (_, k) => `fn f${k + 1}(v: vec[n]) = f${k}(v) + f${k}(v) * 2`)].join('\n') + '\n';
    const seen = only(source);
    expect(seen.code).toBe('AD3006');
    expect(seen.message).toMatch(/^'f\d+' grows to \d+ operations once calls are inlined, \d+ of them from its calls \(the limit is 100000 from calls; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks\); call large array functions from fewer places$/);
  });
});

describe('numbers a double cannot hold, indices and ranges no array or loop can have (issue #12 items 10, 11)', () => {
  it('refuses a literal that overflows and warns about one that underflows to 0', () => {
    expect(only('fn f(x) = x * 1e400\n')).toEqual({ code: 'AD1099', message: "the number '1e400' is too large for a double (the largest is about 1.8e308)", line: 1, column: 15 });
    const r = compileSync('fn f(x) = x + 1e-400\n');
    expect(r.diagnostics.map((d) => [d.severity, d.code, d.span.start])).toEqual([['warning', 'AD1098', 14]]);
    // A warning does not stop the compile; 5e-324 (the least subnormal) and 0e5 are fine.
    expect(r.code).toBeDefined();
    expect(compileSync('fn f(x) = x + 5e-324 + 0e5 + 0.000\n').diagnostics).toEqual([]);
  });

  it('refuses constant indices that are not whole numbers, or past 2^53', () => {
    expect(only('fn f(x: vec[n]) = x[0.5]\n')).toEqual({ code: 'AD6099', message: 'x[...] is read at index 0.5: an index is a whole number from 0 to 2^53', line: 1, column: 21 });
    expect(only('fn f(x: vec[n]) = x[1 / 3]\n').message).toBe('x[...] is read at index 1 / 3 (0.3333333333333333): an index is a whole number from 0 to 2^53');
    expect(only('fn f(x: vec[n]) = x[2 ^ 60]\n').code).toBe('AD6099');
    expect(only('fn f(x: vec[n]) = x[1e300]\n').code).toBe('AD6099');
    expect(compileSync('fn f(x: vec[n]) = x[2 * 1] + x[4 / 2]\n').diagnostics).toEqual([]);
  });

  it('refuses ranges whose constant bound is not finite or past 2^53', () => {
    expect(only('fn f(x) = sum(i in 0..1e300: x)\n')).toEqual({ code: 'AD6098', message: "the range of 'i' has the bound 1e+300: no loop can count past 2^53", line: 1, column: 23 });
    expect(only('fn f(x) = sum(i in 0..1 / 0: x)\n').message).toBe("the range of 'i' has the bound 1 / 0 (Infinity): no loop can count past 2^53");
    expect(only('fn f(x) { let z[i in -1e300..3] = x; return z[2] }\n').code).toBe('AD6098');
    expect(compileSync('fn f(x) = sum(i in 0..2^53: 0) + sum(i in 0..3: x)\n').diagnostics).toEqual([]);
  });

  it('checks a bound known only at run time before the loop: NaN, Infinity and 1e300 throw a RangeError', async () => {
    const m = instantiate(compileSync('fn f(x, t) = sum(i in 0..t: x)\nfn g(x) = x + f(x, 1e300)\n').code!);
    expect(m.f(2, 3.5)).toBe(8);
    for (const t of [1e300, Infinity, NaN, -1e300]) expect(() => m.f(2, t)).toThrow(RangeError);
    expect(() => m.f(2, 1e300)).toThrow("f, line 1: the end of i's range is 1e+300, not a whole number a loop can count to (within 2^53)");
    // A bound that becomes 1e300 by inlining: the check throws instead of a loop that never ends.
    expect(() => m.g(2)).toThrow(RangeError);
    expect(() => m.fGrad(2, Infinity)).toThrow(RangeError);
  });

  it('does not check a bound over sizes and the index variables around it (whole numbers), but checks one over a number', () => {
    const source = 'fn tri(x: vec[n]) = sum(j: sum(c in 0..j: x[c] * x[j]))\nfn mixed(x: vec[n], t) = sum(j: sum(c in 0..j + t: x[j]))\n';
    const r = compileSync(source);
    expect(r.diagnostics).toEqual([]);
    const text = (name: string) => r.code!.slice(r.code!.indexOf(`\nfunction ${name}(`), r.code!.indexOf('\n}\n', r.code!.indexOf(`\nfunction ${name}(`)));
    expect(text('tri')).not.toContain('not a whole number');
    expect(text('triGrad')).not.toContain('not a whole number');
    expect(text('mixed')).toContain('not a whole number');
    const m = instantiate(r.code!) as unknown as Record<string, (...args: unknown[]) => unknown>;
    // Σ_{c<j} x_c x_j over [1, 2, 3] = 1·2 + 1·3 + 2·3.
    expect(m.tri([1, 2, 3])).toBe(11);
    expect(Array.from((m.triGrad([1, 2, 3]) as { gradient: { x: Float64Array } }).gradient.x)).toEqual([5, 4, 3]);
    expect(() => m.mixed([1, 2], NaN)).toThrow(RangeError);
  });
});

describe('the catalogue of messages', () => {
  it('gives each code to one message (two branches once both took AD8001)', () => {
    const byCode = new Map<string, string[]>();
    for (const [table, entries] of Object.entries(catalogue)) {
      if (typeof entries !== 'object' || entries === null) continue;
      for (const [name, entry] of Object.entries(entries as Record<string, unknown>)) {
        const code = (entry as { code?: unknown })?.code;
        if (typeof code === 'string') byCode.set(code, [...(byCode.get(code) ?? []), `${table}.${name}`]);
      }
    }
    expect(byCode.size).toBeGreaterThan(80);
    // AD1007 is one code on purpose: a habit from another language (README "Diagnostics").
    expect([...byCode].filter(([code, names]) => names.length > 1 && code !== 'AD1007')).toEqual([]);
  });
});
