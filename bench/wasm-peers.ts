/**
 * The wasm target's gradient against the peers on the MLP and GMM, in one process, interleaved:
 * each round calls every contender for at least `--window` ms (default 40) and records its time per
 * call (bench/interleave.ts); the figure is the median over rounds, each ratio to the wasm gradient
 * the median over rounds of the two contenders' ratio in that round. Run
 * with `node --import tsx bench/wasm-peers.ts [--rounds N] [--only mlp|gmm] [--base DIR] [--clock cpu]`;
 * `--max-h`/`--min-h` and `--max-d` keep some sizes;
 * `--base` adds the same .ad files compiled by another checkout's src/ (before/after a change; the
 * current checkout itself gives the noise floor: the same code timed twice). `--clock cpu` times
 * by the process's CPU time (user and system, all its threads: process.cpuUsage) instead of the
 * wall clock: on a machine shared by many processes the wall clock also counts the time others
 * ran, and the same code read 0.72–1.00× itself in one run (load 19 on 2 cores).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileSync } from '../src/index.ts';
import { gmmData, mlpData } from '../test/oracle/arrays.ts';
import { type Clock, interleave, median, medianRatio } from './interleave.ts';
import { jaxGmm, jaxMlp, loadJax } from './arrays-jax.ts';
import { loadTfjs, tfjsGmm, tfjsMlp, tfjsWasmSimd } from './arrays-tfjs.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const out = join(benchDir, '.generated');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg('rounds') ?? 9);
const windowMs = Number(arg('window') ?? 40);
const only = arg('only');
const base = arg('base');
const clock = (arg('clock') ?? 'wall') as Clock;
if (clock !== 'wall' && clock !== 'cpu') throw new Error(`--clock is wall or cpu, not ${clock}`);
type Compile = typeof compileSync;
async function load(id: string, file: string, compile: Compile): Promise<Record<string, (...a: unknown[]) => any>> {
  const r = compile(readFileSync(file, 'utf8'), { filename: file.split('/').pop(), target: 'wasm' });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  mkdirSync(out, { recursive: true });
  const path = join(out, `${id}.js`);
  writeFileSync(path, r.code);
  return import(pathToFileURL(path).href);
}

/**
 * Times the contenders interleaved (bench/interleave.ts, as bench/arrays.ts does): per contender,
 * its median round in ms per call and the median over rounds of its ratio to the wasm gradient.
 */
function race(contenders: Record<string, () => unknown>): Record<string, { ms: number; ratio: number }> {
  const wrapped = Object.fromEntries(Object.entries(contenders).map(([k, f]) => [k, () => (f(), 0)]));
  const { times } = interleave(wrapped, { clock, windowMs, minCalls: 2, warmMs: 0, warmCalls: 3, rounds: { min: rounds, max: rounds } });
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, { ms: median(v) / 1e6, ratio: medianRatio(v, times['wasm grad']!) }]));
}

const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));

async function main() {
  const tf = await loadTfjs('wasm');
  if (!(await tfjsWasmSimd(tf))) console.log('(tfjs wasm without SIMD)');
  await tf.setBackend('wasm');
  const jax = await loadJax();
  const baseCompile = base ? ((await import(pathToFileURL(join(base, 'src', 'index.ts')).href)) as { compileSync: Compile }).compileSync : undefined;
  const mlpFile = join(benchDir, 'cases', 'mlp.ad');
  const gmmFile = join(benchDir, '..', 'examples', 'gmm.ad');
  console.log(`${os.cpus()[0]?.model} ×${os.cpus().length}, Node ${process.version}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} rounds of ${windowMs} ms windows (${clock === 'cpu' ? 'CPU time' : 'wall clock'}), medians (ms per call)`);
  const rows: string[] = [];
  const report = (label: string, t: Record<string, { ms: number; ratio: number }>) => {
    const parts = Object.entries(t).map(([k, v]) => `${k} ${fmt(v.ms)}${k === 'wasm grad' ? '' : ` (${v.ratio.toFixed(2)}×)`}`);
    const line = `${label}: ${parts.join(', ')}; load ${os.loadavg()[0].toFixed(1)}`;
    rows.push(line);
    console.log(line);
  };
  if (only !== 'gmm') {
    const now = await load('peers-mlp', mlpFile, compileSync);
    const before = baseCompile && (await load('peers-mlp-base', mlpFile, baseCompile));
    for (const h of [16, 64, 128, 256]) {
      if (arg('max-h') && h > Number(arg('max-h'))) continue;
      if (arg('min-h') && h < Number(arg('min-h'))) continue;
      const d = mlpData(32, h, 1000, 1);
      const { W1, b1, w2, b2, X, y } = d;
      const tfRun = tfjsMlp(tf, d);
      const j64 = jaxMlp(jax, d, 'float64');
      const j32 = jaxMlp(jax, d, 'float32');
      report(`mlp h=${h}`, race({
        'wasm grad': () => now.mlpGrad(W1, b1, w2, b2, X, y),
        ...(before && { 'base grad': () => before.mlpGrad(W1, b1, w2, b2, X, y) }),
        'wasm obj': () => now.mlp(W1, b1, w2, b2, X, y),
        'tfjs wasm': tfRun,
        'jax f64': j64,
        'jax f32': j32,
      }));
      tfRun.dispose();
      j64.dispose();
      j32.dispose();
    }
  }
  if (only !== 'mlp') {
    const now = await load('peers-gmm', gmmFile, compileSync);
    const before = baseCompile && (await load('peers-gmm-base', gmmFile, baseCompile));
    for (const [D, K] of [[2, 5], [10, 5], [10, 25], [20, 50], [32, 50], [64, 100]] as const) {
      if (arg('max-d') && D > Number(arg('max-d'))) continue;
      const d = gmmData(D, K, 1000, 1);
      const { alpha, mu, q, l, x, gamma, m } = d;
      const tfRun = tfjsGmm(tf, d);
      const j64 = jaxGmm(jax, d, 'float64');
      const j32 = jaxGmm(jax, d, 'float32');
      report(`gmm D=${D} K=${K}`, race({
        'wasm grad': () => now.gmmGrad(alpha, mu, q, l, x, gamma, m),
        ...(before && { 'base grad': () => before.gmmGrad(alpha, mu, q, l, x, gamma, m) }),
        'wasm obj': () => now.gmm(alpha, mu, q, l, x, gamma, m),
        'tfjs wasm': tfRun,
        'jax f64': j64,
        'jax f32': j32,
      }));
      tfRun.dispose();
      j64.dispose();
      j32.dispose();
    }
  }
}

await main();
