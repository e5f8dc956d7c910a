/**
 * Times emission alone (src/emit/js/: emitModule, then joining the sections into the module's
 * text) on the IR of one compile, this checkout's against another's, interleaved in one process.
 * Usage:
 *
 *   git archive main src | tar -x -C /tmp/before
 *   node --expose-gc --import tsx bench/emit-time.ts --before /tmp/before [--statements 10000] [--rounds 9] [--keep DIR]
 *
 * The IR comes from this checkout's passes (both emitters read the same IR, so a change to the IR
 * passes is not what this measures): `compileSync` of the let chain (bench/chain.ts) runs once with
 * a hook in place of emitModule that keeps its input, every function's IR made. Each round then
 * emits that input with each side, in alternating order, after a garbage collection; the CPU time
 * (process.cpuUsage, which counts the collector's threads) of each is recorded, and the medians
 * printed with `uptime`'s load. The two outputs must be equal.
 */
import { build, type Plugin } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chainSource } from './chain.ts';

const root = resolve(new URL('..', import.meta.url).pathname);
const arg = (name: string, otherwise?: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? otherwise : process.argv[i + 1];
};
const before = arg('--before');
if (!before) {
  console.error('usage: node --expose-gc --import tsx bench/emit-time.ts --before DIR [--statements N] [--rounds R] [--derivatives a,b]');
  process.exit(2);
}
const statements = Number(arg('--statements', '10000'));
const rounds = Number(arg('--rounds', '9'));
const derivatives = arg('--derivatives')?.split(',');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Side {
  compileSync(source: string, options?: object): { code?: string };
  emitModule(input: unknown): { lines: string[]; text: string }[];
  joinSections(sections: readonly { text: string }[]): string;
}

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
/** In the compile of this checkout: emitModule is called through a hook (`globalThis.__adcEmit`) when one is set. */
const hook: Plugin = {
  name: 'emit-hook',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({ contents: `export const version = ${JSON.stringify(version)};\n`, loader: 'ts' }));
    b.onLoad({ filter: /[\\/]src[\\/]compile\.ts$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      const call = ': emitModule(emitInput);';
      if (!text.includes(call)) throw new Error('bench/emit-time.ts: src/compile.ts no longer calls emitModule(emitInput)');
      return { contents: text.replace(call, ': (globalThis.__adcEmit ?? ((i, e) => e(i)))(emitInput, emitModule);'), loader: 'ts' };
    });
  },
};

async function load(dir: string, out: string): Promise<Side> {
  const src = join(dir, 'src');
  await build({
    stdin: {
      contents: [
        `export { compileSync } from ${JSON.stringify(join(src, 'index.ts'))};`,
        `export { emitModule } from ${JSON.stringify(join(src, 'emit/js/emit-js.ts'))};`,
        `export { joinSections } from ${JSON.stringify(join(src, 'emit/format.ts'))};`,
      ].join('\n'),
      resolveDir: dir,
      loader: 'ts',
    },
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    nodePaths: [join(root, 'node_modules')],
    external: ['prettier', '@viz-js/viz', 'asciichart', 'unplugin'],
    plugins: [hook],
    logLevel: 'error',
  });
  return (await import(pathToFileURL(out).href)) as Side;
}

// --keep DIR: the bundles are written there and kept (to read a profile's line numbers: node --cpu-prof).
const keep = arg('--keep');
const work = keep ?? mkdtempSync(join(tmpdir(), 'adc-emit-time-'));
try {
  const sides = { before: await load(resolve(before), join(work, 'before.mjs')), after: await load(root, join(work, 'after.mjs')) };
  // The IR, every function's made once by this checkout's passes.
  let input: Record<string, unknown> | undefined;
  (globalThis as Record<string, unknown>).__adcEmit = (i: Record<string, unknown>, emit: (i: unknown) => unknown) => {
    input = { ...i, functions: [...(i.functions as Iterable<unknown>)], emitted: undefined };
    return emit(input);
  };
  const source = chainSource(statements);
  sides.after.compileSync(source, derivatives ? { derivatives } : {});
  delete (globalThis as Record<string, unknown>).__adcEmit;
  if (!input) throw new Error('the hook did not run');
  const times: Record<keyof typeof sides, number[]> = { before: [], after: [] };
  const outputs: Record<string, string> = {};
  const load0 = loadavg()[0];
  for (let r = 0; r < rounds; r++) {
    for (const name of (r % 2 === 0 ? ['before', 'after'] : ['after', 'before']) as (keyof typeof sides)[]) {
      gc();
      const start = process.cpuUsage();
      const code = sides[name].joinSections(sides[name].emitModule(input));
      const used = process.cpuUsage(start);
      times[name].push((used.user + used.system) / 1000);
      outputs[name] = code;
    }
  }
  if (outputs.before !== outputs.after) {
    writeFileSync(join(tmpdir(), 'emit-time.before.js'), outputs.before);
    writeFileSync(join(tmpdir(), 'emit-time.after.js'), outputs.after);
    console.log(`the outputs differ (written to ${tmpdir()}/emit-time.{before,after}.js)`);
    process.exitCode = 1;
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const [b, a] = [median(times.before), median(times.after)];
  console.log(`emission of the ${statements}-statement chain${derivatives ? ` (${derivatives.join(',')})` : ''}, median of ${rounds}, CPU: before ${b.toFixed(1)} ms (${((b * 1000) / statements).toFixed(1)} µs per statement), after ${a.toFixed(1)} ms (${((a * 1000) / statements).toFixed(1)} µs per statement), after / before ${(a / b).toFixed(2)}; ${(outputs.after.length / 1e6).toFixed(2)} MB; load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`);
  console.log(`  before: ${times.before.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`  after:  ${times.after.map((t) => t.toFixed(0)).join(' ')}`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
