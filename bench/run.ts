/**
 * `npm run bench`: adc's compiled value and gradient against a hand-written gradient, math.js
 * symbolic derivatives and TensorFlow.js tf.valueAndGrads (CPU backend), on the cases of
 * bench/cases.ts; then compile time and output size as a generated input grows, and whether V8
 * optimises big generated gradients (bench/v8-opt.ts, in a child process).
 *
 * Then the array benchmarks (bench/arrays.ts: the GMM of examples/gmm.ad and an MLP, against
 * hand-written gradients and tfjs), the loop benchmarks and the derivative exports.
 * `npm run bench -- --only arrays` (or `loops`, `derivatives`) runs only those, and replaces just
 * their section of the results files (from its marker to the next section's), keeping the others.
 *
 * Last, how adc itself scales (bench/scale.ts: start-up of each command, compile time per
 * statement, the REPL per line, watch mode after an edit), written to bench/scale-results.md and
 * .json. `npm run bench -- --only scale [--before DIR]` runs only that part.
 *
 * Prints the tables, and writes bench/results.json and bench/results.md. The compiled modules are
 * written to bench/.generated/ (a build artefact) so that they can be read.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as TF from '@tensorflow/tfjs';
import * as math from 'mathjs';
import { compile, compileSync } from '../src/index.ts';
import { ARRAYS_MARKER, arraysJson, benchArrays, type ArraysResult } from './arrays.ts';
import { LOOPS_MARKER, benchLoops, loopsJson, type LoopsResult } from './loops.ts';
import { cases, type BenchCase, type GradResult } from './cases.ts';
import { benchScale, writeScaleResults } from './scale.ts';
import { chainSource } from './chain.ts';
import { DERIVATIVES_MARKER, benchDerivatives } from './derivatives.ts';
import { fmtNs, fmtRatio, markdownTable, ratio, textTable } from './format.ts';
import { addToSink, makeBatch, sink, timeBatch, type Timing } from './measure.ts';
import { describeTier, exposeParts, hasNatives, isOptimized, partsOf } from './v8.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const generatedDir = join(benchDir, '.generated');
const startedAt = Date.now();
const log = (line = '') => console.log(line);

// ---------------------------------------------------------------------------------------------
// Machine

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
};
log(`adc benchmark — ${machine.cpu} (${machine.cores} cores), Node ${machine.node} (V8 ${machine.v8}), ${machine.date}`);
log('Times: the fastest tinybench sample (each a batch of calls), ns per call, except the array benchmarks (interleaved rounds in CPU time, medians; bench/interleave.ts); medians are in results.json. The machine may be shared: compare ratios within one run.');
log();

// ---------------------------------------------------------------------------------------------
// `--only arrays`: the array benchmarks alone, written over the array section of the results files.

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (onlyAt >= 0 && only !== 'arrays' && only !== 'loops' && only !== 'derivatives' && only !== 'scale') {
  throw new Error(`--only: the parts that run alone are "arrays", "loops", "derivatives" and "scale", not ${JSON.stringify(only)}`);
}

/** The sections a part run alone rewrites, each from its marker to the next marker (any order) or the end. */
const SECTION_MARKERS = [ARRAYS_MARKER, LOOPS_MARKER, DERIVATIVES_MARKER];

/**
 * `md` with the section that starts at `marker` replaced by `markdown` (appended if absent): it ends
 * at the next section's marker, so the sections after it stay.
 */
function replaceSection(md: string, marker: string, markdown: string): string {
  const at = md.indexOf(marker);
  if (at < 0) return (md.trimEnd() ? md.trimEnd() + '\n\n' : '') + markdown + '\n';
  const ends = SECTION_MARKERS.map((m) => md.indexOf(m, at + marker.length)).filter((e) => e >= 0);
  const end = ends.length > 0 ? Math.min(...ends) : md.length;
  const before = md.slice(0, at).trimEnd();
  const after = md.slice(end).trim();
  return (before ? before + '\n\n' : '') + markdown.trimEnd() + (after ? '\n\n' + after : '') + '\n';
}

/** Rewrites one section of bench/results.md and one key of bench/results.json, leaving the rest. */
function writeSectionOnly(marker: string, markdown: string, key: string, value: unknown): void {
  const mdFile = join(benchDir, 'results.md');
  const jsonFile = join(benchDir, 'results.json');
  let md = '';
  let json: Record<string, unknown> = {};
  try {
    md = readFileSync(mdFile, 'utf8');
    json = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>;
  } catch {}
  writeFileSync(mdFile, replaceSection(md, marker, markdown));
  writeFileSync(jsonFile, JSON.stringify({ ...json, [key]: value }, null, 2) + '\n');
}

if (only === 'loops') {
  const loops = await benchLoops(log);
  if (!Number.isFinite(sink)) throw new Error('the benchmark results are not finite');
  log();
  log(loops.text);
  log();
  writeSectionOnly(LOOPS_MARKER, loops.markdown, 'loops', loopsJson(loops));
  log(`Wrote the loop sections of bench/results.json and bench/results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);
  process.exit(0);
}

const beforeAt = process.argv.indexOf('--before');
const scaleOptions = { ...(beforeAt >= 0 && { before: process.argv[beforeAt + 1] }) };

if (only === 'scale') {
  const scale = await benchScale(log, scaleOptions);
  log();
  log(scale.text);
  writeScaleResults(scale);
  log(`Wrote bench/scale-results.json and bench/scale-results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);
  process.exit(0);
}

if (only === 'arrays') {
  const arrays = await benchArrays(log);
  if (!Number.isFinite(sink)) throw new Error('the benchmark results are not finite');
  log();
  log(arrays.text);
  log();
  writeSectionOnly(ARRAYS_MARKER, arrays.markdown, 'arrays', arraysJson(arrays));
  log(`Wrote the array sections of bench/results.json and bench/results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);
  process.exit(0);
}

if (only === 'derivatives') {
  const derivatives = await benchDerivatives(log);
  if (!Number.isFinite(sink)) throw new Error('the benchmark results are not finite');
  log();
  writeSectionOnly(DERIVATIVES_MARKER, derivatives.markdown, 'derivatives', derivatives.rows);
  log(`Wrote the derivative sections of bench/results.json and bench/results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Compile time and output size as the input grows. First, so the first compile is a cold one.

const compiledCache = new Map<string, string>();

interface CompileRow {
  statements: number;
  sourceBytes: number;
  outputBytes: number;
  outputBytesUnformatted: number;
  compileSyncMs: number;
  compileMs: number;
}

async function compileScaling(): Promise<{ coldMs: number; rows: CompileRow[] }> {
  const big = chainSource(10_000);
  let t = performance.now();
  const cold = await compile(big);
  const coldMs = performance.now() - t;
  compiledCache.set(big, cold.code!);
  const rows: CompileRow[] = [];
  for (const n of [100, 1_000, 10_000]) {
    const source = chainSource(n);
    const syncTimes: number[] = [];
    const fullTimes: number[] = [];
    let unformatted = '';
    let formatted = '';
    for (let run = 0; run < (n >= 10_000 ? 1 : 3); run++) {
      t = performance.now();
      unformatted = compileSync(source).code!;
      syncTimes.push(performance.now() - t);
      t = performance.now();
      formatted = (await compile(source)).code!;
      fullTimes.push(performance.now() - t);
    }
    compiledCache.set(source, formatted);
    rows.push({
      statements: n,
      sourceBytes: Buffer.byteLength(source),
      outputBytes: Buffer.byteLength(formatted),
      outputBytesUnformatted: Buffer.byteLength(unformatted),
      compileSyncMs: Math.min(...syncTimes),
      compileMs: Math.min(...fullTimes),
    });
  }
  return { coldMs, rows };
}

log('Compile time and output size (generated let chains; best of 3 warm runs, 1 for 10,000)…');
const scaling = await compileScaling();

// ---------------------------------------------------------------------------------------------
// Compile the cases and load them

interface Loaded {
  readonly value: (...args: number[]) => number;
  readonly grad: (...args: number[]) => GradResult;
  /** The parts the compiler split each body into (empty when it did not), with natives syntax. */
  readonly valueParts: ((...args: never[]) => unknown)[];
  readonly gradParts: ((...args: never[]) => unknown)[];
}

async function load(c: BenchCase): Promise<Loaded> {
  const file = join(benchDir, 'cases', `${c.id}.ad`);
  if (c.generate) {
    const text = c.generate();
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== text) writeFileSync(file, text);
  }
  const source = readFileSync(file, 'utf8');
  let code = compiledCache.get(source);
  if (code === undefined) {
    const result = await compile(source, { filename: `${c.id}.ad` });
    if (result.code === undefined) {
      throw new Error(`bench/cases/${c.id}.ad does not compile:\n${result.diagnostics.map((d) => d.message).join('\n')}`);
    }
    code = result.code;
  }
  mkdirSync(generatedDir, { recursive: true });
  writeFileSync(join(generatedDir, `${c.id}.js`), code);
  // With natives syntax, the module is loaded with its internal parts exported too, to read their tier.
  const exposed = hasNatives ? exposeParts(code) : { code, parts: [] };
  const out = join(generatedDir, exposed.parts.length > 0 ? `${c.id}.parts-exported.js` : `${c.id}.js`);
  if (exposed.parts.length > 0) writeFileSync(out, exposed.code);
  const mod = await import(pathToFileURL(out).href);
  const value = mod[c.fn];
  const grad = mod[`${c.fn}Grad`];
  if (typeof value !== 'function' || typeof grad !== 'function') throw new Error(`${c.id}: no ${c.fn}/${c.fn}Grad export`);
  return { value, grad, valueParts: partsOf(mod, exposed.parts, c.fn), gradParts: partsOf(mod, exposed.parts, `${c.fn}Grad`) };
}

// ---------------------------------------------------------------------------------------------
// math.js and TensorFlow.js

interface Mathjs {
  readonly value: math.EvalFunction;
  readonly partials: readonly math.EvalFunction[];
  readonly deriveMs: number;
}

function prepareMathjs(c: BenchCase): Mathjs | undefined {
  if (!c.mathjs) return undefined;
  const expr = c.mathjs.expr();
  const node = typeof expr === 'string' ? math.parse(expr) : expr;
  const t = performance.now();
  const partials = c.diff.map((v) => math.derivative(node, v, { simplify: c.mathjs!.simplify }).compile());
  return { value: node.compile(), partials, deriveMs: performance.now() - t };
}

const scopeOf = (c: BenchCase, args: readonly number[]) => Object.fromEntries(c.params.map((p, j) => [p, args[j]!]));

function evaluateMathjs(c: BenchCase, m: Mathjs, args: readonly number[]): GradResult {
  const scope = scopeOf(c, args);
  return { value: m.value.evaluate(scope), gradient: Object.fromEntries(c.diff.map((v, k) => [v, m.partials[k]!.evaluate(scope) as number])) };
}

let tf!: typeof TF;
async function loadTfjs(): Promise<void> {
  // The CPU backend greets Node users on first use (console.warn); keep the output clean.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    await tf.ready();
    tf.tidy(() => tf.scalar(1).add(1).dataSync());
  } finally {
    console.warn = warn;
  }
  if (tf.getBackend() !== 'cpu') throw new Error(`tfjs backend is ${tf.getBackend()}, not cpu`);
}

/** One full value + gradient evaluation: tensor creation, the tape, the backward pass, dataSync. */
function evaluateTfjs(c: BenchCase, args: readonly number[]): GradResult {
  return tf.tidy(() => {
    const all = args.map((a) => tf.scalar(a));
    const diffIndex = c.diff.map((name) => c.params.indexOf(name));
    const f = (...d: TF.Tensor[]) => {
      const p = all.slice();
      diffIndex.forEach((j, k) => (p[j] = d[k] as TF.Scalar));
      return c.tfjs!(tf, p);
    };
    const { value, grads } = tf.valueAndGrads(f)(diffIndex.map((j) => all[j]!));
    return {
      value: value.dataSync()[0]!,
      gradient: Object.fromEntries(c.diff.map((name, k) => [name, grads[k]!.dataSync()[0]!])),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Agreement at the benchmark point

const INPUTS = 16;

/** The benchmark point and 15 neighbours, each coordinate scaled by 1 + k·1e-4. */
function inputsOf(c: BenchCase): { points: number[][]; columns: Float64Array[] } {
  const points = Array.from({ length: INPUTS }, (_, k) => c.point.map((v, j) => v * (1 + ((k * (j + 1)) % 7) * 1e-4 * (k > 0 ? 1 : 0))));
  const columns = c.params.map((_, j) => Float64Array.from(points, (p) => p[j]!));
  return { points, columns };
}

/** Largest |a - b| / max(1, |b|, scale) over the value and every partial. */
function discrepancy(c: BenchCase, a: GradResult, b: GradResult, scaled: boolean): number {
  const scale = scaled ? Math.max(Math.abs(b.value), ...c.diff.map((k) => Math.abs(b.gradient[k]!))) : 0;
  const err = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) ? Math.abs(x - y) / Math.max(1, Math.abs(y), scale) : Infinity);
  return Math.max(err(a.value, b.value), ...c.diff.map((k) => err(a.gradient[k]!, b.gradient[k]!)));
}

function check(what: string, err: number, tolerance: number): void {
  if (!(err <= tolerance)) {
    console.error(`\nFAILED: ${what} disagree: relative error ${err.toExponential(2)} > ${tolerance}`);
    process.exit(1);
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark

interface Row {
  id: string;
  value?: Timing;
  gradient?: Timing;
  handwritten?: Timing;
  mathjs?: Timing;
  tfjs?: Timing;
  mathjsDeriveMs?: number;
  mathjsSimplified?: boolean;
  tfjsMaxRelError?: number;
  /** V8's tier for the value and the gradient after timing (with natives syntax). */
  valueTier?: string;
  gradientTier?: string;
  notes: string[];
}

await loadTfjs();
const rows: Row[] = [];
for (const c of cases) {
  process.stdout.write(`Benchmarking ${c.id}…`);
  const { value, grad, valueParts, gradParts } = await load(c);
  const { points, columns } = inputsOf(c);
  const row: Row = { id: c.id, notes: [] };

  // Agreement: the compiled gradient against the published values, the hand-written gradient
  // (every input), math.js (1e-9) and tfjs (float32: 2e-3 of the largest entry).
  const at = grad(...c.point);
  check(`${c.id}: ${c.fn}Grad and ${c.fn}`, discrepancy(c, at, { value: value(...c.point), gradient: at.gradient }, false), 1e-12);
  if (c.expected) {
    check(`${c.id}: compiled gradient and the published values`, discrepancy(c, at, { value: at.value, gradient: c.expected.gradient }, false), 1e-9);
  }
  if (c.handwritten) for (const p of points) check(`${c.id}: compiled and hand-written gradients`, discrepancy(c, grad(...p), c.handwritten(...p), false), 1e-9);
  const mj = prepareMathjs(c);
  if (mj) {
    check(`${c.id}: compiled gradient and math.js`, discrepancy(c, at, evaluateMathjs(c, mj, c.point), false), 1e-9);
    row.mathjsDeriveMs = mj.deriveMs;
    row.mathjsSimplified = c.mathjs!.simplify;
  }
  if (c.tfjs) {
    row.tfjsMaxRelError = discrepancy(c, evaluateTfjs(c, c.point), at, true);
    check(`${c.id}: compiled gradient and tfjs (float32)`, row.tfjsMaxRelError, 2e-3);
  }

  // Timing.
  const keys = c.diff;
  // A body split in parts is optimised by V8 part by part, each once it is hot: time it once every
  // part is optimised (firstWindowNs keeps the first second, settleMs how long that took).
  const settle = (parts: Loaded['gradParts']) =>
    parts.length > 0 ? { windowMs: 1000, maxMs: 40_000, ready: () => parts.every(isOptimized) } : c.id === 'chain-10000' ? { windowMs: 1000, maxMs: 20_000 } : undefined;
  row.value = await timeBatch(`${c.id} value`, makeBatch(`${c.id} value`, value, columns), { callsPerRep: INPUTS, settle: settle(valueParts) });
  row.gradient = await timeBatch(`${c.id} gradient`, makeBatch(`${c.id} gradient`, grad, columns, keys), { callsPerRep: INPUTS, settle: settle(gradParts) });
  if (hasNatives) {
    row.valueTier = describeTier(value, valueParts);
    row.gradientTier = describeTier(grad, gradParts);
  }
  if (c.handwritten) {
    row.handwritten = await timeBatch(`${c.id} hand-written`, makeBatch(`${c.id} hand-written`, c.handwritten, columns, keys), { callsPerRep: INPUTS });
  }
  if (mj) {
    const scopes = points.map((p) => scopeOf(c, p));
    let k = 0;
    const batch = (reps: number) => {
      let s = 0;
      for (let r = 0; r < reps; r++) {
        const scope = scopes[k++ % INPUTS]!;
        s += mj.value.evaluate(scope);
        for (const d of mj.partials) s += d.evaluate(scope);
      }
      return s;
    };
    // chain-200's unshared derivative takes ~0.1 s per evaluation: a few samples suffice.
    const slow = c.id === 'chain-200';
    row.mathjs = await timeBatch(`${c.id} math.js`, batch, slow ? { callsPerRep: 1, targetMs: 0, slow, time: 0, iterations: 5 } : { callsPerRep: 1, targetMs: 2, time: 400, iterations: 10 });
  }
  if (c.tfjs) {
    let k = 0;
    const batch = (reps: number) => {
      let s = 0;
      for (let r = 0; r < reps; r++) {
        const res = evaluateTfjs(c, points[k++ % INPUTS]!);
        s += res.value;
        for (const key of keys) s += res.gradient[key]!;
      }
      return s;
    };
    const huge = c.id === 'chain-10000';
    row.tfjs = await timeBatch(`${c.id} tfjs`, batch, huge ? { callsPerRep: 1, targetMs: 0, slow: true, time: 0, iterations: 3 } : { callsPerRep: 1, targetMs: 20, time: 500, iterations: 10 });
    if (tf.memory().numTensors > 64) throw new Error(`tfjs leaks tensors: ${tf.memory().numTensors}`);
  }
  if (c.skip?.mathjs) row.notes.push(`math.js: ${c.skip.mathjs}`);
  rows.push(row);
  process.stdout.write(` done (${((Date.now() - startedAt) / 1000).toFixed(0)} s)\n`);
}

// ---------------------------------------------------------------------------------------------
// Arrays (bench/arrays.ts)

const arrays = await benchArrays(log);
log();
log('Derivatives: fJvp, fHvp and fHessian against the value function (bench/derivatives.ts)');
const derivatives = await benchDerivatives(log);
if (!Number.isFinite(sink)) throw new Error('the benchmark results are not finite');

// Loops with state (bench/loops.ts)
const loops = await benchLoops(log);
if (!Number.isFinite(sink)) throw new Error('the benchmark results are not finite');

// ---------------------------------------------------------------------------------------------
// V8: is the big gradient optimised?

log('Checking V8 optimisation of generated gradients (bench/v8-opt.ts)…');
const v8Child = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', join(benchDir, 'v8-opt.ts')], {
  encoding: 'utf8',
  cwd: join(benchDir, '..'),
  timeout: 120_000,
});
if (v8Child.status !== 0) {
  console.error(v8Child.stdout, v8Child.stderr);
  throw new Error('bench/v8-opt.ts failed');
}
const v8Lines = v8Child.stdout.trim().split('\n');
const v8Rows = JSON.parse(v8Lines.find((l) => l.startsWith('JSON: '))!.slice(6)) as {
  n: number;
  gradStatus: string;
  valueStatus: string;
  gradNsPerStatement: number;
  gradFirstNsPerStatement: number;
  gradWarmMs: number;
}[];

// ---------------------------------------------------------------------------------------------
// Report

const header = ['case', 'value', 'gradient', 'hand-written', 'math.js', 'tfjs', 'grad / hand', 'grad / value', 'math.js / grad', 'tfjs / grad'];
const table = rows.map((r) => [
  r.id,
  fmtNs(r.value),
  fmtNs(r.gradient),
  fmtNs(r.handwritten),
  fmtNs(r.mathjs),
  fmtNs(r.tfjs),
  fmtRatio(ratio(r.gradient, r.handwritten)),
  fmtRatio(ratio(r.gradient, r.value)),
  fmtRatio(ratio(r.mathjs, r.gradient)),
  fmtRatio(ratio(r.tfjs, r.gradient)),
]);

const scaleHead = ['statements', 'source', 'output', 'output / source', 'compileSync', 'compile (formatted)', 'growth: output', 'growth: compileSync', 'growth: compile'];
const kb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const scaleBody = scaling.rows.map((r, i) => {
  const prev = scaling.rows[i - 1];
  const g = (a: number, b: number | undefined) => (b === undefined ? '' : `${(a / b).toFixed(1)}×`);
  return [
    r.statements.toLocaleString('en-US'),
    kb(r.sourceBytes),
    kb(r.outputBytes),
    `${(r.outputBytes / r.sourceBytes).toFixed(2)}×`,
    `${r.compileSyncMs.toFixed(0)} ms`,
    `${r.compileMs.toFixed(0)} ms`,
    g(r.outputBytes, prev?.outputBytes),
    g(r.compileSyncMs, prev?.compileSyncMs),
    g(r.compileMs, prev?.compileMs),
  ];
});

const byId = new Map(rows.map((r) => [r.id, r]));
const bigRow = byId.get('chain-10000')!;
const bigGrad = bigRow.gradient!;
const v8Head = ['statements', 'gradient tier', 'ns / statement, first window', 'ns / statement, warm', 'warm after', 'value tier'];
const v8Body = [
  ...v8Rows.map((r) => [
    r.n.toLocaleString('en-US'),
    r.gradStatus,
    `${r.gradFirstNsPerStatement.toFixed(1)} (0.3 s)`,
    r.gradNsPerStatement.toFixed(1),
    `${(r.gradWarmMs / 1000).toFixed(1)} s`,
    r.valueStatus,
  ]),
  [
    '10,000 (chain-10000 above)',
    bigRow.gradientTier ?? '?',
    bigGrad.firstWindowNs === undefined ? '—' : `${(bigGrad.firstWindowNs / 10_000).toFixed(1)} (1 s)`,
    (bigGrad.ns / 10_000).toFixed(1),
    bigGrad.settleMs === undefined ? '—' : `${(bigGrad.settleMs / 1000).toFixed(1)} s`,
    bigRow.valueTier ?? '?',
  ],
];

const perStatement = (id: string, n: number) => byId.get(id)!.gradient!.ns / n;
const small = perStatement('chain-200', 200);
const large = perStatement('chain-10000', 10_000);
const handLarge = byId.get('chain-10000')!.handwritten!.ns / 10_000;
const firstLarge = (bigGrad.firstWindowNs ?? NaN) / 10_000;

const notes = [
  'Each time is the fastest of tinybench\'s samples divided by the calls in it (on a shared machine other load only adds time; medians are in results.json): compiled and hand-written functions run in batches over 16 slightly varied inputs (results summed so nothing is dead code); math.js evaluates the value and every partial derivative per call; tfjs is one `tf.valueAndGrads` evaluation per call on the CPU backend, including tensor creation and `dataSync`, inside `tf.tidy`.',
  'Before timing, the compiled gradient is checked against the hand-written one (all 16 inputs, 1e-9), math.js (1e-9), tfjs (float32, 2e-3 of the largest entry) and the published values of the worked examples (docs/worked-examples.md).',
  `tfjs's time varies most from sample to sample (its allocations and garbage collection): its median sample is ${fmtRatio(Math.max(...rows.filter((r) => r.tfjs).map((r) => r.tfjs!.medianNs / r.tfjs!.ns)))} its fastest at worst (math.js ${fmtRatio(Math.max(...rows.filter((r) => r.mathjs).map((r) => r.mathjs!.medianNs / r.mathjs!.ns)))}, adc gradients ${fmtRatio(Math.max(...rows.map((r) => r.gradient!.medianNs / r.gradient!.ns)))}), so taking the fastest sample favours the competitors.`,
  'The hand-written deep-sin and chain gradients use forward mode (two or three inputs), in a loop; the chain loop is generic in n, so chain-10000 has one too.',
  `math.js: derivatives taken once (excluded from the time) with math.derivative; simplified for the small cases, unsimplified for deep-sin and chain-200 (math.simplify does not finish in minutes on them). ${byId.get('chain-10000')?.notes.join(' ') ?? ''}`,
  `Per statement, the 10,000-statement gradient costs ${large.toFixed(1)} ns once warm against ${small.toFixed(1)} for the 200-statement one (${(large / small).toFixed(1)}×) and ${handLarge.toFixed(1)} for the hand-written loop; over its first second it cost ${firstLarge.toFixed(0)} ns (${(firstLarge / small).toFixed(0)}×), and it took ${((bigGrad.settleMs ?? 0) / 1000).toFixed(0)} s of calls before ${hasNatives ? 'V8 had optimised every part' : 'it settled'}. V8 optimises no function over 60 KB of bytecode (--max-optimized-bytecode-size), and optimises the parts of a split body one by one as each gets hot; see the V8 table.`,
];

log();
log(textTable(header, table));
log();
for (const n of notes) log(`- ${n}`);
log();
log(`Compile time and size (cold first compile of the 10,000-statement file, formatted: ${scaling.coldMs.toFixed(0)} ms):`);
log(textTable(scaleHead, scaleBody));
log();
log('V8 tiers after warm-up (bench/v8-opt.ts):');
log(textTable(v8Head, v8Body));
log();
log(arrays.text);
log();

const markdown = [
  '<!-- Generated by `npm run bench` (bench/run.ts). -->',
  `Measured on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${machine.date.slice(0, 10)}.`,
  '',
  markdownTable(header, table),
  '',
  ...notes.map((n) => `- ${n}`),
  '',
  `Compile time and output size, generated let chains (best of 3 warm runs, 1 for 10,000 statements; the first, cold compile of the 10,000-statement file took ${scaling.coldMs.toFixed(0)} ms):`,
  '',
  markdownTable(scaleHead, scaleBody),
  '',
  'V8 tier of the generated functions after warm-up:',
  '',
  markdownTable(v8Head, v8Body),
  '',
  arrays.markdown,
  '',
  loops.markdown,
  '',
  derivatives.markdown,
].join('\n');
writeFileSync(join(benchDir, 'results.md'), markdown);
writeFileSync(
  join(benchDir, 'results.json'),
  JSON.stringify(
    {
      machine,
      cases: rows.map((r) => ({
        ...r,
        ratios: {
          gradientOverHandwritten: ratio(r.gradient, r.handwritten),
          gradientOverValue: ratio(r.gradient, r.value),
          mathjsOverGradient: ratio(r.mathjs, r.gradient),
          tfjsOverGradient: ratio(r.tfjs, r.gradient),
        },
      })),
      compile: scaling,
      v8: { rows: v8Rows, gradientNsPerStatement: { chain200: small, chain10000: large, handwritten10000: handLarge } },
      arrays: arraysJson(arrays),
      loops: loopsJson(loops),
      derivatives: derivatives.rows,
      totalSeconds: (Date.now() - startedAt) / 1000,
    },
    null,
    2,
  ) + '\n',
);
log(`Wrote bench/results.json and bench/results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);

const scale = await benchScale(log, scaleOptions);
log();
log(scale.text);
writeScaleResults(scale);
log(`Wrote bench/scale-results.json and bench/scale-results.md (${((Date.now() - startedAt) / 1000).toFixed(0)} s).`);
