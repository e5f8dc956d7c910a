import type fc from 'fast-check';
import { expect } from 'vitest';
import type { caseArb } from '../oracle/arbitrary.ts';
import { approxEqual } from '../oracle/dual.ts';
import { differentiatedParams, evaluate, findFunction, gradient, printProgram, roundingStable } from '../oracle/program.ts';
import { compileAndInstantiate } from './instantiate.ts';
import type { Gradient } from './load.ts';
import type { CompileOptions } from '../../src/index.ts';

/**
 * The differential check of one random program, shared by test/properties.test.ts and `npm run
 * fuzz`: the compiled value must equal the reference evaluator, and the compiled gradient a
 * forward-mode (dual number) evaluation, wherever both are finite.
 */
export type Case = ReturnType<typeof caseArb> extends fc.Arbitrary<infer C> ? C : never;

/**
 * At coordinates like 1e-26 or 1e-163, gradients are ill-conditioned (20·exp(y)/y − 20·expm1(y)/y²
 * cancels to rounding noise of size 1e11) or products underflow, and two correct evaluations in
 * different orders (reverse and forward mode) legitimately disagree. Values are still compared
 * there; gradients only at points of ordinary magnitude. (Found by `npm run fuzz`, seed 1297501356.)
 */
const ordinary = (args: number[]) => args.every((a) => a === 0 || (Math.abs(a) >= 1e-6 && Math.abs(a) <= 1e6));

export function checkCase({ program, fn, args }: Case, options: Pick<CompileOptions, 'calls'> = {}) {
  const source = printProgram(program);
  const m = compileAndInstantiate(source, options);
  const value = m[fn](...args) as number;
  const want = evaluate(program, fn, args);
  // The same test of conditioning as for gradients below, for the value: where the reference moves
  // when the point moves by a few ulps (sin of 9e263, whose argument one rounding changes by 1e248:
  // seed -437452767), two correct evaluation orders (x^4 as a product or by pow) disagree.
  // The arguments do not reach every rounding, though: in `sin(f(2)^(π + 1))` the power is 1e13,
  // and f(2) = 6.14^4 computed as (x·x)² (the compiler's x^4) or by Math.pow (the reference) is an
  // ulp apart, which sin turns into 0.0025 (fuzz seed 654188507, calls kept). So the reference is
  // also evaluated with every rounded operation's result nudged (roundingStable): 1e-10 under nudges
  // of 2^-44 bounds what one ulp per operation can do at about 2e-13, within the 1e-12 compared.
  const nudgedArgs = args.map((a) => a * (1 + 2 ** -44));
  const valueStable = approxEqual(want, evaluate(program, fn, nudgedArgs), 1e-9, 1e-10) && roundingStable(program, fn, args, 1e-10, 1e-300);
  if (valueStable) expect(approxEqual(value, want, 1e-12, 1e-300), `value of ${fn}(${args}) = ${value}, reference ${want}\n${source}`).toBe(true);
  const r = m[`${fn}Grad`](...args) as Gradient;
  expect(Object.is(r.value, value) || (Number.isNaN(r.value) && Number.isNaN(value)), `${fn}Grad value ${r.value} vs ${fn} ${value}\n${source}`).toBe(true);
  if (!ordinary(args)) return;
  const oracle = gradient(program, fn, args);
  const names = differentiatedParams(findFunction(program, fn));
  expect(Object.keys(r.gradient)).toEqual(names);
  // Ill-conditioned points: where the oracle's own answer moves when the point moves by a few
  // ulps (a huge adjoint times a rounding error, such as 1/sin(pi)), no evaluation order is
  // "right", and the two are not compared.
  const nudged = gradient(program, fn, nudgedArgs);
  const stable = (i: number) => approxEqual(oracle.gradient[i], nudged.gradient[i], 1e-9, 1e-10);
  names.forEach((name, i) => {
    const got = r.gradient[name];
    const exp = oracle.gradient[i];
    if (!Number.isFinite(got) || !Number.isFinite(exp) || !stable(i)) return;
    // 1e-6: reverse and forward mode sum the chain rule in different orders, and evaluate partials
    // by different formulas (1 − tanh² against 1/cosh²). Random programs are also full of
    // cancellations (x/x has derivative 1/x − x/x², exactly 0 only in one order), where the two
    // differ by rounding residues relative to the terms that cancelled, not to the result: 3x/(x/6)
    // gives 0 in forward mode and 1e-15 in reverse, and under an adjoint of 1e118 that is 1e103
    // against 0 (seed -478685661). So the difference may also be 1e-9 (2^-30: 2^23 roundings of
    // 2^-53 each) of the sum of the terms' magnitudes, which the dual numbers track beside the sum.
    const residue = Math.abs(got - exp) <= 1e-9 * oracle.scale[i];
    expect(approxEqual(got, exp, 1e-6, 1e-9) || residue, `∂${fn}/∂${name} at (${args}) = ${got}, dual numbers ${exp} (terms of magnitude ${oracle.scale[i]})\n${source}`).toBe(true);
  });
}

