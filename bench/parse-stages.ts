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
import { stopwatch, timeStages, type Compiler } from './src-bundle.ts';

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

/** Parsing and checking the chain by `c`, piece by piece: CPU µs of each. */
function stages(c: Compiler, source: string): Map<string, number> {
  const { times, lap } = stopwatch();
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

await timeStages({ entry, defaultRounds: 9, stages });
