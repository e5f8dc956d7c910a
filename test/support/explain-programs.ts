import { expect } from 'vitest';
import { explain, type ExplainResult } from '../../src/explain/index.ts';
import { buildArgs, copyArgs, type ArrayCase } from './array-programs.ts';
import { evaluateLoopProgram, printLoopProgram, type LoopCase } from './loop-programs.ts';

/**
 * `adc explain`'s unrolled graph of random programs (test/explain-unrolled.test.ts, and
 * test/fuzz/explain.fuzz.ts for `npm run fuzz`): its value against the programs' own evaluators,
 * its reverse sweep against the generated gradient, its forward sweep against the reverse sweep
 * and the generated gradient. Only the size limit may refuse a loop program; an array program
 * may also read out of range at the sizes drawn, which the generated code throws for too.
 */

/** Equal to `tol` relative to the larger of 1, the expected value and `scale` (the size of the terms summed). */
function close(actual: number, expected: number, what: string, tol: number, scale = 0): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected), scale));
}

/** The size of the terms an input's adjoint sums: cancellation makes rounding as large as they are. */
const termScale = (r: ExplainResult, input: string) => r.adjoints.find((a) => a.node === input)?.terms.reduce((m, t) => m + Math.abs(t.contribution), 0) ?? 0;

/**
 * Whether the graph multiplies an adjoint of exactly 0 by an infinite partial somewhere: the
 * generated code guards such adjoints, and inside loops the unrolled graph does not reproduce the
 * guard (README, "adc explain"), so a NaN there against a number in the generated code is expected.
 */
const unguardedZero = (r: ExplainResult) => r.adjoints.some((s) => s.terms.some((t) => t.adjoint === 0 && !Number.isFinite(t.partial)));

/** The adjoint agrees with the generated code's, or differs only where the README says it may. */
function agrees(r: ExplainResult, input: string, what: string): void {
  const p = r.inputs.find((i) => i.input === input)!;
  if (!Number.isFinite(p.adjoint) && Number.isFinite(p.compiled) && unguardedZero(r)) return;
  if (Number.isNaN(p.compiled)) expect(p.adjoint, what).toBeNaN();
  else close(p.adjoint, p.compiled, what, 1e-9, termScale(r, input));
}

export function checkExplainLoopCase(c: LoopCase): void {
  const source = printLoopProgram(c.program);
  let r: ExplainResult;
  try {
    r = explain(source, 'f', { p: c.p, q: c.q, n: c.n }, { forward: 'p' });
  } catch (error) {
    expect((error as Error).message, source).toContain('too many to explain');
    return;
  }
  close(r.value, evaluateLoopProgram(c.program, { p: c.p, q: c.q, n: c.n }), `value\n${source}`, 1e-12);
  for (const p of r.inputs) agrees(r, p.input, `adjoint of ${p.input} vs generated\n${source}`);
  // The forward sweep against the reverse sweep and the generated gradient, not against the
  // generated fJvp: its tangent rule for tanh is 1 - y², which rounds to 0 past |x| ≈ 19 where the
  // gradient's 1/cosh(x)² does not (this search found p ↦ 1 from fJvp against 2.5e39 from fGrad).
  const p = r.inputs.find((i) => i.input === 'p')!;
  if (!Number.isFinite(p.compiled)) return;
  close(r.forward!.tangent, p.adjoint, `forward vs reverse\n${source}`, 1e-9, termScale(r, 'p'));
  close(r.forward!.tangent, p.compiled, `tangent vs the generated gradient\n${source}`, 1e-9, termScale(r, 'p'));
}

export function checkExplainArrayCase(c: ArrayCase): void {
  const source = c.program.source;
  const args = copyArgs(buildArgs(c.program.params, { ...c.configs[0], typed: false }, c.data));
  let r: ExplainResult;
  try {
    r = explain(source, 'f', args);
  } catch (error) {
    expect((error as Error).message, source).toMatch(/too many to explain|throws a RangeError/);
    return;
  }
  const reference = c.program.evaluate(args).value;
  if (Number.isFinite(reference)) close(r.value, reference, `value vs the reference\n${source}`, 1e-9, c.program.bound);
  for (const p of r.inputs) if (Number.isFinite(p.compiled) || Number.isNaN(p.compiled)) agrees(r, p.input, `adjoint of ${p.input} vs generated\n${source}`);
}
