import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { only } from './support/diagnostics.ts';
import { compileAndInstantiate } from './support/instantiate.ts';

/**
 * Functions returning arrays (an array let, a list `[a, b]`, `[[a, b], [c, d]]`, another array
 * function's result, a parameter) and their uses: `g(x)[i]`, reductions over them, array arguments.
 * Values against plain JavaScript written here; gradients of scalar functions through them against
 * central finite differences and hand-derived formulas.
 */
const source = `
fn rotate(theta, p: vec[n]) = [cos(theta) * p[0] - sin(theta) * p[1], sin(theta) * p[0] + cos(theta) * p[1]]
fn scaled(a, x: vec[n]) {
  let z[i] = a * x[i]
  return z
}
fn outer(u: vec[n], v: vec[m]) {
  let M[i, j] = u[i] * v[j]
  return M
}
fn block(a, b) = [[a, b], [b * a, 1]]
fn same(x: vec[n]) = x
fn twice(a, x: vec[n]) = scaled(2, scaled(a, x))
fn total(a, x: vec[n]) = sum(i: scaled(a, x)[i]) + dot(same(x), scaled(a, x)) + norm(twice(a, x))
fn angle(theta, p: vec[n]) = rotate(theta, p)[1] * block(theta, 2)[1, 0]
fn energy(a, x: vec[n]) {
  let y[i] = scaled(a, x)[i] ^ 2
  return sum(i: y[i]) + sum(i: sum(j: outer(x, x)[i, j]))
}
`;

const fd = (f: (h: number) => number, h = 1e-6) => (f(h) - f(-h)) / (2 * h);

describe('functions returning arrays', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- array arguments and results
  const m = compileAndInstantiate(source) as unknown as Record<string, (...args: any[]) => any>;

  it('return new Float64Arrays (a mat: Float64Array rows) with the right values', () => {
    const p = [1, 2];
    const r = m.rotate(0.3, p) as Float64Array;
    expect(r).toBeInstanceOf(Float64Array);
    expect([...r]).toEqual([Math.cos(0.3) * 1 - Math.sin(0.3) * 2, Math.sin(0.3) * 1 + Math.cos(0.3) * 2]);
    expect([...(m.scaled(3, [1, 2, 4]) as Float64Array)]).toEqual([3, 6, 12]);
    expect([...(m.twice(3, [1, 2]) as Float64Array)]).toEqual([6, 12]);
    const M = m.outer([1, 2], [3, 4, 5]) as Float64Array[];
    expect(M).toHaveLength(2);
    expect(M.map((row) => [...row])).toEqual([[3, 4, 5], [6, 8, 10]]);
    expect(M[1]).toBeInstanceOf(Float64Array);
    expect((m.block(2, 3) as Float64Array[]).map((row) => [...row])).toEqual([[2, 3], [6, 1]]);
    expect(m.outer([], [1, 2])).toEqual([]);
    expect([...(m.scaled(2, []) as Float64Array)]).toEqual([]);
  });

  it('never hand out a work array: each call returns a new array, and returning a parameter copies it', () => {
    const a = m.scaled(2, [1, 2, 3]) as Float64Array;
    const b = m.scaled(5, [1, 1, 1]) as Float64Array;
    expect(a).not.toBe(b);
    expect([...a]).toEqual([2, 4, 6]);
    const x = new Float64Array([7, 8]);
    const y = m.same(x) as Float64Array;
    expect(y).not.toBe(x);
    y[0] = 0;
    expect(x[0]).toBe(7);
    const M1 = m.outer([1], [1]) as Float64Array[];
    m.outer([9], [9]);
    expect(M1[0][0]).toBe(1);
  });

  it('export only their value (their derivatives are Jacobians, not gradients)', () => {
    expect(m.rotate).toBeTypeOf('function');
    expect(m.rotateGrad).toBeUndefined();
    expect(m.outerGrad).toBeUndefined();
    expect(m.totalGrad).toBeTypeOf('function');
  });

  it('are used by scalar functions: values and exact gradients through them', () => {
    const x = [0.5, -1.25, 2];
    const a = 0.7;
    const norm2 = Math.hypot(...x.map((v) => 2 * a * v));
    const total = x.reduce((s, v) => s + a * v, 0) + x.reduce((s, v) => s + v * a * v, 0) + norm2;
    expect(m.total(a, x)).toBeCloseTo(total, 13);
    const g = m.totalGrad(a, x);
    // ∂/∂a: Σx + Σx² + |2x|; ∂/∂x_i: a + 2 a x_i + 2a·sign(a)·x_i / |x|.
    const sx = x.reduce((s, v) => s + v, 0);
    const sxx = x.reduce((s, v) => s + v * v, 0);
    expect(g.gradient.a).toBeCloseTo(sx + sxx + 2 * Math.sqrt(sxx), 12);
    const gx = g.gradient.x as Float64Array;
    x.forEach((v, i) => expect(gx[i]).toBeCloseTo(a + 2 * a * v + (2 * a * v) / Math.sqrt(sxx), 12));

    const theta = 0.4;
    const p = [1.5, -0.5];
    const ga = m.angleGrad(theta, p);
    expect(ga.value).toBeCloseTo((Math.sin(theta) * p[0] + Math.cos(theta) * p[1]) * 2 * theta, 14);
    expect(ga.gradient.theta).toBeCloseTo(fd((h) => m.angle(theta + h, p) as number), 8);
    const gp = ga.gradient.p as Float64Array;
    expect(gp[0]).toBeCloseTo(Math.sin(theta) * 2 * theta, 14);
    expect(gp[1]).toBeCloseTo(Math.cos(theta) * 2 * theta, 14);

    const ge = m.energyGrad(a, x);
    expect(ge.value).toBeCloseTo(a * a * sxx + sx * sx, 12);
    expect(ge.gradient.a).toBeCloseTo(2 * a * sxx, 12);
    x.forEach((v, i) => expect((ge.gradient.x as Float64Array)[i]).toBeCloseTo(2 * a * a * v + 2 * sx, 12));
  });

  it('compute a call once per statement, not once per element', () => {
    const code = compileSync('fn g(a, x: vec[n]) {\n  let z[i] = a * x[i]\n  return z\n}\nfn f(a, x: vec[n]) = sum(i: g(a, x)[i] * g(a, x)[0])\n').code!;
    const f = code.slice(code.indexOf('\nfunction f('), code.indexOf('\nfunction fGrad('));
    // g's array is filled by one loop per call written, before the reduction's loop.
    expect(f.match(/for \(/g)).toHaveLength(3);
    expect(f.indexOf('$work')).toBeLessThan(f.indexOf('let $t'));
  });

  it('declare their results in --dts: Float64Array and Float64Array[], and no Grad export', () => {
    const dts = compileSync(source, { dts: true }).dts!;
    expect(dts).toContain('export declare function rotate(theta: number, p: ArrayLike<number>): Float64Array;');
    expect(dts).toContain('export declare function outer(u: ArrayLike<number>, v: ArrayLike<number>): Float64Array[];');
    expect(dts).not.toContain('rotateGrad');
    expect(dts).toContain('export declare function totalGrad(');
    const info = compileSync(source).functions;
    expect(info.find((f) => f.name === 'block')!.result).toBe('mat');
    expect(info.find((f) => f.name === 'scaled')!.result).toBe('vec');
    expect(info.find((f) => f.name === 'total')!.result).toBeUndefined();
  });
});

describe('misuse of array results is a located diagnostic', () => {
  it.each([
    ['indexing a number', 'fn g(x) = x\nfn f(x) = g(x)[0]', 'AD6041', 2, 11],
    ['an array where a number is needed', 'fn g(x: vec[n]) = x\nfn f(x: vec[n]) = g(x) + 1', 'AD6040', 2, 19],
    ['a list where a number is needed', 'fn f(x) = [x, 1] * 2', 'AD6040', 1, 11],
    ['an array argument to a built-in', 'fn g(a) = [a, 2 * a]\nfn f(x) = sin(g(x))', 'AD6040', 2, 15],
    ['an array in a number let', 'fn g(a) = [a, 2 * a]\nfn f(x) {\n  let y = g(x)\n  return x\n}', 'AD6040', 3, 11],
    ['rows of different lengths', 'fn f(x) = [[x, 1], [2]]', 'AD6042', 1, 20],
    ['a number among rows', 'fn f(x) = [[x, 1], 2]', 'AD6042', 1, 20],
    ['three levels of lists', 'fn f(x) = [[[x]]]', 'AD6043', 1, 13],
    ['an array call per index', 'fn g(a) = [a, 2 * a]\nfn f(x: vec[n]) = sum(i: g(x[i])[0])', 'AD6044', 2, 26],
    ['a list per index', 'fn f(x: vec[n]) = sum(i: [x[i], 1][0])', 'AD6044', 1, 26],
    ['reading past the end of a result', 'fn g(a) = [a, 2 * a]\nfn f(x) = g(x)[2]', 'AD6011', 2, 16],
    ['too many indices', 'fn g(a) = [a, 2 * a]\nfn f(x) = g(x)[0, 1]', 'AD6007', 2, 11],
    ['a number for an array parameter', 'fn h(v: vec[n]) = sum(i: v[i])\nfn f(x) = h(x)', 'AD6012', 2, 13],
    ['an array result for a number parameter', 'fn g(a) = [a]\nfn h(t) = t\nfn f(x) = h(g(x))', 'AD6013', 3, 13],
    ['a list in a branch', 'fn f(x) = if x > 0 then [x] else 1', 'AD6040', 1, 25],
    ['indexing a reduction (it used to be dropped)', 'fn f(x: vec[n]) = sum(i: x[i])[0]', 'AD6041', 1, 19],
    ['calling a reduction (it used to be dropped)', 'fn f(x: vec[n]) = sum(i: x[i])(1)', 'AD8001', 1, 19],
  ])('%s', (_what, text, code, line, column) => {
    expect(only(text)).toMatchObject({ code, line, column });
  });

  it('infers a range from a result and names both lengths when they disagree', () => {
    const d = only('fn g(a) = [a, 2 * a]\nfn f(x: vec[n]) = sum(i: g(x[0])[i] * x[i])');
    expect(d).toMatchObject({ code: 'AD6010', message: expect.stringContaining('g(...) has 2 elements there but x has n') });
    const m = compileAndInstantiate('fn g(a) = [a, 2 * a]\nfn f(x: vec[n]) = sum(i: g(x[0])[i])') as unknown as Record<string, (x: number[]) => number>;
    expect(m.f([3])).toBe(9);
  });
});
