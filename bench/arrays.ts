/**
 * The array benchmarks of `npm run bench` (alone: `npm run bench -- --only arrays`): the
 * Gaussian-mixture objective of examples/gmm.ad and the one-hidden-layer perceptron loss of
 * bench/cases/mlp.ad, compiled with compileSync, against the hand-written gradients of
 * bench/handwritten/ (gmm.js, mlp.js) and TensorFlow.js (bench/arrays-tfjs.ts, CPU backend).
 *
 * Each call is a whole evaluation over the data (N = 1000 points, m = 1000 rows), from
 * microseconds to seconds: fast calls are timed in batches of at least 5 ms over ≈0.3 s, slow ones
 * (over 50 ms) as a few single calls. Before timing, each row checks that adc's gradient agrees
 * with the hand-written one (1e-9 of the largest entry) and with tfjs (float32: 1e-4 of the
 * largest entry), and is left out, with the reason printed, when it does not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as TF from '@tensorflow/tfjs';
import { compileSync } from '../src/index.ts';
import { gmmData, mlpData } from '../test/oracle/arrays.ts';
import { tfjsGmm, tfjsMlp } from './arrays-tfjs.ts';
import { fmtNs, fmtRatio, markdownTable, ratio, textTable } from './format.ts';
import { gmmGrad as handGmmGrad } from './handwritten/gmm.js';
import { mlpGrad as handMlpGrad } from './handwritten/mlp.js';
import { timeBatch, type Timing } from './measure.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const generatedDir = join(benchDir, '.generated');

const GMM_N = 1000;
const GMM_SIZES: readonly (readonly [D: number, K: number])[] = [
  [2, 5],
  [10, 5],
  [10, 25],
  [20, 50],
  [32, 50],
  [64, 100],
];
const MLP_M = 1000;
const MLP_D = 32;
const MLP_HIDDEN = [16, 64, 128, 256];
const SEED = 1;

/** tfjs is not run at a size where one call is predicted (from the previous size, scaled by K·D²) to take longer than this. */
const TFJS_PREDICTED_LIMIT_MS = 10_000;

/** Tolerances, relative to the largest gradient entry (and to the value for the value). */
const HAND_TOLERANCE = 1e-9;
/** adc's wasm target against its JS target: the same float64 operations, sums in another order. */
const WASM_TOLERANCE = 1e-12;
const TFJS_TOLERANCE = 1e-4;

// ---------------------------------------------------------------------------------------------
// Loading the compiled modules

/** Compiles an .ad file with compileSync (for the JS or the wasm target), writes the module to bench/.generated/<id>.js and imports it. */
async function load(id: string, file: string, target: 'js' | 'wasm' = 'js'): Promise<Record<string, Function>> {
  const result = compileSync(readFileSync(file, 'utf8'), { filename: file.split('/').pop(), target });
  if (result.code === undefined) throw new Error(`${file} does not compile:\n${result.diagnostics.map((d) => d.message).join('\n')}`);
  mkdirSync(generatedDir, { recursive: true });
  const out = join(generatedDir, `${id}.js`);
  writeFileSync(out, result.code);
  return (await import(pathToFileURL(out).href)) as Record<string, Function>;
}

// ---------------------------------------------------------------------------------------------
// Agreement

type GradValue = number | ArrayLike<number> | readonly ArrayLike<number>[];
interface GradResult {
  value: number;
  /** One entry per differentiated parameter: a number, a vector or an array of rows. */
  gradient: object;
}

/** Every entry of the gradient, key by key (a matrix row by row). */
function flatten(gradient: object, keys: readonly string[]): Float64Array {
  const out: number[] = [];
  for (const key of keys) {
    const g = (gradient as Record<string, GradValue | undefined>)[key];
    if (g === undefined) throw new Error(`no gradient entry ${key}`);
    if (typeof g === 'number') {
      out.push(g);
      continue;
    }
    for (let i = 0; i < g.length; i++) {
      const e = g[i]!;
      if (typeof e === 'number') out.push(e);
      else for (let j = 0; j < e.length; j++) out.push(e[j]!);
    }
  }
  return Float64Array.from(out);
}

/**
 * How far `a` is from the reference `b`: the largest gradient difference over the largest
 * gradient entry of `b`, and the value's difference relative to the value (at least 1); the larger.
 */
function disagreement(a: GradResult, b: GradResult, keys: readonly string[]): number {
  const fa = flatten(a.gradient, keys);
  const fb = flatten(b.gradient, keys);
  if (fa.length !== fb.length) return Infinity;
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < fb.length; i++) {
    scale = Math.max(scale, Math.abs(fb[i]!));
    const d = Math.abs(fa[i]! - fb[i]!);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
  }
  const valueErr = Math.abs(a.value - b.value) / Math.max(1, Math.abs(b.value));
  return Math.max(Number.isNaN(valueErr) ? Infinity : valueErr, diff / (scale || 1));
}

/** Runs `f` once: its result and how long it took. */
function timed<T>(f: () => T): { result: T; ms: number } {
  const t = performance.now();
  const result = f();
  return { result, ms: performance.now() - t };
}

// ---------------------------------------------------------------------------------------------
// Timing

/**
 * Times one evaluation `call` (returning a number, sunk), given one call's time `probeMs` measured
 * before (which also warmed it): in batches of at least 5 ms over ≈0.3 s, or, for calls over
 * 50 ms, a few single calls (the calibration call is the warm-up).
 */
function timeCall(name: string, call: () => number, probeMs: number): Promise<Timing> {
  const batch = (reps: number) => {
    let s = 0;
    for (let r = 0; r < reps; r++) s += call();
    return s;
  };
  if (probeMs > 50) {
    const iterations = Math.max(3, Math.min(8, Math.round(1500 / probeMs)));
    return timeBatch(name, batch, { callsPerRep: 1, targetMs: 0, slow: true, time: 0, iterations });
  }
  return timeBatch(name, batch, { callsPerRep: 1, targetMs: 5, time: 300, iterations: 40 });
}

// ---------------------------------------------------------------------------------------------
// Rows

export interface ArrayRow {
  /** The row label. */
  id: string;
  sizes: Record<string, number>;
  /** Gradient entries (differentiated parameters' elements). */
  parameters: number;
  objective?: Timing;
  gradient?: Timing;
  /** The `…GradInto` twin, writing into preallocated arrays. */
  gradientInto?: Timing;
  handwritten?: Timing;
  tfjs?: Timing;
  /** adc's WebAssembly target (`--target wasm`): the objective and the allocating gradient. */
  wasmObjective?: Timing;
  wasmGradient?: Timing;
  wasmMaxRelError?: number;
  handMaxRelError?: number;
  tfjsMaxRelError?: number;
  /** One tfjs call (the agreement check's), ms, or the prediction that made it be skipped. */
  tfjsFirstCallMs?: number;
  tfjsPredictedMs?: number;
  /** Why the row is not timed (a failed agreement check). */
  aborted?: string;
  notes: string[];
}

type Log = (line?: string) => void;

interface Competitors {
  keys: readonly string[];
  objective: () => number;
  gradient: () => GradResult;
  gradientInto: () => number;
  /** The gradient gradientInto wrote (read after calling it). */
  intoResult: (value: number) => GradResult;
  handwritten: () => GradResult;
  /** Undefined when tfjs is left out (see the row's notes). */
  tfjs?: (() => GradResult) & { dispose(): void };
  /** The same objective and gradient compiled with `target: 'wasm'`. */
  wasmObjective: () => number;
  wasmGradient: () => GradResult;
}

/** Checks and times one row; tfjs is disposed of at the end. */
async function benchRow(row: ArrayRow, c: Competitors, log: Log): Promise<ArrayRow> {
  try {
    const value = timed(c.objective);
    const grad = timed(c.gradient);
    const into = timed(c.gradientInto);
    const hand = timed(c.handwritten);
    const selfErr = Math.max(
      Math.abs(value.result - grad.result.value) / Math.max(1, Math.abs(grad.result.value)),
      disagreement(c.intoResult(into.result), grad.result, c.keys),
    );
    if (!(selfErr <= 1e-12)) row.aborted = `the objective, the gradient and GradInto disagree (${selfErr.toExponential(2)})`;
    row.handMaxRelError = disagreement(grad.result, hand.result, c.keys);
    if (!row.aborted && !(row.handMaxRelError <= HAND_TOLERANCE)) {
      row.aborted = `adc and hand-written gradients disagree: ${row.handMaxRelError.toExponential(2)} > ${HAND_TOLERANCE} of the largest entry`;
    }
    const wasmValue = timed(c.wasmObjective);
    const wasmGrad = timed(c.wasmGradient);
    row.wasmMaxRelError = Math.max(disagreement(wasmGrad.result, grad.result, c.keys), Math.abs(wasmValue.result - value.result) / Math.max(1, Math.abs(value.result)));
    if (!row.aborted && !(row.wasmMaxRelError <= WASM_TOLERANCE)) {
      row.aborted = `adc's wasm and JS targets disagree: ${row.wasmMaxRelError.toExponential(2)} > ${WASM_TOLERANCE} of the largest entry`;
    }
    let tfjsMs = 0;
    if (c.tfjs && !row.aborted) {
      const t = timed(c.tfjs);
      tfjsMs = row.tfjsFirstCallMs = t.ms;
      row.tfjsMaxRelError = disagreement(t.result, grad.result, c.keys);
      if (!(row.tfjsMaxRelError <= TFJS_TOLERANCE)) {
        row.aborted = `adc and tfjs gradients disagree: ${row.tfjsMaxRelError.toExponential(2)} > ${TFJS_TOLERANCE} of the largest entry`;
      }
    }
    if (row.aborted) {
      log(` ABORTED: ${row.aborted}`);
      return row;
    }
    row.objective = await timeCall(`${row.id} objective`, c.objective, value.ms);
    row.gradient = await timeCall(`${row.id} gradient`, () => c.gradient().value, grad.ms);
    row.gradientInto = await timeCall(`${row.id} gradInto`, c.gradientInto, into.ms);
    row.handwritten = await timeCall(`${row.id} hand-written`, () => c.handwritten().value, hand.ms);
    row.wasmObjective = await timeCall(`${row.id} wasm objective`, c.wasmObjective, wasmValue.ms);
    row.wasmGradient = await timeCall(`${row.id} wasm gradient`, () => c.wasmGradient().value, wasmGrad.ms);
    if (c.tfjs) {
      const run = c.tfjs;
      row.tfjs = await timeCall(`${row.id} tfjs`, () => run().value, tfjsMs);
    }
    return row;
  } finally {
    c.tfjs?.dispose();
  }
}

const rowsOf = (rows: number, cols: number) => Array.from({ length: rows }, () => new Float64Array(cols));

async function benchGmm(tf: typeof TF, log: Log): Promise<ArrayRow[]> {
  const mod = await load('gmm', join(benchDir, '..', 'examples', 'gmm.ad'));
  const { gmm, gmmGrad, gmmGradInto } = mod as Record<string, (...args: unknown[]) => never>;
  const wasm = (await load('gmm-wasm', join(benchDir, '..', 'examples', 'gmm.ad'), 'wasm')) as Record<string, (...args: unknown[]) => never>;
  const keys = ['alpha', 'mu', 'q', 'l'];
  const rows: ArrayRow[] = [];
  /** The last tfjs call and its size's K·D², to predict the next. */
  let lastTfjs: { ms: number; work: number } | undefined;
  for (const [D, K] of GMM_SIZES) {
    const N = GMM_N;
    const T = (D * (D - 1)) / 2;
    const id = `gmm D=${D} K=${K}`;
    const row: ArrayRow = { id, sizes: { D, K, N }, parameters: K * (1 + 2 * D + T), notes: [] };
    process.stdout.write(`Benchmarking ${id} N=${N}…`);
    const data = gmmData(D, K, N, SEED);
    const { alpha, mu, q, l, x, gamma, m } = data;
    const out = { alpha: new Float64Array(K), mu: rowsOf(K, D), q: rowsOf(K, D), l: rowsOf(K, T) };
    const work = K * D * D;
    const predicted = lastTfjs && (lastTfjs.ms * work) / lastTfjs.work;
    let tfjs: Competitors['tfjs'];
    if (predicted !== undefined && predicted > TFJS_PREDICTED_LIMIT_MS) {
      row.tfjsPredictedMs = predicted;
      row.notes.push(
        `tfjs not run: one call is predicted to take ≈${(predicted / 1000).toFixed(0)} s (the previous size's ${(lastTfjs!.ms / 1000).toFixed(1)} s, scaled by K·D²), over the ${TFJS_PREDICTED_LIMIT_MS / 1000} s limit`,
      );
    } else {
      tfjs = tfjsGmm(tf, data);
    }
    await benchRow(
      row,
      {
        keys,
        objective: () => gmm(alpha, mu, q, l, x, gamma, m),
        gradient: () => gmmGrad(alpha, mu, q, l, x, gamma, m),
        gradientInto: () => gmmGradInto(out, alpha, mu, q, l, x, gamma, m),
        intoResult: (value) => ({ value, gradient: out }),
        handwritten: () => handGmmGrad(alpha, mu, q, l, x, gamma, m),
        tfjs,
        wasmObjective: () => wasm.gmm(alpha, mu, q, l, x, gamma, m),
        wasmGradient: () => wasm.gmmGrad(alpha, mu, q, l, x, gamma, m),
      },
      (line) => process.stdout.write(line ?? ''),
    );
    if (row.tfjsFirstCallMs !== undefined) lastTfjs = { ms: row.tfjs ? row.tfjs.ns / 1e6 : row.tfjsFirstCallMs, work };
    if (tf.memory().numTensors > 64) throw new Error(`tfjs leaks tensors: ${tf.memory().numTensors}`);
    rows.push(row);
    log(` done`);
  }
  return rows;
}

async function benchMlp(tf: typeof TF, log: Log): Promise<ArrayRow[]> {
  const mod = await load('mlp', join(benchDir, 'cases', 'mlp.ad'));
  const { mlp, mlpGrad, mlpGradInto } = mod as Record<string, (...args: unknown[]) => never>;
  const wasm = (await load('mlp-wasm', join(benchDir, 'cases', 'mlp.ad'), 'wasm')) as Record<string, (...args: unknown[]) => never>;
  const keys = ['W1', 'b1', 'w2', 'b2'];
  const rows: ArrayRow[] = [];
  for (const h of MLP_HIDDEN) {
    const d = MLP_D;
    const m = MLP_M;
    const id = `mlp h=${h}`;
    const row: ArrayRow = { id, sizes: { h, d, m }, parameters: h * d + 2 * h + 1, notes: [] };
    process.stdout.write(`Benchmarking ${id} d=${d} m=${m}…`);
    const data = mlpData(d, h, m, SEED);
    const { W1, b1, w2, b2, X, y } = data;
    const out = { W1: rowsOf(h, d), b1: new Float64Array(h), w2: new Float64Array(h), b2: 0 };
    await benchRow(
      row,
      {
        keys,
        objective: () => mlp(W1, b1, w2, b2, X, y),
        gradient: () => mlpGrad(W1, b1, w2, b2, X, y),
        gradientInto: () => mlpGradInto(out, W1, b1, w2, b2, X, y),
        intoResult: (value) => ({ value, gradient: out }),
        handwritten: () => handMlpGrad(W1, b1, w2, b2, X, y),
        tfjs: tfjsMlp(tf, data),
        wasmObjective: () => wasm.mlp(W1, b1, w2, b2, X, y),
        wasmGradient: () => wasm.mlpGrad(W1, b1, w2, b2, X, y),
      },
      (line) => process.stdout.write(line ?? ''),
    );
    if (tf.memory().numTensors > 64) throw new Error(`tfjs leaks tensors: ${tf.memory().numTensors}`);
    rows.push(row);
    log(` done`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The whole array benchmark and its report

export interface ArraysResult {
  machine: { cpu: string; cores: number; node: string; date: string };
  targets: { text: string; met: Record<string, boolean> };
  gmm: (ArrayRow & { ratios: Record<string, number | undefined> })[];
  mlp: (ArrayRow & { ratios: Record<string, number | undefined> })[];
  notes: string[];
  totalSeconds: number;
  /** The report: plain-text tables for the console, and the Markdown section of results.md. */
  text: string;
  markdown: string;
}

/** The marker that starts the array section of bench/results.md (it runs to the end of the file). */
export const ARRAYS_MARKER = '<!-- Array benchmarks: generated by `npm run bench` (bench/arrays.ts; alone with `--only arrays`). -->';

export async function benchArrays(tf: typeof TF, log: Log = console.log): Promise<ArraysResult> {
  const startedAt = Date.now();
  const gmmRows = await benchGmm(tf, log);
  const mlpRows = await benchMlp(tf, log);

  const ratiosOf = (r: ArrayRow) => ({
    gradientOverObjective: ratio(r.gradient, r.objective),
    gradientIntoOverObjective: ratio(r.gradientInto, r.objective),
    gradientOverHandwritten: ratio(r.gradient, r.handwritten),
    gradientIntoOverHandwritten: ratio(r.gradientInto, r.handwritten),
    tfjsOverGradient: ratio(r.tfjs, r.gradient),
    wasmGradientOverGradient: ratio(r.wasmGradient, r.gradient),
    wasmGradientOverObjective: ratio(r.wasmGradient, r.wasmObjective),
    tfjsOverWasmGradient: ratio(r.tfjs, r.wasmGradient),
  });
  const gmm = gmmRows.map((r) => ({ ...r, ratios: ratiosOf(r) }));
  const mlp = mlpRows.map((r) => ({ ...r, ratios: ratiosOf(r) }));

  const head = (what: string) => [what, 'objective', 'gradient', 'gradInto', 'hand-written', 'tfjs', 'grad / obj', 'gradInto / obj', 'grad / hand', 'gradInto / hand', 'tfjs / grad', 'wasm objective', 'wasm gradient', 'wasm grad / grad', 'wasm grad / wasm obj', 'tfjs / wasm grad'];
  const body = (rows: typeof gmm, label: (r: ArrayRow) => string) =>
    rows.map((r) => {
      if (r.aborted) return [label(r), 'aborted (see below)', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—', '—'];
      const rt = r.ratios;
      const tfjsCell = r.tfjs ? fmtNs(r.tfjs) : r.tfjsPredictedMs !== undefined ? `not run (≈${(r.tfjsPredictedMs / 1000).toFixed(0)} s predicted)` : '—';
      return [
        label(r),
        fmtNs(r.objective),
        fmtNs(r.gradient),
        fmtNs(r.gradientInto),
        fmtNs(r.handwritten),
        tfjsCell,
        fmtRatio(rt.gradientOverObjective),
        fmtRatio(rt.gradientIntoOverObjective),
        fmtRatio(rt.gradientOverHandwritten),
        fmtRatio(rt.gradientIntoOverHandwritten),
        fmtRatio(rt.tfjsOverGradient),
        fmtNs(r.wasmObjective),
        fmtNs(r.wasmGradient),
        fmtRatio(rt.wasmGradientOverGradient),
        fmtRatio(rt.wasmGradientOverObjective),
        fmtRatio(rt.tfjsOverWasmGradient),
      ];
    });
  const gmmHead = head(`gmm (N = ${GMM_N})`);
  const gmmBody = body(gmm, (r) => `D = ${r.sizes.D}, K = ${r.sizes.K}`);
  const mlpHead = head(`mlp (m = ${MLP_M}, d = ${MLP_D})`);
  const mlpBody = body(mlp, (r) => `h = ${r.sizes.h}`);

  // Targets: on every timed row.
  const timed = (rows: typeof gmm) => rows.filter((r) => !r.aborted);
  const verdict = (rows: typeof gmm, ok: (r: (typeof gmm)[number]) => boolean | undefined, label: (r: ArrayRow) => string, value: (r: (typeof gmm)[number]) => string) => {
    const considered = timed(rows).filter((r) => ok(r) !== undefined);
    const failed = considered.filter((r) => !ok(r));
    return {
      met: considered.length > 0 && failed.length === 0,
      text:
        considered.length === 0
          ? 'not measured'
          : failed.length === 0
            ? `met on all ${considered.length}`
            : `met on ${considered.length - failed.length} of ${considered.length}; not at ${failed.map((r) => `${label(r)} (${value(r)})`).join(', ')}`,
    };
  };
  const gmmLabel = (r: ArrayRow) => `D=${r.sizes.D}, K=${r.sizes.K}`;
  const mlpLabel = (r: ArrayRow) => `h=${r.sizes.h}`;
  const gradObj = verdict(gmm, (r) => (r.ratios.gradientOverObjective === undefined ? undefined : r.ratios.gradientOverObjective <= 3), gmmLabel, (r) => fmtRatio(r.ratios.gradientOverObjective));
  const gradHand = verdict(gmm, (r) => (r.ratios.gradientOverHandwritten === undefined ? undefined : r.ratios.gradientOverHandwritten <= 1.5), gmmLabel, (r) => fmtRatio(r.ratios.gradientOverHandwritten));
  const mlpTfjs = verdict(mlp, (r) => (r.ratios.tfjsOverGradient === undefined ? undefined : r.ratios.tfjsOverGradient > 1), mlpLabel, (r) => `tfjs / grad ${fmtRatio(r.ratios.tfjsOverGradient)}`);
  const targetText =
    `Targets (on adc's allocating gradient, \`gmmGrad\` / \`mlpGrad\`): GMM gradient / objective ≤ 3× — ${gradObj.text}; ` +
    `GMM adc gradient / hand-written ≤ 1.5× — ${gradHand.text}; ` +
    `MLP adc gradient faster than tfjs at every hidden size up to 256 — ${mlpTfjs.text}.`;

  const allRows = [...gmm, ...mlp];
  const worst = (pick: (r: ArrayRow) => number | undefined) => {
    const errors = allRows.map(pick).filter((e): e is number => e !== undefined);
    return errors.length === 0 ? 'none checked' : `worst seen ${Math.max(...errors).toExponential(1)}`;
  };
  const notes = [
    `Each time is the fastest sample of one whole evaluation over the data (${GMM_N} GMM data points from \`gmmData(D, K, ${GMM_N}, ${SEED})\`; ${MLP_M} MLP rows of ${MLP_D} features from \`mlpData(${MLP_D}, h, ${MLP_M}, ${SEED})\`, test/oracle/arrays.ts): calls under 50 ms in batches of at least 5 ms over ≈0.3 s, longer ones as 3–8 single calls. "gradient" is \`gmmGrad\` / \`mlpGrad\` (allocates the returned arrays), "gradInto" is \`gmmGradInto\` / \`mlpGradInto\` (writes into arrays allocated once); the hand-written gradients are bench/handwritten/gmm.js and mlp.js; tfjs is one \`tf.valueAndGrads\` call on the CPU backend (bench/arrays-tfjs.ts: the data tensors are created once, outside the timed call; the gradient is read back with \`dataSync\` into Float64Arrays).`,
    `Before timing, each row checks that the objective, the gradient and gradInto agree (1e-12), that adc's gradient agrees with the hand-written one (${HAND_TOLERANCE.toExponential(0)} of the largest entry; ${worst((r) => r.handMaxRelError)}) and with tfjs (float32: ${TFJS_TOLERANCE.toExponential(0)} of the largest entry; ${worst((r) => r.tfjsMaxRelError)}), and that the wasm target's value and gradient agree with the JS target's (${WASM_TOLERANCE.toExponential(0)}; ${worst((r) => r.wasmMaxRelError)}); a row that fails is not timed.`,
    `"wasm" is the same .ad file compiled with \`--target wasm\` (README, "WebAssembly target": f64x2 SIMD, exp/log/tanh through JavaScript's Math), timed as the JS target's \`gmm\` / \`gmmGrad\` (arguments copied into linear memory per call, the gradient returned as new Float64Arrays).`,
    ...allRows.flatMap((r) => [...(r.aborted ? [`aborted, not timed: ${r.aborted}`] : []), ...r.notes].map((n) => `${r.id}: ${n}.`)),
  ];

  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, date: new Date().toISOString() };
  const totalSeconds = (Date.now() - startedAt) / 1000;
  const text = [
    `Array benchmarks (${totalSeconds.toFixed(0)} s):`,
    textTable(gmmHead, gmmBody),
    '',
    textTable(mlpHead, mlpBody),
    '',
    `- ${targetText}`,
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  const markdown = [
    ARRAYS_MARKER,
    '',
    `Array benchmarks, measured on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${machine.date.slice(0, 10)}: the Gaussian-mixture objective of examples/gmm.ad, then the one-hidden-layer perceptron of bench/cases/mlp.ad.`,
    '',
    markdownTable(gmmHead, gmmBody),
    '',
    markdownTable(mlpHead, mlpBody),
    '',
    `- ${targetText}`,
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return {
    machine,
    targets: { text: targetText, met: { gmmGradientOverObjective: gradObj.met, gmmGradientOverHandwritten: gradHand.met, mlpFasterThanTfjs: mlpTfjs.met } },
    gmm,
    mlp,
    notes,
    totalSeconds,
    text,
    markdown,
  };
}

/** The JSON form of the result (without the formatted report). */
export function arraysJson(r: ArraysResult): Omit<ArraysResult, 'text' | 'markdown'> {
  const { text: _t, markdown: _m, ...rest } = r;
  return rest;
}
