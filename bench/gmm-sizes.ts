/**
 * GMM's JS-target gradient at the six ADBench sizes of bench/arrays.ts, every function of a size
 * timed interleaved in one process (issue 16's targets: gradient / objective ≤ 3, gradient ≤ 1.0×
 * the hand-written JavaScript): per round, the objective, the allocating gradient (gmmGrad),
 * gradInto (gmmGradInto, into arrays made once) and the hand-written gradient
 * (bench/handwritten/gmm.js), the order reversed every other round; each call timed on the
 * process's CPU time (a loaded machine's other jobs do not count), in windows of ≥ `--window` ms
 * (one call at least). Each figure is a median: of the rounds' times, and of the per-round ratios.
 * `--base DIR` also times the gradient compiled by another checkout (e.g. main's), in the same
 * rounds: "grad / base".
 * `node --import tsx bench/gmm-sizes.ts [--rounds 7] [--window 100] [--n 1000] [--sizes 2x5,10x5] [--base ../main]`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileSync } from '../src/index.ts';
import { gmmData } from '../test/oracle/arrays.ts';
import { gmm as handGmm, gmmGrad as handGmmGrad } from './handwritten/gmm.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const outDir = join(benchDir, '.generated');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg('rounds') ?? 7);
const windowMs = Number(arg('window') ?? 100);
const N = Number(arg('n') ?? 1000);
const base = arg('base');
/** bench/arrays.ts's GMM sizes (D, K). */
const sizes = (arg('sizes') ?? '2x5,10x5,10x25,20x50,32x50,64x100').split(',').map((s) => s.split('x').map(Number) as [number, number]);

type Compile = typeof compileSync;
type Module = Record<string, (...a: any[]) => any>;
const source = readFileSync(join(benchDir, '..', 'examples', 'gmm.ad'), 'utf8');
async function load(id: string, compile: Compile): Promise<Module> {
  const r = compile(source, { filename: 'gmm.ad' });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `gmm-sizes-${id}.js`);
  writeFileSync(path, r.code);
  return import(pathToFileURL(path).href);
}
const adc = await load('this', compileSync);
const baseAdc = base ? await load('base', ((await import(pathToFileURL(join(base, 'src', 'index.ts')).href)) as { compileSync: Compile }).compileSync) : undefined;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** One window of calls: CPU ms per call. */
function window(f: () => unknown): number {
  let calls = 0;
  const t0 = cpuMs();
  let t = t0;
  while (t - t0 < windowMs || calls < 1) {
    f();
    calls++;
    t = cpuMs();
  }
  return (t - t0) / calls;
}
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`);
const load1 = () => os.loadavg()[0].toFixed(1);

console.log(`GMM, N = ${N}, ${rounds} rounds of ≥ ${windowMs} ms CPU-time windows; load average ${load1()} at the start (${os.cpus().length} cores, Node ${process.version})`);
const head = ['D, K', 'objective', 'gradient', 'gradInto', 'hand-written', 'grad / obj', 'gradInto / obj', 'grad / gradInto', 'grad / hand', 'hand / obj', ...(baseAdc ? ['grad / base'] : []), 'load'];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
for (const [D, K] of sizes) {
  const T = (D * (D - 1)) / 2;
  const { alpha, mu, q, l, x, gamma, m } = gmmData(D, K, N, 1);
  const rows = (r: number, c: number) => Array.from({ length: r }, () => new Float64Array(c));
  const out = { alpha: new Float64Array(K), mu: rows(K, D), q: rows(K, D), l: rows(K, T) };
  const fns: Record<string, () => unknown> = {
    obj: () => adc.gmm(alpha, mu, q, l, x, gamma, m),
    grad: () => adc.gmmGrad(alpha, mu, q, l, x, gamma, m),
    into: () => adc.gmmGradInto(out, alpha, mu, q, l, x, gamma, m),
    hand: () => handGmmGrad(alpha, mu, q, l, x, gamma, m),
    ...(baseAdc ? { base: () => baseAdc.gmmGrad(alpha, mu, q, l, x, gamma, m) } : {}),
  };
  // The same numbers first: a figure for code that computes something else would mean nothing.
  const g = adc.gmmGrad(alpha, mu, q, l, x, gamma, m);
  const value = adc.gmmGradInto(out, alpha, mu, q, l, x, gamma, m);
  const h = handGmmGrad(alpha, mu, q, l, x, gamma, m);
  const flat = (gr: Record<string, ArrayLike<number> | ArrayLike<number>[]>) =>
    ['alpha', 'mu', 'q', 'l'].flatMap((k) => {
      const a = gr[k] as ArrayLike<number> | ArrayLike<number>[];
      return typeof (a as ArrayLike<number>[])[0] === 'object' ? (a as ArrayLike<number>[]).flatMap((r) => Array.from(r)) : Array.from(a as ArrayLike<number>);
    });
  const [fg, fo] = [flat(g.gradient), flat(out)];
  const fh = flat(h.gradient);
  const scale = fg.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
  const err = Math.max(fg.reduce((s, v, i) => Math.max(s, Math.abs(v - fo[i]), Math.abs(v - fh[i])), 0), Math.abs(value - g.value), Math.abs(h.value - g.value), Math.abs(handGmm(alpha, mu, q, l, x, gamma, m) - g.value)) / Math.max(1, scale);
  if (!(err < 1e-9)) throw new Error(`D = ${D}, K = ${K}: gradients disagree (${err})`);
  const names = Object.keys(fns);
  for (const n of names) window(fns[n]); // warm-up: each optimised before timing
  for (const n of names) window(fns[n]);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) for (const n of r % 2 === 0 ? names : [...names].reverse()) times[n].push(window(fns[n]));
  const t = (n: string) => fmt(median(times[n]));
  const ratio = (a: string, b: string) => `${median(times[a].map((v, i) => v / times[b][i])).toFixed(2)}×`;
  const cells = [`${D}, ${K}`, t('obj'), t('grad'), t('into'), t('hand'), ratio('grad', 'obj'), ratio('into', 'obj'), ratio('grad', 'into'), ratio('grad', 'hand'), ratio('hand', 'obj'), ...(baseAdc ? [ratio('grad', 'base')] : []), load1()];
  console.log(`| ${cells.join(' | ')} |`);
}
console.log(`load average at the end: ${load1()}`);
