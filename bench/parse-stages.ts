/**
 * Parsing and the checks, piece by piece: CPU µs per statement of the let chain (bench/chain.ts)
 * at 1,000 and 10,000 statements. bench/stages.ts times every stage of a compile; this one splits
 * the first two: lexing, the nesting scan (check-depth.ts), Chevrotain's parse building the AST,
 * the whole of `parse` (those, the number and habit scan and the expression depth check), then
 * each check of `checkProgram` and the whole of it. With `--against DIR`, a second `src/` (e.g. a
 * checkout of main) is measured in the same process, the two interleaved round by round.
 *
 *   npx tsx bench/parse-stages.ts [--against /tmp/base/src] [--rounds 9] [--sizes 1000,10000]
 *
 * Each `src/` is bundled with esbuild first (tsx's per-function helpers would be measured too).
 * Figures are medians over the rounds after one warm-up round; CPU time of this process
 * (process.cpuUsage, user + system), which includes the garbage collector's work on this thread.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { build } from 'esbuild';
import { chainSource } from './chain.ts';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const rounds = Number(option('--rounds') ?? 9);
const sizes = (option('--sizes') ?? '1000,10000').split(',').map(Number);
const against = option('--against');

/** The pieces parsing and the checks are made of, from one `src/` directory. */
const entry = `
export { tokenize } from './syntax/lexer.ts';
export { checkDepth } from './syntax/check-depth.ts';
export * as parser from './syntax/parser.ts';
export * as toAst from './syntax/to-ast.ts';
export { parse } from './syntax/parse.ts';
export { checkFunctions } from './check/check-functions.ts';
export { resolveNames } from './check/resolve-names.ts';
export { Suggester } from './check/suggest.ts';
export { checkShapes } from './check/check-shapes.ts';
export { checkTypes } from './check/check-types.ts';
export { checkRecursion } from './check/check-recursion.ts';
export { checkInlining } from './check/check-inlining.ts';
export { checkProgram, resultShapes } from './check/check-program.ts';
export { DiagnosticBag } from './diagnostics/diagnostic.ts';
`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Compiler = any;

// (Inside node_modules, so that the bundles find the packages they import.)
const cache = new URL('../node_modules/.cache', import.meta.url).pathname;
mkdirSync(cache, { recursive: true });
const scratch = mkdtempSync(join(cache, 'adc-parse-stages-'));
async function load(dir: string, label: string): Promise<Compiler> {
  const outfile = join(scratch, `${label}.mjs`);
  await build({ stdin: { contents: entry, resolveDir: resolve(dir), loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error' });
  return import(pathToFileURL(outfile).href);
}

const compilers: { label: string; c: Compiler }[] = [{ label: 'this', c: await load(new URL('../src', import.meta.url).pathname, 'this') }];
if (against) compilers.unshift({ label: 'against', c: await load(against, 'against') });
rmSync(scratch, { recursive: true, force: true });

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Parsing and checking the chain by `c`, piece by piece: CPU µs of each. */
function stages(c: Compiler, source: string): Map<string, number> {
  const times = new Map<string, number>();
  let t = cpu();
  const lap = <T>(name: string, f: () => T): T => {
    const r = f();
    const now = cpu();
    times.set(name, (times.get(name) ?? 0) + now - t);
    t = now;
    return r;
  };
  const { tokens } = lap('lexing', () => c.tokenize(source));
  lap('nesting scan', () => c.checkDepth(tokens, new c.DiagnosticBag()));
  // A compiler whose parser builds a CST turns it into the AST in to-ast.ts's `toAst`.
  lap('Chevrotain + AST', () => {
    const parsed = c.parser.parseTokens(tokens);
    return c.toAst.toAst ? c.toAst.toAst(parsed.cst) : parsed.program;
  });
  const diagnostics = new c.DiagnosticBag();
  const program = lap('parse (all of the above, numbers, habits, expression depth)', () => c.parse(source, diagnostics));
  // As checkProgram, each check on its own.
  const functions = lap('checks: function table', () => c.checkFunctions(program, diagnostics));
  const results = c.resultShapes(functions);
  const calls = new Map();
  const selfCalls = new Map();
  for (const fn of functions.values()) {
    calls.set(fn.name, lap('checks: names', () => c.resolveNames(fn, functions, diagnostics, new c.Suggester())));
    lap('checks: shapes', () => c.checkShapes(fn, functions, diagnostics, results, 'auto', selfCalls));
    lap('checks: types', () => c.checkTypes(fn, diagnostics));
  }
  lap('checks: recursion', () => c.checkRecursion(calls, diagnostics, functions, 'auto', selfCalls));
  lap('checks: inlining', () => c.checkInlining(functions, diagnostics, 'auto'));
  lap('checks (checkProgram)', () => c.checkProgram(program, new c.DiagnosticBag(), 'auto'));
  if (diagnostics.items.length > 0) throw new Error(`the chain has diagnostics: ${diagnostics.items[0].message}`);
  return times;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`load average at the start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${rounds} rounds after a warm-up${against ? `, interleaved with ${against}` : ''}`);
for (const n of sizes) {
  const source = chainSource(n);
  const samples = compilers.map(() => new Map<string, number[]>());
  for (let round = 0; round <= rounds; round++) {
    // Interleaved, and each side first in every other round.
    const order = round % 2 ? [...compilers.keys()].reverse() : [...compilers.keys()];
    for (const k of order) {
      const times = stages(compilers[k].c, source);
      if (round === 0) continue;
      for (const [name, us] of times) samples[k].set(name, [...(samples[k].get(name) ?? []), us]);
    }
  }
  console.log(`\n${n} statements: CPU µs per statement, median of ${rounds}`);
  console.log(['stage', ...compilers.map((c) => c.label), ...(against ? ['this / against'] : [])].join('\t'));
  for (const name of samples[0].keys()) {
    const per = samples.map((s) => median(s.get(name)!) / n);
    console.log([name, ...per.map((x) => x.toFixed(1)), ...(against ? [(per[1] / per[0]).toFixed(2)] : [])].join('\t'));
  }
}
console.log(`\nload average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
