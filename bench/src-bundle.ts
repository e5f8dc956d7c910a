/**
 * What bench/stages.ts and bench/parse-stages.ts share: their command-line options, a `src/`
 * directory bundled with esbuild and imported (tsx's per-function helpers would be measured too),
 * this process's CPU time and the median of the rounds.
 */
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
