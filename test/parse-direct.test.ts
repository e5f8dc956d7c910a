import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../src/diagnostics/diagnostic.ts';
import type { Program } from '../src/syntax/ast.ts';
import { checkDepth } from '../src/syntax/check-depth.ts';
import type { ProgramCstNode } from '../src/syntax/cst.generated.d.ts';
import { tokenHabit } from '../src/syntax/habits.ts';
import { tokenize } from '../src/syntax/lexer.ts';
import { parseDirect } from '../src/syntax/parse-direct.ts';
import { parseTokens } from '../src/syntax/parser.ts';
import { toAst } from '../src/syntax/to-ast.ts';
import { chainSource } from '../bench/chain.ts';
import { arrayProgramArb } from './support/array-programs.ts';
import { mutationCases, prng, pick, int } from './support/hostile.ts';
import { loopCaseArb, printLoopProgram } from './support/loop-programs.ts';
import { programArb } from './oracle/arbitrary.ts';
import { printProgram } from './oracle/program.ts';

/**
 * src/syntax/parse-direct.ts reads a file without syntax errors straight into the AST; the
 * Chevrotain parser and to-ast.ts are the reference. For every input: when Chevrotain reports a
 * syntax error the direct parser gives up (so the error is reported as before), and when it reports
 * none the direct parser returns the very same AST (never gives up, or the fast path is unused).
 */
function compare(source: string): 'same' | 'error' | 'lexer' {
  const { tokens, errors } = tokenize(source);
  // Characters the lexer refuses, and `**`, `&&`, `||`, `!` (parsed as `^`, `and`, `or`, `not`
  // and reported as habits of other languages), are errors before parsing: parse.ts then runs
  // the Chevrotain parser alone.
  if (errors.length > 0 || tokens.some((tok) => tokenHabit(tok)) || !checkDepth(tokens, new DiagnosticBag())) return 'lexer';
  const reference = parseTokens(tokens);
  const direct = parseDirect(tokens);
  if (reference.errors.length > 0) {
    expect(direct, `the direct parser accepted a file with a syntax error:\n${source}`).toBeUndefined();
    return 'error';
  }
  expect(direct, `the direct parser gave up on a file without syntax errors:\n${source}`).toBeDefined();
  expect(direct).toEqual(toAst(reference.cst as ProgramCstNode) satisfies Program);
  return 'same';
}

const adFiles = (dir: string) =>
  readdirSync(new URL(dir, import.meta.url))
    .filter((f) => f.endsWith('.ad'))
    .map((f) => ({ name: `${dir}${f}`, source: readFileSync(new URL(`${dir}${f}`, import.meta.url), 'utf8') }));
const files = [...adFiles('../examples/'), ...adFiles('../bench/cases/'), ...adFiles('./fixtures/')];

/** Every token of the grammar, some near-misses and the other languages' operators. */
const vocabulary = [
  'fn', 'let', 'return', 'var', 'for', 'while', 'max', 'in', 'if', 'then', 'else', 'and', 'or', 'not', 'const',
  'x', 'y', 'f', 'i', 'sum', 'grad', 'vec', 'mat', 'n', 'sin',
  '0', '1', '2.5', '.5', '1e3',
  '(', ')', '{', '}', '[', ']', ',', ';', ':', '..', '<', '<=', '>', '>=', '==', '!=', '=', '+', '-', '*', '/', '^',
  '**', '&&', '||', '!',
];

describe('the direct parser agrees with the Chevrotain parser', () => {
  it('on every example, benchmark case and fixture', () => {
    expect(files.length).toBeGreaterThan(10);
    for (const { source } of files) compare(source);
    // The files without errors are most of them, so the comparison is not vacuous.
    expect(files.filter(({ source }) => compare(source) === 'same').length).toBeGreaterThan(10);
  });

  it('on every construct of the grammar', () => {
    const sources = [
      'fn f(x, const y, v: vec[n], A: mat[2, n]) { let z[k, j in 0..n] = A[k, j] * v[j]; var s = 0; var w: vec[2] = [x, y]\n for i in 0..n { s = s + sum(j: A[i, j]) } while s > 1 max 10 { s = s / 2 } if s < 1 { s = 1 } else if s > 2 { s = 2 } else { w[0] = s } return s + z[0] }',
      'fn g(x) = not not x < 1 and - + -x ^ -2 ^ +3 or [x, 2][0] > f(x)[1] + grad(h, x)(x, 1) + grad(h)() + max(x, 1) + (if x then 1 else 2)',
      'fn h() = sum(i in 1..3: i) + prod(i: [1, 2][i])',
      'fn k(x) { return x; } fn m(x) = k(x) == 1 != 0 <= 1 >= 2 * 3 / 4 - 5',
      '',
      'fn e(x) = sum(i: x)(1)',
      'fn e(x) = sum(i: x)[0]',
    ];
    expect(sources.map(compare)).toEqual(['same', 'same', 'same', 'same', 'same', 'same', 'same']);
  });

  it('on the property generators’ programs (numbers, arrays, loops)', () => {
    fc.assert(fc.property(programArb({ maxFunctions: 4, maxDepth: 4 }), (p) => void expect(compare(printProgram(p))).toBe('same')), { numRuns: 100, seed: 1 });
    fc.assert(fc.property(arrayProgramArb(), (p) => void expect(compare(p.source)).toBe('same')), { numRuns: 100, seed: 2 });
    fc.assert(fc.property(loopCaseArb(), (c) => void expect(compare(printLoopProgram(c.program))).toBe('same')), { numRuns: 100, seed: 3 });
  });

  it('on mutations of the examples (a token deleted, inserted, replaced or swapped)', () => {
    const outcomes = new Map<string, number>();
    for (const [k, { source }] of files.entries()) {
      for (const c of mutationCases(source, 60, k + 1)) {
        const outcome = compare(c.source);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    expect(outcomes.get('error')).toBeGreaterThan(100);
    expect(outcomes.get('same')).toBeGreaterThan(50);
  });

  it('on random token soup', () => {
    const rand = prng(15);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      let source = pick(rand, ['fn f(x, y) = ', 'fn f(x, y) { ', 'fn f(x, y) { let z = ', '']);
      for (let j = int(rand, 0, 14); j > 0; j--) source += `${pick(rand, vocabulary)} `;
      source += pick(rand, ['', '}', ' }', 'return x }', ' x }']);
      const outcome = compare(source);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(outcomes.get('error')).toBeGreaterThan(1000);
    expect(outcomes.get('same')).toBeGreaterThan(20);
  });

  it('on a long let chain, the shape it is fastest on', () => {
    expect(compare(chainSource(2_000))).toBe('same');
  });
});
