/**
 * Several accumulators for long sums (src/emit/js/partial-sums.ts), timed before and after in one
 * process: the same .ad files compiled for the JS target by this checkout and by another
 * (`--base DIR`, e.g. main's), each function called in turn for ≥ `--window` ms windows of the
 * process's CPU time, `--rounds` rounds; the figure is the median over rounds of after / before.
 * `node --import tsx bench/partial-sums.ts --base ../main [--rounds 15] [--window 40]`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileSync } from '../src/index.ts';
import { gmmData, mlpData } from '../test/oracle/arrays.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(benchDir, '.generated');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg('rounds') ?? 15);
const windowMs = Number(arg('window') ?? 40);
const base = arg('base');
if (!base) throw new Error('--base DIR: the checkout to compare with');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
type Compile = typeof compileSync;
type Module = Record<string, (...a: any[]) => any>;
async function load(id: string, source: string, compile: Compile): Promise<Module> {
  const r = compile(source, { filename: `${id}.ad` });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `partial-sums-${id}.js`);
  writeFileSync(path, r.code);
  return import(pathToFileURL(path).href);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** One window of calls: ms per call. */
function window(f: () => unknown): number {
  let calls = 0;
  const t0 = cpuMs();
  let t = t0;
  while (t - t0 < windowMs || calls < 2) {
    f();
    calls++;
    t = cpuMs();
  }
  return (t - t0) / calls;
}
/** Interleaved: per round, before then after for each pair; medians of times and of per-round ratios. */
function race(pairs: Record<string, [() => unknown, () => unknown]>): void {
  const times: Record<string, [number[], number[], number[]]> = {};
  for (const [name, [b, a]] of Object.entries(pairs)) {
    times[name] = [[], [], []];
    for (const t0 = cpuMs(); cpuMs() - t0 < 300; ) (b(), a());
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, [b, a]] of Object.entries(pairs)) {
      const [tb, ta] = r % 2 === 0 ? [window(b), window(a)] : ((x, y) => [y, x])(window(a), window(b));
      times[name][0].push(tb);
      times[name][1].push(ta);
      times[name][2].push(ta / tb);
    }
  }
  for (const [name, [tb, ta, ratio]] of Object.entries(times)) {
    const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
    console.log(`| ${name} | ${fmt(median(tb))} | ${fmt(median(ta))} | ${median(ratio).toFixed(2)}× | ${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}× |`);
  }
}

const baseCompile = ((await import(pathToFileURL(join(base, 'src', 'index.ts')).href)) as { compileSync: Compile }).compileSync;
const both = async (id: string, source: string) => [await load(`${id}-base`, source, baseCompile), await load(id, source, compileSync)] as const;
console.log(`load average at the start: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
console.log('| function | before | after | after / before (median of rounds) | range |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const [dotB, dotA] = await both('dot', 'fn dp(a: vec[n], b: vec[n]) = sum(i: a[i] * b[i])');
for (const n of [16, 100, 1000, 100000]) {
  const a = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const b = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
  const reps = Math.max(1, Math.floor(20000 / n));
  const many = (f: Module[string]) => () => {
    let s = 0;
    for (let q = 0; q < reps; q++) s += f(a, b);
    return s;
  };
  race({ [`dot product n = ${n} (×${reps} calls)`]: [many(dotB.dp), many(dotA.dp)], [`dot product gradient n = ${n} (×${reps} calls)`]: [many(dotB.dpGrad), many(dotA.dpGrad)] });
}
const mlpSource = readFileSync(join(benchDir, 'cases', 'mlp.ad'), 'utf8');
const [mlpB, mlpA] = await both('mlp', mlpSource);
for (const h of [16, 64, 256]) {
  const { W1, b1, w2, b2, X, y } = mlpData(32, h, 1000, 1);
  race({
    [`MLP h = ${h} objective`]: [() => mlpB.mlp(W1, b1, w2, b2, X, y), () => mlpA.mlp(W1, b1, w2, b2, X, y)],
    [`MLP h = ${h} gradient`]: [() => mlpB.mlpGrad(W1, b1, w2, b2, X, y), () => mlpA.mlpGrad(W1, b1, w2, b2, X, y)],
  });
}
const gmmSource = readFileSync(join(benchDir, '..', 'examples', 'gmm.ad'), 'utf8');
const [gmmB, gmmA] = await both('gmm', gmmSource);
for (const [D, K] of [
  [2, 5],
  [10, 25],
  [20, 50],
  [32, 50],
]) {
  const { alpha, mu, q, l, x, gamma, m } = gmmData(D, K, 1000, 1);
  race({
    [`GMM D = ${D}, K = ${K} objective`]: [() => gmmB.gmm(alpha, mu, q, l, x, gamma, m), () => gmmA.gmm(alpha, mu, q, l, x, gamma, m)],
    [`GMM D = ${D}, K = ${K} gradient`]: [() => gmmB.gmmGrad(alpha, mu, q, l, x, gamma, m), () => gmmA.gmmGrad(alpha, mu, q, l, x, gamma, m)],
  });
}
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
