/**
 * What bench/stages.ts and bench/parse-stages.ts share: their command-line options, a `src/`
 * directory bundled with esbuild and imported (tsx's per-function helpers would be measured too),
 * this process's CPU time, the median of the rounds, and the interleaved rounds and table itself
 * (`timeStages`).
 */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chainSource } from './chain.ts';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The value after `name` on the command line. */
export function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

/**
 * Bundles `entry` (a module of exports, resolved in each directory) once per `src/` directory and
 * imports the bundles, in the order given. version.ts reads ../package.json next to itself, which a
 * bundle is not: it is replaced by a constant.
 */
export async function loadSources<T>(entry: string, sources: readonly { label: string; dir: string }[]): Promise<{ label: string; c: T }[]> {
  // (Inside node_modules, so that the bundles find the packages they import.)
  const cache = new URL('../node_modules/.cache', import.meta.url).pathname;
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, 'adc-src-bundle-'));
  try {
    const loaded: { label: string; c: T }[] = [];
    for (const { label, dir } of sources) {
      const outfile = join(scratch, `${label}.mjs`);
      await build({
        stdin: { contents: entry, resolveDir: resolve(dir), loader: 'ts' },
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        outfile,
        logLevel: 'error',
        plugins: [{ name: 'version', setup: (b) => b.onLoad({ filter: /[/\\]version\.ts$/ }, () => ({ contents: "export const version = '0.0.0';", loader: 'ts' })) }],
      });
      loaded.push({ label, c: (await import(pathToFileURL(outfile).href)) as T });
    }
    return loaded;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** CPU time of this process in µs (user + system: the garbage collector's work on this thread counted in). */
export function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** The median (the mean of the middle two of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * A stopwatch over stages: `lap(name, f)` runs f and adds the CPU µs since the previous lap (or
 * since the stopwatch was made) to `times` under that name.
 */
export function stopwatch(): { times: Map<string, number>; lap: <T>(name: string, f: () => T) => T } {
  const times = new Map<string, number>();
  let t = cpu();
  const lap = <T>(name: string, f: () => T): T => {
    const r = f();
    const now = cpu();
    times.set(name, (times.get(name) ?? 0) + now - t);
    t = now;
    return r;
  };
  return { times, lap };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Compiler = any;

/**
 * The whole run of a stage bench: reads `--rounds`, `--sizes` and `--against DIR`, bundles this
 * checkout's `src/` (and DIR's) with `entry`, then for each size times `stages` on the let chain
 * of that many statements, the compilers interleaved round by round and each first in every other
 * round, one warm-up round; prints each stage's median CPU µs per statement (and this / against),
 * with a line summing the stages when `sum` says which stages to add.
 */
export async function timeStages(options: {
  entry: string;
  defaultRounds: number;
  stages: (c: Compiler, source: string) => Map<string, number>;
  sum?: (stage: string) => boolean;
}): Promise<void> {
  const rounds = Number(option('--rounds') ?? options.defaultRounds);
  const sizes = (option('--sizes') ?? '1000,10000').split(',').map(Number);
  const against = option('--against');
  const compilers = await loadSources<Compiler>(options.entry, [
    ...(against ? [{ label: 'against', dir: against }] : []),
    { label: 'this', dir: new URL('../src', import.meta.url).pathname },
  ]);
  const row = (name: string, per: readonly number[]) =>
    console.log([name, ...per.map((x) => x.toFixed(1)), ...(against ? [(per[1] / per[0]).toFixed(2)] : [])].join('\t'));
  console.log(`load average at the start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${rounds} rounds after a warm-up${against ? `, interleaved with ${against}` : ''}`);
  for (const n of sizes) {
    const source = chainSource(n);
    const samples = compilers.map(() => new Map<string, number[]>());
    for (let round = 0; round <= rounds; round++) {
      const order = round % 2 ? [...compilers.keys()].reverse() : [...compilers.keys()];
      for (const k of order) {
        const times = options.stages(compilers[k].c, source);
        if (round === 0) continue;
        for (const [name, us] of times) samples[k].set(name, [...(samples[k].get(name) ?? []), us]);
      }
    }
    console.log(`\n${n} statements: CPU µs per statement, median of ${rounds}`);
    console.log(['stage', ...compilers.map((c) => c.label), ...(against ? ['this / against'] : [])].join('\t'));
    let sums = compilers.map(() => 0);
    for (const name of samples[0].keys()) {
      const per = samples.map((s) => median(s.get(name)!) / n);
      if (options.sum?.(name)) sums = sums.map((x, k) => x + per[k]);
      row(name, per);
    }
    if (options.sum) row('sum of the stages', sums);
  }
  console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}
