/**
 * Array state carried by loops, and arrays made inside loop and `if` blocks (issue #13): the
 * vector RK4 and LSTM of examples/loops.ad, and small programs that update array variables in
 * every way inside `for`, `while` and `if` blocks (element-wise, one element, one row, whole,
 * nested loops, a variable declared in the body, a callee with a loop returning an array).
 * Values against plain JavaScript written here (or in test/oracle/loops.ts), gradients against the
 * forward-mode oracle (the same JavaScript over dual numbers) and central finite differences, for
 * trip counts 0, 1, 2 and large; checkpointed and fully stored reverse sweeps bit for bit; run-time
 * range errors; the in-place form of single-element updates; the 0·∞ convention in loops.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { duals, forwardGradient, numbers, type Arith, type Dual, type GradValue, type Param } from './oracle/arrays.ts';
import { lstmVecT, rk4VecT } from './oracle/loops.ts';
import { compileAndLoad } from './support/load.ts';

const examples = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');
const ex = await compileAndLoad(examples);
const exCheckpointed = await compileAndLoad(examples, { checkpointMemory: 0 });

type Grad = { value: number; gradient: Record<string, GradValue> };
const call = (module: Record<string, unknown>, name: string, ...args: unknown[]) => (module[name] as (...a: unknown[]) => unknown)(...args);

function close(actual: number, expected: number, relative: number, what = ''): void {
  expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

/** Every number of a gradient entry, flat (a number, a vec, or the rows of a mat). */
const flat = (g: GradValue): number[] => (typeof g === 'number' ? [g] : Array.isArray(g) ? g.flatMap((row) => [...row]) : [...g]);

/** A copy of the parameters with coordinate `k` (flat) of `name` moved by `h`. */
function moved(params: Record<string, Param>, name: string, k: number, h: number): Record<string, Param> {
  const out = { ...params };
  const p = params[name];
  if (p.kind === 'scalar') out[name] = { kind: 'scalar', value: p.value + h };
  else if (p.kind === 'vec') out[name] = { kind: 'vec', value: Array.from(p.value, (v, i) => (i === k ? v + h : v)) };
  else {
    const n = p.value[0].length;
    out[name] = { kind: 'mat', value: p.value.map((row, r) => Array.from(row, (v, c) => (r * n + c === k ? v + h : v))) };
  }
  return out;
}

const valuesOf = (params: Record<string, Param>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.kind === 'scalar' ? p.value : p.kind === 'vec' ? Array.from(p.value) : p.value.map((r) => Array.from(r))]));

interface Case {
  readonly module?: Record<string, unknown>;
  readonly checkpointed?: Record<string, unknown>;
  readonly name: string;
  /** The differentiated parameters. */
  readonly params: Record<string, Param>;
  /** The arguments of a call, in order, from the parameters' values (const ones added here). */
  readonly args: (p: Record<string, unknown>) => unknown[];
  /** The reference, over numbers (the value) or duals (the forward-mode oracle). */
  readonly reference: <T>(A: Arith<T>, p: Record<string, unknown>) => T;
  /** The tolerance against central differences (relative, or absolute below 1). */
  readonly fd?: number;
}

/**
 * The compiled function against a reference: the value (f and fGrad) to 1e-13, the gradient
 * against the forward-mode oracle to 1e-11 and against central differences of the compiled f;
 * and the checkpointed gradient (a budget of 0) against the fully stored one, bit for bit.
 */
function check(c: Case): void {
  const module = c.module ?? ex;
  const checkpointed = c.checkpointed ?? exCheckpointed;
  const f = (params: Record<string, Param>) => call(module, c.name, ...c.args(valuesOf(params))) as number;
  const args = c.args(valuesOf(c.params));
  const expected = c.reference(numbers, valuesOf(c.params));
  close(f(c.params), expected, 1e-13, 'value');
  const g = call(module, `${c.name}Grad`, ...args) as Grad;
  close(g.value, expected, 1e-13, 'fGrad value');
  expect(call(checkpointed, `${c.name}Grad`, ...args)).toEqual(g);
  const forward = forwardGradient(c.params, (p) => c.reference(duals, p as Record<string, unknown>));
  expect(Object.keys(g.gradient)).toEqual(Object.keys(c.params));
  for (const key of Object.keys(c.params)) {
    const mine = flat(g.gradient[key]);
    const theirs = flat(forward.gradient[key]);
    expect(mine.length).toBe(theirs.length);
    mine.forEach((v, k) => {
      close(v, theirs[k], 1e-11, `∂/∂${key}[${k}] (oracle)`);
      const h = 1e-6;
      const difference = (f(moved(c.params, key, k, h)) - f(moved(c.params, key, k, -h))) / (2 * h);
      close(v, difference, c.fd ?? 1e-6, `∂/∂${key}[${k}] (central differences)`);
    });
  }
}

const vec = (value: number[]): Param => ({ kind: 'vec', value });
const mat = (value: number[][]): Param => ({ kind: 'mat', value });
const scalar = (value: number): Param => ({ kind: 'scalar', value });
type V<T> = readonly T[];
type M<T> = readonly (readonly T[])[];

describe('examples/loops.ad: array state', () => {
  for (const steps of [0, 1, 2, 200]) {
    it(`rk4 over a vector state (the issue's program), ${steps} steps`, () => {
      const h = 0.05;
      check({
        name: 'rk4',
        params: { p: vec([1.3, 0.7]), y0: vec([0.2, 0.5, 0.1, 0.35]) },
        args: (p) => [h, p.p, p.y0, steps],
        reference: (A, p) => rk4VecT(A, h, p.p as V<never>, p.y0 as V<never>, steps),
      });
    });
  }

  // A sequence of one-hot characters over an alphabet of 5: trip counts 0, 1, 2 and 60.
  const alphabet = 5;
  const sequence = (length: number) => Array.from({ length }, (_, t) => Array.from({ length: alphabet }, (_, k) => (k === (t * 3 + 1) % alphabet ? 1 : 0)));
  const weights = (rows: number, phase: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: alphabet }, (_, k) => 0.6 * Math.sin(1.7 * r + 0.9 * k + phase)));
  for (const length of [1, 2, 3, 61]) {
    it(`the vector LSTM (ADBench's objective) over ${length} characters`, () => {
      const seq = sequence(length);
      check({
        name: 'lstm_vec',
        params: { W: mat(weights(4, 0.1)), B: mat(weights(4, 1.2)), X: mat(weights(3, 2.3).map((r, i) => (i === 0 ? r.map((v) => v + 1) : r))), h0: vec([0.1, -0.2, 0.3, 0, 0.05]), c0: vec([0, 0.2, -0.1, 0.4, 0.1]) },
        args: (p) => [p.W, p.B, p.X, p.h0, p.c0, seq],
        reference: (A, p) => lstmVecT(A, p.W as M<never>, p.B as M<never>, p.X as M<never>, p.h0 as V<never>, p.c0 as V<never>, seq),
      });
    });
  }
});

const programs = `
fn single(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    let j = t - floor(t / n) * n
    let k = j + 1 - floor((j + 1) / n) * n
    y[j] = y[j] * a + tanh(y[k])
  }
  return sum(i: y[i] * (i + 1))
}

fn branchy(x: vec[n], a, const steps) {
  var y: vec[n] = x
  var s = 0
  for t in 0..steps {
    if y[0] > 0.5 {
      y[i] = y[i] * a - 0.1
    } else {
      y[0] = y[0] + a * y[n - 1]
      s = s + y[0]
    }
  }
  return s + sum(i: y[i]^2)
}

fn nested(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    for k in 0..n {
      y[k] = y[k] + a * sum(i: y[i]) / n
    }
    y[i] = tanh(y[i])
  }
  return sum(i: y[i])
}

fn shrink(x: vec[n], a) {
  var y: vec[n] = x
  while sum(i: y[i]^2) > 0.01 max 30 {
    y[i] = y[i] * a
  }
  return sum(i: y[i])
}

fn matstate(A: mat[m, n], a, const steps) {
  var M: mat[m, n] = A
  for t in 0..steps {
    M[r, c] = M[r, c] * a + M[m - 1 - r, c] * 0.1
    M[0, c] = M[0, c] + M[m - 1, n - 1 - c]
  }
  return sum(r: sum(c: M[r, c]^2))
}

fn whole(x: vec[n], a, const steps) {
  var y: vec[n] = x
  var z: vec[n] = 0
  for t in 0..steps {
    z = y
    y[i] = a * z[i] + z[n - 1 - i] * 0.5
    z[0] = z[0] * y[0]
    y = z
  }
  return sum(i: y[i] * z[i])
}

fn inner_var(x: vec[n], a, const steps) {
  var s = 0
  for t in 0..steps {
    var w: vec[n] = x
    w[0] = w[0] * a
    w[i] = w[i] + s
    s = s + sum(i: w[i]) * 0.1
  }
  return s
}

fn smooth(y: vec[n], const times) {
  var z: vec[n] = y
  for r in 0..times {
    z[i] = (z[i] + z[n - 1 - i]) * 0.5 + 0.1 * z[i] * z[i]
  }
  return z
}

fn calls(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    let s[i] = smooth(y, 2)[i]
    y[i] = tanh(a * s[i] + y[i])
  }
  return y[0] + [y[n - 1], a][1]
}

fn twice(y: vec[n]) {
  let d[i] = 2 * y[i]
  return d
}
fn shifted(y: vec[n]) {
  let z[i] = twice(y)[i] + 1
  return z
}
fn reuse(x: vec[n], const steps) {
  let a[i] = shifted(x)[i]
  let b[i] = 3 * x[i]
  let c[i] = shifted(b)[i]
  var s = a[0] + c[0]
  for t in 0..steps {
    let w[i] = shifted([s, x[1]])[i]
    s = w[0] * 0.5
  }
  return s
}

fn decided(x: vec[n]) {
  var y: vec[n] = x
  if 1 > 0 {
    y[0] = 5 * x[1]
  }
  for t in 0..2 {
    if 2 > 3 {
      y[1] = 9
    } else {
      y[i] = y[i] + 1
    }
  }
  return y[0] + y[1]
}

fn at(x: vec[n], const j) {
  var y: vec[n] = x
  for t in 0..2 {
    y[j + t] = 1
  }
  return y[0]
}
`;
const mod = await compileAndLoad(programs);
const modCheckpointed = await compileAndLoad(programs, { checkpointMemory: 0 });

const x3 = [0.3, 0.6, -0.2];
const mod3 = (n: number) => ((n % 3) + 3) % 3;

describe('array variables in loop and if blocks', () => {
  const cases = (steps: number): Case[] => [
    {
      name: 'single',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        const y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
        for (let t = 0; t < steps; t++) {
          const j = mod3(t);
          y[j] = A.add(A.mul(y[j], p.a as never), A.tanh(y[mod3(j + 1)]));
        }
        return y.reduce((s, v, i) => A.add(s, A.mul(v, A.lift(i + 1))), A.lift(0));
      },
    },
    {
      name: 'branchy',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        let y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
        const a = p.a as ReturnType<typeof A.lift>;
        let s = A.lift(0);
        for (let t = 0; t < steps; t++) {
          if (A.value(y[0]) > 0.5) y = y.map((v) => A.sub(A.mul(v, a), A.lift(0.1)));
          else {
            y[0] = A.add(y[0], A.mul(a, y[2]));
            s = A.add(s, y[0]);
          }
        }
        return y.reduce((acc, v) => A.add(acc, A.mul(v, v)), s);
      },
    },
    {
      name: 'nested',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        let y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
        const a = p.a as ReturnType<typeof A.lift>;
        for (let t = 0; t < steps; t++) {
          for (let k = 0; k < 3; k++) {
            const total = y.reduce((s, v) => A.add(s, v), A.lift(0));
            y[k] = A.add(y[k], A.div(A.mul(a, total), A.lift(3)));
          }
          y = y.map((v) => A.tanh(v));
        }
        return y.reduce((s, v) => A.add(s, v), A.lift(0));
      },
    },
    {
      name: 'matstate',
      params: { A: mat([[0.3, 0.6, -0.2], [0.1, 0.2, 0.4]]), a: scalar(0.9) },
      args: (p) => [p.A, p.a, steps],
      reference: (A, p) => {
        let M = (p.A as M<never>).map((r) => [...r]) as ReturnType<typeof A.lift>[][];
        const a = p.a as ReturnType<typeof A.lift>;
        for (let t = 0; t < steps; t++) {
          const before = M;
          M = before.map((row, r) => row.map((v, c) => A.add(A.mul(v, a), A.mul(before[1 - r][c], A.lift(0.1)))));
          const again = M;
          M = again.map((row, r) => (r === 0 ? row.map((v, c) => A.add(v, again[1][2 - c])) : row));
        }
        return M.flat().reduce((s, v) => A.add(s, A.mul(v, v)), A.lift(0));
      },
      fd: 1e-5,
    },
    {
      name: 'whole',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        let y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
        let z = y.map(() => A.lift(0));
        const a = p.a as ReturnType<typeof A.lift>;
        for (let t = 0; t < steps; t++) {
          z = [...y];
          y = y.map((_, i) => A.add(A.mul(a, z[i]), A.mul(z[2 - i], A.lift(0.5))));
          z[0] = A.mul(z[0], y[0]);
          y = [...z];
        }
        return y.reduce((s, v, i) => A.add(s, A.mul(v, z[i])), A.lift(0));
      },
    },
    {
      name: 'inner_var',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        let s = A.lift(0);
        for (let t = 0; t < steps; t++) {
          const w = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
          w[0] = A.mul(w[0], p.a as never);
          const shifted = w.map((v) => A.add(v, s));
          s = A.add(s, A.mul(shifted.reduce((acc, v) => A.add(acc, v), A.lift(0)), A.lift(0.1)));
        }
        return s;
      },
    },
    {
      name: 'calls',
      params: { x: vec(x3), a: scalar(0.9) },
      args: (p) => [p.x, p.a, steps],
      reference: (A, p) => {
        let y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
        const a = p.a as ReturnType<typeof A.lift>;
        const smooth = (v: ReturnType<typeof A.lift>[]) => {
          let z = [...v];
          for (let r = 0; r < 2; r++) z = z.map((e, i) => A.add(A.mul(A.add(e, z[2 - i]), A.lift(0.5)), A.mul(A.lift(0.1), A.mul(e, e))));
          return z;
        };
        for (let t = 0; t < steps; t++) {
          const s = smooth(y);
          y = y.map((v, i) => A.tanh(A.add(A.mul(a, s[i]), v)));
        }
        return A.add(y[0], a);
      },
    },
  ];
  for (const steps of [0, 1, 2, 25]) {
    for (const c of cases(steps)) {
      it(`${c.name}, ${steps} iterations: values, oracle, differences, checkpointing`, () => check({ ...c, module: mod, checkpointed: modCheckpointed }));
    }
  }

  const shrinkCase = (x: number[], a: number): Case => ({
    name: 'shrink',
    module: mod,
    checkpointed: modCheckpointed,
    params: { x: vec(x), a: scalar(a) },
    args: (p) => [p.x, p.a],
    reference: (A, p) => {
      let y = [...(p.x as V<never>)] as ReturnType<typeof A.lift>[];
      for (let i = 0; i < 30 && y.reduce((s, v) => s + A.value(v) ** 2, 0) > 0.01; i++) y = y.map((v) => A.mul(v, p.a as never));
      return y.reduce((s, v) => A.add(s, v), A.lift(0));
    },
  });
  it('a while over array state that stops at once (the condition is false before the first iteration)', () => {
    check(shrinkCase([0.03, 0.06, -0.02], 0.9));
    expect((call(mod, 'shrinkGrad', [0.03, 0.06, -0.02], 0.9) as Grad).gradient.a).toBe(0);
  });
  it('a while over array state that runs some iterations, and one that reaches its max', () => {
    check(shrinkCase([0.3, 0.6, -0.2], 0.9));
    // 0.999^30 · |x| stays above 0.1: the loop stops at its max, 30 iterations (∂/∂x_i = a^30).
    check(shrinkCase([3, 6, -2], 0.999));
    close(flat((call(mod, 'shrinkGrad', [3, 6, -2], 0.999) as Grad).gradient.x)[0], 0.999 ** 30, 1e-14);
  });

  it('a callee whose own statements call a function returning an array, called several times (each call computes it again)', () => {
    // s = (2x0 + 1) + (6x0 + 1), then s ← (2s + 1)/2 per step.
    for (const steps of [0, 1, 3]) {
      let s = 8 * 2 + 2;
      for (let t = 0; t < steps; t++) s = (2 * s + 1) * 0.5;
      expect(call(mod, 'reuse', [2, 5], steps)).toBe(s);
      expect([...(call(mod, 'reuseGrad', [2, 5], steps) as Grad).gradient.x as Float64Array]).toEqual([8, 0]);
    }
  });

  it('if blocks decided when compiling (a constant condition) keep their array updates', () => {
    expect(call(mod, 'decided', [1, 2])).toBe(10 + 2 + 2 + 2);
    expect(call(mod, 'decidedGrad', [1, 2])).toEqual({ value: 16, gradient: { x: new Float64Array([0, 6]) } });
  });

  it('a single-element update out of range is a RangeError naming the variable, when the program runs', () => {
    expect(call(mod, 'at', [1, 2, 3], 0)).toBe(1);
    expect(() => call(mod, 'at', [1, 2, 3], 2)).toThrow(RangeError);
    expect(() => call(mod, 'at', [1, 2, 3], 2)).toThrow(/at, line \d+: y\[j \+ t\] is 3, outside 0\.\.2/);
    expect(() => call(mod, 'atGrad', [1, 2, 3], 2)).toThrow(/y\[j \+ t\] is 3/);
    expect(() => call(mod, 'at', [1, 2, 3], 0.5)).toThrow(/y\[j \+ t\] is 0\.5/);
  });

  it('a single-element update in a loop is one store in place: no pass over the array per iteration', () => {
    const code = compileSync(programs.slice(programs.indexOf('fn single'), programs.indexOf('fn branchy'))).code!;
    const value = code.slice(code.indexOf('function single('));
    const body = value.slice(value.indexOf('for (let t = 0;'));
    const loop = body.slice(0, body.indexOf('\n  }\n') + 4);
    // Inside the loop over t: no other loop (the forward sweep of the value function is O(1) per update).
    expect(loop.match(/for \(/g)).toHaveLength(1);
    expect(loop).toMatch(/y\$?\d*\[j\] = /);
  });
});

describe('returning array state', () => {
  it('return y after a loop and an if: a new array per call, and fVjp returns the value, not the buffer the reverse sweep restores', async () => {
    const m = await compileAndLoad(
      `
fn traj(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    y[i] = a * y[i] + y[n - 1 - i] * 0.1
  }
  if a > 1 {
    y[0] = 7
  }
  return y
}
`,
      { derivatives: ['grad', 'vjp'] },
    );
    const reference = (x: readonly number[], a: number, steps: number) => {
      let y = [...x];
      for (let t = 0; t < steps; t++) y = y.map((v, i) => a * v + y[2 - i] * 0.1);
      if (a > 1) y[0] = 7;
      return y;
    };
    const x = [0.3, 0.6, -0.2];
    const first = call(m, 'traj', x, 1.5, 2) as Float64Array;
    expect(first).not.toBe(call(m, 'traj', x, 1.5, 2));
    expect([...first]).toEqual(reference(x, 1.5, 2));
    const u = [1, 0, 2];
    const vjp = call(m, 'trajVjp', u, x, 1.5, 2) as { value: Float64Array; gradient: { x: Float64Array; a: number } };
    expect([...vjp.value]).toEqual(reference(x, 1.5, 2));
    const f = (xs: number[], a: number) => reference(xs, a, 2).reduce((s, v, i) => s + v * u[i], 0);
    const h = 1e-6;
    close(vjp.gradient.a, (f(x, 1.5 + h) - f(x, 1.5 - h)) / (2 * h), 1e-7);
    [...vjp.gradient.x].forEach((g, k) => close(g, (f(x.map((v, i) => (i === k ? v + h : v)), 1.5) - f(x.map((v, i) => (i === k ? v - h : v)), 1.5)) / (2 * h), 1e-7));
  });
});

describe('the 0·∞ convention in loops', () => {
  it('a state adjoint of exactly 0 contributes nothing through an infinite partial, as in straight-line code', async () => {
    const m = await compileAndLoad(`
fn g(x) {
  var a = x
  var s = 0
  for t in 0..2 {
    if t == 0 {
      s = s + a
    }
    a = sqrt(a)
  }
  return s
}
fn straight(x) {
  let a = sqrt(x)
  let unused = sqrt(a)
  return x
}
`);
    // s = x: a's value after iteration 0 is never used, so sqrt's infinite partial at 0 gets no
    // adjoint, as in the straight-line version (no NaN).
    expect(call(m, 'gGrad', 0)).toEqual({ value: 0, gradient: { x: 1 } });
    expect(call(m, 'straightGrad', 0)).toEqual({ value: 0, gradient: { x: 1 } });
    expect(call(m, 'gGrad', 4)).toEqual({ value: 4, gradient: { x: 1 } });
  });
});
