/**
 * Checks the array reference oracle (test/oracle/arrays.ts) on its own: forward-mode gradients
 * against central finite differences, a few hand-computed values, the data generators, and the
 * hand-written benchmark competitors (bench/handwritten/gmm.js, mlp.js) against the oracle, and
 * the kernels' (bench/handwritten/kernels.js) against exact values and central differences.
 */
import { describe, expect, it } from 'vitest';
import type { ArrayGradResult, GradValue, Param } from './arrays.ts';
import {
  gmm,
  gmmData,
  gmmForward,
  gmmQ,
  lsq,
  lsqData,
  lsqForward,
  mlp,
  mlpData,
  mlpForward,
  numbers,
  smooth,
  smoothData,
  smoothForward,
} from './arrays.ts';
import { gmm as gmmHand, gmmGrad as gmmGradHand } from '../../bench/handwritten/gmm.js';
import { mlp as mlpHand, mlpGrad as mlpGradHand } from '../../bench/handwritten/mlp.js';
import { lseGradInto, polyfitGradInto } from '../../bench/handwritten/kernels.js';

// ---- helpers ---------------------------------------------------------------------------------

type Plain = number | Float64Array | Float64Array[];

/** Copies of the parameters' values, mutable and in the gradient's shape. */
function copyParams(params: Record<string, Param>): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const [name, p] of Object.entries(params)) {
    out[name] = p.kind === 'scalar' ? p.value : p.kind === 'vec' ? Float64Array.from(p.value) : p.value.map((r) => Float64Array.from(r));
  }
  return out;
}

/** Central finite differences, step h = 1e-5 · max(1, |v|) (about the cube root of machine epsilon). */
function finiteDifferences(params: Record<string, Param>, f: (args: Record<string, Plain>) => number): Record<string, GradValue> {
  const args = copyParams(params);
  const gradient: Record<string, GradValue> = {};
  const diff = (get: () => number, set: (v: number) => void): number => {
    const v = get();
    const h = 1e-5 * Math.max(1, Math.abs(v));
    set(v + h);
    const up = f(args);
    set(v - h);
    const dn = f(args);
    set(v);
    return (up - dn) / (2 * h);
  };
  for (const [name, p] of Object.entries(params)) {
    if (p.kind === 'scalar') gradient[name] = diff(() => args[name] as number, (v) => (args[name] = v));
    else if (p.kind === 'vec') {
      const a = args[name] as Float64Array;
      gradient[name] = a.map((_, i) => diff(() => a[i]!, (v) => (a[i] = v)));
    } else {
      gradient[name] = (args[name] as Float64Array[]).map((row) => row.map((_, i) => diff(() => row[i]!, (v) => (row[i] = v))));
    }
  }
  return gradient;
}

/** Same keys, same shapes (Float64Array / rows of Float64Array / number), every entry within tol · (1 + |expected|). */
function expectGradientClose(actual: Record<string, unknown>, expected: Record<string, GradValue>, tol: number): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  const close = (a: number, e: number, where: string) => {
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) expect.fail(`${where}: ${a} vs expected ${e}`);
  };
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (typeof e === 'number') {
      expect(typeof a, name).toBe('number');
      close(a as number, e, name);
    } else if (e instanceof Float64Array) {
      expect(a, name).toBeInstanceOf(Float64Array);
      expect((a as Float64Array).length, name).toBe(e.length);
      e.forEach((v, i) => close((a as Float64Array)[i]!, v, `${name}[${i}]`));
    } else {
      expect(Array.isArray(a), name).toBe(true);
      expect((a as unknown[]).length, name).toBe(e.length);
      e.forEach((row, r) => {
        const ar = (a as unknown[])[r];
        expect(ar, `${name}[${r}]`).toBeInstanceOf(Float64Array);
        expect((ar as Float64Array).length, `${name}[${r}]`).toBe(row.length);
        row.forEach((v, c) => close((ar as Float64Array)[c]!, v, `${name}[${r}][${c}]`));
      });
    }
  }
}

const closeTo = (a: number, e: number, tol: number) => expect(Math.abs(a - e)).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
const vecP = (value: ArrayLike<number>): Param => ({ kind: 'vec', value });
const matP = (value: ArrayLike<number>[]): Param => ({ kind: 'mat', value });
const scalarP = (value: number): Param => ({ kind: 'scalar', value });

const FD_TOL = 1e-6;

// ---- lsq -------------------------------------------------------------------------------------

describe('lsq oracle', () => {
  it('has a hand-computed value', () => {
    // (0.5 + 2·3 + (-1)·1 - 1)² + (0.5 + 2·0 + (-1)·2 - 0)², over m = 2.
    expect(lsq([2, -1], 0.5, [[3, 1], [0, 2]], [1, 0])).toBeCloseTo((4.5 ** 2 + 1.5 ** 2) / 2, 14);
  });

  it.each([
    [0, 1],
    [1, 1],
    [1, 4],
    [3, 5],
    [6, 2],
  ])('forward mode matches finite differences at n=%i, m=%i', (n, m) => {
    const { w, b, X, y } = lsqData(n, m, 10 * n + m);
    const r = lsqForward(w, b, X, y);
    expect(r.value).toBe(lsq(w, b, X, y));
    const fd = finiteDifferences({ w: vecP(w), b: scalarP(b) }, (a) => lsq(a.w as Float64Array, a.b as number, X, y));
    expectGradientClose(r.gradient, fd, FD_TOL);
    expect(r.gradient.w).toHaveLength(n);
  });
});

// ---- mlp -------------------------------------------------------------------------------------

describe('mlp oracle', () => {
  it('has a hand-computed value', () => {
    // One input, one hidden unit, one row: (b2 + w2 tanh(b1 + W1 x) - y)².
    const v = mlp([[0.5]], [0.25], [2], -0.1, [[1.5]], [0.3]);
    expect(v).toBeCloseTo((-0.1 + 2 * Math.tanh(0.25 + 0.75) - 0.3) ** 2, 14);
  });

  it.each([
    [1, 1, 1],
    [2, 3, 1],
    [3, 4, 5],
    [5, 2, 3],
    [0, 2, 3],
    [2, 0, 3],
  ])('forward mode matches finite differences at d=%i, h=%i, m=%i', (d, h, m) => {
    const { W1, b1, w2, b2, X, y } = mlpData(d, h, m, 100 * d + 10 * h + m);
    const r = mlpForward(W1, b1, w2, b2, X, y);
    expect(r.value).toBe(mlp(W1, b1, w2, b2, X, y));
    const fd = finiteDifferences({ W1: matP(W1), b1: vecP(b1), w2: vecP(w2), b2: scalarP(b2) }, (a) =>
      mlp(a.W1 as Float64Array[], a.b1 as Float64Array, a.w2 as Float64Array, a.b2 as number, X, y),
    );
    expectGradientClose(r.gradient, fd, FD_TOL);
  });
});

// ---- smooth ----------------------------------------------------------------------------------

describe('smooth oracle', () => {
  it('is -Infinity at n = 0, with an empty gradient', () => {
    const r = smoothForward(new Float64Array(0));
    expect(smooth([])).toBe(-Infinity);
    expect(r.value).toBe(-Infinity);
    expect(r.gradient.x).toBeInstanceOf(Float64Array);
    expect(r.gradient.x).toHaveLength(0);
  });

  it('is x[0] at n = 1, with gradient 1', () => {
    const r = smoothForward([0.7]);
    expect(r.value).toBe(0.7);
    expect(Array.from(r.gradient.x as Float64Array)).toEqual([1]);
  });

  it('has a hand-computed value and gradient at n = 2', () => {
    // (x1 - x0)² + log(e^x0 + e^x1) at (0, 1): 1 + log(1 + e).
    const r = smoothForward([0, 1]);
    expect(r.value).toBeCloseTo(1 + Math.log(1 + Math.E), 14);
    const s1 = Math.E / (1 + Math.E);
    expectGradientClose(r.gradient, { x: Float64Array.of(-2 + (1 - s1), 2 + s1) }, 1e-14);
  });

  it('is stable for large inputs (logsumexp shifts by the max)', () => {
    expect(smooth([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 10);
    expect(smooth([-1000])).toBe(-1000);
  });

  it.each([2, 3, 8, 20])('forward mode matches finite differences at n=%i', (n) => {
    const { x } = smoothData(n, n);
    const r = smoothForward(x);
    expect(r.value).toBe(smooth(x));
    expectGradientClose(r.gradient, finiteDifferences({ x: vecP(x) }, (a) => smooth(a.x as Float64Array)), FD_TOL);
  });
});

// ---- gmm -------------------------------------------------------------------------------------

describe('gmm oracle', () => {
  const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

  it('has a hand-computed value and gradient at D = 1, K = 1, N = 1', () => {
    // beta = a + s - ½ e^{2s} (x - u)²; objective = -½ log 2π + beta - a - (γ²/2) e^{2s} + m s.
    // At a = 0.3, u = 0.5, s = 0, x = 2, γ = 1, m = 0: -½ log 2π - 1.125 - 0.5.
    const args = [[0.3], [[0.5]], [[0]], [[]], [[2]], 1, 0] as const;
    expect(gmm(...args)).toBeCloseTo(-HALF_LOG_2PI - 1.125 - 0.5, 14);
    // ∂a = 1 - 1 = 0; ∂u = e^{2s}(x - u) = 1.5; ∂s = 1 - e^{2s}(x - u)² - γ² e^{2s} + m = -2.25.
    const r = gmmForward(...args);
    expect(r.value).toBeCloseTo(-HALF_LOG_2PI - 1.625, 14);
    expectGradientClose(
      r.gradient,
      { alpha: Float64Array.of(0), mu: [Float64Array.of(1.5)], q: [Float64Array.of(-2.25)], l: [new Float64Array(0)] },
      1e-14,
    );
  });

  it('has a hand-computed value at D = 1, K = 2, N = 1 (both logsumexps)', () => {
    // alpha = (0, log 3), mu = (1, -1), q = 0, x = 1: beta = (0, log 3 - 2); logsumexp(alpha) = log 4; prior -γ² = -1.
    const v = gmm([0, Math.log(3)], [[1], [-1]], [[0], [0]], [[], []], [[1]], 1, 0);
    expect(v).toBeCloseTo(-HALF_LOG_2PI + Math.log(1 + 3 * Math.exp(-2)) - Math.log(4) - 1, 14);
  });

  it('fills Q column by column as tri(r, c, D) in examples/gmm.ad', () => {
    const D = 4;
    const tri = (r: number, c: number) => c * (D - 1) - (c * (c - 1)) / 2 + r - c - 1;
    const l = Float64Array.from({ length: (D * (D - 1)) / 2 }, (_, t) => 10 + t);
    const q = Float64Array.from({ length: D }, (_, j) => j / 10);
    const Q = gmmQ(numbers, q, l, D);
    for (let r = 0; r < D; r++)
      for (let c = 0; c < D; c++) expect(Q[r]![c]).toBe(c < r ? l[tri(r, c)] : c === r ? Math.exp(q[r]!) : 0);
  });

  it('uses gamma and m as in the formula', () => {
    const d = gmmData(2, 2, 3, 5);
    const base = gmm(d.alpha, d.mu, d.q, d.l, d.x, 0, 0);
    const squares = [...d.q.flatMap((r) => Array.from(r, (v) => Math.exp(v) ** 2)), ...d.l.flatMap((r) => Array.from(r, (v) => v * v))];
    const sumq = d.q.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
    const expected = base - (0.7 ** 2 / 2) * squares.reduce((a, b) => a + b, 0) + 2 * sumq;
    expect(gmm(d.alpha, d.mu, d.q, d.l, d.x, 0.7, 2)).toBeCloseTo(expected, 12);
  });

  it.each([
    [1, 1, 1],
    [1, 2, 3],
    [2, 1, 2],
    [2, 3, 4],
    [3, 2, 5],
    [4, 3, 3],
    [2, 2, 0],
  ])('forward mode matches finite differences at D=%i, K=%i, N=%i', (D, K, N) => {
    const d = gmmData(D, K, N, 1000 * D + 100 * K + N);
    // Non-default gamma and m on some sizes, so the prior's every term is exercised.
    const gamma = D % 2 === 0 ? 0.8 : d.gamma;
    const m = D % 2 === 0 ? 1.5 : d.m;
    const r = gmmForward(d.alpha, d.mu, d.q, d.l, d.x, gamma, m);
    expect(r.value).toBe(gmm(d.alpha, d.mu, d.q, d.l, d.x, gamma, m));
    const fd = finiteDifferences({ alpha: vecP(d.alpha), mu: matP(d.mu), q: matP(d.q), l: matP(d.l) }, (a) =>
      gmm(a.alpha as Float64Array, a.mu as Float64Array[], a.q as Float64Array[], a.l as Float64Array[], d.x, gamma, m),
    );
    expectGradientClose(r.gradient, fd, FD_TOL);
  });
});

// ---- data generators -------------------------------------------------------------------------

describe('data generators', () => {
  it('are deterministic per seed and shaped as asked', () => {
    expect(gmmData(3, 2, 4, 7)).toEqual(gmmData(3, 2, 4, 7));
    expect(gmmData(3, 2, 4, 7).x[0]).not.toEqual(gmmData(3, 2, 4, 8).x[0]);
    const g = gmmData(3, 2, 4, 7);
    expect(g.alpha).toBeInstanceOf(Float64Array);
    expect([g.alpha.length, g.mu.length, g.mu[0]!.length, g.q[1]!.length, g.l[0]!.length, g.x.length, g.x[3]!.length]).toEqual([2, 2, 3, 3, 3, 4, 3]);
    expect([g.gamma, g.m]).toEqual([1, 0]);
    for (const v of [g.alpha, ...g.mu, ...g.q, ...g.l, ...g.x]) for (const e of v) expect(Math.abs(e)).toBeLessThanOrEqual(1);

    const p = mlpData(3, 4, 5, 1);
    expect([p.W1.length, p.W1[0]!.length, p.b1.length, p.w2.length, p.X.length, p.X[0]!.length, p.y.length]).toEqual([4, 3, 4, 4, 5, 3, 5]);
    expect(typeof p.b2).toBe('number');
    const q = lsqData(3, 5, 1);
    expect([q.w.length, q.X.length, q.X[0]!.length, q.y.length]).toEqual([3, 5, 3, 5]);
    expect(smoothData(6, 2).x).toHaveLength(6);
    expect(smoothData(6, 2)).toEqual(smoothData(6, 2));
  });
});

// ---- hand-written competitors ----------------------------------------------------------------

function expectAgrees(hand: { value: number; gradient: Record<string, unknown> }, oracle: ArrayGradResult, tol: number): void {
  closeTo(hand.value, oracle.value, tol);
  expectGradientClose(hand.gradient, oracle.gradient, tol);
}

describe('hand-written gmm (bench/handwritten/gmm.js)', () => {
  it.each([
    [1, 1, 1],
    [1, 3, 2],
    [2, 2, 3],
    [3, 4, 5],
    [5, 3, 7],
    [2, 2, 0],
  ])('agrees with the forward-mode oracle at D=%i, K=%i, N=%i', (D, K, N) => {
    const d = gmmData(D, K, N, 7 * D + 3 * K + N);
    for (const [gamma, m] of [[d.gamma, d.m], [0.6, 2]] as const) {
      const oracle = gmmForward(d.alpha, d.mu, d.q, d.l, d.x, gamma, m);
      closeTo(gmmHand(d.alpha, d.mu, d.q, d.l, d.x, gamma, m), oracle.value, 1e-12);
      expectAgrees(gmmGradHand(d.alpha, d.mu, d.q, d.l, d.x, gamma, m), oracle, 1e-10);
    }
  });

  it('accepts plain number[] inputs', () => {
    const d = gmmData(3, 2, 4, 3);
    const plain = (rows: Float64Array[]) => rows.map((r) => Array.from(r));
    const oracle = gmmForward(d.alpha, d.mu, d.q, d.l, d.x, 1, 0);
    expectAgrees(gmmGradHand(Array.from(d.alpha), plain(d.mu), plain(d.q), plain(d.l), plain(d.x), 1, 0), oracle, 1e-10);
  });

  it('is stable where the betas are far below zero', () => {
    const d = gmmData(2, 3, 4, 11);
    const x = d.x.map((r) => r.map((v) => 60 * v));
    const oracle = gmmForward(d.alpha, d.mu, d.q, d.l, x, 1, 0);
    expect(Number.isFinite(oracle.value)).toBe(true);
    expectAgrees(gmmGradHand(d.alpha, d.mu, d.q, d.l, x, 1, 0), oracle, 1e-10);
  });
});

describe('hand-written mlp (bench/handwritten/mlp.js)', () => {
  it.each([
    [1, 1, 1],
    [2, 3, 1],
    [3, 4, 5],
    [8, 6, 10],
    [0, 2, 3],
    [2, 0, 3],
  ])('agrees with the forward-mode oracle at d=%i, h=%i, m=%i', (d, h, m) => {
    const p = mlpData(d, h, m, 31 * d + 7 * h + m);
    const oracle = mlpForward(p.W1, p.b1, p.w2, p.b2, p.X, p.y);
    closeTo(mlpHand(p.W1, p.b1, p.w2, p.b2, p.X, p.y), oracle.value, 1e-12);
    expectAgrees(mlpGradHand(p.W1, p.b1, p.w2, p.b2, p.X, p.y), oracle, 1e-10);
  });
});

describe('hand-written kernels (bench/handwritten/kernels.js)', () => {
  /** Central differences of f at v along each coordinate (step 1e-6 · max(1, |v_j|)). */
  const centralDifferences = (f: (v: Float64Array) => number, v: Float64Array): number[] =>
    Array.from(v, (vj, j) => {
      const h = 1e-6 * Math.max(1, Math.abs(vj));
      const plus = Float64Array.from(v);
      const minus = Float64Array.from(v);
      plus[j] = vj + h;
      minus[j] = vj - h;
      return (f(plus) - f(minus)) / (2 * h);
    });

  it('polyfitGradInto: exact on a small case, and against central differences', () => {
    // s = 1 + 2t at t = 0, 1, 2 is 1, 3, 5; the residuals against y = 1, 2, 3 are 0, 1, 2:
    // value (0 + 1 + 4)/3, ∂/∂c[0] = (2/3)(0 + 1 + 2) = 2, ∂/∂c[1] = (2/3)(0·0 + 1·1 + 2·2) = 10/3.
    const g = Float64Array.of(7, 7);
    expect(polyfitGradInto(g, [1, 2], [0, 1, 2], [1, 2, 3])).toBeCloseTo(5 / 3, 15);
    expect(g[0]).toBeCloseTo(2, 14);
    expect(g[1]).toBeCloseTo(10 / 3, 14);
    const m = 40;
    const t = Float64Array.from({ length: m }, (_, k) => -1 + (2 * (k + 0.5)) / m);
    const y = t.map((tk) => Math.sin(3 * tk));
    const c = Float64Array.from({ length: 6 }, (_, j) => (j % 2 ? -0.5 : 0.5) / (j + 1));
    const grad = new Float64Array(6);
    polyfitGradInto(grad, c, t, y);
    const fd = centralDifferences((v) => polyfitGradInto(new Float64Array(6), v, t, y), c);
    fd.forEach((d, j) => expect(Math.abs(grad[j]! - d)).toBeLessThan(1e-8));
  });

  it('lseGradInto: exact on a small case, and against central differences', () => {
    const g = new Float64Array(2);
    expect(lseGradInto(g, [0, Math.log(3)])).toBeCloseTo(Math.log(4), 15);
    expect(g[0]).toBeCloseTo(0.25, 15);
    expect(g[1]).toBeCloseTo(0.75, 15);
    // Far from 0 (the shift by the maximum keeps it finite), against central differences.
    const x = Float64Array.from({ length: 9 }, (_, i) => 700 + 4 * Math.sin(0.37 * i));
    const grad = new Float64Array(9);
    expect(Number.isFinite(lseGradInto(grad, x))).toBe(true);
    const fd = centralDifferences((v) => lseGradInto(new Float64Array(9), v), x);
    fd.forEach((d, i) => expect(Math.abs(grad[i]! - d)).toBeLessThan(1e-6));
  });
});
