/**
 * A `let` of a function inlined into a loop body (a reduction's, an array let's, a for's) names
 * its value after the user's variable; operations reading it must stay in that loop. Before this
 * was fixed, `sum(i: h(x[i]))` with `h` ending in `let a = y * y; return a + 1` moved `a + 1` out
 * of the loop, before `a` existed: a ReferenceError for the value and a gradient of 0.
 */
import { describe, expect, it } from 'vitest';
import { compileAndLoad } from './support/load.ts';

type Grad = { value: number; gradient: Record<string, unknown> };

describe('lets of inlined functions inside loops', () => {
  it('stay in the reduction they belong to', async () => {
    const m = await compileAndLoad('fn h(y) {\n  let a = y * y\n  return a + 1\n}\nfn g(x: vec[n]) = sum(i: h(x[i]))\n');
    expect((m.g as unknown as (x: number[]) => number)([1, 2, 3])).toBe(2 + 5 + 10);
    const g = (m.gGrad as unknown as (x: number[]) => Grad)([1, 2, 3]);
    expect(g.value).toBe(17);
    expect([...(g.gradient.x as Float64Array)]).toEqual([2, 4, 6]);
  });

  it('stay in an array let and in a for loop', async () => {
    const m = await compileAndLoad(`fn h(y) {
  let a = y * y
  return a + 1
}
fn z(x: vec[n]) {
  let w[i] = h(x[i])
  return sum(i: w[i] * x[i])
}
fn f(p, const n) {
  var s = 0
  for t in 0..n {
    s = s + h(p + t)
  }
  return s
}`);
    // Σ (x² + 1)·x and its derivative 3x² + 1.
    const gz = (m.zGrad as unknown as (x: number[]) => Grad)([1, 2]);
    expect(gz.value).toBe(2 + 10);
    expect([...(gz.gradient.x as Float64Array)]).toEqual([4, 13]);
    // Σ_t ((p + t)² + 1) for t = 0, 1, 2 at p = 1: 2 + 5 + 10, derivative 2(1 + 2 + 3).
    expect(m.fGrad(1, 3)).toEqual({ value: 17, gradient: { p: 12 } });
  });
});
