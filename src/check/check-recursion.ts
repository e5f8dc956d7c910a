import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { CallSite } from './resolve-names.ts';

/**
 * Reports each cycle in the call graph once, at the call that closes it. The search is iterative,
 * so a long chain of calls cannot overflow the stack.
 */
export function checkRecursion(calls: ReadonlyMap<string, readonly CallSite[]>, diagnostics: DiagnosticBag): void {
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
