/**
 * Compile time per stage: CPU µs per statement of the let chain (bench/chain.ts) at 1,000 and
 * 10,000 statements, for each stage of a compile run on its own (parsing, the checks, lowering,
 * each pass of the value's and the gradient's optimisation, the reverse sweep, emission) and for
 * the whole compile (compileSync). With `--against DIR`, a second copy of the compiler (another
 * `src/` directory, e.g. a checkout of main) is measured in the same process, the two interleaved
 * round by round, so a before/after ratio is not at the mercy of the machine's load.
 *
 *   npx tsx bench/stages.ts [--against /tmp/base/src] [--rounds 7] [--sizes 1000,10000]
 *
 * Each `src/` is bundled with esbuild first (tsx's per-function helpers would be measured too).
 * Figures are medians over the rounds after one warm-up round; CPU time of this process
 * (process.cpuUsage, user + system), which includes the garbage collector's work on this thread.
 */
import { stopwatch, timeStages, type Compiler } from './src-bundle.ts';

/** The pieces of the compiler each stage runs, from one `src/` directory. */
const entry = `
export { parse } from './syntax/parse.ts';
export { checkProgram } from './check/check-program.ts';
export { DiagnosticBag } from './diagnostics/diagnostic.ts';
export { LineMap } from './diagnostics/span.ts';
export { lowerFunction } from './ir/lower.ts';
export { nestedDerivative } from './ad/nested.ts';
export { reverseMode } from './ad/reverse.ts';
export { unrollAndJam } from './ad/unroll-and-jam.ts';
export { constify } from './ir/constify.ts';
export { foldBranches } from './ir/fold-branches.ts';
export { reduceStrength } from './ir/reduce-strength.ts';
export { eliminateCommon } from './ir/eliminate-common.ts';
export { bufferElements } from './ir/buffer-elements.ts';
export { eliminateDead } from './ir/eliminate-dead.ts';
export { emitModule } from './emit/js/emit-js.ts';
export { joinSections } from './emit/format.ts';
export { compileSync } from './index.ts';
`;

/** One compile of the chain of `n` statements by `c`, stage by stage: CPU µs of each. */
function stages(c: Compiler, source: string): Map<string, number> {
  const { times, lap } = stopwatch();
  const diagnostics = new c.DiagnosticBag();
  const program = lap('parsing', () => c.parse(source, diagnostics));
  const table = lap('checks', () => c.checkProgram(program, diagnostics, 'auto'));
  const decl = program.functions[0];
  const { ir, names } = lap('lowering', () => c.lowerFunction(decl, table, c.nestedDerivative, new Set()));
  // As src/ir/optimize.ts: each pass timed on its own.
  const optimize = (fn: unknown, of: string) => {
    let f = lap(`${of}: constify, fold branches`, () => c.foldBranches(c.constify(fn)));
    f = lap(`${of}: strength`, () => c.reduceStrength(f, names));
    f = lap(`${of}: CSE`, () => c.eliminateCommon(f));
    f = lap(`${of}: buffers`, () => c.bufferElements(f, names));
    return lap(`${of}: dead code`, () => c.eliminateDead(f));
  };
  const value = optimize(ir, 'value');
  // As compileFunction in src/compile.ts for fGrad on the JS target.
  const swept = lap('reverse sweep', () => c.reverseMode(ir, names, { logsumexpTapes: true, regroup: true }));
  const gradient = lap('gradient: unroll and jam', () => c.unrollAndJam(optimize(swept, 'gradient'), names));
  const lines = new c.LineMap(source);
  lap('emission', () => c.joinSections(c.emitModule({ filename: 'chain.ad', version: '0', lines, functions: [{ value, gradient }] })));
  lap('whole compile (compileSync)', () => c.compileSync(source));
  return times;
}

await timeStages({ entry, defaultRounds: 7, stages, sum: (stage) => !stage.startsWith('whole') });
