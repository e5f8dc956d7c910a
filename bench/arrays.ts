/**
 * The array benchmarks of `npm run bench` (alone: `npm run bench -- --only arrays`): the
 * Gaussian-mixture objective of examples/gmm.ad and the one-hidden-layer perceptron loss of
 * bench/cases/mlp.ad, compiled with compileSync for the JS and the wasm target, against the hand-written gradients of
 * bench/handwritten/ (gmm.js, mlp.js), TensorFlow.js on its CPU and WebAssembly (SIMD) backends
 * (bench/arrays-tfjs.ts) and jax-js `jit(valueAndGrad)` in float64 and float32 (bench/arrays-jax.ts);
 * then a polynomial least-squares fit (`t^j` terms) and logsumexp against compiled C
 * (bench/arrays-c.ts).
 *
 * Each call is a whole evaluation over the data (N = 1000 points, m = 1000 rows), from
 * microseconds to seconds: fast calls are timed in batches of at least 5 ms over ≈0.3 s, slow ones
 * (over 50 ms) as a few single calls. adc's wasm target (`--target wasm`) is timed beside its JS
 * target. Before timing, each row checks that adc's gradient agrees with the hand-written one
 * (1e-9 of the largest entry), the wasm target with the JS target (1e-12) and each peer with adc
 * (float32: 1e-4 of the largest entry), and is left out, with the reason printed, when it does not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as TF from '@tensorflow/tfjs';
import { compileSync } from '../src/index.ts';
import { gmmData, mlpData } from '../test/oracle/arrays.ts';
import { benchKernels, type KernelRow } from './arrays-c.ts';
import { jaxGmm, jaxMlp, loadJax } from './arrays-jax.ts';
import { loadTfjs, tfjsGmm, tfjsMlp, tfjsWasmSimd } from './arrays-tfjs.ts';
import { fmtNs, fmtRatio, markdownTable, textTable } from './format.ts';
import { gmmGrad as handGmmGrad } from './handwritten/gmm.js';
import { mlpGrad as handMlpGrad } from './handwritten/mlp.js';
import { interleave, medianRatio, timingOfRounds } from './interleave.ts';
import { addToSink, timeBatch, type Timing } from './measure.ts';

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

/** A peer is not run at a size where one call is predicted (from the previous size, scaled by K·D²) to take longer than this. */
const PEER_PREDICTED_LIMIT_MS = 10_000;
/**
 * tfjs cpu's limit, lower: no target reads it, and it is timed on its own with at least five calls
 * (a GMM D = 20 call took 5.7 s at load 13: about 3 minutes of the run for a column nobody reads).
 */
const TFJS_CPU_PREDICTED_LIMIT_MS = 2_000;
const predictedLimitMs = (id: PeerId) => (id === 'tfjsCpu' ? TFJS_CPU_PREDICTED_LIMIT_MS : PEER_PREDICTED_LIMIT_MS);

/** Tolerances, relative to the largest gradient entry (and to the value for the value). */
const HAND_TOLERANCE = 1e-9;
/** adc's wasm target against its JS target: the same float64 operations, sums in another order. */
const WASM_TOLERANCE = 1e-12;

/** The peers, in table order: each computes the value and gradient in one call from data it holds. */
export const PEERS = [
  { id: 'tfjsCpu', label: 'tfjs cpu', what: 'TensorFlow.js `tf.valueAndGrads` on the CPU backend (float32)', tolerance: 1e-4 },
  { id: 'tfjsWasm', label: 'tfjs wasm', what: 'TensorFlow.js `tf.valueAndGrads` on the WebAssembly backend (float32, SIMD)', tolerance: 1e-4 },
  { id: 'jax64', label: 'jax-js f64', what: 'jax-js `jit(valueAndGrad)` in float64 (its exp, log and tanh in float32)', tolerance: 1e-5 },
  { id: 'jax32', label: 'jax-js f32', what: 'jax-js `jit(valueAndGrad)` in float32', tolerance: 1e-4 },
] as const;
export type PeerId = (typeof PEERS)[number]['id'];

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

/** How long each function is called before its timing is decided: V8 optimises a long function only after several calls. */
const WARM_MS = 800;

/**
 * Times one evaluation `call` (returning a number, sunk), after warming it: it is called for
 * WARM_MS (at least twice), and the last call's time decides how it is timed: in batches of at least
 * 5 ms over ≈0.3 s, or, for calls over 50 ms, a few single calls. Deciding from the first call
 * (`firstMs`, which also ran it once), unoptimised and slowed by V8 compiling it, split the GMM row
 * D = 10, K = 25: its objective's first call took under 50 ms (batched: the fastest of up to 40
 * samples), its gradient's over (75–230 ms seen, for calls of 25–30 ms once warm: the fastest of 8
 * single calls right after the first), the only row whose two columns were timed differently, and
 * the one whose gradient / objective read 6.1× where the rows around it read 2.4–3.7×.
 */
function timeCall(name: string, call: () => number, firstMs: number): Promise<Timing> {
  const batch = (reps: number) => {
    let s = 0;
    for (let r = 0; r < reps; r++) s += call();
    return s;
  };
  let probeMs = firstMs;
  const start = performance.now();
  for (let calls = 1; calls < 2 || performance.now() - start < WARM_MS; calls++) probeMs = timed(call).ms;
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
  handMaxRelError?: number;
  /** adc's WebAssembly target (`--target wasm`): the objective, the allocating gradient, and its agreement with the JS target. */
  wasmObjective?: Timing;
  wasmGradient?: Timing;
  wasmMaxRelError?: number;
  /** Each peer's time, its agreement with adc, its first call (ms), or the prediction that made it be skipped. */
  peers: Partial<Record<PeerId, Timing>>;
  peerMaxRelError: Partial<Record<PeerId, number>>;
  peerFirstCallMs: Partial<Record<PeerId, number>>;
  peerPredictedMs: Partial<Record<PeerId, number>>;
  /** The interleaved race (RACE): per column, ns per call in each round; the ratios are medians of per-round ratios. */
  race?: { times: Partial<Record<RaceColumn, number[]>>; rounds: number; windowMs: number; clock: string; roundsMs: number; warmMs: number };
  /** Why the row is not timed (a failed agreement check). */
  aborted?: string;
  notes: string[];
}

type Log = (line?: string) => void;

type Runner = (() => GradResult) & { dispose(): void };

interface Competitors {
  keys: readonly string[];
  objective: () => number;
  gradient: () => GradResult;
  gradientInto: () => number;
  /** The gradient gradientInto wrote (read after calling it). */
  intoResult: (value: number) => GradResult;
  handwritten: () => GradResult;
  /** The same objective and gradient compiled with `target: 'wasm'`. */
  wasmObjective: () => number;
  wasmGradient: () => GradResult;
  /** Each peer's runner, made when its turn comes (tfjs's backend is selected first); undefined when left out (see the row's notes). */
  peers: Partial<Record<PeerId, () => Promise<Runner>>>;
}

const newRow = (id: string, sizes: Record<string, number>, parameters: number): ArrayRow => ({
  id,
  sizes,
  parameters,
  peers: {},
  peerMaxRelError: {},
  peerFirstCallMs: {},
  peerPredictedMs: {},
  notes: [],
});

/** The columns timed interleaved in one race per row (tfjs cpu, timed on its own, is not among them: see RACE). */
export const RACE_COLUMNS = ['objective', 'gradient', 'gradientInto', 'handwritten', 'wasmObjective', 'wasmGradient', 'tfjsWasm', 'jax64', 'jax32'] as const;
export type RaceColumn = (typeof RACE_COLUMNS)[number];

/**
 * How each row's race is run (bench/interleave.ts): on the process's CPU time, every column called
 * in turn for a window of RACE.windowMs per round (a longer call alone), after RACE.warmMs of
 * calls in turn (the checking calls, one per column, counted in); at least RACE.rounds.min rounds, then more until RACE.rounds.budgetMs of wall
 * clock have passed, at most RACE.rounds.max. tfjs cpu is timed on its own, before: tfjs holds one
 * backend at a time, and switching between its CPU and wasm backends every window would move the
 * tensors between them inside the timed calls; no target reads it.
 */
export const RACE = { clock: 'cpu', windowMs: 20, warmMs: WARM_MS, rounds: { min: 3, max: 21, budgetMs: 25_000 } } as const;

/**
 * Checks and times one row: adc's functions (JS and wasm targets), the hand-written gradient and
 * the peers that run in the wasm backend's process state (tfjs wasm, jax-js) in one interleaved
 * race; tfjs cpu on its own before it.
 */
async function benchRow(row: ArrayRow, c: Competitors, log: Log): Promise<ArrayRow> {
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
  if (row.aborted) {
    log(` ABORTED: ${row.aborted}`);
    return row;
  }
  /** Makes a peer's runner and checks it against adc; undefined (with a note) when it disagrees. */
  const checked = async (id: PeerId): Promise<Runner | undefined> => {
    const make = c.peers[id];
    if (!make) return undefined;
    const peer = PEERS.find((p) => p.id === id)!;
    const run = await make();
    const t = timed(run);
    row.peerFirstCallMs[id] = t.ms;
    const err = (row.peerMaxRelError[id] = disagreement(t.result, grad.result, c.keys));
    if (err <= peer.tolerance) return run;
    row.notes.push(`${peer.label} not timed: its gradient disagrees with adc's by ${err.toExponential(2)} of the largest entry (> ${peer.tolerance})`);
    run.dispose();
    return undefined;
  };
  // tfjs cpu alone, on its backend (its fastest sample, as before session 9).
  const cpu = await checked('tfjsCpu');
  if (cpu) {
    try {
      log(' tfjs cpu…');
      row.peers.tfjsCpu = await timeCall(`${row.id} tfjs cpu`, () => cpu().value, row.peerFirstCallMs.tfjsCpu!);
    } finally {
      cpu.dispose();
    }
  }
  const runners: Partial<Record<PeerId, Runner>> = {};
  try {
    for (const id of ['tfjsWasm', 'jax64', 'jax32'] as const) {
      const run = await checked(id);
      if (run) runners[id] = run;
    }
    log(' race…');
    const contenders: Partial<Record<RaceColumn, () => number>> = {
      objective: c.objective,
      gradient: () => c.gradient().value,
      gradientInto: c.gradientInto,
      handwritten: () => c.handwritten().value,
      wasmObjective: c.wasmObjective,
      wasmGradient: () => c.wasmGradient().value,
    };
    for (const [id, run] of Object.entries(runners) as [PeerId, Runner][]) contenders[id as RaceColumn] = () => run().value;
    // The checking calls above called every column once: they count as warm-up, so a row whose
    // calls take seconds (GMM D = 64) starts its rounds at once instead of after another pass.
    const checkMs = value.ms + grad.ms + into.ms + hand.ms + wasmValue.ms + wasmGrad.ms + Object.keys(runners).reduce((ms, id) => ms + row.peerFirstCallMs[id as PeerId]!, 0);
    const race = interleave(contenders as Record<RaceColumn, () => number>, { ...RACE, warmMs: Math.max(0, RACE.warmMs - checkMs), warmCalls: 0 }, addToSink);
    row.race = { times: race.times, rounds: race.rounds, windowMs: race.windowMs, clock: race.clock, roundsMs: race.roundsMs, warmMs: race.warmMs };
    const t = (k: RaceColumn) => (race.times[k] ? timingOfRounds(race.times[k]) : undefined);
    row.objective = t('objective');
    row.gradient = t('gradient');
    row.gradientInto = t('gradientInto');
    row.handwritten = t('handwritten');
    row.wasmObjective = t('wasmObjective');
    row.wasmGradient = t('wasmGradient');
    for (const id of ['tfjsWasm', 'jax64', 'jax32'] as const) {
      const timing = t(id);
      if (timing) row.peers[id] = timing;
    }
  } finally {
    for (const run of Object.values(runners)) run.dispose();
  }
  return row;
}

const rowsOf = (rows: number, cols: number) => Array.from({ length: rows }, () => new Float64Array(cols));

/** The peers' libraries, loaded once: tfjs (one module, whose backend each runner selects first) and jax-js. */
interface PeerLibraries {
  tf: typeof TF;
  jax: Awaited<ReturnType<typeof loadJax>>;
  /** Whether tfjs's wasm backend runs with SIMD here. */
  wasmSimd: boolean;
}

async function loadPeers(): Promise<PeerLibraries> {
  // The CPU backend first: its greeting on first use is silenced there.
  await loadTfjs('cpu');
  const tf = await loadTfjs('wasm');
  const wasmSimd = await tfjsWasmSimd(tf);
  await tf.setBackend('cpu');
  return { tf, jax: await loadJax(), wasmSimd };
}

/** Runners for every peer on one problem, each selecting its tfjs backend before creating its tensors. */
function peerRunners<D>(
  libs: PeerLibraries,
  data: D,
  tfjs: (tf: typeof TF, data: D) => Runner,
  jax: (j: PeerLibraries['jax'], data: D, dtype: 'float32' | 'float64') => Runner,
): Record<PeerId, () => Promise<Runner>> {
  const onBackend = (backend: 'cpu' | 'wasm') => async () => {
    await libs.tf.setBackend(backend);
    return tfjs(libs.tf, data);
  };
  return {
    tfjsCpu: onBackend('cpu'),
    tfjsWasm: onBackend('wasm'),
    jax64: async () => jax(libs.jax, data, 'float64'),
    jax32: async () => jax(libs.jax, data, 'float32'),
  };
}

async function benchGmm(libs: PeerLibraries, log: Log, sizes: readonly (readonly [number, number])[]): Promise<ArrayRow[]> {
  const mod = await load('gmm', join(benchDir, '..', 'examples', 'gmm.ad'));
  const { gmm, gmmGrad, gmmGradInto } = mod as Record<string, (...args: unknown[]) => never>;
  const wasm = (await load('gmm-wasm', join(benchDir, '..', 'examples', 'gmm.ad'), 'wasm')) as Record<string, (...args: unknown[]) => never>;
  const keys = ['alpha', 'mu', 'q', 'l'];
  const rows: ArrayRow[] = [];
  /** Each peer's last call and its size's K·D², to predict the next. */
  const last: Partial<Record<PeerId, { ms: number; work: number }>> = {};
  for (const [D, K] of sizes) {
    const N = GMM_N;
    const T = (D * (D - 1)) / 2;
    const id = `gmm D=${D} K=${K}`;
    const row = newRow(id, { D, K, N }, K * (1 + 2 * D + T));
    process.stdout.write(`Benchmarking ${id} N=${N}…`);
    const data = gmmData(D, K, N, SEED);
    const { alpha, mu, q, l, x, gamma, m } = data;
    const out = { alpha: new Float64Array(K), mu: rowsOf(K, D), q: rowsOf(K, D), l: rowsOf(K, T) };
    const work = K * D * D;
    const peers: Competitors['peers'] = peerRunners(libs, data, tfjsGmm, jaxGmm);
    for (const peer of PEERS) {
      const before = last[peer.id];
      const predicted = before && (before.ms * work) / before.work;
      if (predicted === undefined || predicted <= predictedLimitMs(peer.id)) continue;
      delete peers[peer.id];
      row.peerPredictedMs[peer.id] = predicted;
      row.notes.push(
        `${peer.label} not run: one call is predicted to take ≈${(predicted / 1000).toFixed(0)} s (the previous size's ${(before!.ms / 1000).toFixed(1)} s, scaled by K·D²), over the ${predictedLimitMs(peer.id) / 1000} s limit`,
      );
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
        wasmObjective: () => wasm.gmm(alpha, mu, q, l, x, gamma, m),
        wasmGradient: () => wasm.gmmGrad(alpha, mu, q, l, x, gamma, m),
        peers,
      },
      (line) => process.stdout.write(line ?? ''),
    );
    for (const peer of PEERS) {
      const first = row.peerFirstCallMs[peer.id];
      const t = row.peers[peer.id];
      if (first !== undefined) last[peer.id] = { ms: t ? t.ns / 1e6 : first, work };
    }
    if (libs.tf.memory().numTensors > 64) throw new Error(`tfjs leaks tensors: ${libs.tf.memory().numTensors}`);
    rows.push(row);
    log(` done`);
  }
  return rows;
}

async function benchMlp(libs: PeerLibraries, log: Log, hidden: readonly number[]): Promise<ArrayRow[]> {
  const mod = await load('mlp', join(benchDir, 'cases', 'mlp.ad'));
  const { mlp, mlpGrad, mlpGradInto } = mod as Record<string, (...args: unknown[]) => never>;
  const wasm = (await load('mlp-wasm', join(benchDir, 'cases', 'mlp.ad'), 'wasm')) as Record<string, (...args: unknown[]) => never>;
  const keys = ['W1', 'b1', 'w2', 'b2'];
  const rows: ArrayRow[] = [];
  for (const h of hidden) {
    const d = MLP_D;
    const m = MLP_M;
    const id = `mlp h=${h}`;
    const row = newRow(id, { h, d, m }, h * d + 2 * h + 1);
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
        wasmObjective: () => wasm.mlp(W1, b1, w2, b2, X, y),
        wasmGradient: () => wasm.mlpGrad(W1, b1, w2, b2, X, y),
        peers: peerRunners(libs, data, tfjsMlp, jaxMlp),
      },
      (line) => process.stdout.write(line ?? ''),
    );
    if (libs.tf.memory().numTensors > 64) throw new Error(`tfjs leaks tensors: ${libs.tf.memory().numTensors}`);
    rows.push(row);
    log(` done`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The whole array benchmark and its report

export interface ArraysResult {
  machine: { cpu: string; cores: number; node: string; date: string };
  targets: { text: string[]; met: Record<string, boolean> };
  gmm: (ArrayRow & { ratios: Record<string, number | undefined> })[];
  mlp: (ArrayRow & { ratios: Record<string, number | undefined> })[];
  kernels: KernelRow[];
  notes: string[];
  totalSeconds: number;
  /** The report: plain-text tables for the console, and the Markdown section of results.md. */
  text: string;
  markdown: string;
}

/** The marker that starts the array section of bench/results.md (it runs to the end of the file). */
export const ARRAYS_MARKER = '<!-- Array benchmarks: generated by `npm run bench` (bench/arrays.ts; alone with `--only arrays`). -->';

const fmtPlainNs = (ns: number | undefined) => (ns === undefined ? '—' : fmtNs({ ns, medianNs: ns, rme: 0, samples: 0, callsPerSample: 0 }));

/** Which sizes to run: all by default (`npm run bench`); fewer while working on the harness. */
export interface ArraysOptions {
  readonly gmm?: readonly (readonly [D: number, K: number])[];
  readonly mlp?: readonly number[];
}

export async function benchArrays(log: Log = console.log, options: ArraysOptions = {}): Promise<ArraysResult> {
  const startedAt = Date.now();
  const libs = await loadPeers();
  const gmmRows = await benchGmm(libs, log, options.gmm ?? GMM_SIZES);
  const mlpRows = await benchMlp(libs, log, options.mlp ?? MLP_HIDDEN);
  // The scalar benchmarks of bench/run.ts use tfjs on the CPU backend.
  await libs.tf.setBackend('cpu');
  const kernels = await benchKernels(log);

  /**
   * A row's ratios: of two raced columns, the median of their per-round ratios; tfjs cpu (timed on
   * its own) by its median sample over the other column's median round.
   */
  const ratiosOf = (r: ArrayRow): Record<string, number | undefined> => {
    const times = r.race?.times ?? {};
    const raced = (a: RaceColumn, b: RaceColumn) => (times[a] && times[b] ? medianRatio(times[a], times[b]) : undefined);
    const peer = (id: PeerId, of: RaceColumn) =>
      id === 'tfjsCpu' ? (r.peers.tfjsCpu && times[of] ? r.peers.tfjsCpu.medianNs / timingOfRounds(times[of]).medianNs : undefined) : raced(id, of);
    return {
      gradientOverObjective: raced('gradient', 'objective'),
      gradientIntoOverObjective: raced('gradientInto', 'objective'),
      gradientOverHandwritten: raced('gradient', 'handwritten'),
      gradientIntoOverHandwritten: raced('gradientInto', 'handwritten'),
      wasmGradientOverObjective: raced('wasmGradient', 'wasmObjective'),
      wasmGradientOverGradient: raced('wasmGradient', 'gradient'),
      ...Object.fromEntries(PEERS.map((p) => [`${p.id}OverGradient`, peer(p.id, 'gradient')])),
      ...Object.fromEntries(PEERS.map((p) => [`${p.id}OverWasmGradient`, peer(p.id, 'wasmGradient')])),
    };
  };
  const gmm = gmmRows.map((r) => ({ ...r, ratios: ratiosOf(r) }));
  const mlp = mlpRows.map((r) => ({ ...r, ratios: ratiosOf(r) }));

  const head = (what: string) => [
    what,
    'objective',
    'gradient',
    'gradInto',
    'hand-written',
    'wasm objective',
    'wasm gradient',
    ...PEERS.map((p) => p.label),
    'grad / obj',
    'grad / hand',
    'wasm grad / wasm obj',
    'wasm grad / grad',
    ...PEERS.map((p) => `${p.label} / grad`),
  ];
  const body = (rows: typeof gmm, label: (r: ArrayRow) => string) =>
    rows.map((r) => {
      if (r.aborted) return [label(r), 'aborted (see below)', ...Array(head('').length - 2).fill('—')];
      const rt = r.ratios;
      const peerCell = (id: PeerId) => {
        const t = r.peers[id];
        if (t) return fmtPlainNs(t.medianNs);
        const predicted = r.peerPredictedMs[id];
        return predicted !== undefined ? `not run (≈${(predicted / 1000).toFixed(0)} s predicted)` : '—';
      };
      return [
        label(r),
        fmtPlainNs(r.objective?.medianNs),
        fmtPlainNs(r.gradient?.medianNs),
        fmtPlainNs(r.gradientInto?.medianNs),
        fmtPlainNs(r.handwritten?.medianNs),
        fmtPlainNs(r.wasmObjective?.medianNs),
        fmtPlainNs(r.wasmGradient?.medianNs),
        ...PEERS.map((p) => peerCell(p.id)),
        fmtRatio(rt.gradientOverObjective),
        fmtRatio(rt.gradientOverHandwritten),
        fmtRatio(rt.wasmGradientOverObjective),
        fmtRatio(rt.wasmGradientOverGradient),
        ...PEERS.map((p) => fmtRatio(rt[`${p.id}OverGradient`])),
      ];
    });
  const gmmHead = head(`gmm (N = ${GMM_N})`);
  const gmmBody = body(gmm, (r) => `D = ${r.sizes.D}, K = ${r.sizes.K}`);
  const mlpHead = head(`mlp (m = ${MLP_M}, d = ${MLP_D})`);
  const mlpBody = body(mlp, (r) => `h = ${r.sizes.h}`);

  // The kernels are timed interleaved (bench/arrays-c.ts): each time is the median round, each
  // ratio the median of the per-round ratios, C's included (run once per round).
  const kernelHead = ['kernel', 'objective', 'gradient', 'gradInto', 'hand-written JS', 'C objective', 'C gradient', 'grad / obj', 'gradInto / obj', 'hand-written JS / obj', 'gradInto / hand-written JS', 'gradInto / C gradient', 'objective / C objective'];
  const kernelLabel = (r: KernelRow) => (r.id === 'polyfit' ? `polyfit (t^j terms; n = ${r.sizes.n}, m = ${r.sizes.m})` : `logsumexp (n = ${r.sizes.n})`);
  const kernelRatios = (r: KernelRow) => ({
    gradientOverObjective: r.ratios?.gradientOverObjective,
    gradientIntoOverC: r.cRatios?.gradientIntoOverC,
    objectiveOverC: r.cRatios?.objectiveOverC,
  });
  const medianNs = (t: Timing | undefined) => fmtPlainNs(t?.medianNs);
  const kernelBody = kernels.rows.map((r) => {
    const k = kernelRatios(r);
    return [
      kernelLabel(r),
      medianNs(r.objective),
      medianNs(r.gradient),
      medianNs(r.gradientInto),
      medianNs(r.handwritten),
      fmtPlainNs(r.cObjectiveNs),
      fmtPlainNs(r.cGradientNs),
      fmtRatio(k.gradientOverObjective),
      fmtRatio(r.ratios?.gradientIntoOverObjective),
      fmtRatio(r.ratios?.handwrittenOverObjective),
      fmtRatio(r.ratios?.gradientIntoOverHandwritten),
      fmtRatio(k.gradientIntoOverC),
      fmtRatio(k.objectiveOverC),
    ];
  });

  // Targets: on every timed row.
  const timedRows = (rows: typeof gmm) => rows.filter((r) => !r.aborted);
  const verdict = (rows: typeof gmm, ok: (r: (typeof gmm)[number]) => boolean | undefined, label: (r: ArrayRow) => string, value: (r: (typeof gmm)[number]) => string) => {
    const considered = timedRows(rows).filter((r) => ok(r) !== undefined);
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
  const at = (rt: Record<string, number | undefined>, key: string) => rt[key];
  const gradObj = verdict(gmm, (r) => (r.ratios.gradientOverObjective === undefined ? undefined : r.ratios.gradientOverObjective <= 3), gmmLabel, (r) => fmtRatio(r.ratios.gradientOverObjective));
  const gradHand = verdict(gmm, (r) => (r.ratios.gradientOverHandwritten === undefined ? undefined : r.ratios.gradientOverHandwritten <= 1), gmmLabel, (r) => fmtRatio(r.ratios.gradientOverHandwritten));
  /** The peer targets, for adc's JS target (`Gradient`: the ratio to `gmmGrad` / `mlpGrad`) or its wasm target (`WasmGradient`). */
  type Of = 'Gradient' | 'WasmGradient';
  const grad = (of: Of) => (of === 'Gradient' ? 'grad' : 'wasm grad');
  const faster = (rows: typeof gmm, label: (r: ArrayRow) => string, id: PeerId, peer: string, of: Of) =>
    verdict(rows, (r) => (at(r.ratios, `${id}Over${of}`) === undefined ? undefined : at(r.ratios, `${id}Over${of}`)! > 1), label, (r) => `${peer} / ${grad(of)} ${fmtRatio(at(r.ratios, `${id}Over${of}`))}`);
  const within2 = (rows: typeof gmm, label: (r: ArrayRow) => string, of: Of) =>
    verdict(rows, (r) => (at(r.ratios, `jax32Over${of}`) === undefined ? undefined : at(r.ratios, `jax32Over${of}`)! >= 0.5), label, (r) => `${grad(of)} / jax-js f32 ${fmtRatio(1 / at(r.ratios, `jax32Over${of}`)!)}`);
  const both = (a: ReturnType<typeof verdict>, b: ReturnType<typeof verdict>) => ({ met: a.met && b.met, text: `GMM ${a.text}; MLP ${b.text}` });
  const targets = (of: Of) => ({
    overWasm: both(faster(gmm, gmmLabel, 'tfjsWasm', 'tfjs wasm', of), faster(mlp, mlpLabel, 'tfjsWasm', 'tfjs wasm', of)),
    overJax64: both(faster(gmm, gmmLabel, 'jax64', 'jax-js f64', of), faster(mlp, mlpLabel, 'jax64', 'jax-js f64', of)),
    nearJax32: both(within2(gmm, gmmLabel, of), within2(mlp, mlpLabel, of)),
  });
  const js = targets('Gradient');
  const wasm = targets('WasmGradient');
  const wasmGradObj = verdict(gmm, (r) => (r.ratios.wasmGradientOverObjective === undefined ? undefined : r.ratios.wasmGradientOverObjective <= 3), gmmLabel, (r) => fmtRatio(r.ratios.wasmGradientOverObjective));
  const kernelVerdict = (ok: (k: ReturnType<typeof kernelRatios>) => boolean | undefined, value: (k: ReturnType<typeof kernelRatios>) => string) => {
    const considered = kernels.rows.filter((r) => ok(kernelRatios(r)) !== undefined);
    const failed = considered.filter((r) => !ok(kernelRatios(r)));
    return {
      met: considered.length > 0 && failed.length === 0,
      text: considered.length === 0 ? 'not measured' : failed.length === 0 ? `met on both` : `not at ${failed.map((r) => `${r.id} (${value(kernelRatios(r))})`).join(', ')}`,
    };
  };
  const kernelGradObj = kernelVerdict((k) => (k.gradientOverObjective === undefined ? undefined : k.gradientOverObjective <= 2), (k) => fmtRatio(k.gradientOverObjective));
  const kernelC = kernelVerdict((k) => (k.gradientIntoOverC === undefined ? undefined : k.gradientIntoOverC <= 3), (k) => fmtRatio(k.gradientIntoOverC));
  const targetText = [
    `adc's gradient (\`gmmGrad\` / \`mlpGrad\`) faster than tfjs wasm at every size — JS target: ${js.overWasm.text}. Wasm target: ${wasm.overWasm.text}.`,
    `Faster than jax-js float64 — JS target: ${js.overJax64.text}. Wasm target: ${wasm.overJax64.text}.`,
    `Within 2× of jax-js float32 — JS target: ${js.nearJax32.text}. Wasm target: ${wasm.nearJax32.text}.`,
    `GMM gradient / objective ≤ 3 — JS target: ${gradObj.text}. Wasm target (its own objective): ${wasmGradObj.text}.`,
    `GMM gradient ≤ 1.0× the hand-written JavaScript — ${gradHand.text}.`,
    `polyfit and logsumexp gradient / objective ≤ 2 — ${kernelGradObj.text}.`,
    `polyfit and logsumexp gradInto within 3× of the C gradient — ${kernelC.text}.`,
  ];

  const allRows = [...gmm, ...mlp];
  const worst = (pick: (r: ArrayRow) => number | undefined) => {
    const errors = allRows.map(pick).filter((e): e is number => e !== undefined);
    return errors.length === 0 ? 'none checked' : `worst seen ${Math.max(...errors).toExponential(1)}`;
  };
  const worstKernel = (pick: (r: KernelRow) => number | undefined) => {
    const errors = kernels.rows.map(pick).filter((e): e is number => e !== undefined);
    return errors.length === 0 ? 'none checked' : Math.max(...errors).toExponential(1);
  };
  const roundsSeen = allRows.map((r) => r.race?.rounds).filter((n): n is number => n !== undefined);
  const raceRounds = roundsSeen.length === 0 ? 'no race run' : `here ${Math.min(...roundsSeen)}–${Math.max(...roundsSeen)} rounds per row: ${allRows.map((r) => `${r.id.replace(/^(gmm|mlp) /, '')} ${r.race?.rounds ?? '—'}`).join(', ')}`;
  const notes = [
    `Each time is one whole evaluation over the data (${GMM_N} GMM data points from \`gmmData(D, K, ${GMM_N}, ${SEED})\`; ${MLP_M} MLP rows of ${MLP_D} features from \`mlpData(${MLP_D}, h, ${MLP_M}, ${SEED})\`, test/oracle/arrays.ts), in CPU time of the process (\`process.cpuUsage\`, all its threads). Every column but tfjs cpu is timed interleaved in one race per row (bench/interleave.ts): after ${RACE.warmMs / 1000} s of calls in turn (the checking calls, one per column, counted in), rounds each calling every column for a window of ${RACE.windowMs} ms (a longer call alone), at least ${RACE.rounds.min} and at most ${RACE.rounds.max} rounds, as many as fit in ${RACE.rounds.budgetMs / 1000} s (${raceRounds}); each time is its median round, each ratio the median of the per-round ratios, so both sides of a ratio see the same load. tfjs cpu (no target reads it) is timed on its own before the race, its median sample (batches of ≥ 5 ms, or 3–8 single calls over 50 ms, after ${WARM_MS / 1000} s of calls), wall clock; its ratio is its median over the other column's median round. "gradient" is \`gmmGrad\` / \`mlpGrad\` (allocates the returned arrays), "gradInto" is \`gmmGradInto\` / \`mlpGradInto\` (writes into arrays allocated once); the hand-written gradients are bench/handwritten/gmm.js and mlp.js. "wasm objective" and "wasm gradient" are the same .ad file compiled with \`--target wasm\` (README, "WebAssembly target": f64x2 SIMD; exp, log and tanh are the module's ports of V8's own fdlibm routines, the same bits as Math's), called as the JS target's \`gmm\` / \`gmmGrad\` are (the arguments copied into linear memory per call, the gradient returned as new Float64Arrays).`,
    `Peers (bench/package.json, installed on demand): ${PEERS.map((p) => `${p.label} is ${p.what}`).join('; ')}. tfjs's wasm backend ${libs.wasmSimd ? 'runs with SIMD here' : 'runs without SIMD here (the engine has none)'}; each peer's data arrays are created once, outside the timed call, and each call reads the value and gradient back into JavaScript (\`dataSync\`). Only adc computes everything in float64.`,
    `Before timing, each row checks that the objective, the gradient and gradInto agree (1e-12), that adc's gradient agrees with the hand-written one (${HAND_TOLERANCE.toExponential(0)} of the largest entry; ${worst((r) => r.handMaxRelError)}), that the wasm target's value and gradient agree with the JS target's (${WASM_TOLERANCE.toExponential(0)} of the largest entry; ${worst((r) => r.wasmMaxRelError)}), and that adc's gradient agrees with each peer's (${PEERS.map((p) => `${p.label} ${p.tolerance.toExponential(0)}; ${worst((r) => r.peerMaxRelError[p.id])}`).join(', ')}); a row that fails is not timed (a peer that disagrees is left out of its row).`,
    `The kernels (bench/arrays-c.ts): polyfit is \`sum(k: (sum(j: c[j] * t[k]^j) - y[k])^2) / m\`, logsumexp the built-in \`logsumexp(i: x[i])\`; the hand-written JS gradients (bench/handwritten/kernels.js) are the C ones in JavaScript, writing into a given array (adc's gradient agrees with them to ${worstKernel((r) => r.handMaxRelError)} of the largest entry). The JS columns are timed interleaved in one process (bench/interleave.ts, as the rows above): ${kernels.rows[0]?.rounds ?? 0} rounds, each calling every function for ≥ 10 ms windows of CPU time after a 0.8 s warm-up; each time is the median round's, each ratio between JS columns the median of the per-round ratios. "gradInto / C gradient" and "objective / C objective" are medians of per-round ratios too: ${kernels.cNote}.`,
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
    textTable(kernelHead, kernelBody),
    '',
    ...targetText.map((t) => `- Target: ${t}`),
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  const markdown = [
    ARRAYS_MARKER,
    '',
    `Array benchmarks, measured on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${machine.date.slice(0, 10)}: the Gaussian-mixture objective of examples/gmm.ad, the one-hidden-layer perceptron of bench/cases/mlp.ad, then two kernels against C.`,
    '',
    markdownTable(gmmHead, gmmBody),
    '',
    markdownTable(mlpHead, mlpBody),
    '',
    markdownTable(kernelHead, kernelBody),
    '',
    ...targetText.map((t) => `- Target: ${t}`),
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
  return {
    machine,
    targets: {
      text: targetText,
      met: {
        fasterThanTfjsWasm: js.overWasm.met,
        fasterThanJaxFloat64: js.overJax64.met,
        within2OfJaxFloat32: js.nearJax32.met,
        wasmFasterThanTfjsWasm: wasm.overWasm.met,
        wasmFasterThanJaxFloat64: wasm.overJax64.met,
        wasmWithin2OfJaxFloat32: wasm.nearJax32.met,
        gmmGradientOverObjective: gradObj.met,
        gmmWasmGradientOverObjective: wasmGradObj.met,
        gmmGradientOverHandwritten: gradHand.met,
        kernelsGradientOverObjective: kernelGradObj.met,
        kernelsWithin3OfC: kernelC.met,
      },
    },
    gmm,
    mlp,
    kernels: kernels.rows,
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
