import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import { canStayCall, type CallPolicy } from '../ir/call-graph.ts';
import { boundedSelfCalls } from './check-termination.ts';
import type { CallSite } from './resolve-names.ts';
import type { Affine } from './affine.ts';

/**
 * Reports each cycle in the call graph once, at the call that closes it. The search is iterative,
 * so a long chain of calls cannot overflow the stack. A function of numbers may call itself when
 * each such call is bounded (check-termination.ts; its calls stay calls), unless every call is
 * inlined; an unbounded one is AD3008, at the call. Other cycles are AD3002.
 */
export function checkRecursion(
  calls: ReadonlyMap<string, readonly CallSite[]>,
  diagnostics: DiagnosticBag,
  functions: ReadonlyMap<string, FunctionDecl> = new Map(),
  policy: CallPolicy = 'auto',
  selfCalls: ReadonlyMap<number, ReadonlyMap<string, Affine | undefined>> = new Map(),
): void {
  const bounded = new Map<string, Set<number> | undefined>();
  const selfCall = (name: string, site: CallSite): 'bounded' | 'unbounded' | 'refused' => {
    const fn = functions.get(name);
    if (!fn || site.derivative || policy === 'inline' || !canStayCall(fn, functions)) return 'refused';
    if (!bounded.has(name)) bounded.set(name, boundedSelfCalls(fn, selfCalls));
    return bounded.get(name)!.has(site.span.start) ? 'bounded' : 'unbounded';
  };
  const state = new Map<string, 'active' | 'done'>();
  for (const root of calls.keys()) {
    if (state.has(root)) continue;
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 'active');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const sites = calls.get(frame.name) ?? [];
      if (frame.next >= sites.length) {
        state.set(frame.name, 'done');
        stack.pop();
        continue;
      }
      const site = sites[frame.next++];
      const s = state.get(site.callee);
      if (site.callee === frame.name) {
        const kind = selfCall(frame.name, site);
        if (kind === 'bounded') continue;
        if (kind === 'unbounded') {
          diagnostics.error('unboundedRecursion', site.span, frame.name);
          continue;
        }
      }
      if (s === 'active') {
        const from = stack.findIndex((f) => f.name === site.callee);
        const cycle = [...stack.slice(from).map((f) => f.name), site.callee].join(' → ');
        diagnostics.error('recursion', site.span, cycle);
      } else if (s === undefined) {
        state.set(site.callee, 'active');
        stack.push({ name: site.callee, next: 0 });
      }
    }
  }
}
