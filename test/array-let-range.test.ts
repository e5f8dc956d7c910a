import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { diagnose } from './support/diagnostics.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Issue #12 item 5: an array let defines only the elements of its range (`let k[i in 2..n]`
 * leaves k[0] and k[1] unwritten). A read provably outside them is AD6097, any other read is
 * checked when it runs, a range inferred from the let is its defined range, and code that reads
 * every element (dot, norm, a function's array parameter, a returned array) is refused (AD6096),
 * and so is a range inferred from it together with a whole array (AD6095).
 */
const let2 = (body: string) => `fn f(x: vec[n], t) {\n  let k[i in 2..n] = x[i] * 10\n  return ${body}\n}\n`;
const run = (source: string) => {
  const result = compileSync(source);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return instantiate(result.code!) as unknown as Record<string, (x: number[], t?: number) => number> & {
    fGrad: (x: number[], t: number) => { value: number; gradient: { x: Float64Array; t: number } };
  };
};
const x = [1, 2, 3, 4, 5];

describe('array lets defined from a later start', () => {
  it('a constant read before the start is AD6097, located at the index', () => {
    expect(diagnose(let2('k[0] + k[1]'))).toEqual([
      { code: 'AD6097', message: 'k[...] reads an element k does not define: 0 reaches 0, and k is defined from 2 on', line: 3, column: 12 },
      { code: 'AD6097', message: 'k[...] reads an element k does not define: 1 reaches 1, and k is defined from 2 on', line: 3, column: 19 },
    ]);
    expect(diagnose(let2('sum(j in 1..n: k[j])'))[0]).toMatchObject({ code: 'AD6097', message: 'k[...] reads an element k does not define: j reaches 1, and k is defined from 2 on' });
    expect(diagnose('fn f(A: mat[m, n]) {\n  let z[i in 1..m, j] = A[i, j]\n  return z[0, 0]\n}\n')[0]).toMatchObject({ code: 'AD6097', line: 3, column: 12 });
  });

  it('sum(i: k[i]) runs over the defined range 2..n, value and gradient', () => {
    // + 1 per term: three terms (i = 2, 3, 4), not five with two unwritten zeros.
    const m = run(let2('sum(i: k[i] + 1) * t'));
    expect(m.f(x, 2)).toBe(2 * (10 * (3 + 4 + 5) + 3));
    const g = m.fGrad(x, 2);
    expect(Array.from(g.gradient.x)).toEqual([0, 0, 20, 20, 20]);
    expect(g.gradient.t).toBe(123);
    expect(run(let2('prod(i: k[i])')).f(x, 0)).toBe(30 * 40 * 50);
    // Defined reads in a range that starts later still need no check.
    expect(run(let2('sum(j in 3..n: k[j])')).f(x, 0)).toBe(90);
  });

  it('a read not provably defined is checked when it runs: a RangeError naming the defined range', () => {
    const m = run(let2('k[floor(t)]'));
    expect(m.f(x, 3.5)).toBe(40);
    expect(m.fGrad(x, 3.5).gradient.x).toEqual(Float64Array.from([0, 0, 0, 10, 0]));
    expect(() => m.f(x, 1)).toThrow(RangeError);
    expect(() => m.f(x, 1)).toThrow('f, line 3: k[floor(t)] is 1, outside the elements defined, 2..4');
    expect(() => m.f(x, 5)).toThrow('outside the elements defined, 2..4');
    // A start known only at run time: reads from 0 are checked against it.
    const s = run('fn f(x: vec[n], t) {\n  let k[i in floor(t)..n] = x[i]\n  return k[1]\n}\n');
    expect(s.f(x, 1)).toBe(2);
    expect(() => s.f(x, 2)).toThrow('k[1] is 1, outside the elements defined, 2..4');
  });

  it('dot, norm, a function and a return that would read every element are AD6096', () => {
    expect(diagnose(let2('dot(k, x)'))[0]).toMatchObject({ code: 'AD6096', line: 3, column: 14 });
    expect(diagnose(let2('norm(k)'))[0]).toMatchObject({ code: 'AD6096', message: "'k' is defined from element 2 on, not 0, but 'norm' reads every element; read the defined ones by index, over their range" });
    expect(diagnose(`fn g(a: vec[n]) = sum(i: a[i])\n${let2('g(k)')}`)[0]).toMatchObject({ code: 'AD6096', line: 4 });
    expect(diagnose('fn f(x: vec[n]) {\n  let k[i in 1..n] = x[i]\n  return k\n}\n')[0]).toMatchObject({ code: 'AD6096', line: 3, column: 10 });
  });

  it('an inferred range over a partly defined let and a whole array is AD6095: the author gives it', () => {
    expect(diagnose(let2('sum(i: k[i] * x[i])'))[0]).toMatchObject({
      code: 'AD6095',
      message: "the range of 'i' is ambiguous: k is defined from 2 on, x from 0; give the range, as in 'i in 2..n'",
    });
    expect(run(let2('sum(i in 2..n: k[i] * x[i])')).f(x, 0)).toBe(10 * (9 + 16 + 25));
  });
});
