/**
 * Checks the TensorFlow.js competitors of the array benchmarks (bench/arrays-tfjs.ts), on the CPU
 * and the WebAssembly backends, against the forward-mode oracle (test/oracle/arrays.ts). tfjs
 * computes in float32, so agreement is measured relative to the largest entry of each gradient (as
 * bench/run.ts does), not entry by entry.
 *
 * The peers are installed on demand (`npm run bench:setup`, into bench/node_modules): without
 * them these tests are skipped, and the run's summary says so (test/support/skipped-reporter.ts).
 */
import { existsSync } from 'node:fs';
import type * as TF from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ArrayGradResult, GradValue } from '../../test/oracle/arrays.ts';
import { gmmData, gmmForward, mlpData, mlpForward } from '../../test/oracle/arrays.ts';
import { loadTfjs, tfjsGmm, tfjsMlp, type TfjsBackend } from '../arrays-tfjs.ts';

const installed = existsSync(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/package.json', import.meta.url));
const SKIPPED = 'the benchmark peers are not installed (npm run bench:setup)';

function flat(g: GradValue): number[] {
  return typeof g === 'number' ? [g] : g instanceof Float64Array ? Array.from(g) : g.flatMap((r) => Array.from(r));
}

/** The largest discrepancy, per key relative to that key's largest entry (or 1); value relative to max(1, |value|). */
function discrepancy(actual: { value: number; gradient: object }, oracle: ArrayGradResult): number {
  expect(Object.keys(actual.gradient).sort()).toEqual(Object.keys(oracle.gradient).sort());
  let worst = Math.abs(actual.value - oracle.value) / Math.max(1, Math.abs(oracle.value));
  for (const [name, e] of Object.entries(oracle.gradient)) {
    const a = (actual.gradient as Record<string, GradValue>)[name]!;
    // Shapes: the same kind (number / Float64Array / rows of Float64Array) and the same sizes.
    if (typeof e === 'number') expect(typeof a, name).toBe('number');
    else if (e instanceof Float64Array) expect(a, name).toBeInstanceOf(Float64Array);
    else {
      expect(Array.isArray(a), name).toBe(true);
      expect(
        (a as Float64Array[]).map((r) => r.length),
        name,
      ).toEqual(e.map((r) => r.length));
      for (const r of a as Float64Array[]) expect(r).toBeInstanceOf(Float64Array);
    }
    const ea = flat(e);
    const aa = flat(a);
    expect(aa.length, name).toBe(ea.length);
    const scale = Math.max(1, ...ea.map(Math.abs));
    ea.forEach((v, i) => (worst = Math.max(worst, Math.abs(aa[i]! - v) / scale)));
  }
  return worst;
}

// float32 throughout: measured worst about 4e-7 of the largest entry (value about 2e-7), up to
// D=10, K=5, N=200 and d=20, h=16, m=200; entries near zero can be off by ~1e-4 of themselves.
const TOL = 1e-5;

describe.each(['cpu', 'wasm'] as const)('tfjs on the %s backend (bench/arrays-tfjs.ts)', (backend: TfjsBackend) => {
  let tf!: typeof TF;
  beforeAll(async () => {
    if (installed) tf = await loadTfjs(backend);
  }, 30_000);

  describe('gmm', () => {
    it.for([
      [1, 1, 1],
      [1, 3, 2],
      [2, 2, 3],
      [3, 4, 5],
      [5, 3, 20],
    ])('agrees with the forward-mode oracle at D=%i, K=%i, N=%i', ([D, K, N], context) => {
      if (!installed) return context.skip(SKIPPED);
      const d = gmmData(D, K, N, 17 * D + 5 * K + N);
      for (const [gamma, m] of [
        [d.gamma, d.m],
        [0.6, 2],
      ] as const) {
        const before = tf.memory().numTensors;
        const run = tfjsGmm(tf, { ...d, gamma, m });
        const r1 = run();
        const r2 = run();
        expect(r2).toEqual(r1);
        expect(discrepancy(r1, gmmForward(d.alpha, d.mu, d.q, d.l, d.x, gamma, m))).toBeLessThan(TOL);
        run.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }
    });
  });

  describe('mlp', () => {
    it.for([
      [1, 1, 1],
      [2, 3, 1],
      [3, 4, 5],
      [8, 6, 30],
    ])('agrees with the forward-mode oracle at d=%i, h=%i, m=%i', ([d, h, m], context) => {
      if (!installed) return context.skip(SKIPPED);
      const p = mlpData(d, h, m, 13 * d + 3 * h + m);
      const before = tf.memory().numTensors;
      const run = tfjsMlp(tf, p);
      const r1 = run();
      expect(run()).toEqual(r1);
      expect(discrepancy(r1, mlpForward(p.W1, p.b1, p.w2, p.b2, p.X, p.y))).toBeLessThan(TOL);
      run.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
