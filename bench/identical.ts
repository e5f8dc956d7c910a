/**
 * Checks that a change to the compiler left its output byte-identical: compiles a fixed set of
 * programs with two copies of the compiler in one process, this worktree's `src/` and another
 * (a checkout of `main`, say), and compares everything each returns (code, source map,
 * declarations, diagnostics, or the exception thrown).
 *
 *   git archive main | tar -x -C /tmp/base && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   npx tsx bench/identical.ts /tmp/base/src
 *
 * The programs: every `.ad` file of the repository, let chains of 300 and 3,000 statements,
 * loops and branches in a row and nested loops (bench/shapes.ts), and programs drawn with fixed
 * seeds from the property generators (test/support/array-programs.ts, loop-programs.ts). Each is
 * compiled with several option sets: the default (formatted), every derivative, source maps and
 * declarations, the wasm target, every call inlined or kept, and checkpointing forced.
 * Exit code 1 and the first differences printed when any output differs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { chainSource } from './chain.ts';
import { branchesInARow, loopsInARow, nestedLoops } from './shapes.ts';
import { arrayProgramArb } from '../test/support/array-programs.ts';
import { loopCaseArb, printLoopProgram } from '../test/support/loop-programs.ts';
import type { CompileOptions } from '../src/index.ts';

type Compile = (source: string, options: CompileOptions) => unknown;

const baseDir = process.argv[2];
if (!baseDir) {
  console.error('usage: npx tsx bench/identical.ts <other src directory>');
  process.exit(2);
}
const load = async (dir: string): Promise<Compile> => {
  const api = (await import(pathToFileURL(resolve(dir, 'index.ts')).href)) as { compileSync: Compile };
  return api.compileSync;
};
const base = await load(baseDir);
const ours = await load(new URL('../src', import.meta.url).pathname);

const root = new URL('..', import.meta.url).pathname;
const files = execFileSync('git', ['ls-files', '*.ad'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const sources: { name: string; source: string; formatted?: boolean; large?: boolean }[] = files.map((f) => ({ name: f, source: readFileSync(resolve(root, f), 'utf8'), formatted: true }));
sources.push({ name: 'chain 300', source: chainSource(300) }, { name: 'chain 3000', source: chainSource(3000), large: true });
sources.push({ name: 'loops in a row', source: loopsInARow(30) }, { name: 'nested loops', source: nestedLoops(6) }, { name: 'branches in a row', source: branchesInARow(30) });
fc.sample(arrayProgramArb(), { seed: 15, numRuns: 100 }).forEach((p, k) => sources.push({ name: `array program ${k}`, source: p.source }));
fc.sample(loopCaseArb({ gradients: true }), { seed: 16, numRuns: 60 }).forEach((c, k) => sources.push({ name: `loop program ${k}`, source: printLoopProgram(c.program) }));

const all = ['grad', 'jvp', 'vjp', 'jacobian', 'hessian', 'hvp'] as const;
const optionSets: { name: string; options: CompileOptions }[] = [
  { name: 'default', options: { format: false } },
  { name: 'every derivative', options: { format: false, derivatives: [...all] } },
  { name: 'source map, dts', options: { format: false, sourceMap: true, dts: true, checkArgs: true } },
  { name: 'wasm', options: { format: false, target: 'wasm' } },
  { name: 'inline', options: { format: false, calls: 'inline', derivatives: [...all] } },
  { name: 'keep', options: { format: false, calls: 'keep' } },
  { name: 'checkpointing', options: { format: false, checkpointMemory: 0 } },
];

const run = (compile: Compile, source: string, options: CompileOptions): string => {
  try {
    return JSON.stringify(compile(source, options));
  } catch (e) {
    return `threw ${e instanceof Error ? e.message : String(e)}`;
  }
};

let compiles = 0;
let differ = 0;
for (const { name, source, formatted, large } of sources) {
  // (The large chain with two option sets only: the others add time, not other code paths.)
  const sets = formatted ? [...optionSets, { name: 'formatted', options: { derivatives: [...all] } }] : large ? optionSets.slice(0, 2) : optionSets;
  for (const set of sets) {
    compiles++;
    const a = run(base, source, set.options);
    const b = run(ours, source, set.options);
    if (a === b) continue;
    differ++;
    if (differ <= 5) {
      let at = 0;
      while (at < a.length && a[at] === b[at]) at++;
      console.log(`DIFFERS: ${name}, ${set.name}, at character ${at}:\n  before: ${a.slice(Math.max(0, at - 80), at + 120)}\n  after:  ${b.slice(Math.max(0, at - 80), at + 120)}`);
    }
  }
}
console.log(`${compiles} compiles, ${differ} differ`);
process.exit(differ ? 1 : 0);
