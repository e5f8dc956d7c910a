/**
 * Array variables (issue #13, outside loop blocks): `var y: vec[n] = e`, element-wise updates
 * `y[i] = e` (i fresh: all elements at once, every right-hand side reading y from before the
 * statement), single-element updates `y[j] = e`, `return y` and `y[k]` reads. Values against plain
 * JavaScript written here, gradients against the forward-mode oracle (the same JavaScript over dual
 * numbers) and central finite differences; run-time range errors and located diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { duals, forwardGradient, numbers, type Arith, type Dual } from './oracle/arrays.ts';
import { compileAndLoad } from './support/load.ts';
import { diagnose, only } from './support/diagnostics.ts';

const source = `
fn blur(x: vec[n], a, const j) {
  var y: vec[n] = x
  y[i] = a * y[i] + y[n - 1 - i]     # reads the y before the statement (a reversal)
  y[j] = y[j] * y[0]
  var z: vec[n] = 2
  z[i] = z[i] + y[i] * a
  return sum(i: z[i] * z[i]) + y[n - 1]
}

fn rows(A: mat[m, n], c, const r) {
  var M: mat[m, n] = A
  M[i, k] = M[i, k] * c + A[i, k] * A[i, k]
  M[r, k] = c * M[r, k] * M[r, k]     # row r only: r fixed, k fresh
  M[0, 0] = exp(M[0, 0])
  return sum(i: sum(k: M[i, k] * A[i, k]))
}

fn squares(x: vec[n]) {
  var y: vec[n] = x
  y[i] = y[i] * y[i]
  return y
}

fn scaled(x: vec[n], c) {
  var y: vec[n] = x
  y[i] = c * y[i]
  var s = 0
  for t in 0..3 {
    s = s + c * y[t]
  }
  y[0] = s
  return y
}

fn use(x: vec[n], c) = sum(i: scaled(x, c)[i] * x[i])

fn swap(x: vec[3], c) {
  var y: vec[3] = x
  y = [c, c * c, 1]
  var w: vec[3] = y
  w[2] = w[0] + w[1]
  return w[2] * x[0]
}
`;
const m = await compileAndLoad(source);
type Grad = { value: number; gradient: Record<string, number | Float64Array | Float64Array[]> };
const fn = (name: string) => m[name] as (...a: unknown[]) => unknown;

function blurT<T>(A: Arith<T>, x: readonly T[], a: T, j: number): T {
  const n = x.length;
  let y = [...x];
  y = y.map((_, i) => A.add(A.mul(a, y[i]), y[n - 1 - i]));
  y = y.map((v, i) => (i === j ? A.mul(y[j], y[0]) : v));
  let z = y.map(() => A.lift(2));
  z = z.map((v, i) => A.add(v, A.mul(y[i], a)));
  return A.add(
    z.reduce((s, v) => A.add(s, A.mul(v, v)), A.lift(0)),
    y[n - 1],
  );
}

function rowsT<T>(A: Arith<T>, X: readonly (readonly T[])[], c: T, r: number): T {
  let M = X.map((row) => row.map((v) => A.add(A.mul(v, c), A.mul(v, v))));
  M = M.map((row, i) => (i === r ? row.map((v) => A.mul(A.mul(c, v), v)) : row));
  M[0] = [A.exp(M[0][0]), ...M[0].slice(1)];
  let s = A.lift(0);
  M.forEach((row, i) => row.forEach((v, k) => (s = A.add(s, A.mul(v, X[i][k])))));
  return s;
}

function close(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

/** ∂f/∂x_k for each k by central differences with step h. */
const centralDifferences = (f: (x: number[]) => number, x: readonly number[], h: number): number[] =>
  x.map((_, k) => {
    const up = [...x];
    const dn = [...x];
    up[k] += h;
    dn[k] -= h;
    return (f(up) - f(dn)) / (2 * h);
  });

const closeAll = (actual: ArrayLike<number>, expected: ArrayLike<number>, relative: number) => {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) close(actual[k], expected[k], relative);
};

describe('array variables', () => {
  for (const x of [[0.3, -1.2, 0.7, 2.0], [1.5], [0.2, 0.9]]) {
    it(`blur over ${x.length} element(s): value, forward-mode oracle, finite differences`, () => {
      const a = 0.9;
      const j = x.length - 1;
      const g = fn('blurGrad')(x, a, j) as Grad;
      const reference = blurT(numbers, x, a, j);
      close(fn('blur')(x, a, j) as number, reference, 1e-14);
      close(g.value, reference, 1e-14);
      const oracle = forwardGradient({ x: { kind: 'vec', value: x }, a: { kind: 'scalar', value: a } }, (p) => blurT(duals, p.x as Dual[], p.a as Dual, j));
      closeAll(g.gradient.x as Float64Array, oracle.gradient.x as Float64Array, 1e-12);
      close(g.gradient.a as number, oracle.gradient.a as number, 1e-12);
      const h = 1e-6;
      const fd = centralDifferences((v) => blurT(numbers, v, a, j), x, h);
      closeAll(g.gradient.x as Float64Array, fd, 1e-6);
    });
  }

  it('a matrix variable: element-wise, one row (a fixed index with a fresh one), one element', () => {
    const X = [
      [0.5, -1, 0.3],
      [1.2, 0.4, -0.6],
    ];
    const c = 0.7;
    for (const r of [0, 1]) {
      const g = fn('rowsGrad')(X, c, r) as Grad;
      close(g.value, rowsT(numbers, X, c, r), 1e-14);
      const oracle = forwardGradient({ A: { kind: 'mat', value: X }, c: { kind: 'scalar', value: c } }, (p) => rowsT(duals, p.A as Dual[][], p.c as Dual, r));
      (g.gradient.A as Float64Array[]).forEach((row, i) => closeAll(row, (oracle.gradient.A as Float64Array[])[i], 1e-12));
      close(g.gradient.c as number, oracle.gradient.c as number, 1e-12);
    }
  });

  it('return y: a fresh Float64Array per call, the argument untouched', () => {
    const x = [1, 2, 3];
    const first = fn('squares')(x) as Float64Array;
    expect(first).toBeInstanceOf(Float64Array);
    expect([...first]).toEqual([1, 4, 9]);
    first[0] = 100;
    const second = fn('squares')(x) as Float64Array;
    expect(second).not.toBe(first);
    expect([...second]).toEqual([1, 4, 9]);
    expect(x).toEqual([1, 2, 3]);
    expect([...(fn('squares')([]) as Float64Array)]).toEqual([]);
  });

  it('a function with array and number variables and a loop, called where an array stands (computed once)', () => {
    const x = [0.3, -1.2, 0.7, 2.0];
    const c = 1.3;
    const ref = (x: readonly number[], c: number) => {
      const y = x.map((v) => c * v);
      let s = 0;
      for (let t = 0; t < 3; t++) s += c * y[t];
      y[0] = s;
      return y.reduce((acc, v, i) => acc + v * x[i], 0);
    };
    close(fn('use')(x, c) as number, ref(x, c), 1e-14);
    const g = fn('useGrad')(x, c) as Grad;
    const h = 1e-6;
    const fd = centralDifferences((v) => ref(v, c), x, h);
    closeAll(g.gradient.x as Float64Array, fd, 1e-6);
    close(g.gradient.c as number, (ref(x, c + h) - ref(x, c - h)) / (2 * h), 1e-6);
    // Exact: use = Σ c x_i² for i ≥ 1, plus (c² (x0 + x1 + x2)) x0.
    const exact = c * (x[1] ** 2 + x[2] ** 2 + x[3] ** 2) + c * c * (x[0] + x[1] + x[2]) * x[0];
    close(g.value, exact, 1e-14);
  });

  it('whole-array assignment from a list, fixed-size variables', () => {
    // w = [c, c², c + c²]: w[2] x0.
    const g = fn('swapGrad')([2, 5, 7], 3) as Grad;
    expect(g.value).toBe((3 + 9) * 2);
    expect([...(g.gradient.x as Float64Array)]).toEqual([12, 0, 0]);
    expect(g.gradient.c).toBe((1 + 2 * 3) * 2);
    expect(() => fn('swap')([2, 5], 3)).toThrow(RangeError);
  });

  it('a single-element update out of range is a RangeError naming the variable', () => {
    expect(() => fn('blur')([1, 2, 3], 0.5, 3)).toThrow(/^blur, line 5: y\[j\] is 3, outside 0\.\.2$/);
    expect(() => fn('blur')([1, 2, 3], 0.5, -1)).toThrow(/y\[j\] is -1, outside 0\.\.2/);
    expect(() => fn('blurGrad')([1, 2, 3], 0.5, 1.5)).toThrow(/y\[j\] is 1\.5, outside 0\.\.2/);
    expect(() => fn('rows')([[1, 2]], 0.5, 1)).toThrow(/rows, line 14: M\[r, k\] \(index 1\) is 1, outside 0\.\.0/);
  });
});

describe('array variables in forward mode', async () => {
  const fm = await compileAndLoad(source, { derivatives: ['grad', 'jvp'] });
  it('blur: jvp along each input direction is the forward-mode oracle\'s gradient entry', () => {
    const x = [0.3, -1.2, 0.7, 2.0];
    const a = 0.9;
    const oracle = forwardGradient({ x: { kind: 'vec', value: x }, a: { kind: 'scalar', value: a } }, (p) => blurT(duals, p.x as Dual[], p.a as Dual, 2));
    const jvp = fm.blurJvp as unknown as (t: unknown, ...args: unknown[]) => { value: number; tangent: number };
    x.forEach((_, k) => {
      const r = jvp({ x: x.map((_, c) => (c === k ? 1 : 0)), a: 0 }, x, a, 2);
      close(r.value, oracle.value, 1e-14);
      close(r.tangent, (oracle.gradient.x as Float64Array)[k], 1e-12);
    });
    close(jvp({ x: [0, 0, 0, 0], a: 1 }, x, a, 2).tangent, oracle.gradient.a as number, 1e-12);
  });
});

describe('array variables: diagnostics', () => {
  it('a wrong shape, a size that is not a size, a wrong index count, an array assigned to a number', () => {
    const all = diagnose(
      'fn f(x: vec[n], A: mat[m, n], const k) {\n  var y: vec[n] = A\n  var u: vec[m] = x\n  var w: vec[k] = 1\n  var s = 0\n  s = [1, 2]\n  y[i, j] = 1\n  u = [1, 2]\n  return s\n}',
    );
    expect(all.map((d) => [d.code, d.line, d.column])).toEqual([
      ['AD7012', 2, 19],
      ['AD7012', 3, 19],
      ['AD7013', 4, 14],
      ['AD7008', 6, 7],
      ['AD6007', 7, 3],
      ['AD7012', 8, 7],
    ]);
    expect(all[0].message).toBe("'y' is vec[n], but 'A' is mat[m, n]; an array variable keeps its shape");
    expect(all[5].message).toBe("'u' is vec[m], but '[1, 2]' is vec[2]; an array variable keeps its shape");
  });

  it('unknown sizes and types, and reads out of range, are located', () => {
    expect(only('fn f(x: vec[n]) {\n  var y: vec[q] = x\n  return y[0]\n}')).toMatchObject({ code: 'AD2001', line: 2, column: 14 });
    expect(only('fn f(x: vec[n]) {\n  var y: list[n] = x\n  return y[0]\n}')).toMatchObject({ code: 'AD6001', line: 2, column: 10 });
    expect(only('fn f(x: vec[n]) {\n  var y: vec[n] = x\n  y[i] = y[i + 1]\n  return y[0]\n}')).toMatchObject({ code: 'AD6011', line: 3, column: 12 });
  });

  it('a function with an array variable, returning a number, called inside a loop block (AD6016 before) or a reduction (AD6016)', async () => {
    const g = 'fn g(x: vec[n], c) {\n  var y: vec[n] = x\n  y[i] = c * y[i]\n  return sum(i: y[i])\n}\n';
    // In a block its array is made once, before the blocks, and filled again per call: s ← s + s·Σx = s·(1 + Σx).
    const m = await compileAndLoad(`${g}fn f(x: vec[n], c) {\n  var s = c\n  for t in 0..3 {\n    s = s + g(x, s)\n  }\n  return s\n}`);
    const f = m.f as unknown as (x: Float64Array, c: number) => number;
    const fGrad = m.fGrad as unknown as (x: Float64Array, c: number) => unknown;
    expect(f(new Float64Array([0.5, -0.25]), 2)).toBe(2 * 1.25 ** 3);
    const r = fGrad(new Float64Array([0.5, -0.25]), 2) as { value: number; gradient: { x: Float64Array; c: number } };
    // ∂/∂c = 1.25³, ∂/∂x_k = 3·c·1.25² (exact in binary).
    expect(r).toEqual({ value: 2 * 1.25 ** 3, gradient: { x: new Float64Array([6 * 1.25 ** 2, 6 * 1.25 ** 2]), c: 1.25 ** 3 } });
    expect(only(`${g}fn f(x: vec[n], c) = sum(i: g(x, c) * x[i])`)).toMatchObject({ code: 'AD6016', line: 6, column: 29 });
  });

  it('a fixed index that is the fresh one again, or an update of a let, are refused', () => {
    expect(only('fn f(A: mat[n, n]) {\n  var M: mat[n, n] = A\n  M[i, i] = 0\n  return M[0, 0]\n}')).toMatchObject({ code: 'AD2001', line: 3, column: 8 });
    expect(only('fn f(x: vec[n]) {\n  let y[i] = x[i]\n  y[i] = 0\n  return y[0]\n}')).toMatchObject({ code: 'AD7001', line: 3, column: 3 });
  });
});
