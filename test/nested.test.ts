import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics, type CompileOptions } from '../src/index.ts';
import { instantiate } from './support/instantiate.ts';
import { compileAndLoad } from './support/load.ts';
import { diagnose } from './support/diagnostics.ts';
import { explain } from '../src/explain/index.ts';
import fc from 'fast-check';
import { caseArb } from './oracle/arbitrary.ts';
import { gradient, printProgram, type Expr, type Program } from './oracle/program.ts';
import { hessianRow } from './oracle/second-order.ts';

/** grad(f, x)(args) inside the language (issue #14): values, nested derivatives, refusals. */

type Fn = (...args: unknown[]) => any;
function load(source: string, options: CompileOptions = {}): Record<string, Fn> {
  const r = compileSync(source, options);
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}`);
  return instantiate(r.code) as unknown as Record<string, Fn>;
}

type Arg = number | number[] | number[][];
/** Central differences of f with respect to every number of its arguments, shaped like them. */
function centralDifferences(f: (...args: Arg[]) => number, args: Arg[], h = 1e-5): Arg[] {
  const at = (k: number, path: number[], delta: number) => {
    const copy = structuredClone(args);
    if (path.length === 0) (copy[k] as number) += delta;
    else if (path.length === 1) (copy[k] as number[])[path[0]] += delta;
    else (copy[k] as number[][])[path[0]][path[1]] += delta;
    return f(...copy);
  };
  const d = (k: number, path: number[]) => (at(k, path, h) - at(k, path, -h)) / (2 * h);
  return args.map((a, k) => (typeof a === 'number' ? d(k, []) : (a as Arg[]).map((r, i) => (typeof r === 'number' ? d(k, [i]) : (r as number[]).map((_, j) => d(k, [i, j]))))) as Arg);
}

const plain = (x: unknown): unknown => (x instanceof Float64Array ? [...x] : Array.isArray(x) ? x.map(plain) : x);
function expectClose(actual: unknown, expected: unknown, tol: number, what = ''): void {
  const a = plain(actual);
  const e = plain(expected);
  if (typeof e === 'number') {
    expect(Math.abs((a as number) - e), `${what}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
    return;
  }
  expect(Array.isArray(a) && (a as unknown[]).length === (e as unknown[]).length, `${what}: ${JSON.stringify(a)} vs ${JSON.stringify(e)}`).toBe(true);
  (e as unknown[]).forEach((x, i) => expectClose((a as unknown[])[i], x, tol, `${what}[${i}]`));
}

describe('grad(f)(x) of a scalar function', () => {
  const source = `
fn f(x) = x^3 * sin(x)
fn df(x) = grad(f)(x)
fn outer(x, y) = grad(f, x)(x * y) * y + x`;
  const m = load(source, { derivatives: ['grad', 'jvp', 'hvp', 'hessian'] });
  // f' = 3x² sin x + x³ cos x; f'' = 6x sin x + 6x² cos x − x³ sin x (by hand).
  const f1 = (x: number) => 3 * x * x * Math.sin(x) + x ** 3 * Math.cos(x);
  const f2 = (x: number) => 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x);

  it('is the first derivative, and its gradient the hand-derived second derivative', () => {
    for (const x of [-2.1, -0.3, 0, 0.7, 1.3, 4]) {
      expect(m.df(x)).toBeCloseTo(f1(x), 12);
      expect(m.df(x)).toBe(m.fGrad(x).gradient.x);
      const g = m.dfGrad(x);
      expect(Math.abs(g.gradient.x - f2(x))).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(f2(x))));
      // Central differences of the outer gradient's own input: f' differenced gives f''.
      expectClose(g.gradient.x, centralDifferences((t) => m.df(t as number), [x])[0], 1e-8, 'fd');
      // Forward over the nested reverse, and forward over reverse over reverse (f''').
      expect(m.dfJvp({ x: 1 }, x).tangent).toBeCloseTo(f2(x), 10);
      expect(m.dfHessian(x).hessian.x.x).toBeCloseTo(centralDifferences((t) => m.dfGrad(t as number).gradient.x, [x])[0] as number, 6);
    }
  });

  it('composes with the chain rule: ∂/∂x [f′(xy)·y + x] = f″(xy)·y² + 1, ∂/∂y = f″(xy)·xy + f′(xy)', () => {
    const [x, y] = [0.8, 1.7];
    const g = m.outerGrad(x, y);
    expect(g.value).toBeCloseTo(f1(x * y) * y + x, 12);
    expect(g.gradient.x).toBeCloseTo(f2(x * y) * y * y + 1, 11);
    expect(g.gradient.y).toBeCloseTo(f2(x * y) * x * y + f1(x * y), 11);
  });

  it('differentiates an accumulator by its terms, not by what it holds at the end (found by the oracle property)', () => {
    // g = x/(x + π): the nested sweep's `let dx = 1/t; dx += …` made the outer sweep's rule for
    // 1/t read dx (−y/t) after the addition. g'' = −2π/(x + π)³.
    const m2 = load('fn g(x) = x / (x + pi)\nfn outer(x) = grad(g)(x)');
    for (const x of [-0.5, 1.3, 4]) expect(m2.outerGrad(x).gradient.x).toBeCloseTo((-2 * Math.PI) / (x + Math.PI) ** 3, 13);
  });

  it('is exact to any order: grad of grad of grad', () => {
    const m3 = load(`fn f(x) = exp(2 * x) * x
fn d1(x) = grad(f)(x)
fn d2(x) = grad(d1)(x)
fn d3(x) = grad(d2)(x)`);
    // dⁿ/dxⁿ x·e^{2x} = 2ⁿ⁻¹ e^{2x} (2x + n)
    for (const x of [-1, 0, 0.5]) {
      expect(m3.d2(x)).toBeCloseTo(2 * Math.exp(2 * x) * (2 * x + 2), 12);
      expect(m3.d3(x)).toBeCloseTo(4 * Math.exp(2 * x) * (2 * x + 3), 11);
      expect(m3.d3Grad(x).gradient.x).toBeCloseTo(8 * Math.exp(2 * x) * (2 * x + 4), 10);
    }
  });
});

describe('a gradient step inside an objective (meta-learning), differentiated again', () => {
  // loss(w) = Σ (w_i − d_i)⁴ / 4, so ∇loss = (w − d)³; one step x1 = x − lr·(x − d)³;
  // meta = loss(x1): ∂meta/∂x_i = (x1_i − d_i)³·(1 − 3·lr·(x_i − d_i)²), ∂meta/∂lr = −Σ (x1_i − d_i)³ (x_i − d_i)³.
  const source = `
fn loss(w: vec[n], const d: vec[n]) = sum(i: (w[i] - d[i])^4) / 4
fn meta(x: vec[n], const d: vec[n], lr) {
  let x1[i] = x[i] - lr * grad(loss, w)(x, d)[i]
  return loss(x1, d)
}`;
  const m = load(source, { derivatives: ['grad', 'jvp', 'hvp'] });
  const x = [1, 2, 0.5, -1];
  const d = [0.3, 1, 2, -0.5];
  const lr = 0.1;
  const r = x.map((xi, i) => xi - d[i]);
  const r1 = r.map((ri) => ri - lr * ri ** 3);

  it('matches the hand-derived gradient', () => {
    const g = m.metaGrad(x, d, lr);
    expect(g.value).toBeCloseTo(r1.reduce((s, t) => s + t ** 4, 0) / 4, 13);
    expectClose(g.gradient.x, r1.map((t, i) => t ** 3 * (1 - 3 * lr * r[i] ** 2)), 1e-13, '∂/∂x');
    expectClose(g.gradient.lr, -r1.reduce((s, t, i) => s + t ** 3 * r[i] ** 3, 0), 1e-13, '∂/∂lr');
  });

  it('matches central differences, and forward mode along each direction', () => {
    const g = m.metaGrad(x, d, lr);
    const fd = centralDifferences((a, b, c) => m.meta(a, b, c), [x, d, lr]);
    expectClose(g.gradient.x, fd[0], 1e-7, 'x');
    expectClose(g.gradient.lr, fd[2], 1e-7, 'lr');
    const v = [0.3, -1, 0.25, 2];
    const jvp = m.metaJvp({ x: v, lr: 0.5 }, x, d, lr).tangent;
    expect(jvp).toBeCloseTo(g.gradient.x.reduce((s: number, gi: number, i: number) => s + gi * v[i], 0) + 0.5 * g.gradient.lr, 12);
  });

  it('gives an exact Hessian-vector product (forward over reverse over reverse) against differences of the gradient', () => {
    const v = [0.3, -1, 0.25, 2];
    const hvp = m.metaHvp({ x: v }, x, d, lr).hvp;
    const h = 1e-5;
    const at = (s: number) => m.metaGrad(x.map((xi, i) => xi + s * v[i]), d, lr).gradient;
    const fdx = [...at(h).x].map((gp: number, i: number) => (gp - at(-h).x[i]) / (2 * h));
    expectClose(hvp.x, fdx, 1e-7, 'hvp.x');
  });
});

describe('grad where an expression or array may stand', () => {
  const source = `
fn f(x) = x^3 * sin(x)
fn q(w: vec[n], b) = sum(i: (w[i] * b - 1)^2) + w[0] * w[1]
fn inLet(x, y) {
  let a = grad(f)(x)
  let b = grad(q, b)([x, y], a)
  return a * b
}
fn inReduction(x: vec[n]) = sum(i: grad(f)(x[i]) * x[i])
fn inArrayLet(x: vec[n], s) {
  let g[i] = grad(q, w)(x, s)[i] * x[i]
  return sum(i: g[i]^2)
}
fn inLoop(x0, lr, const steps) {
  var x = x0
  for t in 0..steps {
    x = x - lr * grad(f)(x)
  }
  return x
}
fn inBranch(x, y) = if x > 0 then grad(f)(x * y) else grad(q, b)([x, y], y)
fn asArgument(x: vec[n], s) = q(grad(q, w)(x, s), s) + norm(grad(q, w)(x, s))
fn returned(x: vec[n], s) = grad(q, w)(x, s)
fn rows(A: mat[m, n], s) {
  let G[i, j] = grad(r, M)(A, s)[i, j] + A[i, j]
  return sum(i: sum(j: G[i, j] * G[i, j] * A[i, j]))
}
fn flat(A: mat[m, n], s) {
  let B[i, j] = A[i, j] * s
  return sum(i: sum(j: grad(r, M)(B, s)[i, j] * A[i, j]))
}
fn r(M: mat[m, n], s) = sum(i: sum(j: M[i, j]^2) ^ 2) * s + sum(i: M[i, 0]^3)`;
  const m = load(source, { derivatives: ['grad', 'jacobian'] });
  const cases: [string, Arg[]][] = [
    ['inLet', [0.7, -1.2]],
    ['inReduction', [[1, 0.4, -2]]],
    ['inArrayLet', [[1, 0.4, -2], 0.6]],
    ['inLoop', [1.1, 0.05, 5]],
    ['inBranch', [0.7, 1.4]],
    ['inBranch', [-0.7, 1.4]],
    ['asArgument', [[1, 0.4, -2], 0.6]],
    ['rows', [[[1, 2], [0.5, -1], [0.2, 0.3]], 0.4]],
    ['flat', [[[1, 2], [0.5, -1], [0.2, 0.3]], 0.4]],
  ];
  for (const [name, args] of cases) {
    it(`${name}${JSON.stringify(args)}: the gradient matches central differences`, () => {
      const g = m[`${name}Grad`](...args);
      expect(g.value).toBe(m[name](...args));
      const fd = centralDifferences((...a) => m[name](...a), args);
      const keys = Object.keys(g.gradient);
      keys.forEach((key) => expectClose(g.gradient[key], fd[['x', 'x0', 'A'].includes(key) ? 0 : key === 'y' || key === 's' || key === 'lr' ? 1 : 0], 1e-6, key));
    });
  }

  it('has the value of the exported gradient, and a returned gradient has the Hessian as its Jacobian', () => {
    const x = [1, 0.4, -2];
    expectClose(m.returned(x, 0.6), m.qGrad(x, 0.6).gradient.w, 0);
    expect(m.inLet(0.7, -1.2)).toBe(m.fGrad(0.7).gradient.x * m.qGrad([0.7, -1.2], m.fGrad(0.7).gradient.x).gradient.b);
    const jacobian = m.returnedJacobian(x, 0.6).jacobian.x;
    const hessian = x.map((_, k) => centralDifferences((a) => m.qGrad(a, 0.6).gradient.w[k], [x])[0]);
    expectClose(jacobian, hessian, 1e-7, 'Hessian');
  });
});

describe('counter-examples the nested property test found (test/arrays-properties.test.ts), now fixed', () => {
  const cases: [string, string, Arg[]][] = [
    // ∂/∂x was 0: reverse mode dropped the adjoint of a product's state `nonzero`, which only a
    // nested gradient's reverse sweep reads.
    ['a product', 'fn inner(x: vec[n]) = prod(i: x[i])', [[1.5, 2, -0.5]]],
    ['a product with a zero factor', 'fn inner(x: vec[n]) = prod(i: x[i])', [[1.5, 0, -0.5]]],
    // Declared twice (a SyntaxError): the outer sweep hoisted a reduction the nested one had hoisted.
    ['a max in a branch', 'fn inner(x: vec[n]) = if n > 0 then max(i: x[i]) else 1', [[0.3, -0.2]]],
    // Wrong: recomputing a loop body read `dx[i] += v`'s value back from dx[i].
    ['a logsumexp in a branch in a sum', 'fn inner(x: vec[n]) = sum(i: (x[i] - (if n > 0 then logsumexp(j: x[j]) else 1))^2)', [[0.3, -0.2]]],
    // Half the derivative: recomputing a loop body skipped a loop accumulating into a value of it
    // (the sum over j of d$Z that a zero guard reads), so the guard read 0.
    ['an array let read once', 'fn inner(x: vec[n]) {\n  let Z[i in 0..n, j in 0..n] = x[i] * sqrt(n)\n  return x[1] * Z[1, 0]\n}', [[1.5, -0.7596]]],
    // ∂/∂y[1] wrong where y[1] = 0: the nested sweep guarded `if (d$w[1] !== 0)`, a constant 0
    // to the outer sweep, whose derivative d(d$w·p)/d(d$w) = p is not (nested sweeps have no guards).
    ['an adjoint exactly 0', 'fn r(v: vec[q]) {\n  let w[i] = min(v[i], q)\n  return w\n}\nfn inner(x: vec[n]) = dot(r(x), x) + sum(i in 0..n: sum(j in 0..n: x[j])^2)', [[-0.0005, 0, 0.6708, 1.2596]]],
    // fGrad's value was 0: dead-code elimination dropped stores into a row read in a branch.
    ['rows read in a branch', 'fn inner(A: mat[n, n]) = sum(i: if i == i then A[i, i] * A[i, 0] else A[i, i])', [[[0.5, 2], [1, 3]]]],
  ];
  for (const [name, inner, args] of cases) {
    it(name, () => {
      const x = inner.includes('mat') ? 'A: mat[n, n]' : 'x: vec[n]';
      const body = inner.includes('mat') ? 'sum(i: sum(j: grad(inner, A)(A)[i, j]^2))' : 'sum(i: grad(inner, x)(x)[i]^2)';
      const m = load(`${inner}\nfn f(${x}) = ${body}`);
      const g = m.fGrad(...args);
      expect(g.value).toBe(m.f(...args));
      expectClose(g.gradient[x[0]], centralDifferences((...a) => m.f(...a), args)[0], 1e-7, name);
    });
  }
});

describe("a nested gradient's loop over t^j counted the same way in f and fGrad (fuzz seed 1892944636)", () => {
  // The nested reverse sweep's loop, counting down, is counted up when its iterations are
  // independent, so that t^j becomes a running product (reduce-strength.ts). fGrad's forward copy
  // of that loop also stores each iteration's cosh for its own reverse sweep; that store made the
  // loop look dependent, so fGrad kept Math.pow and the downward order of additions: its value
  // differed from f's in the last bit (at every point below, on both targets, before the fix).
  const derivatives: CompileOptions = { derivatives: ['grad', 'jvp', 'hvp'] };
  const values = (m: Record<string, Fn>, args: Arg[], out: Record<string, unknown>) => ({
    f: m.f(...args),
    fGrad: m.fGrad(...args).value,
    fGradInto: m.fGradInto(out, ...args),
    fJvp: m.fJvp({}, ...args).value,
    fHvp: m.fHvp({}, ...args).value,
  });
  const expectSameBits = (v: Record<string, number>, what: string) => {
    for (const [name, value] of Object.entries(v)) expect(Object.is(value, v.f), `${what}: ${name} ${value} vs f ${v.f}`).toBe(true);
  };
  const points: [number, number[]][] = [
    [0.75, [0.5, -0.25, 1, 0.125, -0.75]],
    [1.25, [-0.5, 0.3, 0.7, -1, 0.2, 0.9]],
    [-0.6, [0.1, 0.2, 0.3, 0.4]],
    [0.9, [1, -1, 0.5, -0.5, 0.25, -0.25, 2]],
    [0.8816882371902466, [-0.6155798435211182, 0.15974313020706177, -0.5324759483337402, -0.5821031928062439, 0.5751470327377319]],
  ];
  const cases: [string, string][] = [
    // The reduced program: the cosh stored at y's index j.
    ['a power of the index, stored at the index', 'fn inner(x, y: vec[n]) = sum(j: tanh(y[j] + x^j))'],
    // The cosh stored in an inner loop, at i·n + j: the outer loop over i (with x^i) is counted up too.
    ['a power of the outer index, stored in an inner loop', 'fn inner(x, y: vec[n]) = sum(i: x^i * y[i] * sum(j: tanh(y[j] * x + i)))'],
  ];
  for (const [name, inner] of cases) {
    it(name, () => {
      const m = load(`${inner}\nfn f(x, y: vec[n]) = grad(inner, x)(x, y)`, derivatives);
      for (const [x, y] of points) {
        expectSameBits(values(m, [x, y], { y: new Float64Array(y.length) }), `${name} at x = ${x}`);
        expectClose(m.fGrad(x, y).gradient.x, centralDifferences((...a) => m.f(...a), [x, y])[0], 1e-6, name);
      }
    });
  }
  it('the same on the wasm target, whose f and fGrad come from the same loops', async () => {
    for (const [name, inner] of cases) {
      const m = (await compileAndLoad(`${inner}\nfn f(x, y: vec[n]) = grad(inner, x)(x, y)`, { target: 'wasm' })) as unknown as Record<string, Fn>;
      for (const [x, y] of points) expectSameBits({ f: m.f(x, y), fGrad: m.fGrad(x, y).value }, `${name} (wasm) at x = ${x}`);
    }
  });
  it("the fuzz search's program", () => {
    const m = load(
      `fn inner(A: mat[n, n], y: vec[n], B: mat[m, n]) = sum(i: y[i] + (prod(j in 0..n-1: tanh(y[j] + (tanh(A[i, i])^j)))^3)) - (tanh(prod(i in 0..m-1: atan(0.5 * i)))^2)
fn f(A: mat[n, n], y: vec[n], B: mat[m, n]) = sum(i: sum(j: grad(inner, A)(A, y, B)[i, j]^2))`,
      derivatives,
    );
    const A = [[-1, -1.1369, 0.7123, -0.5, -0.1263], [0.6635, 0, -1.4774, 0.5977, -0.47], [-0.4196, 1, 0.0559, 1.2049, 0.6301], [0, 0.5, -0.722, -0.2932, -0.0012], [-0.5, 1.2, 1.4999999999999973, 0, 0.3688]];
    const y = [0, 0, -0.4558, 0, -0.0263];
    const B = [[-1, 0, -1.4697, -1.4334, -1.4393], [0.9243, 0.001, 1.2052, 0, 1.5]];
    const out = { A: A.map(() => new Float64Array(5)), y: new Float64Array(5), B: B.map(() => new Float64Array(5)) };
    expectSameBits(values(m, [A, y, B], out), 'the fuzz program');
  });
});

describe('values the forward sweep stored, in a branch recomputed by the nested reverse sweep (seed −1804869203)', () => {
  // The nested sweep recomputed a branch in a loop whole, stores included: it wrote the forward
  // sweep's stored tanh values (a store and a load cost less than a tanh, loops.ts) a second time.
  // The outer sweep took each stored value's adjoint at both stores, so it counted it twice.
  const f = (inner: string) => load(`${inner}\nfn f(x: vec[n]) = sum(i: grad(inner, x)(x)[i]^2)`);
  const stored = 'fn inner(x: vec[n]) = sum(i: x[i] + (if n > 0 then logsumexp(j: tanh((x[j] - 1)^2)) else 1))';
  it('the property test\'s program at n = 1, x = [0], by hand (it gave −0.324)', () => {
    // n = 1: inner = x + tanh(u), u = (x − 1)²; g = inner′ = 1 + t′ with t′ = 2(x − 1)·sech²u,
    // t″ = 2·sech²u − 8(x − 1)²·sech²u·tanh u; f = g², f′ = 2g·t″.
    const s = 1 / Math.cosh(1) ** 2;
    const g = 1 - 2 * s;
    const byHand = 2 * g * (2 * s - 8 * s * Math.tanh(1));
    const m = f(stored);
    expect(m.fGrad([0]).gradient.x[0]).toBeCloseTo(byHand, 12);
    expect(byHand).toBeCloseTo(-0.5502088, 6);
  });
  it('an exp stored in a branch, by hand at n = 1', () => {
    // inner = x·exp(x²): g = exp(x²)(1 + 2x²), g′ = exp(x²)(6x + 4x³), f′ = 2g·g′.
    const m = f('fn inner(x: vec[n]) = sum(i: x[i] * (if n > 0 then sum(j: exp(x[j] * x[i])) else 1))');
    const x = 0.3;
    const e = Math.exp(x * x);
    expect(m.fGrad([x]).gradient.x[0]).toBeCloseTo(2 * e * (1 + 2 * x * x) * e * (6 * x + 4 * x ** 3), 12);
  });
  const cases: [string, string][] = [
    ['a logsumexp of tanh in a branch', stored],
    ['an exp in a branch', 'fn inner(x: vec[n]) = sum(i: x[i] * (if n > 0 then sum(j: exp(x[j] * x[i])) else 1))'],
    ['a log of a sum of exps inside an if on the data', 'fn inner(x: vec[n]) = sum(i: if x[i] > 0 then log(1 + sum(j: exp(x[j]) * x[i])) else x[i]^2)'],
    ['a logsumexp of exp in a branch in a double loop', 'fn inner(x: vec[n]) = sum(i: sum(k: if n > 1 then logsumexp(j: exp(x[j] - x[k])) * x[i] else 0))'],
  ];
  for (const [name, inner] of cases) {
    it(`${name}: the gradient against central differences, and the inner gradient too`, () => {
      const m = f(inner);
      for (const x of [[0.3, -0.7], [0.5, 1.2, -0.4]]) {
        expectClose(m.innerGrad(x).gradient.x, centralDifferences((a) => m.inner(a), [x])[0], 1e-7, `${name}: innerGrad at ${x}`);
        const g = m.fGrad(x);
        expect(g.value).toBe(m.f(x));
        expectClose(g.gradient.x, centralDifferences((a) => m.f(a), [x])[0], 1e-7, `${name} at ${x}`);
      }
    });
  }
});

describe('array lets in branches around or inside a nested gradient, differentiated again', () => {
  // Noticed in session 5: an array let re-stored where the reverse sweep recomputes a branch might
  // have its elements' adjoints taken twice by the outer sweep (as the stored values above were).
  // Not reproduced: these agree with central differences of the outer function (checked here so
  // that it stays so). The points below have elements on both sides of the first's conditions.
  const cases: [string, string][] = [
    [
      'array lets whose elements are if-expressions, in the function grad differentiates (recomputed per element)',
      `fn loss(w: vec[n], const d: vec[n]) {
  let z[i] = if w[i] > 0 then w[i]^2 * d[i] else sin(w[i]) + d[i]
  let q[i] = if z[i] > 0.05 then exp(z[i]) * w[i] else z[i] * z[i]
  return sum(i: q[i] * z[i]) + prod(i: 1 + 0.1 * z[i])
}
fn meta(x: vec[n], const d: vec[n], lr) {
  let x1[i] = x[i] - lr * grad(loss, w)(x, d)[i]
  return loss(x1, d) + sum(k in 0..2: grad(loss, w)(x1, d)[k] * x[k])
}`,
    ],
    [
      'an array let in an if block in a loop (a branch the reverse sweep recomputes), reading a nested gradient',
      `fn loss(w: vec[n], const d: vec[n]) = sum(i: sin(w[i] * d[i]) * w[i]^2)
fn meta(x: vec[n], const d: vec[n], lr) {
  let g[i] = grad(loss, w)(x, d)[i]
  var s = 0
  for t in 0..3 {
    if s < 0.5 {
      let x1[i] = x[i] * (t + 1) - lr * g[i]
      s = s + loss(x1, d) * x[1]
    } else {
      s = s * 0.5 + x[0] * g[0]
    }
  }
  return s
}`,
    ],
  ];
  for (const [name, source] of cases) {
    it(`${name}: metaGrad against central differences of meta`, () => {
      const m = load(source);
      const d = [0.1, 0.2, -0.3];
      for (const x of [[0.3, -0.4, 0.8], [-0.3, 0.9, 0.5], [0.05, 0.6, -1.1]]) {
        const lr = 0.7;
        const g = m.metaGrad(x, d, lr);
        expect(g.value).toBe(m.meta(x, d, lr));
        const [dx, , dlr] = centralDifferences((a, c, l) => m.meta(a, c, l), [x, d, lr]);
        expectClose(g.gradient.x, dx, 1e-7, `${name}: x at ${x}`);
        expectClose(g.gradient.lr, dlr, 1e-7, `${name}: lr at ${x}`);
      }
    });
  }
});

describe('a product differentiated again where factors are exactly 0 (prefix and suffix products)', () => {
  // ∂²/∂x_i∂x_j prod(x) is the product of the terms other than i and j: by hand below.
  const others = (x: number[], ...skip: number[]) => x.reduce((p, t, k) => (skip.includes(k) ? p : p * t), 1);
  it('grad of grad of prod at one and two zero factors is the Hessian times the weights, by hand', () => {
    const m = load('fn p(x: vec[n]) = prod(i: x[i])\nfn f(x: vec[n], const v: vec[n]) = sum(i: grad(p)(x)[i] * v[i])\n');
    const v = [0.5, -1, 2, 3];
    for (const x of [
      [1.5, 0, -2, 0.25],
      [1.5, 0, -2, 0],
      [0, 0, 0, 2],
    ]) {
      const byHand = x.map((_, i) => v.reduce((s, vj, j) => (i === j ? s : s + vj * others(x, i, j)), 0) + 0);
      expect([...(m.fGrad(x, v).gradient.x as Float64Array)].map((e) => e + 0), `at ${x}`).toEqual(byHand);
    }
  });
  it('a nested gradient of a product inside a loop, by hand', () => {
    // p(x) = x(x + 1)(x + 2): g(y) = Σ_k p′(y·k), g′(y) = Σ_k k·p″(y·k) = Σ_k k·(6yk + 6); at y = 0 the factor x is 0.
    const m = load('fn p(x) = prod(i in 0..3: x + i)\nfn g(y) = sum(k in 0..3: grad(p)(y * k))\n');
    for (const y of [0.7, 0, -1]) expect(m.gGrad(y).gradient.y).toBeCloseTo([1, 2].reduce((s, k) => s + k * (6 * y * k + 6), 0), 12);
  });
  it('products in a reduction, with a range fixed or depending on the outer index, against central differences', () => {
    const rows = load('fn h(A: mat[m, n]) = sum(i: prod(j: A[i, j]))\nfn f(A: mat[m, n]) = sum(i: sum(j: grad(h)(A)[i, j]^2))\n');
    const A = [[0.5, 0, -1.5], [2, 0, 0], [1, 2, 3]];
    expectClose(rows.fGrad(A).gradient.A, centralDifferences((a) => rows.f(a), [A])[0], 1e-7, 'rows');
    const triangle = load('fn h(x: vec[n]) = sum(i in 0..n: prod(j in 0..i + 1: x[j]))\nfn f(x: vec[n]) = sum(i: grad(h)(x)[i]^2)\n', { derivatives: ['grad', 'hessian'] });
    const x = [0.5, 0, -1.5, 2];
    expectClose(triangle.fGrad(x).gradient.x, centralDifferences((a) => triangle.f(a), [x])[0], 1e-7, 'triangle');
    // hHessian: ∂²/∂x_a∂x_b of Σ_i Π_{j≤i} x_j, by hand: Σ over i ≥ max(a, b) of the product of the others.
    const hessian = x.map((_, a) => x.map((_, b) => (a === b ? 0 : x.reduce((s, _t, i) => (i >= Math.max(a, b) ? s + others(x.slice(0, i + 1), a, b) : s), 0)) + 0));
    expect((triangle.hHessian(x).hessian.x.x as Float64Array[]).map((r) => [...r].map((e) => e + 0))).toEqual(hessian);
  });
});

describe('adc explain', () => {
  it('refuses a function that takes a derivative, saying so', () => {
    expect(() => explain('fn f(x) = x^2\nfn g(x) = grad(f)(x) * x', 'g', { x: 1 })).toThrow(/takes a derivative inside the language/);
  });
});

describe('grad refused with located diagnostics', () => {
  const cases: [string, string, number, number][] = [
    ['fn f(x, y) = x * y\nfn g(x) = grad(f)(x, 1)', 'AD8004', 2, 15],
    ['fn f(x, y) = x * y\nfn g(x) = grad(f, z)(x, 1)', 'AD8003', 2, 19],
    ['fn f(x, y) = x * y\nfn g(x) = grad(f, x)(x)', 'AD3001', 2, 11],
    ['fn f(x, y) = x * y\nfn g(x) = grad(fo, x)(x, 1)', 'AD2002', 2, 16],
    ['fn f(x, y) = x * y\nfn g(x) = f(x, 2)(x)', 'AD8001', 2, 11],
    // jvp and jacobian are derivatives too (test/nested-jvp.test.ts); hessian is not in the language.
    ['fn f(x) = x^2\nfn g(x) = hessian(f)(x)', 'AD8001', 2, 11],
    ['fn f(x) = x^2\nfn g(x) = grad(sin)(x)', 'AD8002', 2, 16],
    ['fn f(x) = x^2\nfn g(x) = grad(f, x, x)(x)', 'AD8002', 2, 15],
    ['fn f(x) = x^2\nfn g(x) = grad(2 * x)(x)', 'AD8002', 2, 15],
    ['fn f(x) = [x, x]\nfn g(x) = grad(f)(x)', 'AD8005', 2, 16],
    ['fn f(x) {\n  var y = x\n  y = y * 2\n  return y\n}\nfn g(x) = grad(f)(x)', 'AD8006', 6, 16],
    ['fn f(x: vec[n], b) = sum(i: x[i]^2) * b\nfn g(x: vec[n]) = sum(i: grad(f, b)(x, x[i]))', 'AD8007', 2, 26],
    ['fn f(x: vec[n]) = sum(i: x[i]^2)\nfn g(x: vec[n]) = sum(i: grad(f)([x[i], 1])[0])', 'AD6044', 2, 26],
    ['fn f(x: vec[n]) = sum(i: x[i]^2)\nfn g(x: vec[n]) = grad(f)(x) + 1', 'AD6040', 2, 19],
    ['fn q(x) = x^2\nfn g(x) = grad(q)(x)[0]', 'AD6041', 2, 11],
    ['fn f(x) = grad(f)(x)', 'AD3002', 1, 16],
    // A bounded recursion (its calls stay calls) is not inlined into a nested sweep: refused.
    ['fn r(x, const k) = if k > 0 then x * r(x, k - 1) else 1\nfn g(x) = grad(r, x)(x, 3)', 'AD8008', 2, 16],
    // (A gradient of an array parameter in a block, AD7011 before, is built: test/block-derivatives.test.ts.)
  ];
  for (const [source, code, line, column] of cases) {
    it(`${code}: ${source.split('\n').pop()}`, () => {
      const seen = diagnose(source);
      expect(seen.map((d) => `${d.code} ${d.line}:${d.column}`)).toContain(`${code} ${line}:${column}`);
    });
  }
});

/** A magnitude to scale a tolerance by: none where it is not finite (NaN or ∞ terms). */
const finite = (m: number) => (Number.isFinite(m) ? m : 0);

describe('grad of a program whose derivatives cancel: compared relative to what cancelled', () => {
  it('hypot(π¹⁰⁰, ½)/(x·(4/x)): both derivatives 0, every side a residue of 1e49-sized terms', () => {
    const x: Expr = { kind: 'var', name: 'x' };
    const num = (value: number): Expr => ({ kind: 'num', value });
    const bin = (op: '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
    const hyp: Expr = { kind: 'call', name: 'hypot', args: [bin('^', { kind: 'const', name: 'pi' }, num(100)), num(0.5)] };
    const program: Program = { functions: [{ name: 'f', params: [{ name: 'x', isConst: false }], lets: [], body: bin('/', hyp, { kind: 'paren', arg: bin('*', x, { kind: 'paren', arg: bin('/', num(4), x) }) }) }] };
    const source = `${printProgram(program)}fn outer(x) = grad(f, x)(x)\n`;
    const m = load(source, { derivatives: ['grad', 'hessian'] });
    let beyondFixed = 0;
    for (const a of [0.3, 1.7, -2.2, 2.5, 3.1]) {
      const first = gradient(program, 'f', [a]);
      const second = hessianRow(program, 'f', [a], 0);
      // The oracle's own are 0 or residues too (another order again): a few roundings of the terms.
      expect(Math.abs(first.gradient[0])).toBeLessThanOrEqual(2 ** -53 * 64 * first.scale[0]);
      expect(Math.abs(second.row[0])).toBeLessThanOrEqual(2 ** -53 * 64 * second.scale[0]);
      expect(first.scale[0]).toBeGreaterThan(1e48);
      const value = m.outer(a) as number;
      const g = m.outerGrad(a).gradient.x as number;
      const h = m.fHessian(a).hessian.x.x as number;
      expect(Math.abs(value)).toBeLessThanOrEqual(1e-9 * first.scale[0]);
      expect(Math.abs(g - h)).toBeLessThanOrEqual(1e-8 * second.scale[0]);
      if (Math.abs(value) > 1e-9 || Math.abs(g - h) > 1e-8 * (1 + Math.abs(h))) beyondFixed++;
    }
    expect(beyondFixed).toBeGreaterThan(0);
  });
});

describe('grad(f, p)(…) of random scalar programs (test/oracle): against the dual-number oracle and fHessian', () => {
  it('the value is the oracle gradient, its gradient the Hessian row (forward over reverse) and central differences of the oracle gradient', () => {
    let compared = 0;
    fc.assert(
      fc.property(caseArb(), ({ program, fn, args }) => {
        const f = program.functions.find((g) => g.name === fn)!;
        const differentiated = f.params.filter((q) => !q.isConst);
        // (As in test/oracle/oracle.test.ts: the steps must be << |x|; 0 is often a pole or kink.)
        if (differentiated.length === 0 || args.some((x) => Math.abs(x) < 1e-3)) return;
        const p = differentiated[0];
        const names = f.params.map((q) => q.name).join(', ');
        const source = `${printProgram(program)}\nfn outer(${f.params.map((q) => (q.isConst ? `const ${q.name}` : q.name)).join(', ')}) = grad(${fn}, ${p.name})(${names})\n`;
        const m = load(source, { derivatives: ['grad', 'hessian'] });
        const value = m.outer(...args) as number;
        const exported = m[`${fn}Grad`](...args).gradient[p.name] as number;
        const reference = gradient(program, fn, args);
        const oracle = reference.gradient[0];
        if (!Number.isFinite(oracle) || !Number.isFinite(value)) return;
        expect(Math.abs(value - exported), `${value} vs ${fn}Grad ${exported}\n${source}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(exported)));
        // Both the first and the second derivatives may also differ by 1e-9 and 1e-8 of the terms
        // that cancelled in them (dual.ts, second-order.ts), as in test/nested-jvp.test.ts: in
        // hypot(π¹⁰⁰, ½)/(x·(4/x)) both are 0 in one order and residues of 1e49-sized terms in another
        // (seed -566032251 there). Where nothing cancels the magnitudes are the derivatives' own.
        expect(Math.abs(value - oracle), `${value} vs oracle ${oracle}\n${source}`).toBeLessThanOrEqual(1e-9 * Math.max(1 + Math.abs(oracle), finite(reference.scale[0])));
        const g = m.outerGrad(...args).gradient;
        const hessian = m[`${fn}Hessian`](...args).hessian[p.name];
        const second = hessianRow(program, fn, args, 0);
        differentiated.forEach((q, k) => {
          const i = f.params.indexOf(q);
          // Central differences of the oracle's exact first derivative, with two steps: where they
          // disagree, the point is near a kink or branch and nothing is compared.
          const at = (h: number) => gradient(program, fn, args.map((x, j) => (j === i ? x + h : x))).gradient[0];
          const step = 1e-4 * Math.max(1, Math.abs(args[i]));
          const d1 = (at(step) - at(-step)) / (2 * step);
          const d4 = (at(step / 4) - at(-step / 4)) / (step / 2);
          const scale = 1 + Math.abs(d4);
          if (![g[q.name], hessian[q.name], d1, d4].every(Number.isFinite) || Math.abs(d1 - d4) > 1e-4 * scale) return;
          compared++;
          const cancelled = 1e-8 * finite(second.scale[k]);
          expect(Math.abs(g[q.name] - hessian[q.name]), `∂²/∂${p.name}∂${q.name}: ${g[q.name]} vs fHessian ${hessian[q.name]} (terms of magnitude ${second.scale[k]})\n${source}`).toBeLessThanOrEqual(Math.max(1e-8 * (1 + Math.abs(hessian[q.name])), cancelled));
          expect(Math.abs(g[q.name] - d4), `∂²/∂${p.name}∂${q.name}: ${g[q.name]} vs differences ${d4}\n${source}`).toBeLessThanOrEqual(Math.max(1e-5 * scale + Math.abs(d1 - d4), cancelled));
        });
      }),
      { numRuns: 150 },
    );
    expect(compared).toBeGreaterThan(50);
  });
});

describe('a chain of derivatives of derivatives (fK = f(K-1) + grad(f(K-1))): exact while small, AD3009 before it explodes', () => {
  const chain = (depth: number) =>
    ['fn f0(x) = sin(x) * x', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = f${k}(x) + grad(f${k})(x)`)].join('\n') + '\n';
  // By hand: fK = Σ_j C(K, j) f0^(j), and the j-th derivative of x·sin x is x·sin(x + jπ/2) + j·sin(x + (j − 1)π/2).
  const d0 = (j: number, x: number) => x * Math.sin(x + (j * Math.PI) / 2) + j * Math.sin(x + ((j - 1) * Math.PI) / 2);
  const binomial = (n: number, k: number): number => (k === 0 ? 1 : (binomial(n, k - 1) * (n - k + 1)) / k);
  const byHand = (depth: number, x: number, order: number) => Array.from({ length: depth + 1 }, (_, j) => binomial(depth, j) * d0(j + order, x)).reduce((a, b) => a + b);

  it('compiles 5 levels, whose values and gradients match the closed form and central differences', () => {
    const m = load(chain(5));
    for (const x of [-1.3, 0.4, 2.2]) {
      for (let k = 0; k <= 5; k++) {
        expectClose(m[`f${k}`](x), byHand(k, x, 0), 1e-12, `f${k}(${x})`);
        const g = m[`f${k}Grad`](x);
        expectClose(g.value, byHand(k, x, 0), 1e-12, `f${k}Grad(${x}).value`);
        expectClose(g.gradient.x, byHand(k, x, 1), 1e-12, `f${k}Grad(${x})`);
        expectClose(g.gradient.x, centralDifferences((t) => m[`f${k}`](t as number), [x])[0], 1e-7, `f${k} by differences at ${x}`);
      }
    }
  });

  it('refuses 1,000 levels at the first derivative past the limit, before building any code', () => {
    const source = chain(1000);
    const started = performance.now();
    const r = compileSync(source);
    const elapsed = performance.now() - started;
    expect(r.code).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, source.slice(d.span.start, d.span.end)])).toEqual([['AD3009', 'grad(f7)(x)']]);
    expect(r.diagnostics[0].message).toBe(
      "this derivative of 'f7' would build about 278523 operations (the limit is 200000): a derivative inlines every call in 'f7' and expands the derivatives it takes, so each level of derivatives of derivatives multiplies the code; differentiate fewer levels",
    );
    // Before the check, 10 levels compiled for 5.7 s and 1,000 for minutes; the checks of 1,000
    // functions take about 3 s (an unloaded machine) — what is bounded here is the work, not the clock.
    expect(elapsed).toBeLessThan(30_000);
  });

  it('still compiles 7 levels (the last under the limit), exactly', () => {
    const m = load(chain(7));
    for (const x of [0.4, 2.2]) expectClose(m.f7Grad(x).gradient.x, byHand(7, x, 1), 1e-11, `f7Grad(${x})`);
  });

  it('counts every call a derivative inlines, kept calls too: grad of a chain doubling at every level', () => {
    // Kept as calls (size × sites), these 30 levels compile at any size; a derivative of f30 would inline 2^30 copies.
    const source = ['fn g0(x) = sin(x)', ...Array.from({ length: 30 }, (_, k) => `fn g${k + 1}(x) = g${k}(x) * g${k}(0.5 * x)`), 'fn h(x) = grad(g30)(x)'].join('\n') + '\n';
    const r = compileSync(source);
    expect(r.diagnostics.map((d) => [d.code, source.slice(d.span.start, d.span.end)])).toEqual([['AD3009', 'grad(g30)(x)']]);
    expect(r.diagnostics[0].message).toMatch(/^this derivative of 'g30' would build more than 1,000,000,000 operations \(the limit is 200000\)/);
  });
});
