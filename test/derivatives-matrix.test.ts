import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics } from '../src/index.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Issue #14's matrix cases of the derivative exports: fVjp and fJacobian of a function returning a
 * mat, fHessian and fHvp with mat parameters. Checked against hand-derived formulas (exact up to
 * rounding), central differences of the value and of fGrad, ⟨u, J v⟩ both ways, symmetry, and
 * fHessian · v = fHvp(v).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules take and return arrays and objects
type Module = Record<string, (...args: any[]) => any>;

function load(source: string, derivatives: string[], mode?: 'forward' | 'reverse'): Module {
  const r = compileSync(source, { derivatives: derivatives as never });
  if (r.code === undefined) throw new Error(formatDiagnostics(r.diagnostics, source, 'input.ad'));
  const marker = "const $jacobianMode = 'auto';";
  return instantiate(mode ? r.code.replace(marker, `const $jacobianMode = '${mode}';`) : r.code) as unknown as Module;
}

const matmul = `fn matmul(A: mat[m, k], B: mat[k, n], s) {
  let C[i, c] = s * sum(j: A[i, j] * B[j, c])
  return C
}`;
// A (2 × 3), B (3 × 2), s: C = s·A·B is 2 × 2.
const A = [
  [0.5, -1.25, 2],
  [1.5, 0.75, -0.5],
];
const B = [
  [1, -2],
  [0.25, 3],
  [-1.5, 0.5],
];
const s = 1.75;
const rows = (m: readonly ArrayLike<number>[]) => m.map((r) => Array.from(r));

describe('fVjp and fJacobian of a function returning a mat', () => {
  it('fVjp takes a cotangent U shaped like the value: ∂⟨U, sAB⟩ = (s·U·Bᵀ, s·Aᵀ·U, ⟨U, AB⟩)', () => {
    const m = load(matmul, ['vjp']);
    const U = [
      [1, -0.5],
      [2, 0.25],
    ];
    const r = m.matmulVjp(U, A, B, s);
    const AB = A.map((a) => [0, 1].map((c) => a.reduce((t, x, j) => t + x * B[j][c], 0)));
    expect(rows(r.value)).toEqual(rows(m.matmul(A, B, s)));
    A.forEach((a, i) => a.forEach((_, j) => expect(r.gradient.A[i][j]).toBeCloseTo(s * (U[i][0] * B[j][0] + U[i][1] * B[j][1]), 13)));
    B.forEach((b, j) => b.forEach((_, c) => expect(r.gradient.B[j][c]).toBeCloseTo(s * (A[0][j] * U[0][c] + A[1][j] * U[1][c]), 13)));
    expect(r.gradient.s).toBeCloseTo(AB.flat().reduce((t, x, k) => t + x * U.flat()[k], 0), 13);
    // A cotangent of the wrong shape is refused, naming it.
    expect(() => m.matmulVjp([[1, 2]], A, B, s)).toThrow(new RangeError("matmulVjp: cotangent has 1 elements, but the value's row count is 2"));
    expect(() => m.matmulVjp([[1, 2], [3]], A, B, s)).toThrow(new RangeError("matmulVjp: cotangent[1] has 1 elements, but the value's row length is 2"));
  });

  it('fJacobian nests J[i][c] (the value’s shape) over the parameter’s shape, by both sweeps, as derived by hand', () => {
    for (const mode of ['forward', 'reverse'] as const) {
      const { value, jacobian: J } = load(matmul, ['jacobian'], mode).matmulJacobian(A, B, s);
      expect(rows(value)).toEqual(rows(load(matmul, []).matmul(A, B, s)));
      expect(J.A).toHaveLength(2);
      for (let i = 0; i < 2; i++)
        for (let c = 0; c < 2; c++) {
          // ∂C[i][c]/∂A[a][b] = s·δ(i, a)·B[b][c]; ∂C[i][c]/∂B[b][d] = s·A[i][b]·δ(c, d); ∂C[i][c]/∂s = (AB)[i][c].
          A.forEach((row, a) => row.forEach((_, b) => expect(J.A[i][c][a][b], `${mode} A ${i}${c}${a}${b}`).toBeCloseTo(i === a ? s * B[b][c] : 0, 13)));
          B.forEach((row, b) => row.forEach((_, d) => expect(J.B[i][c][b][d], `${mode} B`).toBeCloseTo(c === d ? s * A[i][b] : 0, 13)));
          expect(J.s[i][c]).toBeCloseTo(value[i][c] / s, 13);
        }
      expect(J.A[0][0][0]).toBeInstanceOf(Float64Array);
      expect(J.s[0]).toBeInstanceOf(Float64Array);
    }
  });

  it('fJacobian of a nonlinear mat against central differences of the value, and J·v = fJvp', () => {
    const source = `fn g(x: vec[n], t) {
  let M[i, j] = sin(t * x[i]) * exp(x[j]) + x[i] * x[j] / (1 + t * t)
  return M
}`;
    const x = [0.3, -0.7, 1.1];
    const t = 0.8;
    const m = load(source, ['jvp', 'jacobian']);
    const { jacobian: J } = m.gJacobian(x, t);
    const h = 1e-6;
    for (let k = 0; k < 3; k++) {
      const at = (d: number) => m.g(x.map((e, j) => (j === k ? e + d : e)), t) as Float64Array[];
      const [p, q] = [at(h), at(-h)];
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(J.x[i][j][k]).toBeCloseTo((p[i][j] - q[i][j]) / (2 * h), 7);
    }
    const [p, q] = [m.g(x, t + h), m.g(x, t - h)] as Float64Array[][];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(J.t[i][j]).toBeCloseTo((p[i][j] - q[i][j]) / (2 * h), 7);
    const v = [0.5, -1, 2];
    const tangent = m.gJvp({ x: v, t: 0.25 }, x, t).tangent as Float64Array[];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(tangent[i][j]).toBeCloseTo(J.x[i][j].reduce((a: number, e: number, k: number) => a + e * v[k], 0) + 0.25 * J.t[i][j], 12);
  });

  it('⟨U, J v⟩ = ⟨Jᵀ U, v⟩ by fJvp and fVjp, a mat parameter and a mat result', () => {
    const m = load(matmul, ['jvp', 'vjp']);
    const U = [
      [0.3, -1.1],
      [0.7, 2.2],
    ];
    const dA = [
      [1, 0.5, -0.25],
      [-2, 0.125, 1],
    ];
    const dB = [
      [0.5, 1],
      [-1, 0.25],
      [2, -0.5],
    ];
    const jv = m.matmulJvp({ A: dA, B: dB, s: -0.4 }, A, B, s).tangent as Float64Array[];
    const g = m.matmulVjp(U, A, B, s).gradient;
    const inner = (a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]) => a.reduce((t, r, i) => t + Array.from(r).reduce((u, e, j) => u + e * b[i][j], 0), 0);
    expect(inner(U, jv)).toBeCloseTo(inner(g.A, dA) + inner(g.B, dB) - 0.4 * g.s, 12);
  });
});

describe('fHessian and fHvp with mat parameters', () => {
  // q = xᵀAx, t = tr(A), f = q·t: ∂f/∂A[a][b] = x_a·x_b·t + q·δ(a, b), so
  // ∂²f/∂A[a][b]∂A[c][d] = x_a·x_b·δ(c, d) + x_c·x_d·δ(a, b).
  const quad = 'fn quad(A: mat[n, n], x: vec[n]) = sum(i: sum(j: x[i] * A[i, j] * x[j])) * sum(i: A[i, i])';
  const M = [
    [1.5, -0.5, 0.25],
    [0.75, 2, -1],
    [0.5, 0.125, -0.75],
  ];
  const x = [0.4, -1.2, 0.9];
  const n = 3;

  it('hessian.A.A is n × n × n × n, as derived by hand; the blocks are (p shape) × (q shape)', () => {
    const m = load(quad, ['grad', 'hessian']);
    const { value, gradient, hessian: H } = m.quadHessian(M, x);
    const g = m.quadGrad(M, x);
    expect(value).toBe(g.value);
    expect(rows(gradient.A)).toEqual(rows(g.gradient.A));
    const d = (a: number, b: number) => (a === b ? 1 : 0);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++)
        for (let c = 0; c < n; c++) for (let e = 0; e < n; e++) expect(H.A.A[a][b][c][e], `${a}${b}${c}${e}`).toBeCloseTo(x[a] * x[b] * d(c, e) + x[c] * x[e] * d(a, b), 13);
    expect(H.A.A[0][0][0]).toBeInstanceOf(Float64Array);
    expect(H.A.x[0][0]).toBeInstanceOf(Float64Array);
    expect(H.x.A[0][0]).toBeInstanceOf(Float64Array);
    expect(H.x.x[0]).toBeInstanceOf(Float64Array);
    // The cross blocks and x's own against central differences of fGrad: column by column.
    const h = 1e-6;
    for (let c = 0; c < n; c++)
      for (let e = 0; e < n; e++) {
        const at = (dd: number) => m.quadGrad(M.map((r, i) => r.map((v, j) => (i === c && j === e ? v + dd : v))), x).gradient;
        const [p, q] = [at(h), at(-h)];
        for (let i = 0; i < n; i++) expect(H.x.A[i][c][e]).toBeCloseTo((p.x[i] - q.x[i]) / (2 * h), 6);
      }
    for (let k = 0; k < n; k++) {
      const at = (dd: number) => m.quadGrad(M, x.map((v, j) => (j === k ? v + dd : v))).gradient;
      const [p, q] = [at(h), at(-h)];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(H.A.x[i][j][k]).toBeCloseTo((p.A[i][j] - q.A[i][j]) / (2 * h), 6);
      for (let i = 0; i < n; i++) expect(H.x.x[i][k]).toBeCloseTo((p.x[i] - q.x[i]) / (2 * h), 6);
    }
    // Symmetry across blocks: ∂²f/∂A[a][b]∂x[k] = ∂²f/∂x[k]∂A[a][b].
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) for (let k = 0; k < n; k++) expect(H.A.x[a][b][k]).toBeCloseTo(H.x.A[k][a][b], 12);
  });

  it('fHvp(v) with v shaped like the gradient (rows for A) equals fHessian · v', () => {
    const m = load(quad, ['hvp', 'hessian']);
    const { hessian: H } = m.quadHessian(M, x);
    const vA = [
      [0.5, -1, 0.25],
      [2, 0.125, -0.5],
      [-0.75, 1, 1.5],
    ];
    const vx = [0.3, -0.6, 1.2];
    const { hvp } = m.quadHvp({ A: vA, x: vx }, M, x);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) {
        let want = 0;
        for (let c = 0; c < n; c++) for (let e = 0; e < n; e++) want += H.A.A[a][b][c][e] * vA[c][e];
        for (let k = 0; k < n; k++) want += H.A.x[a][b][k] * vx[k];
        expect(hvp.A[a][b]).toBeCloseTo(want, 12);
      }
    for (let i = 0; i < n; i++) {
      let want = 0;
      for (let c = 0; c < n; c++) for (let e = 0; e < n; e++) want += H.x.A[i][c][e] * vA[c][e];
      for (let k = 0; k < n; k++) want += H.x.x[i][k] * vx[k];
      expect(hvp.x[i]).toBeCloseTo(want, 12);
    }
  });

  it('a scalar and a mat parameter: hessian.s.A and hessian.A.s have A’s shape', () => {
    const m = load('fn f(s, A: mat[m, n]) = s * s * sum(i: sum(j: A[i, j] * A[i, j]))', ['hessian']);
    const P = [
      [1, 2],
      [-3, 0.5],
    ];
    const { hessian: H } = m.fHessian(0.5, P);
    // ∂²f/∂s∂A[i][j] = 4·s·A[i][j]; ∂²f/∂s² = 2·ΣA²; ∂²f/∂A[i][j]∂A[k][l] = 2·s²·δ.
    expect(H.s.s).toBeCloseTo(2 * (1 + 4 + 9 + 0.25), 13);
    P.forEach((r, i) => r.forEach((e, j) => expect([H.s.A[i][j], H.A.s[i][j]]).toEqual([4 * 0.5 * e, 4 * 0.5 * e])));
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) for (let l = 0; l < 2; l++) expect(H.A.A[i][j][k][l]).toBe(i === k && j === l ? 2 * 0.25 : 0);
  });

  it('a wrong-shaped matrix argument is a RangeError naming it, as for fGrad', () => {
    const m = load(quad, ['hessian']);
    expect(() => m.quadHessian([[1, 2], [3]], [1, 2])).toThrow(RangeError);
  });
});
