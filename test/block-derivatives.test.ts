/**
 * Derivatives inside `for`, `while` and `if` blocks (issue #13; AD7011 lifted, AD6016 and AD8007
 * no longer apply to blocks): the gradient of an array parameter, an array-valued jvp or Jacobian,
 * a scalar derivative of a function over arrays, and a call of a function making arrays, each run
 * once per iteration. The motivating program is the unrolled optimiser, differentiated with respect
 * to its learning rate and its starting point (meta-learning): second derivatives of the loss,
 * through every step.
 *
 * References, independent of the compiler: each program as plain JavaScript with the inner
 * derivative written out by hand (the loss's gradient, the jvp's and Jacobian's entries), its value
 * to 1e-13 and its gradient by the forward-mode oracle over dual numbers (test/oracle/arrays.ts)
 * run through that hand-written inner derivative; central differences of the compiled value; the
 * checkpointed reverse sweep against the fully stored one, bit for bit; fJvp against the oracle.
 */
import { describe, expect, it } from 'vitest';
import { duals, forwardGradient, numbers, type Arith, type GradValue, type Param } from './oracle/arrays.ts';
import { compileAndLoad } from './support/load.ts';
import { both, callBoth } from './support/targets.ts';

const programs = `
fn loss(w: vec[n], d: vec[n]) = sum(i: (w[i] - d[i])^2 * exp(0.1 * w[i]))

# The issue's unrolled optimiser: T steps of gradient descent on loss.
fn train(lr, w0: vec[n], d: vec[n], const T) {
  var w: vec[n] = w0
  for t in 0..T {
    w[i] = w[i] - lr * grad(loss, w)(w, d)[i]
  }
  return sum(i: w[i]^2)
}

# Two steps per epoch in a loop inside the loop, the gradient in an array let, a decay after them.
fn epochs(lr, w0: vec[n], d: vec[n], const T) {
  var w: vec[n] = w0
  for t in 0..T {
    for u in 0..2 {
      let g[i] = grad(loss, w)(w, d)[i]
      w[i] = w[i] - lr * g[i]
    }
    w[i] = 0.99 * w[i]
  }
  return sum(i: w[i] * d[i])
}

fn quad(x: vec[n], c) = sum(i: c * x[i]^2 * x[0])

# In an if, and in a while's condition inside a for.
fn gated(x: vec[n], a) {
  var s = a
  for t in 0..3 {
    if s < 2 {
      s = s + 0.1 * grad(quad, x)(x, s)[1]
    }
    while grad(quad, x)(x, s)[0] * s > 1 max 4 {
      s = s * 0.5
    }
  }
  return s
}

fn mean_exp(x: vec[n], b) = sum(i: exp(b * x[i]) * x[i]^2) / n

# Derivatives with respect to a number of a function over arrays (AD8007 in a block before).
fn scalar_sweeps(x: vec[n], b0) {
  var b = b0
  var s = 0
  for t in 0..4 {
    b = b - 0.1 * grad(mean_exp, b)(x, b)
    if b < 0.6 {
      s = s + jvp(mean_exp, b)(x, b * s, 1.5)
    }
    s = tanh(s + grad(mean_exp, b)(x, s))
  }
  return b + s
}

fn scale_sq(x: vec[n], c) {
  var y: vec[n] = x
  y[i] = c * y[i]
  return sum(i: y[i]^2)
}

# A call of a function that makes arrays and returns a number (AD6016 in a block before).
fn call_arrays(x: vec[n], c) {
  var s = c
  for t in 0..3 {
    s = s + 0.1 * scale_sq(x, s)
  }
  return s
}

fn layer(W: mat[m, n], x: vec[n]) = sum(i: exp(0.1 * sum(j: W[i, j] * x[j])))

# The gradient of a matrix parameter (rows) in an if inside a loop.
fn matrix(W0: mat[m, n], x: vec[n], a) {
  var s = a
  for t in 0..3 {
    if s > 0 {
      s = s * 0.5 + grad(layer, W)(W0, x)[1, t] * s
    }
  }
  return s
}

fn h(x: vec[n]) {
  let y[i] = tanh(x[i]) * x[0]
  return y
}

# An array-valued jvp and Jacobian in loops, an if and a while.
fn tangents(x: vec[n], v: vec[n]) {
  var y: vec[n] = x
  var s = 0
  for t in 0..3 {
    for u in 0..2 {
      if u > 0 {
        y[i] = y[i] + 0.1 * jvp(h, x)(y, v)[i]
      } else {
        s = s + jacobian(h, x)(y)[1, 0] * 0.1
      }
    }
    while s > 0.5 max 3 {
      s = s - jacobian(h, x)(y)[0, 2]^2 - 0.1
    }
  }
  return sum(i: y[i]^2) + s
}
`;

type Grad = { value: number; gradient: Record<string, GradValue> };
type V<T> = readonly T[];
const call = (module: Record<string, unknown>, name: string, ...args: unknown[]) => (module[name] as (...a: unknown[]) => unknown)(...args);
const flat = (g: GradValue): number[] => (typeof g === 'number' ? [g] : Array.isArray(g) ? g.flatMap((row) => [...row]) : [...g]);
const vec = (value: number[]): Param => ({ kind: 'vec', value });
const mat = (value: number[][]): Param => ({ kind: 'mat', value });
const scalar = (value: number): Param => ({ kind: 'scalar', value });
const argument = (p: Param) => (p.kind === 'scalar' ? p.value : p.kind === 'vec' ? Float64Array.from(p.value) : p.value.map((r) => Float64Array.from(r)));
const tangentOf = (p: Param, k: number | undefined) =>
  p.kind === 'scalar' ? (k === 0 ? 1 : 0) : p.kind === 'vec' ? Array.from(p.value, (_, i) => (i === k ? 1 : 0)) : p.value.map((r, i) => Array.from(r, (_, j) => (i * r.length + j === k ? 1 : 0)));

function close(actual: number, expected: number, relative: number, what = ''): void {
  expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

/** A copy of the parameters with coordinate `k` of `name` moved by `h`. */
function moved(params: Record<string, Param>, name: string, k: number, h: number): Record<string, Param> {
  const p = params[name];
  if (p.kind === 'scalar') return { ...params, [name]: scalar(p.value + h) };
  if (p.kind === 'vec') return { ...params, [name]: vec(Array.from(p.value, (v, i) => (i === k ? v + h : v))) };
  return { ...params, [name]: mat(p.value.map((r, i) => Array.from(r, (v, j) => (i * r.length + j === k ? v + h : v)))) };
}

const mod = await compileAndLoad(programs, { derivatives: ['grad', 'jvp'] });
const checkpointed = await compileAndLoad(programs, { checkpointMemory: 0 });

/**
 * The compiled function against its reference: value, gradient against the oracle (1e-10) and
 * central differences (1e-6), the checkpointed gradient bit for bit, and fJvp along each
 * coordinate. `constants` are passed after the differentiated parameters.
 */
function check(name: string, params: Record<string, Param>, constants: number[], reference: <T>(A: Arith<T>, p: Record<string, never>) => T): void {
  const keys = Object.keys(params);
  const args = (p: Record<string, Param>) => [...keys.map((k) => argument(p[k])), ...constants];
  const f = (p: Record<string, Param>) => call(mod, name, ...args(p)) as number;
  const expected = reference(numbers, Object.fromEntries(keys.map((k) => [k, params[k].kind === 'scalar' ? params[k].value : params[k].value])) as never);
  close(f(params), expected, 1e-13, `${name} value`);
  const g = call(mod, `${name}Grad`, ...args(params)) as Grad;
  close(g.value, expected, 1e-13, `${name}Grad value`);
  expect(call(checkpointed, `${name}Grad`, ...args(params))).toEqual(g);
  const forward = forwardGradient(params, (p) => reference(duals, p as never));
  for (const key of keys) {
    flat(g.gradient[key]).forEach((v, k) => {
      const theirs = flat(forward.gradient[key])[k];
      close(v, theirs, 1e-10, `${name} ∂/∂${key}[${k}] (oracle)`);
      const h = 1e-6;
      const difference = (f(moved(params, key, k, h)) - f(moved(params, key, k, -h))) / (2 * h);
      close(v, difference, 1e-6, `${name} ∂/∂${key}[${k}] (central differences)`);
      const tangent = Object.fromEntries(keys.map((other) => [other, tangentOf(params[other], other === key ? k : undefined)]));
      close((call(mod, `${name}Jvp`, tangent, ...args(params)) as { tangent: number }).tangent, theirs, 1e-10, `${name}Jvp along ${key}[${k}]`);
    });
  }
}

// The references. The inner derivatives are written out by hand:
// ∂loss/∂w_i = (2(w_i − d_i) + 0.1(w_i − d_i)²)·exp(0.1·w_i).
const lossGradient = <T>(A: Arith<T>, w: V<T>, d: V<T>): T[] =>
  w.map((wi, i) => {
    const r = A.sub(wi, d[i]);
    return A.mul(A.add(A.mul(A.lift(2), r), A.mul(A.lift(0.1), A.mul(r, r))), A.exp(A.mul(A.lift(0.1), wi)));
  });
const sum = <T>(A: Arith<T>, xs: readonly T[]) => xs.reduce((s, v) => A.add(s, v), A.lift(0));

const train = <T>(A: Arith<T>, lr: T, w0: V<T>, d: V<T>, T: number): T => {
  let w = [...w0];
  for (let t = 0; t < T; t++) {
    const g = lossGradient(A, w, d);
    w = w.map((wi, i) => A.sub(wi, A.mul(lr, g[i])));
  }
  return sum(A, w.map((wi) => A.mul(wi, wi)));
};

const epochs = <T>(A: Arith<T>, lr: T, w0: V<T>, d: V<T>, T: number): T => {
  let w = [...w0];
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < 2; u++) {
      const g = lossGradient(A, w, d);
      w = w.map((wi, i) => A.sub(wi, A.mul(lr, g[i])));
    }
    w = w.map((wi) => A.mul(A.lift(0.99), wi));
  }
  return sum(A, w.map((wi, i) => A.mul(wi, d[i])));
};

// ∂quad/∂x_k = 2c·x_k·x_0 + [k = 0]·c·Σ x_i².
const quadGradient = <T>(A: Arith<T>, x: V<T>, c: T, k: number): T => {
  const own = A.mul(A.lift(2), A.mul(c, A.mul(x[k], x[0])));
  return k === 0 ? A.add(own, A.mul(c, sum(A, x.map((xi) => A.mul(xi, xi))))) : own;
};

const gated = <T>(A: Arith<T>, x: V<T>, a: T): T => {
  let s = a;
  for (let t = 0; t < 3; t++) {
    if (A.value(s) < 2) s = A.add(s, A.mul(A.lift(0.1), quadGradient(A, x, s, 1)));
    for (let k = 0; k < 4 && A.value(quadGradient(A, x, s, 0)) * A.value(s) > 1; k++) s = A.mul(s, A.lift(0.5));
  }
  return s;
};

// mean_exp(x, b) = Σ exp(b·x_i)·x_i² / n: ∂/∂b = Σ x_i³·exp(b·x_i) / n.
const meanExpDb = <T>(A: Arith<T>, x: V<T>, b: T): T => A.div(sum(A, x.map((xi) => A.mul(A.mul(xi, A.mul(xi, xi)), A.exp(A.mul(b, xi))))), A.lift(x.length));

const scalarSweeps = <T>(A: Arith<T>, x: V<T>, b0: T): T => {
  let b = b0;
  let s = A.lift(0);
  for (let t = 0; t < 4; t++) {
    b = A.sub(b, A.mul(A.lift(0.1), meanExpDb(A, x, b)));
    if (A.value(b) < 0.6) s = A.add(s, A.mul(meanExpDb(A, x, A.mul(b, s)), A.lift(1.5)));
    s = A.tanh(A.add(s, meanExpDb(A, x, s)));
  }
  return A.add(b, s);
};

const callArrays = <T>(A: Arith<T>, x: V<T>, c: T): T => {
  let s = c;
  for (let t = 0; t < 3; t++) s = A.add(s, A.mul(A.lift(0.1), sum(A, x.map((xi) => A.mul(A.mul(s, xi), A.mul(s, xi))))));
  return s;
};

// ∂layer/∂W_ij = 0.1·x_j·exp(0.1·(Wx)_i).
const matrix = <T>(A: Arith<T>, W: readonly V<T>[], x: V<T>, a: T): T => {
  let s = a;
  for (let t = 0; t < 3; t++) {
    if (A.value(s) > 0) {
      const wx = sum(A, W[1].map((wij, j) => A.mul(wij, x[j])));
      s = A.add(A.mul(s, A.lift(0.5)), A.mul(A.mul(A.mul(A.lift(0.1), x[t]), A.exp(A.mul(A.lift(0.1), wx))), s));
    }
  }
  return s;
};

// h(x)_i = tanh(x_i)·x_0: J_ij = [i = j]·(1 − tanh²(x_i))·x_0 + [j = 0]·tanh(x_i).
const hJacobian = <T>(A: Arith<T>, y: V<T>, i: number, j: number): T => {
  const th = A.tanh(y[i]);
  const diagonal = i === j ? A.mul(A.sub(A.lift(1), A.mul(th, th)), y[0]) : A.lift(0);
  return j === 0 ? A.add(diagonal, th) : diagonal;
};

const tangents = <T>(A: Arith<T>, x: V<T>, v: V<T>): T => {
  let y = [...x];
  let s = A.lift(0);
  for (let t = 0; t < 3; t++) {
    for (let u = 0; u < 2; u++) {
      if (u > 0) {
        const jv = y.map((_, i) => sum(A, y.map((__, j) => A.mul(hJacobian(A, y, i, j), v[j]))));
        y = y.map((yi, i) => A.add(yi, A.mul(A.lift(0.1), jv[i])));
      } else s = A.add(s, A.mul(hJacobian(A, y, 1, 0), A.lift(0.1)));
    }
    for (let k = 0; k < 3 && A.value(s) > 0.5; k++) {
      const j = hJacobian(A, y, 0, 2);
      s = A.sub(A.sub(s, A.mul(j, j)), A.lift(0.1));
    }
  }
  return A.add(sum(A, y.map((yi) => A.mul(yi, yi))), s);
};

describe('derivatives inside blocks', () => {
  const w0 = [0.5, -1.2, 2];
  const d = [1, 0.3, -0.7];

  it('the unrolled optimiser: ∂/∂lr, ∂/∂w0 and ∂/∂d through T steps of gradient descent (T = 0, 1, 2, 5)', () => {
    for (const T of [0, 1, 2, 5]) {
      check('train', { lr: scalar(0.05), w0: vec(w0), d: vec(d) }, [T], (A, p) => train(A, p.lr, p.w0, p.d, T));
    }
  });

  it('the hand-written reverse of one step: ∂/∂lr = −2·Σ w1_i·g_i, with g the loss gradient at w0', () => {
    // One step, w1 = w0 − lr·g(w0): d(Σ w1²)/d lr = Σ 2·w1_i·(−g_i) exactly (g does not depend on lr).
    const lr = 0.05;
    const g = lossGradient(numbers, w0, d);
    const w1 = w0.map((w, i) => w - lr * g[i]);
    const expected = w1.reduce((s, w, i) => s - 2 * w * g[i], 0);
    const result = call(mod, 'trainGrad', lr, Float64Array.from(w0), Float64Array.from(d), 1) as Grad;
    close(result.gradient.lr as number, expected, 1e-14, '∂/∂lr');
  });

  it('in a loop inside a loop, in an array let (the nested sweep’s own tape of exp values recomputed per step)', () => {
    for (const T of [1, 3]) check('epochs', { lr: scalar(0.05), w0: vec(w0), d: vec(d) }, [T], (A, p) => epochs(A, p.lr, p.w0, p.d, T));
  });

  it('in an if, and in a while condition inside a for', () => {
    check('gated', { x: vec([0.6, -0.9, 1.3]), a: scalar(0.7) }, [], (A, p) => gated(A, p.x, p.a));
    check('gated', { x: vec([1.6, 0.4]), a: scalar(0.3) }, [], (A, p) => gated(A, p.x, p.a));
  });

  it('scalar derivatives of a function over arrays, and calls making arrays, in blocks', () => {
    check('scalar_sweeps', { x: vec([0.5, -1.2, 2]), b0: scalar(0.7) }, [], (A, p) => scalarSweeps(A, p.x, p.b0));
    check('call_arrays', { x: vec([0.5, -1.2, 2]), c: scalar(0.7) }, [], (A, p) => callArrays(A, p.x, p.c));
  });

  it('the gradient of a matrix parameter (rows, zeroed row by row) in an if inside a loop', () => {
    check('matrix', { W0: mat([[0.5, -1.2, 2], [0.1, 0.2, 0.3]]), x: vec([0.3, 0.2, -0.1]), a: scalar(0.1) }, [], (A, p) => matrix(A, p.W0, p.x, p.a));
  });

  it('an array-valued jvp and Jacobian in loops, an if and a while', () => {
    check('tangents', { x: vec([0.5, -1.2, 2]), v: vec([0.3, 0.2, -0.1]) }, [], (A, p) => tangents(A, p.x, p.v));
  });

  it('the wasm target computes the same values and gradients', () => {
    const { js, wasm } = both(programs);
    const v = () => Float64Array.from(w0);
    const cases: [string, unknown[]][] = [
      ['train', [0.05, v(), Float64Array.from(d), 3]],
      ['epochs', [0.05, v(), Float64Array.from(d), 2]],
      ['gated', [v().map((x) => x / 2), 0.7]],
      ['scalar_sweeps', [v(), 0.7]],
      ['call_arrays', [v(), 0.7]],
      ['matrix', [[v(), Float64Array.from([0.1, 0.2, 0.3])], Float64Array.from([0.3, 0.2, -0.1]), 0.1]],
      ['tangents', [v(), Float64Array.from([0.3, 0.2, -0.1])]],
    ];
    for (const [name, args] of cases) for (const suffix of ['', 'Grad']) callBoth(js, wasm, name + suffix, args, 10, name + suffix);
  });
});
