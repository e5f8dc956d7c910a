import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseArb } from './oracle/arbitrary.ts';
import type { Expr, Program } from './oracle/program.ts';
import { gradient, printProgram } from './oracle/program.ts';
import { checkCase } from './support/differential.ts';

/**
 * Differential property tests: random valid programs (every operator, built-in, conditional,
 * let chains, calls, const parameters) are compiled, and the compiled value must equal an
 * independent reference evaluator, and the compiled gradient a forward-mode (dual number)
 * evaluation, wherever both are finite. A failure shrinks to a small program and prints the seed:
 * replay with `fc.assert(..., { seed, path })`. `npm run fuzz` runs the same for longer.
 */
const runs = Number(process.env.ADC_PROPERTY_RUNS ?? 1500);
const keptRuns = Math.ceil(runs / 3);

/**
 * The runs in chunks of at most 300, each its own test with its own seed: compiling is about 5 ms a
 * program on an idle machine, and 1500 in one test passed the 60 s timeout with the machine loaded
 * (load 20). The same number of programs is checked.
 */
const CHUNK = 300;
const chunks = (n: number): [number, number][] =>
  Array.from({ length: Math.ceil(n / CHUNK) }, (_, i) => [i * CHUNK + 1, Math.min(n, (i + 1) * CHUNK)]);

describe('compiled programs agree with the reference evaluator and forward mode', () => {
  for (const [from, to] of chunks(runs)) {
    it(`on random programs ${from}..${to} of ${runs}`, () => {
      fc.assert(
        fc.property(caseArb(), (c) => checkCase(c)),
        { numRuns: to - from + 1 },
      );
    });
  }

  // Random call graphs (up to five functions, each calling the earlier ones, often more than once)
  // with every call of a function kept as a call: its adjoint, not its inlined body.
  for (const [from, to] of chunks(keptRuns)) {
    it(`on random call graphs ${from}..${to} of ${keptRuns}, every call kept as a call`, () => {
      fc.assert(
        fc.property(caseArb({ maxFunctions: 5 }), (c) => checkCase(c, { calls: 'keep' })),
        { numRuns: to - from + 1 },
      );
    });
  }
});

describe('the comparison scales with what cancelled', () => {
  const num = (value: number): Expr => ({ kind: 'num', value });
  const x: Expr = { kind: 'var', name: 'x' };
  const bin = (op: '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
  const paren = (arg: Expr): Expr => ({ kind: 'paren', arg });
  // Reduced from seed -478685661 (path 1308:63): t = 3x/(x/6) = 18 has the derivative 18/x − 18/x,
  // exactly 0 in forward mode and a rounding residue (-2.2e-15 at x = 1) in reverse mode, times the
  // adjoint of t in 10^(6.5 t), 1e117 · 6.5 · ln 10: both correct to rounding.
  const program: Program = {
    functions: [{
      name: 'h',
      params: [{ name: 'x', isConst: false }],
      lets: [{ name: 't', value: bin('/', bin('*', num(3), x), paren(bin('/', x, num(6)))) }],
      body: bin('^', num(10), paren(bin('*', { kind: 'var', name: 't' }, num(6.5)))),
    }],
  };

  it('a residue of 1e103 against an exact 0 passes when the cancelled terms were 36 · 1.5e118', () => {
    expect(printProgram(program)).toBe('fn h(x) {\n  let t = 3 * x / (x / 6)\n  return 10^(t * 6.5)\n}\n');
    const oracle = gradient(program, 'h', [1]);
    expect(oracle.gradient).toEqual([0]);
    // 6.5 · ln 10 · 1e117 · (18 + 18): the magnitudes of the two terms that cancelled.
    expect(oracle.scale[0]).toBeCloseTo(6.5 * Math.LN10 * 1e117 * 36, -105);
    checkCase({ program, fn: 'h', args: [1] });
  });
});
