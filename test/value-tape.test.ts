/**
 * The value tape of loops with array state (src/ad/value-tape.ts): when the trip count times the
 * state and the arrays an iteration makes fits the budget, the forward loop keeps each iteration's
 * arrays (and costly values computed element by element) and the reverse sweep reads them back
 * instead of running their statements again. Three budgets reverse each program three ways: the
 * default (values kept), one that fits the states but not the values (states kept, values
 * recomputed), and 0 (checkpointed): their gradients must agree to the last bit, for trip counts
 * 0, 1, 2 and large, in `for` and `while` loops, `if` inside loops and nested loops. The default
 * is also checked against the forward-mode oracle (the same program in plain JavaScript over dual
 * numbers, written here) and central differences, and the number of `Math.tanh` calls shows which
 * path ran.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { duals, forwardGradient, numbers, type Arith, type Dual, type GradValue, type Param } from './oracle/arrays.ts';
import { lstmT, lstmVecT, rk4VecT, type LstmWeights } from './oracle/loops.ts';
import { compileAndLoad, type CompiledModule } from './support/load.ts';

const source = `
fn sig(z) = 1 / (1 + exp(-z))

fn act(w: vec[m], y: vec[n]) {
  let f[i] = tanh(w[0] * y[i] + w[1])
  return f
}

# Array state, array lets with costly values, a callee returning an array, a number carried beside.
fn gates(w: vec[m], x: vec[n], const steps) {
  var y: vec[n] = x
  var s = 0
  for t in 0..steps {
    let a[i] = act(w, y)[i]
    let g[i] = sig(a[i] * w[2] + y[n - 1 - i])
    y[i] = g[i] * y[i] + (1 - g[i]) * a[i]
    s = s + sum(i: g[i] * a[i]) / n
  }
  return s + sum(i: y[i]^2)
}

# A while loop: its trip count is decided by the state.
fn settle(x: vec[n], a) {
  var y: vec[n] = x
  while sum(i: y[i]^2) > 0.05 max 40 {
    let z[i] = tanh(a * y[i])
    y[i] = 0.5 * y[i] + 0.3 * z[n - 1 - i]
  }
  return sum(i: y[i] * (i + 1))
}

# An if inside the loop, with an array let in each branch.
fn switchy(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    if y[0] > 0 {
      let u[i] = exp(-(a * y[i] * y[i]))
      y[i] = y[i] * u[i] - 0.1
    } else {
      let v[i] = tanh(y[i] + a)
      y[i] = v[i] + 0.2 * y[n - 1 - i]
    }
  }
  return sum(i: y[i]^2)
}

# Nested loops: a loop with state inside each iteration (z, read inside it, is not kept; w is).
fn outer(x: vec[n], a, const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    let z[i] = tanh(a * y[i])
    let w[i] = exp(-(y[i] * y[i]))
    var q = 0
    for k in 0..3 {
      q = q * 0.5 + sum(i: z[i]) * a
    }
    y[i] = z[i] * w[i] + 0.1 * q
  }
  return sum(i: y[i])
}
`;

type V<T> = readonly T[];

/** The same programs in plain JavaScript over numbers or dual numbers. */
const references = {
  gates<T>(A: Arith<T>, w: V<T>, x: V<T>, steps: number): T {
    const one = A.lift(1);
    const sig = (z: T) => A.div(one, A.add(one, A.exp(A.sub(A.lift(0), z))));
    const n = x.length;
    let y = [...x];
    let s = A.lift(0);
    for (let t = 0; t < steps; t++) {
      const a = y.map((v) => A.tanh(A.add(A.mul(w[0], v), w[1])));
      const g = a.map((ai, i) => sig(A.add(A.mul(ai, w[2]), y[n - 1 - i])));
      y = y.map((v, i) => A.add(A.mul(g[i], v), A.mul(A.sub(one, g[i]), a[i])));
      s = A.add(s, A.div(g.reduce((acc, gi, i) => A.add(acc, A.mul(gi, a[i])), A.lift(0)), A.lift(n)));
    }
    return A.add(s, y.reduce((acc, v) => A.add(acc, A.mul(v, v)), A.lift(0)));
  },
  settle<T>(A: Arith<T>, x: V<T>, a: T): T {
    const n = x.length;
    let y = [...x];
    for (let trip = 0; trip < 40; trip++) {
      if (!(y.reduce((acc, v) => acc + A.value(v) ** 2, 0) > 0.05)) break;
      const z = y.map((v) => A.tanh(A.mul(a, v)));
      y = y.map((v, i) => A.add(A.mul(A.lift(0.5), v), A.mul(A.lift(0.3), z[n - 1 - i])));
    }
    return y.reduce((acc, v, i) => A.add(acc, A.mul(v, A.lift(i + 1))), A.lift(0));
  },
  switchy<T>(A: Arith<T>, x: V<T>, a: T, steps: number): T {
    const n = x.length;
    let y = [...x];
    for (let t = 0; t < steps; t++) {
      if (A.value(y[0]) > 0) {
        const u = y.map((v) => A.exp(A.sub(A.lift(0), A.mul(A.mul(a, v), v))));
        y = y.map((v, i) => A.sub(A.mul(v, u[i]), A.lift(0.1)));
      } else {
        const v = y.map((e) => A.tanh(A.add(e, a)));
        y = y.map((e, i) => A.add(v[i], A.mul(A.lift(0.2), y[n - 1 - i])));
      }
    }
    return y.reduce((acc, v) => A.add(acc, A.mul(v, v)), A.lift(0));
  },
  outer<T>(A: Arith<T>, x: V<T>, a: T, steps: number): T {
    let y = [...x];
    for (let t = 0; t < steps; t++) {
      const z = y.map((v) => A.tanh(A.mul(a, v)));
      const w = y.map((v) => A.exp(A.sub(A.lift(0), A.mul(v, v))));
      let q = A.lift(0);
      for (let k = 0; k < 3; k++) q = A.add(A.mul(q, A.lift(0.5)), A.mul(z.reduce((acc, v) => A.add(acc, v), A.lift(0)), a));
      y = y.map((_, i) => A.add(A.mul(z[i], w[i]), A.mul(A.lift(0.1), q)));
    }
    return y.reduce((acc, v) => A.add(acc, v), A.lift(0));
  },
};

/** The budget in MB that fits `numbers` numbers exactly (the compiler counts floor(MB · 2^20 / 8)). */
const fitting = (count: number) => (count * 8) / 2 ** 20;
/** A budget where every state fits but not the iteration's values: a snapshot slot holds the
 * state's S numbers and its iteration number (checkpoint.ts), so T·(S + 1) numbers. */
const statesFit = (trips: number, state: number) => fitting(trips * (state + 1));

type Grad = { value: number; gradient: Record<string, GradValue> };
const flat = (g: GradValue): number[] => (typeof g === 'number' ? [g] : Array.isArray(g) ? g.flatMap((row) => [...row]) : [...g]);
const bits = (g: Grad) => [g.value, ...Object.values(g.gradient).flatMap(flat)];

/** Calls `f` counting the calls of Math[fn] it makes. */
function counting<R>(f: () => R, fn: 'tanh' | 'exp' = 'tanh'): { result: R; calls: number } {
  const original = Math[fn];
  let calls = 0;
  Math[fn] = (x: number) => {
    calls++;
    return original(x);
  };
  try {
    return { result: f(), calls };
  } finally {
    Math[fn] = original;
  }
}

const stored = await compileAndLoad(source);
const checkpointed = await compileAndLoad(source, { checkpointMemory: 0 });

interface Case {
  readonly name: keyof typeof references;
  readonly params: Record<string, Param>;
  /** The call's arguments from the parameters' values. */
  readonly args: (p: Record<string, number[] | number>) => unknown[];
  /** The state's numbers (S) and the trip count the tape is sized for (T): a budget of T·S keeps the states only. */
  readonly state: number;
  readonly trips: number;
  readonly reference: <T>(A: Arith<T>, p: Record<string, unknown>) => T;
}

const valuesOf = (params: Record<string, Param>) => Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.kind === 'scalar' ? p.value : Array.from(p.value as ArrayLike<number>)])) as Record<string, number[] | number>;

function moved(params: Record<string, Param>, name: string, k: number, h: number): Record<string, Param> {
  const p = params[name];
  if (p.kind === 'scalar') return { ...params, [name]: { kind: 'scalar', value: p.value + h } };
  return { ...params, [name]: { kind: 'vec', value: Array.from(p.value as ArrayLike<number>, (v, i) => (i === k ? v + h : v)) } };
}

async function check(c: Case): Promise<void> {
  const statesOnly = await compileAndLoad(source, { checkpointMemory: statesFit(c.trips, c.state) });
  const args = c.args(valuesOf(c.params));
  const call = (m: CompiledModule, suffix = '') => m[`${c.name}${suffix}`](...(args as number[]));
  const g = call(stored, 'Grad') as Grad;
  // The three reverse sweeps, bit for bit.
  expect(bits(call(statesOnly, 'Grad') as Grad)).toEqual(bits(g));
  expect(bits(call(checkpointed, 'Grad') as Grad)).toEqual(bits(g));
  // The value against the reference, the gradient against the forward-mode oracle and central differences.
  const expected = c.reference(numbers, valuesOf(c.params));
  expect(Math.abs(g.value - expected)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(expected)));
  const oracle = forwardGradient(c.params, (p) => c.reference(duals, p as Record<string, unknown>));
  const f = (params: Record<string, Param>) => stored[c.name](...(c.args(valuesOf(params)) as number[])) as number;
  for (const key of Object.keys(c.params)) {
    const mine = flat(g.gradient[key]);
    const theirs = flat(oracle.gradient[key]);
    expect(mine.length).toBe(theirs.length);
    mine.forEach((v, k) => {
      expect(Math.abs(v - theirs[k]), `∂/∂${key}[${k}]: ${v} vs the oracle's ${theirs[k]}`).toBeLessThanOrEqual(1e-11 * Math.max(1, Math.abs(theirs[k])));
      const h = 1e-6;
      const difference = (f(moved(c.params, key, k, h)) - f(moved(c.params, key, k, -h))) / (2 * h);
      expect(Math.abs(v - difference), `∂/∂${key}[${k}]: ${v} vs central differences ${difference}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
    });
  }
}

const vec = (value: number[]): Param => ({ kind: 'vec', value });
const scalar = (value: number): Param => ({ kind: 'scalar', value });
const x = [0.3, -0.6, 0.45, 0.1];

describe('value tape: kept, recomputed and checkpointed reverse sweeps agree bit for bit', () => {
  for (const steps of [0, 1, 2, 150]) {
    it(`a for loop with array lets, costly values and a callee's array, ${steps} steps`, () =>
      check({
        name: 'gates',
        params: { w: vec([0.8, -0.2, 1.1]), x: vec(x) },
        args: (p) => [p.w, p.x, steps],
        state: x.length + 1,
        trips: steps,
        reference: (A, p) => references.gates(A, p.w as V<never>, p.x as V<never>, steps),
      }));
    it(`an if inside the loop, ${steps} steps`, () =>
      check({
        name: 'switchy',
        params: { x: vec(x), a: scalar(0.7) },
        args: (p) => [p.x, p.a, steps],
        state: x.length,
        trips: steps,
        reference: (A, p) => references.switchy(A, p.x as V<never>, p.a as never, steps),
      }));
    it(`nested loops with state, ${steps} steps`, () =>
      check({
        name: 'outer',
        params: { x: vec(x), a: scalar(0.6) },
        args: (p) => [p.x, p.a, steps],
        state: x.length,
        trips: steps,
        reference: (A, p) => references.outer(A, p.x as V<never>, p.a as never, steps),
      }));
  }
  // A while loop sized for its max (40): one that stops at once, after a few trips, and at its max.
  for (const [what, start, a] of [
    ['stops at once', [0.1, 0.05, -0.1, 0.05], 0.9],
    ['stops after some trips', [0.9, -0.7, 0.5, 0.8], 0.9],
    ['reaches its max', [0.9, -0.7, 0.5, 0.8], 3],
  ] as const) {
    it(`a while loop that ${what}`, () =>
      check({
        name: 'settle',
        params: { x: vec([...start]), a: scalar(a) },
        args: (p) => [p.x, p.a],
        state: 4,
        trips: 40,
        reference: (A, p) => references.settle(A, p.x as V<never>, p.a as never),
      }));
  }
});

describe('value tape: which path runs', () => {
  it('a while loop is sized for its max: the case that reaches it runs its max', () => {
    const trips = (start: number[], a: number) => {
      let y = [...start];
      let k = 0;
      while (y.reduce((s, v) => s + v * v, 0) > 0.05 && k < 40) {
        const z = y.map((v) => Math.tanh(a * v));
        y = y.map((v, i) => 0.5 * v + 0.3 * z[3 - i]);
        k++;
      }
      return k;
    };
    expect(trips([0.1, 0.05, -0.1, 0.05], 0.9)).toBe(0);
    expect(trips([0.9, -0.7, 0.5, 0.8], 0.9)).toBeGreaterThan(2);
    expect(trips([0.9, -0.7, 0.5, 0.8], 3)).toBe(40);
  });

  it('kept values: the reverse sweep calls no tanh of the arrays again; recomputed: once more per element', async () => {
    const steps = 50;
    const n = x.length;
    const w = [0.8, -0.2, 1.1];
    const statesOnly = await compileAndLoad(source, { checkpointMemory: statesFit(steps, n + 1) });
    const value = counting(() => stored.gates(w as never, x as never, steps));
    expect(value.calls).toBe(steps * n);
    const kept = counting(() => stored.gatesGrad(w as never, x as never, steps));
    const recomputed = counting(() => statesOnly.gatesGrad(w as never, x as never, steps));
    expect(bits(recomputed.result as Grad)).toEqual(bits(kept.result as Grad));
    // The forward loop's tanh per element; the recomputed iterations' once more (the rule of tanh uses cosh).
    expect(kept.calls).toBe(steps * n);
    expect(recomputed.calls).toBe(2 * steps * n);
  });

  it("the generated code says what is kept and the budget's rule", () => {
    const code = compileSync(source).code!;
    expect(code).toContain('The arrays each iteration makes (');
    expect(code).toContain('kept for every iteration if trip count × (state + these) ≤ 8,388,608 numbers (64 MB)');
    expect(code).toContain('Recomputed for the reverse sweep when the arrays were not kept.');
    expect(code).toContain('the costly values it computes (exp)');
    expect(code).toContain('Exp values for the reverse sweep');
  });
});

describe('value tape: examples/loops.ad', () => {
  const examples = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');
  it("a let copying a callee's array (k1[i] = rhs(p, y)[i]) shares its adjoint array: no d$k1, no loop moving it", () => {
    const code = compileSync(examples).code!;
    const rk4 = code.slice(code.indexOf('function rk4Grad('), code.indexOf('function rk4GradInto('));
    expect(rk4).toContain('d$f[');
    for (const k of ['k1', 'k2', 'k3', 'k4']) expect(rk4).not.toContain(`d$${k}`);
  });

  it('the LSTM cell with number state keeps its exps and tanhs: read back, not called again, and the same bits', async () => {
    const ex = await compileAndLoad(examples);
    const names = ['wf', 'uf', 'bf', 'wi', 'ui', 'bi', 'wo', 'uo', 'bo', 'wc', 'uc', 'bc', 'v'] as const;
    const w = names.map((_, i) => 0.3 * Math.cos(1.3 * i + 0.2));
    for (const length of [1, 2, 3, 80]) {
      const xs = Array.from({ length }, (_, t) => Math.sin(0.7 * t) * 0.8);
      const steps = Math.max(length - 1, 0);
      // The state: h, c and the loss (3 numbers per iteration).
      const statesOnly = await compileAndLoad(examples, { checkpointMemory: statesFit(steps, 3) });
      const cp = await compileAndLoad(examples, { checkpointMemory: 0 });
      const kept = counting(() => ex.lstmGrad(...(w as never[]), xs as never), 'exp');
      const recomputed = counting(() => statesOnly.lstmGrad(...(w as never[]), xs as never), 'exp');
      const g = kept.result as Grad;
      expect(bits(recomputed.result as Grad)).toEqual(bits(g));
      expect(bits(cp.lstmGrad(...(w as never[]), xs as never) as Grad)).toEqual(bits(g));
      // Three sigmoids per step: their exps in the forward loop only, or once more when recomputed.
      expect(kept.calls).toBe(3 * steps);
      expect(recomputed.calls).toBe(6 * steps);
      const params = Object.fromEntries(names.map((name, i) => [name, scalar(w[i])]));
      const oracle = forwardGradient(params, (q) => lstmT(duals, q as unknown as LstmWeights<Dual>, xs));
      for (const name of names) expect(Math.abs((g.gradient[name] as number) - (oracle.gradient[name] as number))).toBeLessThanOrEqual(1e-12);
    }
  });

  it('the vector RK4 and the vector LSTM: kept, recomputed and checkpointed agree bit for bit, and with the oracles', async () => {
    const ex = await compileAndLoad(examples);
    const h = 0.05;
    const p = [1.3, 0.7];
    const y0 = [0.2, 0.5, 0.1, 0.35];
    for (const steps of [0, 1, 2, 120]) {
      const statesOnly = await compileAndLoad(examples, { checkpointMemory: statesFit(steps, y0.length) });
      const cp = await compileAndLoad(examples, { checkpointMemory: 0 });
      const g = ex.rk4Grad(h, p as never, y0 as never, steps) as Grad;
      expect(bits(statesOnly.rk4Grad(h, p as never, y0 as never, steps) as Grad)).toEqual(bits(g));
      expect(bits(cp.rk4Grad(h, p as never, y0 as never, steps) as Grad)).toEqual(bits(g));
      const oracle = forwardGradient({ p: vec(p), y0: vec(y0) }, (q) => rk4VecT(duals, h, q.p as Dual[], q.y0 as Dual[], steps));
      for (const key of ['p', 'y0']) flat(g.gradient[key]).forEach((v, k) => expect(Math.abs(v - flat(oracle.gradient[key])[k])).toBeLessThanOrEqual(1e-12));
    }
    const b = 5;
    const seq = Array.from({ length: 40 }, (_, t) => Array.from({ length: b }, (_, k) => (k === (t * 3 + 1) % b ? 1 : 0)));
    const weights = (rows: number, phase: number) => Array.from({ length: rows }, (_, r) => Array.from({ length: b }, (_, k) => 0.6 * Math.sin(1.7 * r + 0.9 * k + phase)));
    const [W, B, X] = [weights(4, 0.1), weights(4, 1.2), weights(3, 2.3)];
    const h0 = [0.1, -0.2, 0.3, 0, 0.05];
    const c0 = [0, 0.2, -0.1, 0.4, 0.1];
    const statesOnly = await compileAndLoad(examples, { checkpointMemory: statesFit(39, 2 * b + 1) });
    const g = ex.lstm_vecGrad(W as never, B as never, X as never, h0 as never, c0 as never, seq as never) as Grad;
    expect(bits(statesOnly.lstm_vecGrad(W as never, B as never, X as never, h0 as never, c0 as never, seq as never) as Grad)).toEqual(bits(g));
    const oracle = forwardGradient({ W: { kind: 'mat', value: W }, B: { kind: 'mat', value: B }, X: { kind: 'mat', value: X }, h0: vec(h0), c0: vec(c0) }, (q) => lstmVecT(duals, q.W as Dual[][], q.B as Dual[][], q.X as Dual[][], q.h0 as Dual[], q.c0 as Dual[], seq));
    for (const key of ['W', 'B', 'X', 'h0', 'c0']) flat(g.gradient[key]).forEach((v, k) => expect(Math.abs(v - flat(oracle.gradient[key])[k])).toBeLessThanOrEqual(1e-12));
  });
});
