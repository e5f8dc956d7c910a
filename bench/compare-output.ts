/**
 * Compares the compiler's output with another checkout's, byte for byte: the check behind every
 * "output byte-identical" of a speed change. Usage:
 *
 *   git archive main src | tar -x -C /tmp/before      # the checkout to compare with (its src/)
 *   npx tsx bench/compare-output.ts --before /tmp/before [--write DIR]
 *
 * Both `src/index.ts` are bundled by esbuild (into the system's temporary directory) and given the
 * same corpus: every `.ad` file of the repository, let chains (bench/chain.ts) of 300 and 3,000
 * statements (split into chunks for V8), the loop and branch shapes of bench/shapes.ts, call chains
 * whose calls stay calls (bench/call-chains.ts), and random programs of the property generators
 * (test/support/array-programs.ts, test/support/loop-programs.ts, test/oracle), each compiled with
 * compileSync under several options: the default, every derivative, a source map, checkArgs, calls
 * kept and inlined, and the WebAssembly target. The code, the source map and the diagnostics must
 * be equal. Exit code 1 on any difference (each is printed, and with --write both texts are saved).
 */
import { build, type Plugin } from 'esbuild';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chainSource } from './chain.ts';
import { arrayDoublingChain, arrayLinearChain, doublingChain, linearChain } from './call-chains.ts';
import { branchesInARow, loopsInARow, nestedLoops } from './shapes.ts';
import { decodeArrayProgram } from '../test/support/array-programs.ts';
import { loopCaseArb, printLoopProgram } from '../test/support/loop-programs.ts';
import { programArb } from '../test/oracle/arbitrary.ts';
import { printProgram } from '../test/oracle/program.ts';
import { rng } from '../test/oracle/arrays.ts';
import type { CompileOptions, CompileResult } from '../src/index.ts';

const root = resolve(new URL('..', import.meta.url).pathname);
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const before = arg('--before');
if (!before) {
  console.error('usage: npx tsx bench/compare-output.ts --before DIR [--write DIR] (DIR holding the src/ to compare with)');
  process.exit(2);
}
const writeDir = arg('--write');

type CompileSync = (source: string, options?: CompileOptions) => CompileResult;

/** Bundles a checkout's src/index.ts (its packages from this checkout's node_modules) and imports it. */
async function load(dir: string, out: string): Promise<CompileSync> {
  // src/version.ts reads package.json beside src/: both sides get this checkout's version.
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const inlineVersion: Plugin = {
    name: 'inline-version',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({ contents: `export const version = ${JSON.stringify(version)};\n`, loader: 'ts' }));
    },
  };
  await build({
    entryPoints: [join(dir, 'src/index.ts')],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    nodePaths: [join(root, 'node_modules')],
    external: ['prettier', '@viz-js/viz', 'asciichart', 'unplugin'],
    plugins: [inlineVersion],
    logLevel: 'error',
  });
  return ((await import(pathToFileURL(out).href)) as { compileSync: CompileSync }).compileSync;
}

/** Every `.ad` file of the repository (not node_modules, not dot folders). */
function adFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist') return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? adFiles(path) : e.name.endsWith('.ad') ? [path] : [];
  });
}

const all: CompileOptions['derivatives'] = ['grad', 'jvp', 'vjp', 'jacobian', 'hvp', 'hessian'];
const variants: readonly (readonly [string, CompileOptions])[] = [
  ['default', {}],
  ['every derivative', { derivatives: all }],
  ['source map', { sourceMap: true }],
  ['checkArgs, every derivative', { checkArgs: true, derivatives: all }],
  ['calls kept', { calls: 'keep', derivatives: all }],
  ['calls inlined', { calls: 'inline' }],
  ['wasm', { target: 'wasm', sourceMap: true }],
];

const corpus: { name: string; source: string; variants: readonly (readonly [string, CompileOptions])[] }[] = [];
for (const path of adFiles(root)) corpus.push({ name: relative(root, path), source: readFileSync(path, 'utf8'), variants });
// Long functions (split into chunks past 2,500 instructions): fewer variants, they are slow.
const few = variants.filter(([v]) => v === 'default' || v === 'every derivative' || v === 'source map' || v === 'wasm');
for (const n of [300, 3000]) corpus.push({ name: `chain of ${n}`, source: chainSource(n), variants: few });
corpus.push({ name: 'loops in a row (300)', source: loopsInARow(300), variants: few });
corpus.push({ name: 'loops nested 8 deep', source: nestedLoops(8), variants: few });
corpus.push({ name: 'branches in a row (300)', source: branchesInARow(300), variants: few });
corpus.push({ name: 'doubling call chain (12)', source: doublingChain(12), variants });
corpus.push({ name: 'linear call chain (60)', source: linearChain(60), variants });
corpus.push({ name: 'array doubling call chain (8)', source: arrayDoublingChain(8), variants });
corpus.push({ name: 'array linear call chain (30)', source: arrayLinearChain(30), variants });
// Random programs, the same on every run (fixed seeds).
const random = rng(20261207);
for (let k = 0; k < 60; k++) {
  const choices = Array.from({ length: 300 }, () => Math.floor(random() * 0x10000));
  corpus.push({ name: `array program ${k}`, source: decodeArrayProgram(choices).source, variants });
}
fc.sample(loopCaseArb(), { seed: 15, numRuns: 40 }).forEach((c, k) => corpus.push({ name: `loop program ${k}`, source: printLoopProgram(c.program), variants }));
fc.sample(programArb(), { seed: 16, numRuns: 40 }).forEach((p, k) => corpus.push({ name: `scalar program ${k}`, source: printProgram(p), variants }));

const work = mkdtempSync(join(tmpdir(), 'adc-compare-'));
try {
  const compileBefore = await load(resolve(before), join(work, 'before.mjs'));
  const compileAfter = await load(root, join(work, 'after.mjs'));
  let compiles = 0;
  let bytes = 0;
  const differences: string[] = [];
  for (const item of corpus) {
    for (const [variant, options] of item.variants) {
      const opts = { ...options, filename: `${item.name.replace(/[^\w.-]+/g, '_')}.ad` };
      const [a, b] = [compileBefore(item.source, opts), compileAfter(item.source, opts)];
      compiles++;
      bytes += b.code?.length ?? 0;
      const text = (r: CompileResult) => JSON.stringify({ code: r.code, map: r.map, diagnostics: r.diagnostics.map((d) => [d.code, d.span, d.message]) });
      const [ta, tb] = [text(a), text(b)];
      if (ta === tb) continue;
      const at = [...ta].findIndex((c, i) => tb[i] !== c);
      differences.push(`${item.name} (${variant}): differs at character ${at}: …${ta.slice(Math.max(0, at - 80), at + 80)}… became …${tb.slice(Math.max(0, at - 80), at + 80)}…`);
      if (writeDir) {
        mkdirSync(writeDir, { recursive: true });
        const file = `${item.name}-${variant}`.replace(/[^\w.-]+/g, '_');
        writeFileSync(join(writeDir, `${file}.before.js`), a.code ?? JSON.stringify(a.diagnostics, null, 2));
        writeFileSync(join(writeDir, `${file}.after.js`), b.code ?? JSON.stringify(b.diagnostics, null, 2));
      }
    }
  }
  for (const d of differences) console.log(d);
  console.log(`${compiles} compiles of ${corpus.length} programs (${(bytes / 1e6).toFixed(1)} MB of output): ${differences.length === 0 ? 'all identical' : `${differences.length} differ`}`);
  process.exitCode = differences.length === 0 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
