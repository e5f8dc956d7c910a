/**
 * Checks the jax-js competitors of the array benchmarks (bench/arrays-jax.ts), in float32 and
 * float64, against the forward-mode oracle (test/oracle/arrays.ts), relative to the largest entry
 * of each gradient (as bench/arrays.ts does). Skipped, with the reason, without the peers
 * (`npm run bench:setup`).
 */
import { existsSync } from 'node:fs';
import type * as Jax from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ArrayGradResult, GradValue } from '../../test/oracle/arrays.ts';
import { gmmData, gmmForward, mlpData, mlpForward } from '../../test/oracle/arrays.ts';
import { jaxGmm, jaxMlp, loadJax, type JaxDtype } from '../arrays-jax.ts';

const installed = existsSync(new URL('../node_modules/@jax-js/jax/package.json', import.meta.url));
const SKIPPED = 'the benchmark peers are not installed (npm run bench:setup)';

const flat = (g: GradValue): number[] => (typeof g === 'number' ? [g] : g instanceof Float64Array ? Array.from(g) : g.flatMap((r) => Array.from(r)));

/** The largest discrepancy, per key relative to that key's largest entry (or 1); value relative to max(1, |value|). */
function discrepancy(actual: { value: number; gradient: object }, oracle: ArrayGradResult): number {
  expect(Object.keys(actual.gradient).sort()).toEqual(Object.keys(oracle.gradient).sort());
  let worst = Math.abs(actual.value - oracle.value) / Math.max(1, Math.abs(oracle.value));
  for (const [name, e] of Object.entries(oracle.gradient)) {
    const a = flat((actual.gradient as Record<string, GradValue>)[name]!);
    const ea = flat(e);
    expect(a.length, name).toBe(ea.length);
    const scale = Math.max(1, ...ea.map(Math.abs));
    ea.forEach((v, i) => (worst = Math.max(worst, Math.abs(a[i]! - v) / scale)));
  }
  return worst;
}

// float32 arithmetic, or float64 arithmetic with float32 exp, log and tanh.
const TOL: Record<JaxDtype, number> = { float32: 1e-5, float64: 1e-6 };

describe.each(['float32', 'float64'] as const)('jax-js jit(valueAndGrad) in %s (bench/arrays-jax.ts)', (dtype: JaxDtype) => {
  let jax!: typeof Jax;
  beforeAll(async () => {
    if (installed) jax = await loadJax();
  }, 30_000);

  // From D = 2: at D = 1, l has no entries, and jax-js fails on arrays of size 0 (see jaxGmm).
  it.for([
    [2, 1, 1],
    [2, 3, 2],
    [2, 2, 3],
    [3, 4, 5],
    [5, 3, 20],
  ])('gmm agrees with the forward-mode oracle at D=%i, K=%i, N=%i', ([D, K, N], context) => {
    if (!installed) return context.skip(SKIPPED);
    const d = gmmData(D, K, N, 17 * D + 5 * K + N);
    const run = jaxGmm(jax, d, dtype);
    const r1 = run();
    expect(run()).toEqual(r1);
    expect(discrepancy(r1, gmmForward(d.alpha, d.mu, d.q, d.l, d.x, d.gamma, d.m))).toBeLessThan(TOL[dtype]);
    run.dispose();
  });

  it.for([
    [1, 1, 1],
    [2, 3, 1],
    [3, 4, 5],
    [8, 6, 30],
  ])('mlp agrees with the forward-mode oracle at d=%i, h=%i, m=%i', ([d, h, m], context) => {
    if (!installed) return context.skip(SKIPPED);
    const p = mlpData(d, h, m, 13 * d + 3 * h + m);
    const run = jaxMlp(jax, p, dtype);
    const r1 = run();
    expect(run()).toEqual(r1);
    expect(discrepancy(r1, mlpForward(p.W1, p.b1, p.w2, p.b2, p.X, p.y))).toBeLessThan(TOL[dtype]);
    run.dispose();
  });
});
