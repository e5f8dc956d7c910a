import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { MAX_EXPRESSION_DEPTH } from '../syntax/limits.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import { buildCallGraph, type CallPolicy } from '../ir/call-graph.ts';

/**
 * Operations one function's inlined calls may add to it; and how much inlining may
 * grow the whole file: a fixed allowance plus a multiple of what was written, so a large file of
 * ordinary functions is fine and a chain of functions each calling the last is not.
 */
export const MAX_INLINED_SIZE = 100_000;
export const INLINING_ALLOWANCE = 1_000_000;
export const INLINING_GROWTH = 8;

/**
 * A call is inlined unless it stays a call (src/ir/call-graph.ts: functions of numbers whose
 * inlined copies would add up), so a function's code is its own plus its inlined callees', and
 * its nesting adds up through them. What still grows this way is inlining functions that take
 * arrays and return a number (always inlined by size) and functions returning arrays called
 * inside blocks (inlined there; this measure counts their calls as kept, one operation, where the
 * function is kept): this measures both, callees first and without recursion,
 * and reports a function whose inlined code would be too large or too deep instead of letting the
 * compiler run out of time or stack. Runs only on a program without recursion.
 */
export function checkInlining(functions: ReadonlyMap<string, FunctionDecl>, diagnostics: DiagnosticBag, policy: CallPolicy = 'auto'): void {
  const { measures } = buildCallGraph(functions, policy);
  let total = 0;
  let written = 0;
  for (const [name, m] of measures) {
    const fn = functions.get(name)!;
    total += m.size;
    written += m.written;
    // One report is enough: every caller of this function would repeat it.
    if (m.depth > MAX_EXPRESSION_DEPTH && m.deepest) return void diagnostics.error('inlinedTooDeep', m.deepest.span, fn.name, MAX_EXPRESSION_DEPTH);
    if (m.inlined > MAX_INLINED_SIZE) return void diagnostics.error('inlinedTooLarge', fn.nameSpan, fn.name, m.size, m.inlined, MAX_INLINED_SIZE);
    const budget = INLINING_ALLOWANCE + INLINING_GROWTH * written;
    if (total > budget) return void diagnostics.error('inliningGrowsFile', fn.nameSpan, fn.name, total, budget);
  }
}
