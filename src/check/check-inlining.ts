import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { MAX_EXPRESSION_DEPTH } from '../syntax/limits.ts';
import { allStatements, childrenOf, statementExprs, type Expr, type FunctionDecl } from '../syntax/ast.ts';

/**
 * Operations one function's inlined calls may add to it; and how much inlining may
 * grow the whole file: a fixed allowance plus a multiple of what was written, so a large file of
 * ordinary functions is fine and a chain of functions each calling the last is not.
 */
export const MAX_INLINED_SIZE = 100_000;
export const INLINING_ALLOWANCE = 1_000_000;
export const INLINING_GROWTH = 8;

interface Measure {
  /** Expression nodes after inlining every call. */
  readonly size: number;
  /** Expression depth after inlining (left operands of chains do not count, as in parse.ts). */
  readonly depth: number;
}

/**
 * Calls are inlined (ARCHITECTURE.md), so a function's code is its own plus its callees', and
 * its nesting adds up through the calls. This measures both, callees first and without
 * recursion, and reports a function whose inlined code would be too large or too deep instead of
 * letting the compiler run out of time or stack. Runs only on a program without recursion.
 */
export function checkInlining(functions: ReadonlyMap<string, FunctionDecl>, diagnostics: DiagnosticBag): void {
  const measures = new Map<string, Measure>();
  let total = 0;
  let written = 0;
  for (const fn of calleesFirst(functions)) {
    let size = 0;
    // The operations that inlined calls add: the limit applies to these only, so a long
    // function without calls (a 30,000-`let` chain) compiles at any length, as parse.ts promises.
    let inlined = 0;
    let depth = 0;
    let deepest: Expr | undefined;
    for (const s of allStatements(fn.body)) {
      const stack: [Expr, number][] = statementExprs(s).map((e) => [e, 1]);
      while (stack.length > 0) {
        const [e, d] = stack.pop()!;
        size++;
        written++;
        let reach = d;
        if (e.kind === 'call' && functions.has(e.callee)) {
          const callee = measures.get(e.callee)!;
          size += callee.size;
          inlined += callee.size;
          reach = d + callee.depth;
        }
        if (reach > depth) {
          depth = reach;
          deepest = e;
        }
        for (const child of childrenOf(e)) stack.push([child, e.kind === 'binary' && child === e.left ? d : d + 1]);
      }
    }
    measures.set(fn.name, { size, depth });
    total += size;
    // One report is enough: every caller of this function would repeat it.
    if (depth > MAX_EXPRESSION_DEPTH && deepest) return void diagnostics.error('inlinedTooDeep', deepest.span, fn.name, MAX_EXPRESSION_DEPTH);
    if (inlined > MAX_INLINED_SIZE) return void diagnostics.error('inlinedTooLarge', fn.nameSpan, fn.name, size, inlined, MAX_INLINED_SIZE);
    const budget = INLINING_ALLOWANCE + INLINING_GROWTH * written;
    if (total > budget) return void diagnostics.error('inliningGrowsFile', fn.nameSpan, fn.name, total, budget);
  }
}

/** The functions ordered so that every callee comes before its callers (iterative DFS). */
function calleesFirst(functions: ReadonlyMap<string, FunctionDecl>): FunctionDecl[] {
  const order: FunctionDecl[] = [];
  const done = new Set<string>();
  for (const root of functions.values()) {
    if (done.has(root.name)) continue;
    const stack: { fn: FunctionDecl; callees: string[] }[] = [{ fn: root, callees: calleesOf(root, functions) }];
    done.add(root.name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const next = top.callees.pop();
      if (next === undefined) {
        order.push(top.fn);
        stack.pop();
      } else if (!done.has(next)) {
        done.add(next);
        const fn = functions.get(next)!;
        stack.push({ fn, callees: calleesOf(fn, functions) });
      }
    }
  }
  return order;
}

function calleesOf(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): string[] {
  const names = new Set<string>();
  for (const s of allStatements(fn.body)) {
    const stack: Expr[] = [...statementExprs(s)];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.kind === 'call' && functions.has(e.callee)) names.add(e.callee);
      stack.push(...childrenOf(e));
    }
  }
  return [...names];
}
