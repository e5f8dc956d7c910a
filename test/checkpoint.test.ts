/**
 * Binomial checkpointing of loops with state (src/ad/checkpoint.ts, Revolve). For each budget, the
 * gradient is compared bit for bit with the fully stored one, on number state, array state, a
 * `while`, an `if` in the body and nested loops, at trip counts 0, 1, 2, s − 1, s, s + 1 and large.
 * The iterations the reverse sweep recomputes are counted by instrumenting the generated code (a
 * counter inserted into its recomputation loop, in this test only) and checked against Griewank's
 * formula r·T − C(s + r, s + 1) − (T − 1), itself checked against a dynamic program over every
 * schedule; the snapshot array's length against the budget.
 */
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { importCode, type CompiledModule } from './support/load.ts';

const source = `
fn numbers(k, x0, v0, const dt, const steps) {
  var x = x0
  var v = v0
  for t in 0..steps {
    let a = -k * x
    x = x + dt * v
    v = v + dt * a
  }
  return x * v
}
fn arrays(p: vec[n], y0: vec[n], const steps) {
  var y: vec[n] = y0
  var s = 0
  for t in 0..steps {
    y[i] = y[i] + 0.01 * sin(p[i] * y[i]) - 0.001 * y[n - 1 - i]
    y[0] = y[0] * 0.999 + 0.001 * s
    s = s + y[n - 1]
  }
  return s + sum(i: y[i] * p[i])
}
fn halving(a, tol) {
  var x = a
  var s = 0
  while x > tol max 1000 {
    x = x * 0.9 + 0.01 * sin(x)
    s = s + sqrt(x)
  }
  return s
}
fn branchy(a, const dt, const steps) {
  var x = a
  for t in 0..steps {
    if x > 0.5 {
      x = x - dt * x * x
    } else {
      x = x + dt * cos(x + t)
    }
  }
  return x
}
fn nested(a, b, const dt, const steps) {
  var x = a
  var y = b
  for t in 0..steps {
    for j in 0..3 {
      x = x + dt * sin(y + j)
    }
    y = y - dt * x
  }
  return x + y
}`;

/** How many numbers a budget of `numbers` is, as the MB option. */
const megabytes = (numbers: number) => (numbers * 8) / 2 ** 20;

/**
 * The module compiled with a budget, instrumented: `__recomputed` counts the iterations the
 * reverse sweep recomputes from snapshots, `__snapshots` records the snapshot arrays' lengths.
 */
async function instrumented(budget: number): Promise<CompiledModule> {
  const code = compileSync(source, {
    checkpointMemory: megabytes(budget),
  }).code!;
  const lines = code.split('\n');
  const out: string[] = [];
  let recomputations = 0;
  let snapshots = 0;
  for (let k = 0; k < lines.length; k++) {
    out.push(lines[k]);
    if (/^\s*\/\/ The states from the top snapshot/.test(lines[k])) {
      out.push(lines[++k], 'globalThis.__recomputed++;');
      recomputations++;
    }
    if (/^\s*\/\/ (Snapshots of the state|The state \(.*\) at the start of every iteration)/.test(lines[k])) {
      while (/^\s*\/\//.test(lines[k + 1])) out.push(lines[++k]);
      const allocation = lines[++k];
      expect(allocation).toMatch(/= \$work\(/);
      out.push(allocation.replace('$work(', 'globalThis.__snapshot('));
      snapshots++;
    }
  }
  // (Each loop of the source has both; the nested loop's trip count is known when compiling, so
  // with a budget its 3 states fit in, it has no recomputation loop.)
  expect(recomputations).toBeGreaterThanOrEqual(5);
  expect(snapshots).toBe(6);
  return importCode(out.join('\n'));
}

interface Globals {
  __recomputed: number;
  __lengths: number[];
  __snapshot: (slot: number, length: number) => Float64Array;
}
const globals = globalThis as unknown as Globals;
globals.__snapshot = (_slot, length) => {
  globals.__lengths.push(length);
  return new Float64Array(length);
};

/** Runs a function, returning what it returned, the iterations recomputed and the snapshot arrays' lengths. */
function run(module: CompiledModule, name: string, ...args: unknown[]): { result: unknown; recomputed: number; lengths: number[] } {
  globals.__recomputed = 0;
  globals.__lengths = [];
  const result = (module[name] as (...a: unknown[]) => unknown)(...args);
  return {
    result,
    recomputed: globals.__recomputed,
    lengths: globals.__lengths,
  };
}

/** C(a, k), exact for the sizes here. */
function choose(a: number, k: number): number {
  if (k < 0 || k > a) return 0;
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (a - k + i)) / i;
  return Math.round(c);
}

/** Griewank's minimum number of forward steps with s snapshots, less the T − 1 of the forward sweep. */
function formula(T: number, s: number): number {
  if (T <= 1) return 0;
  let r = 0;
  while (choose(s + r, s) < T) r++;
  return r * T - choose(s + r, s + 1) - (T - 1);
}

/**
 * The same minimum by dynamic programming over every schedule: reversing l steps from a snapshot
 * with s slots (its own included) costs, at best, advancing m steps, reversing the last l − m
 * with s − 1 slots, then the first m with s (t(1, s) = 0; no slot left, only one step can be done).
 */
function dynamic(T: number, s: number): number {
  const t: number[][] = [];
  for (let l = 0; l <= T; l++) {
    t.push([]);
    for (let k = 0; k <= s; k++) {
      if (l <= 1) t[l].push(0);
      else if (k === 0) t[l].push(Infinity);
      else {
        let best = Infinity;
        for (let m = 1; m < l; m++) best = Math.min(best, m + t[l - m][k - 1] + t[m][k]);
        t[l].push(best);
      }
    }
  }
  return T <= 1 ? 0 : t[T][s] - (T - 1);
}

/** The slots the generated code takes for T iterations of S numbers within `budget` numbers (checkpoint.ts): a slot is S numbers and its iteration. */
const slotsFor = (T: number, S: number, budget: number) => (T * (S + 1) <= budget ? T : Math.min(T, Math.max(Math.floor(budget / (S + 1)), Math.ceil(Math.log2(T + 1)) + 1)));

const stored = await instrumented(2 ** 24);

describe('the count of recomputed iterations', () => {
  it('Griewank’s formula is the dynamic program’s minimum', () => {
    for (let T = 0; T <= 40; T++) for (let s = 1; s <= 6; s++) expect(formula(T, s), `T = ${T}, s = ${s}`).toBe(dynamic(T, s));
  });

  // n slots of the 2-number state: s = n − 1 for Revolve's rule (one keeps the last iteration's state).
  for (const n of [4, 5, 8, 21]) {
    const s = n - 1;
    it(`with ${n} slots, the reverse sweep recomputes the formula's count and the gradient is stored's to the last bit`, async () => {
      const m = await instrumented(3 * n);
      for (const T of [0, 1, 2, s - 1, s, s + 1, n, n + 1, 3 * n, 200, 1000]) {
        const args = [2.5, 0.3, -0.7, 0.01, T];
        const full = run(stored, 'numbersGrad', ...args);
        const checkpointed = run(m, 'numbersGrad', ...args);
        expect(checkpointed.result).toEqual(full.result);
        expect(full.recomputed).toBe(0);
        const slots = slotsFor(T, 2, 3 * n);
        expect(checkpointed.recomputed, `T = ${T}`).toBe(formula(T, slots - 1));
        // The snapshots: n·S numbers (T·S when they all fit); with their n positions, never more
        // than the budget, unless that holds fewer than ⌈log₂ T⌉ + 1 states.
        expect(checkpointed.lengths).toEqual([2 * slots]);
        expect(slots).toBeLessThanOrEqual(Math.max(n, Math.ceil(Math.log2(T + 1)) + 1));
        if (n >= Math.ceil(Math.log2(T + 1)) + 1) expect(3 * slots).toBeLessThanOrEqual(3 * n);
      }
    });
  }

  it('a long loop with few snapshots: 10⁵ iterations in 20 slots', async () => {
    const m = await instrumented(3 * 20);
    const T = 100_000;
    const args = [2.5, 0.3, -0.7, 1e-4, T];
    const checkpointed = run(m, 'numbersGrad', ...args);
    expect(checkpointed.result).toEqual(run(stored, 'numbersGrad', ...args).result);
    // r = 6 (C(25, 6) = 177,100 ≥ 10⁵): each iteration is computed at most 6 times.
    expect(checkpointed.recomputed).toBe(formula(T, 19));
    expect(checkpointed.recomputed).toBeLessThan(5 * T);
    expect(checkpointed.lengths).toEqual([40]);
  });

  it('a budget below ⌈log₂ T⌉ + 1 states still takes that many (the recomputation stays within log₂ T passes)', async () => {
    const m = await instrumented(0);
    const T = 1000;
    const checkpointed = run(m, 'numbersGrad', 2.5, 0.3, -0.7, 0.01, T);
    expect(checkpointed.lengths).toEqual([2 * 11]);
    expect(checkpointed.recomputed).toBe(formula(T, 10));
    expect(checkpointed.recomputed).toBeLessThan(Math.log2(T) * T);
  });

  it('array state: S counts every element, and the count is the formula’s', async () => {
    const n = 6;
    const p = Array.from({ length: n }, (_, i) => 0.3 + 0.1 * i);
    const y0 = Array.from({ length: n }, (_, i) => Math.cos(i));
    const S = 1 + n;
    for (const slots of [3, 7, 12]) {
      const m = await instrumented((S + 1) * slots);
      for (const T of [0, 1, 2, slots - 2, slots - 1, slots, slots + 1, 150]) {
        const full = run(stored, 'arraysGrad', p, y0, T);
        const checkpointed = run(m, 'arraysGrad', p, y0, T);
        expect(checkpointed.result, `slots ${slots}, T = ${T}`).toEqual(full.result);
        const taken = slotsFor(T, S, (S + 1) * slots);
        expect(checkpointed.lengths).toEqual([S * taken]);
        expect(checkpointed.recomputed, `slots ${slots}, T = ${T}`).toBe(formula(T, taken - 1));
      }
    }
  });
});

describe('checkpointed and stored sweeps agree to the last bit', () => {
  const budgets = [0, 2, 3, 5, 9, 40];
  const modules = Promise.all(budgets.map((b) => instrumented(b)));

  it('a while loop, whose snapshots are planned for its max and reversed over the trips it made', async () => {
    for (const m of await modules) {
      // 0 trips (a ≤ tol), 1, 2, a few, many, and the max (1,000).
      for (const [a, tol] of [
        [0.1, 0.5],
        [0.55, 0.5],
        [0.6, 0.5],
        [2, 0.5],
        [50, 1e-3],
        [5, -1],
      ]) {
        expect(run(m, 'halvingGrad', a, tol).result).toEqual(run(stored, 'halvingGrad', a, tol).result);
      }
    }
  });

  it('an if in the body: each iteration differentiates the branch it took', async () => {
    for (const m of await modules) {
      for (const T of [0, 1, 2, 3, 4, 5, 8, 9, 10, 41, 500]) {
        expect(run(m, 'branchyGrad', 0.7, 0.05, T).result).toEqual(run(stored, 'branchyGrad', 0.7, 0.05, T).result);
      }
    }
  });

  it('nested loops with state: the inner loop is checkpointed within each recomputed outer iteration', async () => {
    for (const m of await modules) {
      for (const T of [0, 1, 2, 3, 4, 5, 8, 9, 10, 41, 300]) {
        expect(run(m, 'nestedGrad', 0.3, -0.4, 0.02, T).result).toEqual(run(stored, 'nestedGrad', 0.3, -0.4, 0.02, T).result);
      }
    }
  });

  it('the gradient is right, not only the same: central differences on every function, checkpointed', async () => {
    const [m] = await modules;
    const h = 1e-6;
    const check = (name: string, args: number[], k: number, key: string) => {
      const f = m[name] as (...a: number[]) => number;
      const up = [...args];
      const down = [...args];
      up[k] += h;
      down[k] -= h;
      const g = (
        run(m, `${name}Grad`, ...args).result as {
          gradient: Record<string, number>;
        }
      ).gradient[key];
      const fd = (f(...up) - f(...down)) / (2 * h);
      expect(Math.abs(g - fd), `${name} ∂/∂${key}: ${g} vs ${fd}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
    };
    check('numbers', [2.5, 0.3, -0.7, 0.01, 300], 0, 'k');
    check('halving', [50, 1e-3], 0, 'a');
    check('branchy', [0.7, 0.05, 200], 0, 'a');
    check('nested', [0.3, -0.4, 0.02, 100], 1, 'b');
  });
});

describe('the generated comment', () => {
  it('says the rule, and what it gives when the trip count and state size are known when compiling', () => {
    const code = compileSync('fn f(a) {\n  var x = a\n  for t in 0..1000 {\n    x = x * 0.5 + sin(x)\n  }\n  return x\n}', { checkpointMemory: megabytes(262) }).code!;
    expect(code).toContain('// With T the trip count: all T of them if T × 2 ≤ 262 (0.002 MB) (a state and its');
    expect(code).toContain('// C(s + r, s) ≥ T, the reverse sweep recomputes r·T − C(s + r, s + 1) − T + 1 iterations,');
    // n = ⌊262 / 2⌋ = 131, r = 2: 2·1000 − C(132, 131) − 999 = 869.
    expect(formula(1000, 130)).toBe(869);
    expect(code).toContain('// (here T = 1000, S = 1: n = 131, r = 2, 869 iterations recomputed).');
  });
});
