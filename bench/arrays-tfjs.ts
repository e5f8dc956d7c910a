/**
 * TensorFlow.js competitors for the array benchmarks: the GMM objective of examples/gmm.ad and the
 * one-hidden-layer perceptron (mlp), each written with whole-tensor ops and differentiated by
 * tf.valueAndGrads on the CPU backend. Given the data, `tfjsGmm` / `tfjsMlp` create the tensors
 * once and return a closure computing the value and the gradient (read back with dataSync, every
 * intermediate tensor freed by tf.tidy), in the compiled code's convention: a vec's gradient is a
 * Float64Array, a mat's an array of Float64Array rows, a scalar's a number.
 * tfjs computes in float32: expect agreement with float64 code to about 1e-4..1e-3 relative.
 */
import type * as TF from '@tensorflow/tfjs';

type Vec = ArrayLike<number>;
type Mat = readonly ArrayLike<number>[];

export interface TfjsGradResult<G> {
  value: number;
  gradient: G;
}

/** A value-and-gradient closure; `dispose()` frees the tensors it holds (call it once, when done). */
export type TfjsRunner<G> = (() => TfjsGradResult<G>) & { dispose(): void };

/** The tfjs backends the array benchmarks run: the plain-JavaScript CPU one and the WebAssembly one (SIMD when the engine has it). */
export type TfjsBackend = 'cpu' | 'wasm';

/**
 * Imports @tensorflow/tfjs (with @tensorflow/tfjs-backend-wasm for 'wasm', which registers the
 * backend and finds its .wasm files beside itself in Node) and selects `backend`, silencing tfjs's
 * console greeting. tfjs is one module: the backend selected last is the one every later op runs on,
 * so callers select it before creating their tensors.
 */
export async function loadTfjs(backend: TfjsBackend): Promise<typeof TF> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    const tf = await import('@tensorflow/tfjs');
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend(backend);
    await tf.ready();
    tf.tidy(() => tf.scalar(1).add(1).dataSync());
    if (tf.getBackend() !== backend) throw new Error(`tfjs backend is ${tf.getBackend()}, not ${backend}`);
    return tf;
  } finally {
    console.warn = warn;
  }
}

/** Imports @tensorflow/tfjs and selects the CPU backend (as bench/run.ts does). */
export const loadTfjsCpu = (): Promise<typeof TF> => loadTfjs('cpu');

/** Whether the WebAssembly backend runs with SIMD here (read after selecting it). */
export async function tfjsWasmSimd(tf: typeof TF): Promise<boolean> {
  return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
}

function matrix(tf: typeof TF, rows: Mat, cols: number): TF.Tensor2D {
  const flat = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => {
    for (let c = 0; c < cols; c++) flat[r * cols + c] = row[c]!;
  });
  return tf.tensor2d(flat, [rows.length, cols]);
}

function toRows(t: TF.Tensor, rows: number, cols: number): Float64Array[] {
  const data = t.dataSync();
  return Array.from({ length: rows }, (_, r) => Float64Array.from(data.subarray(r * cols, r * cols + cols)));
}

// ---- GMM -------------------------------------------------------------------------------------

export interface GmmGradient {
  alpha: Float64Array;
  mu: Float64Array[];
  q: Float64Array[];
  l: Float64Array[];
}

export function tfjsGmm(
  tf: typeof TF,
  data: { alpha: Vec; mu: Mat; q: Mat; l: Mat; x: Mat; gamma: number; m: number },
): TfjsRunner<GmmGradient> {
  const K = data.alpha.length;
  const N = data.x.length;
  const D = N > 0 ? data.x[0]!.length : K > 0 ? data.mu[0]!.length : 0;
  const T = (D * (D - 1)) / 2;
  const { gamma, m } = data;

  const alpha = tf.tensor1d(Float32Array.from(data.alpha));
  const mu = matrix(tf, data.mu, D);
  const q = matrix(tf, data.q, D);
  const l = matrix(tf, data.l, T);
  const x = matrix(tf, data.x, D);
  // Q_k's strict lower part, column by column: l[k, ·] holds column c's entries (rows c+1..D-1) in
  // one run starting at t = c·(D-1) - c·(c-1)/2, so each column is a slice of l padded with c+1
  // zeros above. (Slices, pads and a stack: ops with gradients on every backend; a gather's
  // gradient needs UnsortedSegmentSum, which the wasm backend lacks.)
  const columnStart = Array.from({ length: D }, (_, c) => c * (D - 1) - (c * (c - 1)) / 2);
  const eye = tf.eye(D);
  const constant = -((N * D) / 2) * Math.log(2 * Math.PI);

  const objective = (alpha: TF.Tensor, mu: TF.Tensor, q: TF.Tensor, l: TF.Tensor): TF.Scalar => {
    const columns = columnStart.map((start, c) => tf.pad(tf.slice(l, [0, start], [K, D - 1 - c]), [[0, 0], [c + 1, 0]]));
    const lower = tf.stack(columns, 2); // [K, D, D]: lower[k, r, c]
    const Q = tf.add(lower, tf.mul(tf.expandDims(tf.exp(q), 2), eye)); // [K, D, D]
    const xc = tf.sub(tf.expandDims(x, 0), tf.expandDims(mu, 1)); // [K, N, D]
    const Qxc = tf.matMul(xc, Q, false, true); // [K, N, D]: Σ_c Q[k, r, c] xc[k, n, c]
    const sumq = tf.sum(q, 1); // [K]
    const beta = tf.sub(tf.reshape(tf.add(alpha, sumq), [K, 1]), tf.mul(0.5, tf.sum(tf.square(Qxc), 2))); // [K, N]
    const prior = tf.add(
      tf.mul(-(gamma * gamma) / 2, tf.add(tf.sum(tf.square(tf.exp(q))), tf.sum(tf.square(l)))),
      tf.mul(m, tf.sum(sumq)),
    );
    return tf.addN([tf.scalar(constant), tf.sum(tf.logSumExp(beta, 0)), tf.mul(-N, tf.logSumExp(alpha)), prior]) as TF.Scalar;
  };
  const valueAndGrads = tf.valueAndGrads((...p: TF.Tensor[]) => objective(p[0]!, p[1]!, p[2]!, p[3]!));

  const run = () => {
    let result!: TfjsGradResult<GmmGradient>;
    tf.tidy(() => {
      const { value, grads } = valueAndGrads([alpha, mu, q, l]);
      result = {
        value: value.dataSync()[0]!,
        gradient: {
          alpha: Float64Array.from(grads[0]!.dataSync()),
          mu: toRows(grads[1]!, K, D),
          q: toRows(grads[2]!, K, D),
          l: toRows(grads[3]!, K, T),
        },
      };
    });
    return result;
  };
  const dispose = () => tf.dispose([alpha, mu, q, l, x, eye]);
  return Object.assign(run, { dispose });
}

// ---- MLP -------------------------------------------------------------------------------------

export interface MlpGradient {
  W1: Float64Array[];
  b1: Float64Array;
  w2: Float64Array;
  b2: number;
}

export function tfjsMlp(
  tf: typeof TF,
  data: { W1: Mat; b1: Vec; w2: Vec; b2: number; X: Mat; y: Vec },
): TfjsRunner<MlpGradient> {
  const h = data.b1.length;
  const m = data.X.length;
  const d = h > 0 ? data.W1[0]!.length : m > 0 ? data.X[0]!.length : 0;

  const W1 = matrix(tf, data.W1, d);
  const b1 = tf.tensor1d(Float32Array.from(data.b1));
  const w2 = tf.tensor2d(Float32Array.from(data.w2), [h, 1]);
  const b2 = tf.scalar(data.b2);
  const X = matrix(tf, data.X, d);
  const y = tf.tensor1d(Float32Array.from(data.y));

  const objective = (W1: TF.Tensor, b1: TF.Tensor, w2: TF.Tensor, b2: TF.Tensor): TF.Scalar => {
    const z = tf.tanh(tf.add(tf.matMul(X, W1 as TF.Tensor2D, false, true), b1)); // [m, h]
    const out = tf.add(tf.reshape(tf.matMul(z, w2 as TF.Tensor2D), [m]), b2); // [m]
    return tf.div(tf.sum(tf.square(tf.sub(out, y))), m) as TF.Scalar;
  };
  const valueAndGrads = tf.valueAndGrads((...p: TF.Tensor[]) => objective(p[0]!, p[1]!, p[2]!, p[3]!));

  const run = () => {
    let result!: TfjsGradResult<MlpGradient>;
    tf.tidy(() => {
      const { value, grads } = valueAndGrads([W1, b1, w2, b2]);
      result = {
        value: value.dataSync()[0]!,
        gradient: {
          W1: toRows(grads[0]!, h, d),
          b1: Float64Array.from(grads[1]!.dataSync()),
          w2: Float64Array.from(grads[2]!.dataSync()),
          b2: grads[3]!.dataSync()[0]!,
        },
      };
    });
    return result;
  };
  const dispose = () => tf.dispose([W1, b1, w2, b2, X, y]);
  return Object.assign(run, { dispose });
}
