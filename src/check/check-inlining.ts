import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { MAX_EXPRESSION_DEPTH } from '../syntax/limits.ts';
import { allStatements, childrenOf, derivativeTarget, statementExprs, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import { buildCallGraph, calleesFirst, type CallPolicy } from '../ir/call-graph.ts';

/**
 * Operations one function's inlined calls may add to it; and how much inlining may
 * grow the whole file: a fixed allowance plus a multiple of what was written, so a large file of
 * ordinary functions is fine and a chain of functions each calling the last is not.
 */
export const MAX_INLINED_SIZE = 100_000;
export const INLINING_ALLOWANCE = 1_000_000;
export const INLINING_GROWTH = 8;

/**
 * Operations one `grad`, `jvp` or `jacobian` may build, estimated before it is built (AD3009):
 * the differentiated function's code with every call in it inlined and every derivative in it
 * expanded, times DERIVATIVE_GROWTH for the sweep that differentiates it.
 */
export const MAX_DERIVATIVE_SIZE = 200_000;
export const DERIVATIVE_GROWTH = 3;

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
  checkDerivatives(functions, diagnostics);
}

/**
 * A derivative of f builds f's body where it stands with every call in it inlined (kept calls
 * too: src/ir/lower.ts) and every derivative in it expanded, then differentiates it. A chain
 * `fK(x) = f(K-1)(x) + grad(f(K-1))(x)` therefore multiplies its code at every level (about 3.5×):
 * 1,000 levels would compile for ever. Estimated callees (and differentiated functions) first, in
 * expression nodes; the first derivative whose estimate passes MAX_DERIVATIVE_SIZE is reported,
 * at the derivative. Sizes past the limit only grow, up to Infinity (never NaN).
 */
function checkDerivatives(functions: ReadonlyMap<string, FunctionDecl>, diagnostics: DiagnosticBag): void {
  // Each function's written nodes, the functions it calls and the derivatives it takes, walked once.
  const walked = new Map<string, { nodes: number; calls: string[]; derivatives: { target: string; expr: Expr }[] }>();
  let any = false;
  for (const fn of functions.values()) {
    const w = { nodes: 0, calls: [] as string[], derivatives: [] as { target: string; expr: Expr }[] };
    for (const s of allStatements(fn.body)) {
      for (const stack: Expr[] = [...statementExprs(s)]; stack.length > 0; ) {
        const e = stack.pop()!;
        w.nodes++;
        if (e.kind === 'call' && functions.has(e.callee)) w.calls.push(e.callee);
        else if (e.kind === 'derivative') {
          const target = derivativeTarget(e, functions)?.fn.name;
          if (target !== undefined) w.derivatives.push({ target, expr: e });
        }
        stack.push(...childrenOf(e));
      }
    }
    any ||= w.derivatives.length > 0;
    walked.set(fn.name, w);
  }
  if (!any) return;
  const expanded = new Map<string, number>();
  const order = calleesFirst(functions, (f) => {
    const w = walked.get(f.name)!;
    return [...w.calls, ...w.derivatives.map((d) => d.target)];
  });
  for (const fn of order) {
    const w = walked.get(fn.name)!;
    let size = w.nodes;
    // (A function calling itself is never differentiated: AD8008; it counts once.)
    for (const callee of w.calls) size += callee === fn.name ? 0 : (expanded.get(callee) ?? 0);
    for (const { target, expr } of w.derivatives) {
      const estimate = DERIVATIVE_GROWTH * (expanded.get(target) ?? 0);
      if (estimate > MAX_DERIVATIVE_SIZE) return void diagnostics.error('derivativeTooLarge', expr.span, target, Math.min(estimate, Number.MAX_SAFE_INTEGER), MAX_DERIVATIVE_SIZE);
      size += estimate;
    }
    expanded.set(fn.name, size);
  }
}
