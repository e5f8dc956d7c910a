import type { Affine } from './affine.ts';
import { allStatements, childrenOf, statementExprs, type Expr, type FunctionDecl, type Statement } from '../syntax/ast.ts';

/**
 * Structurally bounded recursion: a function of numbers may call itself (its calls stay calls,
 * src/ir/call-graph.ts) when the compiler can see that the recursion ends. The rule, checked at
 * each call of the function by itself: for one number parameter p,
 *
 *   - the call passes `p - c` for p, c a positive number, and
 *   - the call is inside the `then` of an `if` whose condition is `p > k` or `p >= k` (k a number),
 *     alone or as a side of an `and`.
 *
 * So p decreases by at least c at each level, and the recursion stops once p ≤ k: at most
 * (p − k)/c + 1 levels. A NaN p makes the condition false (no recursion at all); an infinite p
 * (∞ − c is ∞) recurses until JavaScript's stack is exhausted, which throws a RangeError.
 *
 * Or over a size: for one size name n of fn's array parameters,
 *
 *   - the call passes arrays whose lengths give n the value n − c (c a positive number: an array
 *     let over `0..n-1`, say, as check-shapes.ts computes it, `sizeArguments`), and
 *   - the call is inside the `then` of `if n > k` or `if n >= k`, as above.
 *
 * A size is an array's length, a whole number ≥ 0 (never NaN or infinite): at most n − k + 1
 * levels, always. (The determinant by expansion in minors: `det(M)` with M of n − 1 rows.)
 * Returns the spans (callee name starts) of the self-calls that satisfy the rule.
 */
export function boundedSelfCalls(fn: FunctionDecl, sizeArguments: ReadonlyMap<number, ReadonlyMap<string, Affine | undefined>> = new Map()): Set<number> {
  const accepted = new Set<number>();
  const sizes = new Set(fn.params.flatMap((p) => (p.type?.sizes ?? []).flatMap((s) => (s.kind === 'name' ? [s.name] : []))));
  const params = [...fn.params.filter((p) => !p.type).map((p) => p.name), ...sizes];
  // Guards in force: the parameters known to be above a bound where code runs.
  // Iterative: a left-leaning chain of 30,000 terms must not overflow the stack.
  const walk = (root: Expr, outer: ReadonlySet<string>): void => {
    for (const stack: [Expr, ReadonlySet<string>][] = [[root, outer]]; stack.length > 0; ) {
      const [e, guarded] = stack.pop()!;
      if (e.kind === 'if') {
        stack.push([e.condition, guarded], [e.then, withGuards(guarded, e.condition)], [e.else, guarded]);
        continue;
      }
      if (e.kind === 'call' && e.callee === fn.name && isBounded(e, guarded)) accepted.add(e.calleeSpan.start);
      for (const child of childrenOf(e)) stack.push([child, guarded]);
    }
  };
  // The length a size gets at a call is n − c: n's symbol once, and a negative constant.
  const decreases = (n: string, form: Affine | undefined) =>
    form !== undefined && form.size === 2 && form.get(`size:${n}`) === 1 && (form.get('') ?? 0) < 0;
  const isBounded = (call: Extract<Expr, { kind: 'call' }>, guarded: ReadonlySet<string>) =>
    params.some((p) => {
      if (!guarded.has(p)) return false;
      if (sizes.has(p)) return decreases(p, sizeArguments.get(call.calleeSpan.start)?.get(p));
      const arg = call.args[fn.params.findIndex((q) => q.name === p)];
      return arg?.kind === 'binary' && arg.op === '-' && arg.left.kind === 'name' && arg.left.name === p && arg.right.kind === 'number' && arg.right.value > 0;
    });
  const withGuards = (guarded: ReadonlySet<string>, condition: Expr): ReadonlySet<string> => {
    const found = new Set(guarded);
    for (const stack: Expr[] = [condition]; stack.length > 0; ) {
      const c = stack.pop()!;
      if (c.kind !== 'binary') continue;
      if (c.op === 'and') stack.push(c.left, c.right);
      else if ((c.op === '>' || c.op === '>=') && c.left.kind === 'name' && params.includes(c.left.name) && c.right.kind === 'number') found.add(c.left.name);
    }
    return found;
  };
  const block = (body: readonly Statement[], guarded: ReadonlySet<string>): void => {
    for (const s of body) {
      if (s.kind === 'if') {
        walk(s.condition, guarded);
        block(s.then, withGuards(guarded, s.condition));
        block(s.else, guarded);
      } else if (s.kind === 'for' || s.kind === 'while') {
        for (const e of statementExprs(s)) walk(e, guarded);
        block(s.body, guarded);
      } else {
        for (const e of statementExprs(s)) walk(e, guarded);
      }
    }
  };
  block(fn.body, new Set());
  return accepted;
}

/** Whether a function calls itself anywhere. */
export function callsItself(fn: FunctionDecl): boolean {
  for (const s of allStatements(fn.body)) {
    for (const stack: Expr[] = [...statementExprs(s)]; stack.length > 0; ) {
      const e = stack.pop()!;
      if (e.kind === 'call' && e.callee === fn.name) return true;
      stack.push(...childrenOf(e));
    }
  }
  return false;
}
