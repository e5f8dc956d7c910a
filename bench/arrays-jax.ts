/**
 * jax-js competitors for the array benchmarks: the GMM objective of examples/gmm.ad and the
 * one-hidden-layer perceptron (mlp), written with whole-array numpy ops and differentiated by
 * `jit(valueAndGrad(f))` on jax-js's default device (WebAssembly kernels it generates and fuses),
 * in float32 or float64. Given the data, `jaxGmm` / `jaxMlp` create the arrays once and return a
 * closure computing the value and the gradient (read back with dataSync), in the compiled code's
 * convention: a vec's gradient is a Float64Array, a mat's an array of Float64Array rows.
 *
 * jax-js's "float64" keeps numbers in float64 but computes exp, log and tanh in float32 (measured:
 * exp(1) to 3e-8 relative): expect agreement with adc to about 1e-7, and about 1e-4 in float32.
 *
 * jax-js owns its arrays by reference count: every op consumes its arguments, `a.ref` adds a
 * reference. The closures keep one reference to each data array and pass `.ref`s to each call.
 */
import type * as Jax from '@jax-js/jax';

type Vec = ArrayLike<number>;
type Mat = readonly ArrayLike<number>[];
type JaxArray = Jax.Array;

export type JaxDtype = 'float32' | 'float64';

export interface JaxGradResult<G> {
  value: number;
  gradient: G;
}

/** A value-and-gradient closure; `dispose()` frees the arrays it holds (call it once, when done). */
export type JaxRunner<G> = (() => JaxGradResult<G>) & { dispose(): void };

let loaded: typeof Jax | undefined;

/**
 * Imports @jax-js/jax and starts its devices. On Node 20 it needs two browser globals: `navigator`
 * (it reads `navigator.hardwareConcurrency`) and `Float16Array` (Node 20 has none; jax-js names
 * the class, and no array here is float16, so a Float32Array stand-in is never used for data).
 */
export async function loadJax(): Promise<typeof Jax> {
  if (loaded) return loaded;
  const g = globalThis as Record<string, unknown>;
  if (g.navigator === undefined) g.navigator = { hardwareConcurrency: 1, userAgent: `Node.js/${process.version}` };
  if (g.Float16Array === undefined) g.Float16Array = class Float16Array extends Float32Array {};
  const jax = await import('@jax-js/jax');
  const devices = await jax.init();
  if (!devices.includes('wasm')) throw new Error(`jax-js started no wasm device (${devices.join(', ')})`);
  jax.defaultDevice('wasm');
  loaded = jax;
  return jax;
}

function vector(jax: typeof Jax, v: Vec, dtype: JaxDtype): JaxArray {
  const np = jax.numpy;
  return np.array(dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v), { dtype: np[dtype] });
}

function matrix(jax: typeof Jax, rows: Mat, cols: number, dtype: JaxDtype): JaxArray {
  const np = jax.numpy;
  const flat = dtype === 'float64' ? new Float64Array(rows.length * cols) : new Float32Array(rows.length * cols);
  rows.forEach((row, r) => {
    for (let c = 0; c < cols; c++) flat[r * cols + c] = row[c]!;
  });
  return np.array(flat, { dtype: np[dtype], shape: [rows.length, cols] });
}

function toRows(a: JaxArray, rows: number, cols: number): Float64Array[] {
  const data = a.dataSync() as Float32Array | Float64Array;
  return Array.from({ length: rows }, (_, r) => Float64Array.from(data.subarray(r * cols, r * cols + cols)));
}

// ---- GMM -------------------------------------------------------------------------------------

export interface GmmGradient {
  alpha: Float64Array;
  mu: Float64Array[];
  q: Float64Array[];
  l: Float64Array[];
}

interface GmmParams {
  alpha: JaxArray;
  mu: JaxArray;
  q: JaxArray;
  l: JaxArray;
}

export function jaxGmm(
  jax: typeof Jax,
  data: { alpha: Vec; mu: Mat; q: Mat; l: Mat; x: Mat; gamma: number; m: number },
  dtype: JaxDtype,
): JaxRunner<GmmGradient> {
  const np = jax.numpy;
  const K = data.alpha.length;
  const N = data.x.length;
  const D = N > 0 ? data.x[0]!.length : K > 0 ? data.mu[0]!.length : 0;
  const T = (D * (D - 1)) / 2;
  const { gamma, m } = data;
  // jax-js 0.1 fails on arrays with no elements (l at D = 1): the benchmark's sizes start at D = 2.
  if (D < 2) throw new RangeError(`jaxGmm: D = ${D}; jax-js needs D ≥ 2 (l would have no entries)`);
  const params: GmmParams = {
    alpha: vector(jax, data.alpha, dtype),
    mu: matrix(jax, data.mu, D, dtype),
    q: matrix(jax, data.q, D, dtype),
    l: matrix(jax, data.l, T, dtype),
  };
  const x = matrix(jax, data.x, D, dtype);
  // Q_k's strict lower part, column by column (as bench/arrays-tfjs.ts): l[k, ·] holds column c's
  // entries (rows c+1..D-1) in one run from t = c·(D-1) - c·(c-1)/2, so each column is a slice of l
  // padded with c+1 zeros above. (A gather's gradient, a scatter, does not compile under jit.)
  const columnStart = Array.from({ length: D }, (_, c) => c * (D - 1) - (c * (c - 1)) / 2);
  const eye = np.eye(D, D, { dtype: np[dtype] });
  const constant = -((N * D) / 2) * Math.log(2 * Math.PI);

  const objective = (p: GmmParams, x: JaxArray, eye: JaxArray): JaxArray => {
    const columns = columnStart.map((start, c) =>
      np.pad(p.l.ref.slice([], [start, start + D - 1 - c]), [
        [0, 0],
        [c + 1, 0],
      ]),
    );
    const lower = np.stack(columns, 2); // [K, D, D]: lower[k, r, c]
    const Q = lower.add(np.expandDims(np.exp(p.q.ref), 2).mul(eye)); // [K, D, D]
    const xc = np.expandDims(x, 0).sub(np.expandDims(p.mu, 1)); // [K, N, D]
    const Qxc = np.matmul(xc, Q.transpose([0, 2, 1])); // [K, N, D]: Σ_c Q[k, r, c] xc[k, n, c]
    const sumq = np.sum(p.q.ref, 1); // [K]
    const beta = np.expandDims(p.alpha.ref.add(sumq.ref), 1).sub(np.sum(np.square(Qxc), 2).mul(0.5)); // [K, N]
    const prior = np
      .sum(np.square(np.exp(p.q)))
      .add(np.sum(np.square(p.l)))
      .mul(-(gamma * gamma) / 2)
      .add(np.sum(sumq).mul(m));
    return np.sum(jax.nn.logsumexp(beta, 0)).add(jax.nn.logsumexp(p.alpha).mul(-N)).add(prior).add(constant);
  };
  const valueAndGrad = jax.jit(jax.valueAndGrad(objective));

  const run = () => {
    const [value, g] = valueAndGrad({ alpha: params.alpha.ref, mu: params.mu.ref, q: params.q.ref, l: params.l.ref }, x.ref, eye.ref);
    return {
      value: (value.dataSync() as Float64Array)[0]!,
      gradient: {
        alpha: Float64Array.from(g.alpha.dataSync() as Float64Array),
        mu: toRows(g.mu, K, D),
        q: toRows(g.q, K, D),
        l: toRows(g.l, K, T),
      },
    };
  };
  const dispose = () => {
    for (const a of [params.alpha, params.mu, params.q, params.l, x, eye]) a.dispose();
    valueAndGrad.dispose();
  };
  return Object.assign(run, { dispose });
}

// ---- MLP -------------------------------------------------------------------------------------

export interface MlpGradient {
  W1: Float64Array[];
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
}

interface MlpParams {
  W1: JaxArray;
  b1: JaxArray;
  w2: JaxArray;
  b2: JaxArray;
}

export function jaxMlp(jax: typeof Jax, data: { W1: Mat; b1: Vec; w2: Vec; b2: number; X: Mat; y: Vec }, dtype: JaxDtype): JaxRunner<MlpGradient> {
  const np = jax.numpy;
  const h = data.b1.length;
  const m = data.X.length;
  const d = h > 0 ? data.W1[0]!.length : m > 0 ? data.X[0]!.length : 0;
  const params: MlpParams = {
    W1: matrix(jax, data.W1, d, dtype),
    b1: vector(jax, data.b1, dtype),
    w2: vector(jax, data.w2, dtype),
    b2: vector(jax, [data.b2], dtype).reshape([]),
  };
  const X = matrix(jax, data.X, d, dtype);
  const y = vector(jax, data.y, dtype);

  const objective = (p: MlpParams, X: JaxArray, y: JaxArray): JaxArray => {
    const z = np.tanh(np.matmul(X, p.W1.transpose()).add(p.b1)); // [m, h]
    const out = np.matmul(z, p.w2).add(p.b2); // [m]
    return np.sum(np.square(out.sub(y))).div(m);
  };
  const valueAndGrad = jax.jit(jax.valueAndGrad(objective));

  const run = () => {
    const [value, g] = valueAndGrad({ W1: params.W1.ref, b1: params.b1.ref, w2: params.w2.ref, b2: params.b2.ref }, X.ref, y.ref);
    return {
      value: (value.dataSync() as Float64Array)[0]!,
      gradient: {
        W1: toRows(g.W1, h, d),
        b1: Float64Array.from(g.b1.dataSync() as Float64Array),
        w2: Float64Array.from(g.w2.dataSync() as Float64Array),
        b2: (g.b2.dataSync() as Float64Array)[0]!,
      },
    };
  };
  const dispose = () => {
    for (const a of [params.W1, params.b1, params.w2, params.b2, X, y]) a.dispose();
    valueAndGrad.dispose();
  };
  return Object.assign(run, { dispose });
}
