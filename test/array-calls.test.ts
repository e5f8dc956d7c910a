import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync, type CompileOptions } from '../src/index.ts';
import { approxEqual } from './oracle/dual.ts';
import { luDetForward, luDetT, numbers, rng } from './oracle/arrays.ts';
import { diagnose, only } from './support/diagnostics.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Calls that stay calls for functions with array parameters (issue #15): their forms take arrays
 * flat and then the sizes, an array argument's adjoint comes back as a new array, and recursion
 * over a size that decreases is bounded (the determinant by expansion in minors). Checked against
 * an LU determinant, the cofactor formula, central differences, the forward-mode oracle, and the
 * same programs with every call inlined.
 */
type Module = Record<string, (...args: unknown[]) => any>;
const all = ['grad', 'jvp', 'vjp', 'jacobian', 'hvp', 'hessian'] as const;

function build(source: string, options: CompileOptions = {}): { code: string; m: Module } {
  const r = compileSync(source, { derivatives: [...all], ...options });
  expect(r.diagnostics.map((d) => `${d.code} ${d.message}`), source).toEqual([]);
  return { code: r.code!, m: instantiate(r.code!) as unknown as Module };
}

const close = (a: number, b: number, rtol = 1e-9, atol = 1e-11) => approxEqual(a, b, rtol, atol);

/** Every number of two results (numbers, arrays, rows, objects of them) agrees. */
function expectClose(got: unknown, want: unknown, path = 'result', rtol = 1e-9): void {
  if (typeof want === 'number') {
    expect(typeof got, path).toBe('number');
    expect(close(got as number, want, rtol), `${path}: ${got} vs ${want}`).toBe(true);
    return;
  }
  if (want instanceof Float64Array || Array.isArray(want)) {
    const w = Array.from(want as ArrayLike<unknown>);
    const g = Array.from(got as ArrayLike<unknown>);
    expect(g.length, path).toBe(w.length);
    w.forEach((x, i) => expectClose(g[i], x, `${path}[${i}]`, rtol));
    return;
  }
  const keys = Object.keys(want as object).sort();
  expect(Object.keys(got as object).sort(), path).toEqual(keys);
  for (const k of keys) expectClose((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${path}.${k}`, rtol);
}

const randomMatrix = (n: number, next: () => number) => Array.from({ length: n }, () => Array.from({ length: n }, () => 2 * next() - 1));

/** The inverse by Gauss-Jordan elimination with partial pivoting. */
function inverse(M: readonly (readonly number[])[]): number[][] {
  const n = M.length;
  const a = M.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i][k]) > Math.abs(a[p][k])) p = i;
    [a[p], a[k]] = [a[k], a[p]];
    const pivot = a[k][k];
    for (let j = 0; j < 2 * n; j++) a[k][j] /= pivot;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = a[i][k];
      for (let j = 0; j < 2 * n; j++) a[i][j] -= f * a[k][j];
    }
  }
  return a.map((row) => row.slice(n));
}

describe('the determinant by expansion in minors (examples/recursion.ad)', () => {
  const source = readFileSync(new URL('../examples/recursion.ad', import.meta.url), 'utf8');
  const { code, m } = build(source);
  const next = rng(15);

  it('compiles det once, as forms that call themselves, and says why in the output', () => {
    expect(code).toContain('// det is compiled once and called, not inlined: it calls itself');
    expect(code).toMatch(/function det\$primal\(A, n\)/);
    expect(code).toMatch(/function det\$gradient\(A, n\)/);
    expect(code).toContain("Its forms take each array flat (a matrix's rows one after the other), then its sizes");
    // Recursive forms never share a work array between a call and the calls it makes.
    const forms = code.slice(code.indexOf('function det$primal'), code.indexOf('export {'));
    expect(forms).not.toContain('$work(');
    expect(forms).toContain('new Float64Array(');
  });

  it('its value is the LU determinant, for 0×0 to 6×6', () => {
    for (let n = 0; n <= 6; n++) {
      const A = randomMatrix(n, next);
      expect(close(m.det(A), luDetT(numbers, A), 1e-12), `n = ${n}`).toBe(true);
    }
  });

  it('its gradient is the cofactor matrix det(A)·A⁻ᵀ, and agrees with central differences and the forward-mode oracle', () => {
    for (let n = 1; n <= 5; n++) {
      const A = randomMatrix(n, next);
      const { value, gradient } = m.detGrad(A);
      const inv = inverse(A);
      const oracle = luDetForward(A);
      expect(close(value, oracle.value, 1e-12)).toBe(true);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const cofactor = value * inv[j][i];
          expect(close(gradient.A[i][j], cofactor, 1e-8), `n = ${n}, [${i}][${j}]: ${gradient.A[i][j]} vs ${cofactor}`).toBe(true);
          expect(close(gradient.A[i][j], (oracle.gradient.A as Float64Array[])[i][j], 1e-9)).toBe(true);
          const h = 1e-6;
          const up = A.map((r) => [...r]);
          const down = A.map((r) => [...r]);
          up[i][j] += h;
          down[i][j] -= h;
          expect(approxEqual(gradient.A[i][j], (m.det(up) - m.det(down)) / (2 * h), 1e-6, 1e-8)).toBe(true);
        }
      }
    }
  });

  it('fJvp, fHvp and fHessian: against the gradient, its central differences, and each other', () => {
    const n = 4;
    const A = randomMatrix(n, next);
    const V = randomMatrix(n, next);
    const g = m.detGrad(A).gradient.A as Float64Array[];
    const along = V.reduce((s, row, i) => s + row.reduce((t, v, j) => t + v * g[i][j], 0), 0);
    expect(close(m.detJvp({ A: V }, A).tangent, along, 1e-10)).toBe(true);
    const hvp = m.detHvp({ A: V }, A).hvp.A as Float64Array[];
    const h = 1e-5;
    const gUp = m.detGrad(A.map((r, i) => r.map((x, j) => x + h * V[i][j]))).gradient.A;
    const gDown = m.detGrad(A.map((r, i) => r.map((x, j) => x - h * V[i][j]))).gradient.A;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(approxEqual(hvp[i][j], (gUp[i][j] - gDown[i][j]) / (2 * h), 1e-6, 1e-8)).toBe(true);
    // The Hessian's block of A[0][1] with A[2][3]: ∂²det/∂a01∂a23 (a second-order cofactor), symmetric.
    const H = m.detHessian(A).hessian.A.A;
    expect(close(H[0][1][2][3], H[2][3][0][1], 1e-10)).toBe(true);
    expect(H[0][0][0][0]).toBe(0); // det is linear in each entry
  });

  it('checks sizes when it runs: a matrix that is not square is a RangeError naming the parameter', () => {
    expect(() => m.det([[1, 2, 3], [4, 5, 6]])).toThrow(RangeError);
    expect(() => m.detGrad([[1, 2, 3], [4, 5, 6]])).toThrow(/detGrad: A/);
  });
});

describe("Horner's rule by recursion over a vector one shorter (examples/recursion.ad)", () => {
  const source = readFileSync(new URL('../examples/recursion.ad', import.meta.url), 'utf8');
  const { m } = build(source);

  it('the value, ∂/∂c = tⁱ, ∂/∂t = Σ i·c[i]·tⁱ⁻¹, and the Hessian, exactly', () => {
    const c = [1, -2, 0.5, 3, -0.25];
    const t = 0.7;
    const poly = (tt: number) => c.reduce((s, ci, i) => s + ci * tt ** i, 0);
    expect(close(m.horner(c, t), poly(t), 1e-14)).toBe(true);
    const { gradient } = m.hornerGrad(c, t);
    c.forEach((_, i) => expect(close(gradient.c[i], t ** i, 1e-14)).toBe(true));
    expect(close(gradient.t, c.reduce((s, ci, i) => s + (i > 0 ? i * ci * t ** (i - 1) : 0), 0), 1e-13)).toBe(true);
    const H = m.hornerHessian(c, t).hessian;
    expect(close(H.t.t, c.reduce((s, ci, i) => s + (i > 1 ? i * (i - 1) * ci * t ** (i - 2) : 0), 0), 1e-12)).toBe(true);
    c.forEach((_, i) => {
      expect(close(H.t.c[i], i > 0 ? i * t ** (i - 1) : 0, 1e-13)).toBe(true);
      expect(Array.from(H.c.c[i] as Float64Array)).toEqual(c.map(() => 0));
    });
    expect(m.horner([], t)).toBe(0);
  });
});

// Functions with vector and matrix parameters called from several places: in reductions, a loop
// with state, branches; passed a matrix parameter (rows, copied flat), an array let, a list, a
// 2-D array let as a matrix; a const parameter; a function returning an array that calls them.
const program = `
fn wsum(w: vec[n], x: vec[n], const s) = sum(i: w[i] * sin(s * x[i])) + norm(w)
fn quad(A: mat[m, n], v: vec[n]) = sum(i: (sum(j: A[i, j] * v[j]))^2) / m
fn pick(a, v: vec[k]) = if a > 0 then v[0] * a else exp(v[k - 1]) - a
fn mix(a, w: vec[n], A: mat[m, n]) {
  let h[i] = tanh(a * w[i])
  let B[i, j] = A[i, j] * a + h[j]
  var s = a
  for t in 0..3 {
    s = s + 0.1 * wsum(w, h, s) + pick(s - 0.5, [s, a, 2 * a])
  }
  return s * quad(A, h) + quad(B, w) * wsum(h, w, 2) + sum(k in 0..3: wsum(w, w, k) * a^k) + pick(a, h)
}
fn field(a, w: vec[n], A: mat[m, n]) = [quad(A, w) * a, wsum(w, w, a), pick(a, w)]
`;

describe('calls of functions with array parameters compute what inlined code computes', () => {
  const kept = build(program, { calls: 'keep' });
  const inlined = build(program, { calls: 'inline' });
  const next = rng(7);
  const point = () => {
    const a = 0.3 + next() * 0.5;
    const w = Array.from({ length: 3 }, () => next() - 0.5);
    const A = Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => next() - 0.5));
    return [a, w, A] as const;
  };

  it('the calls stay calls, each form taking the arrays flat and then the sizes', () => {
    expect(kept.code).toMatch(/function quad\$primal\(A, v, m, n\)/);
    expect(kept.code).toMatch(/function quad\$gradient\(A, v, m, n\)/);
    expect(kept.code).toMatch(/function wsum\$gradientTangent\(/);
    expect(inlined.code).not.toContain('quad$');
    const exported = kept.code.slice(kept.code.lastIndexOf('export {'));
    expect(exported).not.toContain('$');
  });

  it('every derivative export, at several points, and central differences of fGrad', () => {
    for (let trial = 0; trial < 4; trial++) {
      const [a, w, A] = point();
      const v = { a: next() - 0.5, w: w.map(() => next() - 0.5), A: A.map((r) => r.map(() => next() - 0.5)) };
      for (const name of ['mix']) {
        expectClose(kept.m[name](a, w, A), inlined.m[name](a, w, A), name);
        expectClose(kept.m[`${name}Grad`](a, w, A), inlined.m[`${name}Grad`](a, w, A), `${name}Grad`);
        expectClose(kept.m[`${name}Jvp`](v, a, w, A), inlined.m[`${name}Jvp`](v, a, w, A), `${name}Jvp`);
        expectClose(kept.m[`${name}Hvp`](v, a, w, A), inlined.m[`${name}Hvp`](v, a, w, A), `${name}Hvp`, 1e-8);
        expectClose(kept.m[`${name}Hessian`](a, w, A), inlined.m[`${name}Hessian`](a, w, A), `${name}Hessian`, 1e-8);
      }
      expectClose(kept.m.fieldJacobian(a, w, A), inlined.m.fieldJacobian(a, w, A), 'fieldJacobian');
      expectClose(kept.m.fieldVjp([1, -2, 0.5], a, w, A), inlined.m.fieldVjp([1, -2, 0.5], a, w, A), 'fieldVjp');
      const h = 1e-6;
      const g = kept.m.mixGrad(a, w, A).gradient;
      expect(approxEqual(g.a, (kept.m.mix(a + h, w, A) - kept.m.mix(a - h, w, A)) / (2 * h), 1e-6, 1e-8)).toBe(true);
      w.forEach((_, i) => {
        const up = [...w];
        const down = [...w];
        up[i] += h;
        down[i] -= h;
        expect(approxEqual(g.w[i], (kept.m.mix(a, up, A) - kept.m.mix(a, down, A)) / (2 * h), 1e-6, 1e-8)).toBe(true);
      });
    }
  });
});

// Forward over reverse of kept calls returning arrays: fHvp's reverse sweep calls lift$adjoint,
// and forward mode over that call is lift$adjointTangent (the call stays a call; it used to be inlined).
const keptArrayResults = `
fn lift(a, w: vec[n], A: mat[m, n]) {
  let y[i] = a * sum(j: A[i, j] * w[j]) + sin(w[0] * a)
  return y
}
fn obj(a, w: vec[n], A: mat[m, n]) = sum(i: lift(a, w, A)[i]^2) + lift(a * a, w, A)[0] * exp(w[1])
fn chain(w: vec[n], A: mat[m, n]) {
  let v[j] = lift(w[0], w, A)[0] * w[j]
  return sum(i: lift(1.5, v, A)[i] * lift(w[1], v, A)[i])
}
`;

describe('fHvp and fHessian keep calls of functions returning arrays (their adjoint form has a tangent form)', () => {
  const kept = build(keptArrayResults, { calls: 'keep' });
  const inlined = build(keptArrayResults, { calls: 'inline' });
  const next = rng(11);

  it('calls lift$adjointTangent from fHvp, which calls no value or adjoint code of lift inlined', () => {
    expect(kept.code).toMatch(/function lift\$adjointTangent\(a, w, A, n, m, \$cotangent, t\$a, t\$w, t\$A, t\$\$cotangent\)/);
    const hvp = kept.code.slice(kept.code.indexOf('function objHvp('), kept.code.indexOf('function objHessian('));
    expect(hvp).toContain('lift$adjointTangent(');
    expect(hvp).toContain('lift$primal(');
    expect(hvp).not.toContain('Math.sin');
  });

  it('fHvp and fHessian equal the inlined ones, and central differences of fGrad along v', () => {
    for (let trial = 0; trial < 4; trial++) {
      const a = 0.2 + next() * 0.6;
      const w = Array.from({ length: 3 }, () => next() - 0.5);
      const A = Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => next() - 0.5));
      const v = { a: next() - 0.5, w: w.map(() => next() - 0.5), A: A.map((r) => r.map(() => next() - 0.5)) };
      expectClose(kept.m.objHvp(v, a, w, A), inlined.m.objHvp(v, a, w, A), 'objHvp', 1e-9);
      expectClose(kept.m.objHessian(a, w, A), inlined.m.objHessian(a, w, A), 'objHessian', 1e-9);
      expectClose(kept.m.chainHvp(v, w, A), inlined.m.chainHvp(v, w, A), 'chainHvp', 1e-9);
      // (H v) by central differences of the kept fGrad along v.
      const h = 1e-5;
      const along = (s: number) => kept.m.objGrad(a + s * v.a, w.map((x, i) => x + s * v.w[i]), A.map((r, i) => r.map((x, j) => x + s * v.A[i][j]))).gradient;
      const [up, down] = [along(h), along(-h)];
      const { hvp } = kept.m.objHvp(v, a, w, A);
      expect(approxEqual(hvp.a, (up.a - down.a) / (2 * h), 1e-6, 1e-8), 'hvp.a').toBe(true);
      w.forEach((_, i) => expect(approxEqual(hvp.w[i], (up.w[i] - down.w[i]) / (2 * h), 1e-6, 1e-8), `hvp.w[${i}]`).toBe(true));
      A.forEach((r, i) => r.forEach((_, j) => expect(approxEqual(hvp.A[i][j], (up.A[i][j] - down.A[i][j]) / (2 * h), 1e-6, 1e-8), `hvp.A[${i}][${j}]`).toBe(true)));
    }
  });
});

describe('the termination rule over sizes', () => {
  it('accepts a call whose arrays make a size smaller under if n > k, and refuses the others (AD3008)', () => {
    const accepted = 'fn f(x: vec[n]) {\n  var s = 0\n  if n > 0 {\n    let y[i in 0..n-1] = x[i] * 2\n    s = x[0] + f(y)\n  }\n  return s\n}\n';
    expect(compileSync(accepted).diagnostics).toEqual([]);
    // The same size: never ends.
    expect(only(accepted.replace('0..n-1', '0..n').replace('x[i] * 2', 'x[i]'))?.code).toBe('AD3008');
    // Smaller, but not under a guard on n.
    expect(only('fn f(x: vec[n]) {\n  let y[i in 0..n-1] = x[i]\n  return f(y)\n}\n')?.code).toBe('AD3008');
    // Guarded on another name.
    expect(only('fn f(x: vec[n], t) {\n  var s = 0\n  if t > 0 {\n    let y[i in 0..n-1] = x[i]\n    s = f(y, t)\n  }\n  return s\n}\n')?.code).toBe('AD3008');
    // Every call inlined: recursion is refused as before (and its arrays in a block, inlined).
    expect(diagnose(accepted, { calls: 'inline' }).map((d) => d.code)).toContain('AD3002');
  });

  it('runs it: the recursive sum of a vector and its gradient', () => {
    const r = compileSync('fn f(x: vec[n]) {\n  var s = 0\n  if n > 0 {\n    let y[i in 0..n-1] = x[i] * 2\n    s = x[0] + f(y)\n  }\n  return s\n}\n');
    const m = instantiate(r.code!) as unknown as Module;
    // x[0] + 2·x[0] + 4·x[0] … : each level doubles the rest and drops the last element.
    const x = [1, 1, 1, 1];
    expect(m.f(x)).toBe(1 + 2 + 4 + 8);
    expect(Array.from(m.fGrad(x).gradient.x)).toEqual([15, 0, 0, 0]);
  });
});

describe('a kept call costs one evaluation of its gradient form, nothing recomputed', () => {
  it("the doubling chain's gradient forms call the previous level's gradient form twice and its value never", () => {
    const depth = 6;
    const source = ['fn f0(x) = sin(x) * 1.5 + x', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = 0.5 * f${k}(x) + sin(f${k}(0.5 * x + 1))`)].join('\n') + '\n';
    const { code, m } = build(source, { calls: 'keep', derivatives: ['grad', 'hvp'] });
    for (let k = 2; k < depth; k++) {
      const body = code.slice(code.indexOf(`function f${k}$gradient(`), code.indexOf('\n}\n', code.indexOf(`function f${k}$gradient(`)));
      expect(body.match(new RegExp(`f${k - 1}\\$gradient\\(`, 'g'))?.length, body).toBe(2);
      expect(body).not.toContain(`f${k - 1}$primal(`);
    }
    const inlined = build(source, { calls: 'inline', derivatives: ['grad', 'hvp'] }).m;
    for (const x of [0.3, -1.1]) {
      expectClose(m[`f${depth}Grad`](x), inlined[`f${depth}Grad`](x), 'grad', 1e-12);
      expectClose(m[`f${depth}Hvp`]({ x: 1 }, x), inlined[`f${depth}Hvp`]({ x: 1 }, x), 'hvp', 1e-10);
    }
  });

  it('an array argument whose derivative does not change (a linear callee) has a zero tangent array in fHvp', () => {
    const source = 'fn lin(v: vec[n], const s) = sum(i: v[i]) * 2 + s\nfn c(v: vec[n]) = lin(v, 1)^2 + lin(v, v[0])\n';
    const kept = build(source, { calls: 'keep' }).m;
    const inlined = build(source, { calls: 'inline' }).m;
    const v = [0.5, -1, 2];
    expectClose(kept.cHessian(v), inlined.cHessian(v), 'cHessian');
    expectClose(kept.cHvp({ v: [1, 2, 3] }, v), inlined.cHvp({ v: [1, 2, 3] }, v), 'cHvp');
  });
});

describe('a recursive function that makes arrays', () => {
  it("allocates them per call in its value function too: the inner call does not overwrite the caller's", () => {
    // z is read after the call of f by itself; sharing a work array, it held the inner call's values.
    const source = 'fn f(x, const n) {\n  let z[i in 0..3] = x * i + n\n  var s = z[2]\n  if n > 0 {\n    let a = f(x, n - 1)\n    s = a * 0.5 + z[2]\n  }\n  return s\n}\n';
    const { code, m } = build(source, { derivatives: ['grad'] });
    const reference = (x: number, n: number): number => (n > 0 ? reference(x, n - 1) * 0.5 : 0) + 2 * x + n;
    const slope = (n: number): number => (n > 0 ? slope(n - 1) * 0.5 : 0) + 2;
    expect(code.slice(code.indexOf('\nfunction f('), code.indexOf('\nfunction fGrad('))).not.toContain('$work(');
    for (const n of [0, 1, 3, 6]) {
      expect(m.f(0.5, n)).toBe(reference(0.5, n));
      expect(m.fGrad(0.5, n).gradient.x).toBe(slope(n));
    }
  });
});

describe('a function with an array parameter and state, called once per index', () => {
  it('stays a call (AD7010 lifted, as for functions of numbers), with the exact gradient', () => {
    const source = 'fn g(a: vec[m]) {\n  var s = 0\n  for t in 0..3 {\n    s = s + a[t] * a[t]\n  }\n  return s\n}\nfn f(x: vec[n]) = sum(i: g(x) * x[i])\n';
    const { code, m } = build(source, { derivatives: ['grad', 'hvp'] });
    expect(code).toContain('// g is compiled once and called, not inlined: it has state');
    const x = [0.5, -1, 2, 0.25];
    const sum = x.reduce((a, b) => a + b, 0);
    const g = x[0] ** 2 + x[1] ** 2 + x[2] ** 2;
    expect(close(m.f(x), g * sum, 1e-14)).toBe(true);
    // ∂f/∂x[j] = 2·x[j]·Σx (j < 3) + g
    const { gradient } = m.fGrad(x);
    x.forEach((xj, j) => expect(close(gradient.x[j], (j < 3 ? 2 * xj * sum : 0) + g, 1e-13)).toBe(true));
    expect(() => m.f([1, 2])).toThrow(RangeError);
  });
});


// Functions returning arrays kept as calls (issue #15): the primal form returns the result flat,
// the reverse sweep calls the adjoint form with the result's adjoint array.
const arrayResults = `
fn rot(t) = [cos(t), sin(t) * t]
fn scale(a, v: vec[n]) {
  let y[i] = a * v[i] + v[0] * v[i]
  return y
}
fn outer(u: vec[n], v: vec[m]) {
  let M[i, j] = u[i] * tanh(v[j])
  return M
}
fn shift(v: vec[n]) {
  let y[i in 0..n-1] = v[i + 1] - v[i]
  return y
}
fn lin(v: vec[n], const c) = [v[0] * c, c]
fn g(a, w: vec[n], A: mat[2, n]) = sum(i: scale(a, w)[i] * w[i]) + a * sum(i: sum(j: outer(scale(a, w), rot(a))[i, j])) + sum(i: shift(scale(a * a, w))[i]^2) + rot(a)[1] * lin(w, a)[0] + sum(i: sum(j: A[i, j] * outer(rot(a), w)[i, j]))
fn h(a, w: vec[n]) = scale(a, shift(w))
fn o(a, w: vec[n]) = outer(rot(a), shift(w))
`;

/** One more element of a vector argument, by h, both ways. */
function nudged(w: readonly number[], i: number, h: number): [number[], number[]] {
  const up = [...w];
  const down = [...w];
  up[i] += h;
  down[i] -= h;
  return [up, down];
}

describe('calls of functions returning arrays compute what inlined code computes', () => {
  const kept = build(arrayResults, { calls: 'keep' });
  const inlined = build(arrayResults, { calls: 'inline' });
  const next = rng(21);
  const point = () => {
    const a = 0.3 + next() * 0.6;
    const w = Array.from({ length: 4 }, () => next() - 0.5);
    const A = Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => next() - 0.5));
    return [a, w, A] as const;
  };

  it('stay calls: a primal form returning the result flat, an adjoint form taking its adjoint array, a tangent form', () => {
    for (const f of ['rot', 'scale', 'outer', 'shift', 'lin']) {
      expect(kept.code).toContain(`// ${f} is compiled once and called, not inlined (the option calls: 'keep').`);
      expect(kept.code).toMatch(new RegExp(`function ${f}\\$primal\\(`));
      expect(kept.code).toMatch(new RegExp(`function ${f}\\$adjoint\\(`));
      expect(kept.code).toMatch(new RegExp(`function ${f}\\$tangent\\(`));
    }
    expect(kept.code).toContain('so a gradient\'s reverse sweep calls\n// shift$adjoint with the adjoint array of the result');
    expect(kept.code).toMatch(/function outer\$primal\(u, v, n, m\)/);
    expect(kept.code).toMatch(/function outer\$adjoint\(u, v, n, m, \$cotangent\)/);
    // A matrix result is flat in the forms, rows in the exported function.
    expect(kept.m.outer([1, 2], [0.5]).map((r: Float64Array) => Array.from(r))).toEqual([[Math.tanh(0.5)], [2 * Math.tanh(0.5)]]);
    expect(inlined.code).not.toContain('$adjoint');
  });

  it('every derivative export, at several points, and central differences of gGrad', () => {
    for (let trial = 0; trial < 4; trial++) {
      const [a, w, A] = point();
      const v = { a: next() - 0.5, w: w.map(() => next() - 0.5), A: A.map((r) => r.map(() => next() - 0.5)) };
      expectClose(kept.m.g(a, w, A), inlined.m.g(a, w, A), 'g');
      expectClose(kept.m.gGrad(a, w, A), inlined.m.gGrad(a, w, A), 'gGrad');
      expectClose(kept.m.gJvp(v, a, w, A), inlined.m.gJvp(v, a, w, A), 'gJvp');
      expectClose(kept.m.gVjp(1.5, a, w, A), inlined.m.gVjp(1.5, a, w, A), 'gVjp');
      expectClose(kept.m.gHvp(v, a, w, A), inlined.m.gHvp(v, a, w, A), 'gHvp', 1e-8);
      expectClose(kept.m.gHessian(a, w, A), inlined.m.gHessian(a, w, A), 'gHessian', 1e-8);
      for (const f of ['h', 'o']) {
        expectClose(kept.m[f](a, w), inlined.m[f](a, w), f);
        expectClose(kept.m[`${f}Jacobian`](a, w), inlined.m[`${f}Jacobian`](a, w), `${f}Jacobian`);
        expectClose(kept.m[`${f}Jvp`]({ a: v.a, w: v.w }, a, w), inlined.m[`${f}Jvp`]({ a: v.a, w: v.w }, a, w), `${f}Jvp`);
      }
      const cotangent = [0.5, -1, 2];
      expectClose(kept.m.hVjp(cotangent, a, w), inlined.m.hVjp(cotangent, a, w), 'hVjp');
      const step = 1e-6;
      const { gradient } = kept.m.gGrad(a, w, A);
      const fd = (up: number, down: number) => (up - down) / (2 * step);
      expect(approxEqual(gradient.a, fd(kept.m.g(a + step, w, A), kept.m.g(a - step, w, A)), 1e-6, 1e-8)).toBe(true);
      w.forEach((_, i) => {
        const [up, down] = nudged(w, i, step);
        expect(approxEqual(gradient.w[i], fd(kept.m.g(a, up, A), kept.m.g(a, down, A)), 1e-6, 1e-8), `w[${i}]`).toBe(true);
      });
    }
  });
});

describe('a kept call returning an array, repeated with the same arguments, calls its adjoint form once', () => {
  const source = `fn f(x: vec[n], a) = [x[0] * x[1] * a, sin(x[0]) + a, x[1]^2 * a]
fn g(x: vec[n], a) = f(x, a)[0] * f(x, a)[1] + f(x, a)[2] + f(x, 2 * a)[0]
fn k(x: vec[n], a) {
  let s = f(x, a)[0] * f(x, a)[1]
  return s + f(x, a)[2]
}`;
  const kept = build(source, { calls: 'keep' });
  const inlined = build(source, { calls: 'inline' });
  const body = (name: string) => {
    const start = kept.code.indexOf(`function ${name}(`);
    return kept.code.slice(start, kept.code.indexOf('\n}\n', start));
  };

  it('one f$adjoint per distinct argument list in the gradient (f(x, a) three times, f(x, 2a) once)', () => {
    for (const name of ['gGrad', 'gGradInto', 'kGrad']) {
      const calls = body(name).match(/f\$adjoint\(/g) ?? [];
      expect(calls.length, name).toBe(name === 'kGrad' ? 1 : 2);
    }
  });

  it('the value, gradient, Hessian and vjp are the inlined code\'s, and the gradient central differences', () => {
    const next = rng(7);
    for (let trial = 0; trial < 4; trial++) {
      const x = [next() - 0.5, next() + 0.5];
      const a = next() + 0.2;
      for (const f of ['g', 'k']) {
        expectClose(kept.m[f](x, a), inlined.m[f](x, a), f);
        expectClose(kept.m[`${f}Grad`](x, a), inlined.m[`${f}Grad`](x, a), `${f}Grad`);
        expectClose(kept.m[`${f}Vjp`](1.5, x, a), inlined.m[`${f}Vjp`](1.5, x, a), `${f}Vjp`);
        expectClose(kept.m[`${f}Hessian`](x, a), inlined.m[`${f}Hessian`](x, a), `${f}Hessian`, 1e-8);
        const out = { x: new Float64Array(2) };
        expect(kept.m[`${f}GradInto`](out, x, a)).toBe(kept.m[f](x, a));
        expectClose(out.x, kept.m[`${f}Grad`](x, a).gradient.x, `${f}GradInto`);
        const { gradient } = kept.m[`${f}Grad`](x, a);
        const step = 1e-6;
        const fd = (up: number, down: number) => (up - down) / (2 * step);
        expect(approxEqual(gradient.a, fd(kept.m[f](x, a + step), kept.m[f](x, a - step)), 1e-6, 1e-8), `${f} a`).toBe(true);
        x.forEach((_, i) => {
          const [up, down] = nudged(x, i, step);
          expect(approxEqual(gradient.x[i], fd(kept.m[f](up, a), kept.m[f](down, a)), 1e-6, 1e-8), `${f} x[${i}]`).toBe(true);
        });
      }
    }
  });
});

/** The array doubling chain (bench/call-chains.ts) by forward mode over dual numbers: top(x) = Σ r_depth(x)[i]. */
function arrayChainForward(depth: number, x: readonly number[]): { value: number; gradient: number[] } {
  type D = { v: number; d: number };
  const sin = (a: D): D => ({ v: Math.sin(a.v), d: Math.cos(a.v) * a.d });
  const r = (k: number, v: readonly D[]): D[] => {
    if (k === 0) return v.map((e) => ({ v: Math.sin(e.v) * 1.5 + e.v, d: Math.cos(e.v) * 1.5 * e.d + e.d }));
    const z = v.map((e) => ({ v: 0.5 * e.v + 1, d: 0.5 * e.d }));
    const p = r(k - 1, v);
    const q = r(k - 1, z);
    return p.map((pi, i) => {
      const s = sin(q[i]);
      return { v: 0.5 * pi.v + s.v, d: 0.5 * pi.d + s.d };
    });
  };
  const top = (seed: number) => r(depth, x.map((v, i) => ({ v, d: i === seed ? 1 : 0 }))).reduce((s, e) => ({ v: s.v + e.v, d: s.d + e.d }), { v: 0, d: 0 });
  return { value: top(-1).v, gradient: x.map((_, i) => top(i).d) };
}

describe('a chain of functions returning arrays, by the compiler\'s choice', () => {
  it('keeps the levels whose copies add up, and its gradient is the forward-mode one and central differences\'', async () => {
    const { arrayDoublingChain } = await import('../bench/call-chains.ts');
    const depth = 5;
    const { code, m } = build(arrayDoublingChain(depth), { derivatives: ['grad', 'jacobian'] });
    expect(code).toMatch(/\/\/ r\d is compiled once and called, not inlined: \d+ operations × 2 call sites/);
    expect(code).toMatch(/r\d\$adjoint\(x, n, /);
    const x = [0.3, -0.7, 1.2];
    const want = arrayChainForward(depth, x);
    const got = m.topGrad(x);
    expect(close(got.value, want.value, 1e-13)).toBe(true);
    got.gradient.x.forEach((g: number, i: number) => expect(close(g, want.gradient[i], 1e-12), `x[${i}]: ${g} vs ${want.gradient[i]}`).toBe(true));
    const step = 1e-6;
    x.forEach((_, i) => {
      const [up, down] = nudged(x, i, step);
      expect(approxEqual(got.gradient.x[i], (m.top(up) - m.top(down)) / (2 * step), 1e-6, 1e-8)).toBe(true);
    });
    // The Jacobian of a level, through its kept callees' tangent and adjoint forms, against inlined code.
    const inlined = build(arrayDoublingChain(depth), { calls: 'inline', derivatives: ['jacobian'] }).m;
    expectClose(m[`r${depth}Jacobian`](x), inlined[`r${depth}Jacobian`](x), 'Jacobian');
  });
});

describe('a kept call taking a matrix, inside a reduction whose terms depend on the index (array fuzz, seed 1543934659)', () => {
  // The reversed iteration made the flat copy of the matrix again but did not fill it (a loop that
  // only stores was not run again: "its arrays are complete", true only of arrays made before the
  // loop), so the gradient form read a work array of other values. Present before issue #15's
  // array results; the fuzz search with every call kept found it.
  it('its gradient is the one by hand, in a product and in a sum', () => {
    const g = 'fn g(v: mat[q, q], t) = v[0, 0] * v[1, 1] + t\n';
    const product = build(`${g}fn f(A: mat[n, n]) = prod(j in 0..n: g(A, j))\n`, { calls: 'keep', derivatives: ['grad'] }).m;
    const sum = build(`${g}fn f(A: mat[n, n]) = sum(j in 0..n: sin(g(A, j)))\n`, { calls: 'keep', derivatives: ['grad'] }).m;
    const A = [[-1.5, -1], [0.3, 1]];
    const p = A[0][0] * A[1][1];
    // f = p·(p + 1): ∂f/∂A00 = A11·(2p + 1), ∂f/∂A11 = A00·(2p + 1).
    const dp = (2 * p + 1);
    expectClose(product.fGrad(A).gradient.A, [[A[1][1] * dp, 0], [0, A[0][0] * dp]], 'prod');
    // f = sin p + sin(p + 1): ∂f/∂p = cos p + cos(p + 1).
    const ds = Math.cos(p) + Math.cos(p + 1);
    expectClose(sum.fGrad(A).gradient.A, [[A[1][1] * ds, 0], [0, A[0][0] * ds]], 'sum');
  });
});

describe('a matrix argument of a kept call inside a reduction', () => {
  // diag computes Σ_i A[i, i]² sⁱ with state (so it is kept); f sums it over x, in a branch or not.
  const diag = 'fn diag(A: mat[n, n], s) {\n  var acc = 0\n  for i in 0..n {\n    acc = acc + A[i, i]^2 * s^i\n  }\n  return acc\n}\n';
  const sources = {
    plain: `${diag}fn f(A: mat[n, n], x: vec[m]) = sum(k: diag(A, x[k]))\n`,
    branch: `${diag}fn f(A: mat[n, n], x: vec[m]) = sum(k: if x[k] > 0 then diag(A, x[k]) else x[k])\n`,
  };
  const A = [
    [0.3, -0.2, 0.4],
    [0.5, 0.7, -0.1],
    [0.2, 0.6, -0.9],
  ];
  const x = [0.4, -0.6, 0.9, 1.3];
  for (const [name, source] of Object.entries(sources)) {
    const { code, m } = build(source, { derivatives: ['grad', 'hvp'] });
    const taken = (k: number) => name === 'plain' || x[k] > 0;

    it(`${name}: is copied flat once per call, before the reduction, and shared by the forward and reverse sweeps`, () => {
      for (const fn of ['f', 'fGrad']) {
        const body = code.slice(code.indexOf(`\nfunction ${fn}(`), code.indexOf('\n}\n', code.indexOf(`\nfunction ${fn}(`)));
        // One copy (a store into the flat array from A's rows), before the loop over k.
        const copies = body.match(/A\$\d+\[[^\]]+\] = \$t\d+\[i\$\d+\]/g) ?? [];
        expect(copies.length, body).toBe(1);
        expect(body.indexOf(copies[0]!), body).toBeLessThan(body.indexOf('for (let k = 0'));
      }
    });

    it(`${name}: the value, the gradient 2·A[i, i]·Σ_k x[k]^i and the Hessian, against the formula and central differences`, () => {
      const sum = (g: (k: number) => number) => x.reduce((acc, _, k) => acc + g(k), 0);
      const value = sum((k) => (taken(k) ? A.reduce((acc, row, i) => acc + row[i]! ** 2 * x[k]! ** i, 0) : x[k]!));
      expect(close(m.f(A, x), value, 1e-14)).toBe(true);
      const { gradient } = m.fGrad(A, x);
      const h = 1e-6;
      A.forEach((row, i) =>
        row.forEach((a, j) => {
          const exact = i === j ? 2 * a * sum((k) => (taken(k) ? x[k]! ** i : 0)) : 0;
          expect(close(gradient.A[i][j], exact, 1e-13, 1e-15), `∂f/∂A[${i}, ${j}]`).toBe(true);
          const moved = (d: number) => A.map((r, p) => r.map((v, q) => (p === i && q === j ? v + d : v)));
          expect(close(gradient.A[i][j], (m.f(moved(h), x) - m.f(moved(-h), x)) / (2 * h), 1e-6, 1e-8)).toBe(true);
        }),
      );
      x.forEach((xk, k) => {
        const exact = taken(k) ? A.reduce((acc, row, i) => acc + (i > 0 ? row[i]! ** 2 * i * xk ** (i - 1) : 0), 0) : 1;
        expect(close(gradient.x[k], exact, 1e-13, 1e-15), `∂f/∂x[${k}]`).toBe(true);
      });
      // ∂²f/∂A[i, i]² = 2·Σ_k x[k]^i: the Hessian times the direction of A[i, i].
      for (let i = 0; i < 3; i++) {
        const v = { A: A.map((r, p) => r.map((_, q) => (p === i && q === i ? 1 : 0))), x: x.map(() => 0) };
        expect(close(m.fHvp(v, A, x).hvp.A[i][i], 2 * sum((k) => (taken(k) ? x[k]! ** i : 0)), 1e-13)).toBe(true);
      }
    });
  }
});
