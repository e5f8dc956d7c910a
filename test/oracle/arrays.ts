/**
 * Reference implementations for the array benchmarks and tests (lsq, mlp, smooth, gmm: the
 * functions of bench/cases and examples/gmm.ad), written once, plainly, over a small arithmetic
 * interface so the same code computes plain values (numbers) and forward-mode derivatives (dual
 * numbers: a value and one tangent, one pass per input coordinate). Plus seeded data generators.
 * Independent of src/: the compiler's array gradients are checked against this.
 *
 * Calling convention (the compiled code's): a vec is an array-like of numbers, a mat an array of
 * array-like rows; a gradient has one key per differentiated parameter: a Float64Array for a vec,
 * an array of Float64Array rows for a mat, a number for a scalar.
 */

// ---- arithmetic over numbers and duals -------------------------------------------------------

/** The operations the reference formulas use; `T` is number or Dual. */
export interface Arith<T> {
  lift(c: number): T;
  /** The primal value (for comparisons, e.g. the max in logsumexp). */
  value(a: T): number;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  exp(a: T): T;
  log(a: T): T;
  tanh(a: T): T;
}

export const numbers: Arith<number> = {
  lift: (c) => c,
  value: (a) => a,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
};

/** A dual number: value `v` and the derivative `d` along one input direction. */
export class Dual {
  constructor(
    readonly v: number,
    readonly d = 0,
  ) {}
}

export const duals: Arith<Dual> = {
  lift: (c) => new Dual(c, 0),
  value: (a) => a.v,
  add: (a, b) => new Dual(a.v + b.v, a.d + b.d),
  sub: (a, b) => new Dual(a.v - b.v, a.d - b.d),
  mul: (a, b) => new Dual(a.v * b.v, a.d * b.v + a.v * b.d),
  // (a'b - ab')/b² as (a' - (a/b)·b')/b: b·b overflows for |b| past about 1e154.
  div: (a, b) => new Dual(a.v / b.v, (a.d - (a.v / b.v) * b.d) / b.v),
  exp: (a) => {
    const e = Math.exp(a.v);
    return new Dual(e, e * a.d);
  },
  log: (a) => new Dual(Math.log(a.v), a.d / a.v),
  tanh: (a) => {
    const t = Math.tanh(a.v);
    return new Dual(t, (1 - t * t) * a.d);
  },
};

// ---- shared helpers --------------------------------------------------------------------------

export type Vec<T> = ArrayLike<T>;
export type Mat<T> = readonly ArrayLike<T>[];

function sumOf<T>(A: Arith<T>, n: number, term: (i: number) => T): T {
  let s = A.lift(0);
  for (let i = 0; i < n; i++) s = A.add(s, term(i));
  return s;
}

function square<T>(A: Arith<T>, a: T): T {
  return A.mul(a, a);
}

/** Numerically stable logsumexp: M + log Σ exp(xᵢ - M), M the largest value (a constant shift). Empty: -Infinity. */
export function logsumexp<T>(A: Arith<T>, xs: readonly T[]): T {
  let M = -Infinity;
  for (const x of xs) M = Math.max(M, A.value(x));
  if (M === -Infinity || M === Infinity) return A.lift(M);
  const shift = A.lift(M);
  return A.add(shift, A.log(sumOf(A, xs.length, (i) => A.exp(A.sub(xs[i]!, shift)))));
}

// ---- the reference functions (values) --------------------------------------------------------

/** lsq(w, b, X, y) = Σ_k (b + Σ_i X[k,i] w[i] - y[k])² / m. */
export function lsqT<T>(A: Arith<T>, w: Vec<T>, b: T, X: Mat<number>, y: Vec<number>): T {
  const m = X.length;
  const n = w.length;
  const total = sumOf(A, m, (k) => {
    const pred = A.add(b, sumOf(A, n, (i) => A.mul(A.lift(X[k]![i]!), w[i]!)));
    return square(A, A.sub(pred, A.lift(y[k]!)));
  });
  return A.div(total, A.lift(m));
}

/**
 * poly(c, t, y) = Σ_k (Σ_j c[j]·t[k]^j - y[k])² / m: a least-squares polynomial fit, its powers
 * by repeated multiplication (t^0 = 1), one rounding each.
 */
export function polyT<T>(A: Arith<T>, c: Vec<T>, t: Vec<T>, y: Vec<number>): T {
  const m = t.length;
  const total = sumOf(A, m, (k) => {
    let power = A.lift(1);
    const fit = sumOf(A, c.length, (j) => {
      const term = A.mul(c[j]!, power);
      power = A.mul(power, t[k]!);
      return term;
    });
    return square(A, A.sub(fit, A.lift(y[k]!)));
  });
  return A.div(total, A.lift(m));
}

/** mlp: one tanh hidden layer of width h, mean squared error over the m rows of X. */
export function mlpT<T>(A: Arith<T>, W1: Mat<T>, b1: Vec<T>, w2: Vec<T>, b2: T, X: Mat<number>, y: Vec<number>): T {
  const m = X.length;
  const h = b1.length;
  const total = sumOf(A, m, (k) => {
    const d = X[k]!.length;
    const z: T[] = [];
    for (let j = 0; j < h; j++) z.push(A.tanh(A.add(b1[j]!, sumOf(A, d, (i) => A.mul(W1[j]![i]!, A.lift(X[k]![i]!))))));
    const out = A.add(b2, sumOf(A, h, (j) => A.mul(w2[j]!, z[j]!)));
    return square(A, A.sub(out, A.lift(y[k]!)));
  });
  return A.div(total, A.lift(m));
}

/** smooth(x) = Σ_{i=1}^{n-1} (x[i] - x[i-1])² + logsumexp_i x[i]. */
export function smoothT<T>(A: Arith<T>, x: Vec<T>): T {
  const n = x.length;
  const diffs = sumOf(A, Math.max(0, n - 1), (i) => square(A, A.sub(x[i + 1]!, x[i]!)));
  return A.add(diffs, logsumexp(A, Array.from(x)));
}

/** Q_k of examples/gmm.ad as a dense D×D matrix: diagonal exp(q[j]), strict lower part from l column by column. */
export function gmmQ<T>(A: Arith<T>, qk: Vec<T>, lk: Vec<T>, D: number): T[][] {
  const Q: T[][] = [];
  for (let r = 0; r < D; r++) {
    const row: T[] = [];
    for (let c = 0; c < D; c++) row.push(A.lift(0));
    Q.push(row);
  }
  for (let j = 0; j < D; j++) Q[j]![j] = A.exp(qk[j]!);
  let next = 0;
  for (let c = 0; c < D; c++) {
    for (let r = c + 1; r < D; r++) Q[r]![c] = lk[next++]!;
  }
  return Q;
}

/** The GMM objective of examples/gmm.ad (ADBench/GradBench, without the constant K·C Wishart term). */
export function gmmT<T>(
  A: Arith<T>,
  alpha: Vec<T>,
  mu: Mat<T>,
  q: Mat<T>,
  l: Mat<T>,
  x: Mat<number>,
  gamma: number,
  m: number,
): T {
  const K = alpha.length;
  const N = x.length;
  const D = N > 0 ? x[0]!.length : K > 0 ? mu[0]!.length : 0;
  const Qs = Array.from({ length: K }, (_, k) => gmmQ(A, q[k]!, l[k]!, D));
  const sumq = Array.from({ length: K }, (_, k) => sumOf(A, D, (j) => q[k]![j]!));

  let total = A.lift(-((N * D) / 2) * Math.log(2 * Math.PI));
  for (let i = 0; i < N; i++) {
    const betas: T[] = [];
    for (let k = 0; k < K; k++) {
      const xc = Array.from({ length: D }, (_, j) => A.sub(A.lift(x[i]![j]!), mu[k]![j]!));
      // ‖Q_k (x_i - mu_k)‖², the matrix-vector product written out over the dense Q_k.
      const norm2 = sumOf(A, D, (r) => square(A, sumOf(A, D, (c) => A.mul(Qs[k]![r]![c]!, xc[c]!))));
      betas.push(A.sub(A.add(alpha[k]!, sumq[k]!), A.mul(A.lift(0.5), norm2)));
    }
    total = A.add(total, logsumexp(A, betas));
  }
  total = A.sub(total, A.mul(A.lift(N), logsumexp(A, Array.from(alpha))));

  for (let k = 0; k < K; k++) {
    const T_ = l[k]!.length;
    const squares = A.add(
      sumOf(A, D, (j) => square(A, A.exp(q[k]![j]!))),
      sumOf(A, T_, (t) => square(A, l[k]![t]!)),
    );
    total = A.add(total, A.add(A.mul(A.lift(-(gamma * gamma) / 2), squares), A.mul(A.lift(m), sumq[k]!)));
  }
  return total;
}

/**
 * The determinant by LU factorisation with partial pivoting (the pivot chosen by value, so duals
 * follow the same row swaps): the product of the pivots, negated per swap. Independent of the
 * expansion in minors that examples/recursion.ad computes.
 */
export function luDetT<T>(A: Arith<T>, M: Mat<T>): T {
  const n = M.length;
  const a = M.map((row) => Array.from(row));
  let det = A.lift(1);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A.value(a[i]![k]!)) > Math.abs(A.value(a[p]![k]!))) p = i;
    if (A.value(a[p]![k]!) === 0) return A.lift(0);
    if (p !== k) {
      [a[p], a[k]] = [a[k]!, a[p]!];
      det = A.sub(A.lift(0), det);
    }
    det = A.mul(det, a[k]![k]!);
    for (let i = k + 1; i < n; i++) {
      const f = A.div(a[i]![k]!, a[k]![k]!);
      for (let j = k; j < n; j++) a[i]![j] = A.sub(a[i]![j]!, A.mul(f, a[k]![j]!));
    }
  }
  return det;
}

// ---- plain values ----------------------------------------------------------------------------

export const lsq = (w: Vec<number>, b: number, X: Mat<number>, y: Vec<number>): number => lsqT(numbers, w, b, X, y);
export const mlp = (W1: Mat<number>, b1: Vec<number>, w2: Vec<number>, b2: number, X: Mat<number>, y: Vec<number>): number =>
  mlpT(numbers, W1, b1, w2, b2, X, y);
export const smooth = (x: Vec<number>): number => smoothT(numbers, x);
export const gmm = (alpha: Vec<number>, mu: Mat<number>, q: Mat<number>, l: Mat<number>, x: Mat<number>, gamma: number, m: number): number =>
  gmmT(numbers, alpha, mu, q, l, x, gamma, m);

// ---- forward-mode gradients ------------------------------------------------------------------

/** A differentiated parameter: its kind says how it is seeded and how its gradient is shaped. */
export type Param =
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'vec'; readonly value: Vec<number> }
  | { readonly kind: 'mat'; readonly value: Mat<number> };

export type GradValue = number | Float64Array | Float64Array[];
export interface ArrayGradResult {
  value: number;
  gradient: Record<string, GradValue>;
}

type DualOf<P extends Param> = P extends { kind: 'scalar' } ? Dual : P extends { kind: 'vec' } ? Dual[] : Dual[][];

/** The parameter as duals, with tangent 1 at coordinate `seed` (a flat index over this parameter) if given. */
function liftParam(p: Param, seed: number | undefined): Dual | Dual[] | Dual[][] {
  const at = (v: number, idx: number) => new Dual(v, idx === seed ? 1 : 0);
  if (p.kind === 'scalar') return at(p.value, 0);
  if (p.kind === 'vec') return Array.from(p.value, (v, i) => at(v, i));
  let offset = 0;
  return p.value.map((row) => {
    const start = offset;
    offset += row.length;
    return Array.from(row, (v, c) => at(v, start + c));
  });
}

function paramSize(p: Param): number {
  if (p.kind === 'scalar') return 1;
  if (p.kind === 'vec') return p.value.length;
  return p.value.reduce((s, row) => s + row.length, 0);
}

/**
 * Forward-mode gradient of `f` with respect to every parameter in `params`: one dual evaluation
 * per input coordinate (and one for the value when there are none).
 */
export function forwardGradient<P extends Record<string, Param>>(
  params: P,
  f: (args: { [K in keyof P]: DualOf<P[K]> }) => Dual,
): ArrayGradResult {
  const names = Object.keys(params) as (keyof P & string)[];
  const evaluate = (seedName: string | undefined, seed: number | undefined): Dual => {
    const args = {} as Record<string, unknown>;
    for (const name of names) args[name] = liftParam(params[name]!, name === seedName ? seed : undefined);
    return f(args as { [K in keyof P]: DualOf<P[K]> });
  };

  const value = evaluate(undefined, undefined).v;
  const gradient: Record<string, GradValue> = {};
  for (const name of names) {
    const p = params[name]!;
    const flat = new Float64Array(paramSize(p));
    for (let c = 0; c < flat.length; c++) flat[c] = evaluate(name, c).d;
    if (p.kind === 'scalar') gradient[name] = flat[0]!;
    else if (p.kind === 'vec') gradient[name] = flat;
    else {
      let offset = 0;
      gradient[name] = p.value.map((row) => {
        const g = flat.slice(offset, offset + row.length);
        offset += row.length;
        return g;
      });
    }
  }
  return { value, gradient };
}

const vec = (value: Vec<number>) => ({ kind: 'vec' as const, value });
const mat = (value: Mat<number>) => ({ kind: 'mat' as const, value });
const scalar = (value: number) => ({ kind: 'scalar' as const, value });

/** Gradient key A: the determinant's, by forward mode over the LU factorisation. */
export function luDetForward(M: Mat<number>): ArrayGradResult {
  return forwardGradient({ A: mat(M) }, (p) => luDetT(duals, p.A));
}

/** Gradient keys w, b. */
export function lsqForward(w: Vec<number>, b: number, X: Mat<number>, y: Vec<number>): ArrayGradResult {
  return forwardGradient({ w: vec(w), b: scalar(b) }, (p) => lsqT(duals, p.w, p.b, X, y));
}

/** Gradient keys c, t. */
export function polyForward(c: Vec<number>, t: Vec<number>, y: Vec<number>): ArrayGradResult {
  return forwardGradient({ c: vec(c), t: vec(t) }, (p) => polyT(duals, p.c, p.t, y));
}

/** Gradient keys W1, b1, w2, b2. */
export function mlpForward(W1: Mat<number>, b1: Vec<number>, w2: Vec<number>, b2: number, X: Mat<number>, y: Vec<number>): ArrayGradResult {
  return forwardGradient({ W1: mat(W1), b1: vec(b1), w2: vec(w2), b2: scalar(b2) }, (p) =>
    mlpT(duals, p.W1, p.b1, p.w2, p.b2, X, y),
  );
}

/** Gradient key x. */
export function smoothForward(x: Vec<number>): ArrayGradResult {
  return forwardGradient({ x: vec(x) }, (p) => smoothT(duals, p.x));
}

/** Gradient keys alpha, mu, q, l. */
export function gmmForward(alpha: Vec<number>, mu: Mat<number>, q: Mat<number>, l: Mat<number>, x: Mat<number>, gamma: number, m: number): ArrayGradResult {
  return forwardGradient({ alpha: vec(alpha), mu: mat(mu), q: mat(q), l: mat(l) }, (p) =>
    gmmT(duals, p.alpha, p.mu, p.q, p.l, x, gamma, m),
  );
}

// ---- seeded data -----------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32) giving uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniformVec(next: () => number, n: number, scale = 1): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * (2 * next() - 1);
  return v;
}

function uniformMat(next: () => number, rows: number, cols: number, scale = 1): Float64Array[] {
  return Array.from({ length: rows }, () => uniformVec(next, cols, scale));
}

export interface GmmData {
  alpha: Float64Array;
  mu: Float64Array[];
  q: Float64Array[];
  l: Float64Array[];
  x: Float64Array[];
  gamma: number;
  m: number;
}

/** GMM inputs with T = D(D-1)/2: alpha, mu, q, l, x uniform in [-1, 1]; gamma 1, m 0. */
export function gmmData(D: number, K: number, N: number, seed: number): GmmData {
  const next = rng(seed);
  const T = (D * (D - 1)) / 2;
  return {
    alpha: uniformVec(next, K),
    mu: uniformMat(next, K, D),
    q: uniformMat(next, K, D),
    l: uniformMat(next, K, T),
    x: uniformMat(next, N, D),
    gamma: 1,
    m: 0,
  };
}

export interface MlpData {
  W1: Float64Array[];
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
  X: Float64Array[];
  y: Float64Array;
}

/** MLP inputs: W1 (h×d) uniform in ±1/√d (keeps tanh away from saturation), the rest uniform in [-1, 1]. */
export function mlpData(d: number, h: number, m: number, seed: number): MlpData {
  const next = rng(seed);
  return {
    W1: uniformMat(next, h, d, 1 / Math.sqrt(Math.max(1, d))),
    b1: uniformVec(next, h),
    w2: uniformVec(next, h),
    b2: 2 * next() - 1,
    X: uniformMat(next, m, d),
    y: uniformVec(next, m),
  };
}

export interface LsqData {
  w: Float64Array;
  b: number;
  X: Float64Array[];
  y: Float64Array;
}

/** Least-squares inputs, all uniform in [-1, 1]. */
export function lsqData(n: number, m: number, seed: number): LsqData {
  const next = rng(seed);
  return { w: uniformVec(next, n), b: 2 * next() - 1, X: uniformMat(next, m, n), y: uniformVec(next, m) };
}

/** Polynomial-fit inputs: n coefficients, m points t in [-1, 1] (powers stay bounded), y in [-1, 1]. */
export function polyData(n: number, m: number, seed: number): { c: Float64Array; t: Float64Array; y: Float64Array } {
  const next = rng(seed);
  return { c: uniformVec(next, n), t: uniformVec(next, m), y: uniformVec(next, m) };
}

/** smooth's input, uniform in [-1, 1]. */
export function smoothData(n: number, seed: number): { x: Float64Array } {
  return { x: uniformVec(rng(seed), n) };
}
