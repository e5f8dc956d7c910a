import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileSync, formatDiagnostics, type CompileOptions } from '../src/index.ts';
import { instantiate } from './support/instantiate.ts';
import { diagnose } from './support/diagnostics.ts';
import { caseArb } from './oracle/arbitrary.ts';
import { gradient, printProgram, type Expr, type Program } from './oracle/program.ts';
import { hessianRow } from './oracle/second-order.ts';

/**
 * jvp(f, x)(args, v) and jacobian(f, x)(args) inside the language (issue #14): values against
 * hand-derived derivatives, their own derivatives (the caller's fGrad, fHvp) against hand-derived
 * second derivatives and central differences, the dual-number oracle, and the refusals.
 */

type Fn = (...args: unknown[]) => any;
function load(source: string, options: CompileOptions = { derivatives: ['grad', 'jvp', 'hvp', 'hessian'] }): Record<string, Fn> {
  const r = compileSync(source, options);
  if (r.code === undefined || r.diagnostics.length > 0) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}`);
  return instantiate(r.code) as unknown as Record<string, Fn>;
}

type Arg = number | number[];
/** Central differences of f with respect to every number of its arguments, shaped like them. */
function centralDifferences(f: (...args: Arg[]) => number, args: Arg[], h = 1e-5): Arg[] {
  const at = (k: number, i: number | undefined, delta: number) => {
    const copy = structuredClone(args);
    if (i === undefined) (copy[k] as number) += delta;
    else (copy[k] as number[])[i] += delta;
    return f(...copy);
  };
  const d = (k: number, i?: number) => (at(k, i, h) - at(k, i, -h)) / (2 * h);
  return args.map((a, k) => (typeof a === 'number' ? d(k) : a.map((_, i) => d(k, i))));
}

function expectClose(actual: unknown, expected: unknown, tol: number, what = ''): void {
  const a = actual instanceof Float64Array ? [...actual] : actual;
  if (typeof expected === 'number') {
    expect(Math.abs((a as number) - expected), `${what}: ${String(a)} vs ${expected}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected)));
    return;
  }
  const e = expected as number[];
  expect((a as number[]).length, what).toBe(e.length);
  e.forEach((x, i) => expectClose((a as number[])[i], x, tol, `${what}[${i}]`));
}

describe('jvp(f, x)(args, v) of a scalar function', () => {
  const m = load(`
fn f(x) = x^3 * sin(x)
fn d1(x) = jvp(f, x)(x, 1)
fn d2(x, v) = jvp(f)(x, v) * x`);
  // f' = 3x² sin x + x³ cos x; f'' = 6x sin x + 6x² cos x − x³ sin x; f''' by hand too.
  const f1 = (x: number) => 3 * x * x * Math.sin(x) + x ** 3 * Math.cos(x);
  const f2 = (x: number) => 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x);
  const f3 = (x: number) => 6 * Math.sin(x) + 18 * x * Math.cos(x) - 9 * x * x * Math.sin(x) - x ** 3 * Math.cos(x);

  it('is f′(x)·v, and its derivatives are f″ and f‴ (reverse over forward, forward over reverse over forward)', () => {
    for (const x of [-2.1, -0.3, 0, 0.7, 1.3, 4]) {
      expect(Math.abs(m.d1(x) - f1(x))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(f1(x))));
      expect(Math.abs(m.d1Grad(x).gradient.x - f2(x))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(f2(x))));
      expect(Math.abs(m.d1Hvp({ x: 1 }, x).hvp.x - f3(x))).toBeLessThanOrEqual(1e-11 * (1 + Math.abs(f3(x))));
      expectClose(m.d1Grad(x).gradient.x, centralDifferences((t) => m.d1(t as number), [x])[0], 1e-8, 'fd');
    }
  });

  it('composes: ∂/∂x [f′(x)·v·x] = (f″(x)·x + f′(x))·v, ∂/∂v = f′(x)·x', () => {
    const [x, v] = [0.7, 2];
    const g = m.d2Grad(x, v);
    expect(g.value).toBeCloseTo(f1(x) * v * x, 12);
    expect(g.gradient.x).toBeCloseTo((f2(x) * x + f1(x)) * v, 11);
    expect(g.gradient.v).toBeCloseTo(f1(x) * x, 12);
  });
});

describe('jvp and jacobian of array functions', () => {
  const m = load(`
fn r(w: vec[n]) {
  let y[i] = w[i]^2 * exp(w[0]) + prod(k: w[k])
  return y
}
fn along(w: vec[n], u: vec[n]) = sum(i: jvp(r, w)(w, u)[i])
fn trace(w: vec[n]) = sum(i: jacobian(r, w)(w)[i, i])
fn h(w: vec[n]) = [w[0] * w[1], sin(w[1]), 3]
fn det(w: vec[n]) {
  let J[i, j] = jacobian(h, w)(w)[i, j]
  return J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
}
fn curve(t) = [t^2, sin(t), 3 * t]
fn speed(t) = sum(i: jacobian(curve, t)(t)[i])
fn q(w: vec[n]) = sum(i: w[i]^3)
fn gq(w: vec[n]) = sum(i: jacobian(q, w)(w)[i] * w[i])
fn flat(A: mat[2, 2], x: vec[2]) = jvp(quad, A)(A, x, [[1, 2], [3, 4]]) + jvp(quad, A)(A, x, A)^2
fn quad(A: mat[2, 2], x: vec[2]) = sum(i: sum(j: x[i] * A[i, j] * x[j]))`);
  const w = [0.3, -0.5, 1.2];
  const P = w.reduce((a, b) => a * b, 1);
  // ∂r_i/∂w_j = 2w_i e^{w0} [i = j] + w_i² e^{w0} [j = 0] + Π_{k≠j} w_k.
  const J = w.map((wi, i) => w.map((_, j) => (i === j ? 2 * wi * Math.exp(w[0]) : 0) + (j === 0 ? wi * wi * Math.exp(w[0]) : 0) + P / w[j]));

  it('jvp(r, w)(w, u) is J·u (hand-derived), and its gradient central differences', () => {
    const u = [1, 2, 3];
    const Ju = J.map((row) => row.reduce((t, e, j) => t + e * u[j], 0));
    expectClose(m.along(w, u), Ju.reduce((a, b) => a + b, 0), 1e-12, 'value');
    const g = m.alongGrad(w, u).gradient;
    const fd = centralDifferences((a, b) => m.along(a, b), [w, u]);
    expectClose(g.w, fd[0], 1e-8, '∂/∂w');
    // ∂/∂u_j = Σ_i J_ij exactly (the value is linear in u).
    expectClose(g.u, w.map((_, j) => J.reduce((t, row) => t + row[j], 0)), 1e-12, '∂/∂u');
  });

  it('the trace of r’s Jacobian: hand-derived, its gradient central differences, its Hessian row differences of its gradient', () => {
    expectClose(m.trace(w), J.reduce((t, row, i) => t + row[i], 0), 1e-12, 'trace');
    expectClose(m.traceGrad(w).gradient.w, centralDifferences((a) => m.trace(a), [w])[0], 1e-8, 'gradient');
    for (let k = 0; k < 3; k++) {
      const e = w.map((_, j) => (j === k ? 1 : 0));
      expectClose(m.traceHvp({ w: e }, w).hvp.w, centralDifferences((a) => m.traceGrad(a).gradient.w[k], [w])[0], 1e-7, `Hessian row ${k}`);
    }
  });

  it('a Jacobian bound to an array let: det of [[w1, w0], [0, cos w1]] = w1·cos w1, gradient (0, cos w1 − w1·sin w1)', () => {
    const x = [0.4, 0.9];
    expect(m.det(x)).toBeCloseTo(0.9 * Math.cos(0.9), 14);
    expectClose(m.detGrad(x).gradient.w, [0, Math.cos(0.9) - 0.9 * Math.sin(0.9)], 1e-12, 'gradient');
  });

  it('a vector function of a number: jacobian(curve, t)(t) = (2t, cos t, 3), its derivative (2, −sin t, 0)', () => {
    expect(m.speed(0.4)).toBeCloseTo(0.8 + Math.cos(0.4) + 3, 14);
    expect(m.speedGrad(0.4).gradient.t).toBeCloseTo(2 - Math.sin(0.4), 14);
  });

  it('the Jacobian of a scalar function is its gradient: Σ 3w_i²·w_i, gradient 9w_i²', () => {
    expect(m.gq(w)).toBeCloseTo(w.reduce((t, x) => t + 3 * x ** 3, 0), 14);
    expectClose(m.gqGrad(w).gradient.w, w.map((x) => 9 * x * x), 1e-12, 'gradient');
  });

  it('jvp with respect to a matrix, along a list and along the matrix itself (x·Aᵀx form: ∂/∂A = x xᵀ)', () => {
    const A = [[0.5, 1], [-2, 0.3]];
    const x = [1, 2];
    // quad = xᵀAx; jvp along B = xᵀBx. Along [[1,2],[3,4]]: 1 + 2·2 + 3·2 + 4·4 = 27; along A: quad itself.
    const quad = (M: number[][]) => M.reduce((t, row, i) => t + row.reduce((u, a, j) => u + x[i] * a * x[j], 0), 0);
    expect(m.flat(A, x)).toBeCloseTo(27 + quad(A) ** 2, 12);
    // ∂/∂A_ij [27 + quad(A)²] = 2·quad(A)·x_i x_j.
    const g = m.flatGrad(A, x).gradient.A as Float64Array[];
    g.forEach((row, i) => expectClose(row, x.map((xj) => 2 * quad(A) * x[i] * xj), 1e-12, `row ${i}`));
  });
});

describe('jvp(f, p)(…, v) of random scalar programs (test/oracle): against the dual-number oracle and fHessian', () => {
  it('the value is the oracle gradient times v, its gradient v times the Hessian row', () => {
    let compared = 0;
    fc.assert(
      fc.property(caseArb(), ({ program, fn, args }) => {
        const f = program.functions.find((g) => g.name === fn)!;
        const differentiated = f.params.filter((q) => !q.isConst);
        if (differentiated.length === 0 || args.some((x) => Math.abs(x) < 1e-3)) return;
        const p = differentiated[0];
        const v = 0.75;
        const names = f.params.map((q) => q.name).join(', ');
        const source = `${printProgram(program)}\nfn outer(${f.params.map((q) => (q.isConst ? `const ${q.name}` : q.name)).join(', ')}) = jvp(${fn}, ${p.name})(${names}, ${v})\n`;
        const m = load(source, { derivatives: ['grad', 'hessian'] });
        const value = m.outer(...args) as number;
        const reference = gradient(program, fn, args);
        const oracle = reference.gradient[0] * v;
        if (!Number.isFinite(oracle) || !Number.isFinite(value)) return;
        // Or within 1e-9 of the terms that cancelled (the oracle's scale, as in the differential check
        // of test/support/differential.ts): x/x has derivative 1/x − x/x², exactly 0 only in one order.
        const tolerance = 1e-9 * Math.max(1 + Math.abs(oracle), reference.scale[0] * v);
        expect(Math.abs(value - oracle), `${value} vs oracle ${oracle}\n${source}`).toBeLessThanOrEqual(tolerance);
        const g = m.outerGrad(...args).gradient;
        const hessian = m[`${fn}Hessian`](...args).hessian[p.name];
        // The second-order terms' magnitudes (test/oracle/second-order.ts): hypot(π¹⁰⁰, ½)/(x·(4/x))
        // has second derivatives that cancel to 0 in one order and to rounding residues of the
        // 1e49-sized terms in another, correct both (seed -566032251). So, as for the first order,
        // the two may also differ by 1e-8 of what cancelled; where nothing cancels the magnitudes
        // are |H| and the tolerance is 1e-8·(1 + |v·H|) as before.
        const second = hessianRow(program, fn, args, 0);
        differentiated.forEach((q, j) => {
          if (!Number.isFinite(g[q.name]) || !Number.isFinite(hessian[q.name])) return;
          compared++;
          // (No allowance where the magnitudes are not finite: NaN or ∞ terms.)
          const tolerance = 1e-8 * Math.max(1 + Math.abs(v * hessian[q.name]), Number.isFinite(second.scale[j]) ? v * second.scale[j] : 0);
          expect(Math.abs(g[q.name] - v * hessian[q.name]), `∂²/∂${p.name}∂${q.name}·v: ${g[q.name]} vs ${v}·fHessian ${hessian[q.name]} (terms of magnitude ${second.scale[j]})\n${source}`).toBeLessThanOrEqual(tolerance);
        });
      }),
      // 150 programs: at 100 the count of Hessian entries compared (each program skips its own:
      // no differentiated parameter, an argument near 0, a non-finite oracle) once came to 46.
      { numRuns: 150 },
    );
    expect(compared).toBeGreaterThan(50);
  });
});

describe('the Hessian comparison scales with what cancelled (second-order.ts)', () => {
  it('hypot(π¹⁰⁰, ½)/(x·(4/x)): both sides rounding residues of 1e49-sized terms, the oracle 0 (seed -566032251)', () => {
    const x: Expr = { kind: 'var', name: 'x' };
    const num = (value: number): Expr => ({ kind: 'num', value });
    const bin = (op: '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
    const hyp: Expr = { kind: 'call', name: 'hypot', args: [bin('^', { kind: 'const', name: 'pi' }, num(100)), num(0.5)] };
    const program: Program = { functions: [{ name: 'f', params: [{ name: 'x', isConst: false }], lets: [], body: bin('/', hyp, { kind: 'paren', arg: bin('*', x, { kind: 'paren', arg: bin('/', num(4), x) }) }) }] };
    const source = `${printProgram(program)}fn outer(x) = jvp(f, x)(x, 0.75)\n`;
    expect(source).toBe('fn f(x) = hypot(pi^100, 0.5) / (x * (4 / x))\nfn outer(x) = jvp(f, x)(x, 0.75)\n');
    const m = load(source, { derivatives: ['grad', 'hessian'] });
    let residues = 0;
    for (const a of [0.3, 1.7, -2.2, 2.5]) {
      const { row, scale } = hessianRow(program, 'f', [a], 0);
      // f = c/u, u = x·(4/x) = 4: every derivative of u is 0, as a sum of terms of size c/x².
      expect(row).toEqual([0]);
      expect(scale[0]).toBeGreaterThan(1e48);
      const got = m.outerGrad(a).gradient.x as number;
      const want = 0.75 * (m.fHessian(a).hessian.x.x as number);
      if (Math.abs(got - want) > 1e-8 * (1 + Math.abs(want))) residues++;
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-8 * 0.75 * scale[0]);
      // Each a residue of those terms: a few of their roundings, 2^-53 · scale each.
      expect(Math.max(Math.abs(got), Math.abs(want))).toBeLessThanOrEqual(2 ** -53 * 64 * scale[0]);
    }
    // The tolerance of 1e-8·(1 + |v·H|) alone failed (the reason for the scale).
    expect(residues).toBeGreaterThan(0);
  });
});

/**
 * The zero-tangent rule (a tangent of exactly 0 into sqrt or cbrt at 0, asin or acos at ±1, gives
 * 0) applies only at those points: elsewhere a tangent that happens to be 0 (2x·ẋ at x = 0) still
 * has a derivative, which a nested gradient reads. The array property test (seed -598858306) found
 * the Jacobian of v − sqrt(1 + v²) differentiated again at v = 0 with that term missing.
 */
describe('a tangent of 0 away from an infinite partial is still differentiated', () => {
  const m = load(`fn h(x) = sqrt(1 + x^2) + cbrt(8 + x^2) + asin(0.5 + x^2)
fn g(x) = jvp(h, x)(x, 1)
fn r(v: vec[q]) {
  let w[i] = v[i] - sqrt(1 + v[i]^2)
  return w
}
fn f(x: vec[n]) = sum(i: sum(j: jacobian(r, v)(x)[i, j]^2))
`);

  it('jvp of sqrt(1 + x²), cbrt(8 + x²) and asin(0.5 + x²) differentiated again at x = 0', () => {
    // h'' at 0: 1 + 2/(3·8^(2/3)) + 2/sqrt(1 − 0.25); h' at 0 is 0.
    const want = 1 + 2 / 3 / 4 + 2 / Math.sqrt(0.75);
    expect(m.g(0)).toBe(0);
    expect(m.gGrad(0).gradient.x).toBeCloseTo(want, 14);
    expect(m.hHessian(0).hessian.x.x).toBeCloseTo(want, 14);
  });

  it('the Jacobian of v − sqrt(1 + v²) differentiated again at v = 0', () => {
    // J = 1 − v/sqrt(1 + v²) (1 at 0), J' = −(1 + v²)^(−3/2) (−1 at 0): d(J²)/dv = 2·J·J' = −2.
    expect(m.fGrad([0]).gradient.x[0]).toBeCloseTo(-2, 14);
    // The rule still holds where the partial is infinite: sqrt at 0 along a direction that does not move it.
    const z = load('fn s(x, y) = sqrt(x) + 3 * y\nfn t(x, y) = jvp(s, y)(x, y, 1)\n');
    expect(z.t(0, 2)).toBe(3);
    expect(z.sJvp({ y: 1 }, 0, 2).tangent).toBe(3);
  });
});

describe('jvp and jacobian refused with located diagnostics', () => {
  const cases: [string, string, number, number][] = [
    ['fn f(x) = x^2\nfn g(x) = jvp(f)(x)', 'AD8009', 2, 11],
    ['fn f(x, y) = x * y\nfn g(x) = jvp(f, x)(x, 1)', 'AD8009', 2, 11],
    ['fn f(x: vec[n]) = sum(i: x[i]^2)\nfn g(x: vec[n], y: vec[m]) = jvp(f)(x, y)', 'AD8010', 2, 40],
    ['fn f(x: vec[n]) = sum(i: x[i]^2)\nfn g(x: vec[n]) = jvp(f)(x, 1)', 'AD6012', 2, 29],
    ['fn f(x) = x^2\nfn g(x: vec[n]) = jvp(f)(x[0], x)', 'AD6013', 2, 32],
    ['fn f(x: vec[n]) {\n  let y[i, j] = x[i] * x[j]\n  return y\n}\nfn g(x: vec[n]) = jacobian(f)(x)[0, 0]', 'AD8011', 5, 19],
    ['fn f(x, y) = [x, y]\nfn g(x) = jacobian(f)(x, 1)[0]', 'AD8004', 2, 19],
    ['fn f(x) = x^2\nfn g(x) = jvp(sin)(x, 1)', 'AD8002', 2, 15],
    ['fn f(x) {\n  var y = x\n  y = y * 2\n  return y\n}\nfn g(x) = jvp(f)(x, 1)', 'AD8006', 6, 15],
    ['fn f(x: vec[n], b) = sum(i: x[i]^2) * b\nfn g(x: vec[n]) = sum(i: jvp(f, b)(x, x[i], 1))', 'AD8007', 2, 26],
    ['fn f(x) = [x, x^2]\nfn g(x) = jvp(f)(x, 1) + 1', 'AD6040', 2, 11],
    ['fn f(x) = x^2\nfn g(x) = jvp(f)(x, 1)[0]', 'AD6041', 2, 11],
    ['fn f(x) = jvp(f)(x, 1)', 'AD3002', 1, 15],
  ];
  for (const [source, code, line, column] of cases) {
    it(`${code}: ${source.split('\n').pop()}`, () => {
      const seen = diagnose(source);
      expect(seen.map((d) => `${d.code} ${d.line}:${d.column}`)).toContain(`${code} ${line}:${column}`);
    });
  }
});
