/**
 * Loops that carry state (issue #13): `var`, assignment, `for`, `while … max N` and `if` blocks.
 * The examples of examples/loops.ad are checked against plain JavaScript loops (values) and the
 * forward-mode oracle of test/oracle/loops.ts and central finite differences (gradients), for
 * trip counts 0, 1, 2 and large; then while loops that stop at once or reach their max, nesting,
 * calls, the generated code, and every diagnostic.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { duals, forwardGradient, numbers, type Dual, type Param } from './oracle/arrays.ts';
import { bounceT, lstmT, newtonSqrtT, oscillateT, predatorsT, type LstmWeights } from './oracle/loops.ts';
import { compileAndLoad } from './support/load.ts';
import { diagnose, only } from './support/diagnostics.ts';

const source = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');
const m = await compileAndLoad(source);

type Grad = { value: number; gradient: Record<string, number> };
const scalar = (value: number) => ({ kind: 'scalar', value }) as const satisfies Param;
/** The forward-mode oracle's gradient with respect to scalar inputs. */
function oracleOf(values: Record<string, number>, f: (p: Record<string, Dual>) => Dual): Record<string, number> {
  const params = Object.fromEntries(Object.entries(values).map(([n, v]) => [n, scalar(v)]));
  return forwardGradient(params, (p) => f(p as Record<string, Dual>)).gradient as Record<string, number>;
}

function close(actual: number, expected: number, relative: number): void {
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected) / scale, `${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

/** Central differences of f in each named argument (in order), step 1e-6·max(1, |v|). */
function finiteDifferences(f: (...args: number[]) => number, args: number[], names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((name, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(args[k]));
    const up = [...args];
    const dn = [...args];
    up[k] += h;
    dn[k] -= h;
    out[name] = (f(...up) - f(...dn)) / (2 * h);
  });
  return out;
}

/** The compiled value and gradient against a reference value, the forward-mode oracle and finite differences. */
function check(name: string, args: number[], differentiated: string[], reference: number, oracle: Record<string, number>, fdTolerance = 1e-6) {
  const f = m[name] as (...a: number[]) => number;
  const g = (m[`${name}Grad`] as (...a: number[]) => Grad)(...args);
  close(f(...args), reference, 1e-13);
  close(g.value, reference, 1e-13);
  expect(Object.keys(g.gradient)).toEqual(differentiated);
  const fd = finiteDifferences(f, args, differentiated);
  for (const p of differentiated) {
    close(g.gradient[p], oracle[p], 1e-11);
    close(g.gradient[p], fd[p], fdTolerance);
  }
}

describe('examples/loops.ad', () => {
  for (const steps of [0, 1, 2, 1000]) {
    it(`oscillate over ${steps} steps`, () => {
      const [k, x0, v0, dt] = [2.5, 0.3, -0.7, 0.01];
      const reference = oscillateT(numbers, k, x0, v0, dt, steps);
      const oracle = oracleOf({ k, x0, v0 }, (p) => oscillateT(duals, p.k, p.x0, p.v0, dt, steps));
      check('oscillate', [k, x0, v0, dt, steps], ['k', 'x0', 'v0'], reference, oracle);
    });

    it(`predators (RK4) over ${steps} steps`, () => {
      const args = [1.1, 0.4, 0.9, 0.3, 2, 1.5];
      const h = 0.01;
      const reference = predatorsT(numbers, ...(args as [number, number, number, number, number, number]), h, steps);
      const names = ['a', 'b', 'c', 'd', 'u0', 'w0'];
      const oracle = oracleOf(Object.fromEntries(names.map((n, i) => [n, args[i]])), (p) => predatorsT(duals, p.a, p.b, p.c, p.d, p.u0, p.w0, h, steps));
      check('predators', [...args, h, steps], names, reference, oracle);
    });
  }

  for (const length of [1, 2, 3, 200]) {
    it(`lstm over a sequence of ${length}`, async () => {
      const xs = Array.from({ length }, (_, t) => Math.sin(0.7 * t) * 0.8);
      const names = ['wf', 'uf', 'bf', 'wi', 'ui', 'bi', 'wo', 'uo', 'bo', 'wc', 'uc', 'bc', 'v'];
      const values = names.map((_, i) => 0.3 * Math.cos(1.3 * i + 0.2));
      const weights = Object.fromEntries(names.map((n, i) => [n, values[i]])) as unknown as LstmWeights<number>;
      const reference = lstmT(numbers, weights, xs);
      const oracle = oracleOf(Object.fromEntries(names.map((n, i) => [n, values[i]])), (p) => lstmT(duals, p as unknown as LstmWeights<Dual>, xs));
      const f = (...a: number[]) => (m.lstm as (...b: unknown[]) => number)(...a, xs);
      const g = (m.lstmGrad as (...b: unknown[]) => Grad)(...values, xs);
      close(f(...values), reference, 1e-13);
      close(g.value, reference, 1e-13);
      const fd = finiteDifferences(f, values, names);
      for (const n of names) {
        close(g.gradient[n], oracle[n], 1e-11);
        close(g.gradient[n], fd[n], 1e-6);
      }
      if (length === 1) expect(g.gradient).toEqual(Object.fromEntries(names.map((n) => [n, 0])));
    });
  }

  for (const a of [2, 1e-6, 1e6, 0.25]) {
    it(`newton_sqrt(${a}) converges, and its gradient is that of the iterations run`, () => {
      const { x, iterations } = newtonSqrtT(numbers, a);
      expect(iterations).toBeGreaterThan(1);
      const oracle = oracleOf({ a }, (p) => newtonSqrtT(duals, p.a).x);
      const g = (m.newton_sqrtGrad as (a: number) => Grad)(a);
      expect(g.value).toBe(x);
      close(g.value, Math.sqrt(a), 1e-12);
      close(g.gradient.a, oracle.a, 1e-11);
      // The converged iterate's derivative is that of sqrt.
      close(g.gradient.a, 0.5 / Math.sqrt(a), 1e-9);
    });
  }

  it('newton_sqrt stops at once when the start is the answer (no iterations: the derivative of x = a)', () => {
    expect(newtonSqrtT(numbers, 1).iterations).toBe(0);
    expect((m.newton_sqrtGrad as (a: number) => Grad)(1)).toEqual({ value: 1, gradient: { a: 1 } });
  });

  for (const steps of [0, 1, 2, 50]) {
    it(`bounce: derivatives follow the branch each iteration took (${steps} steps)`, () => {
      const [x0, r] = [0.45, 0.37];
      const reference = bounceT(numbers, x0, r, steps);
      const oracle = oracleOf({ x0, r }, (p) => bounceT(duals, p.x0, p.r, steps));
      check('bounce', [x0, r, steps], ['x0', 'r'], reference, oracle, 1e-5);
    });
  }
});

describe('while loops', () => {
  it('a while that reaches its max still returns its value (and its gradient over those iterations)', async () => {
    const w = await compileAndLoad(`fn capped(a, const n) {
  var x = 1
  var count = 0
  while x > 0 max n {
    x = x * a
    count = count + 1
  }
  return x + count
}`);
    // x > 0 always: the loop runs n times, x = a^n.
    for (const n of [0, 1, 2, 3, 7.5]) {
      const trips = Math.ceil(n);
      const g = (w.cappedGrad as (a: number, n: number) => Grad)(1.5, n);
      expect(g.value).toBeCloseTo(1.5 ** trips + trips, 12);
      expect(g.gradient.a).toBeCloseTo(trips * 1.5 ** (trips - 1) * (trips > 0 ? 1 : 0), 12);
    }
    // Stops at once: x starts at 1 > 0 only for a first step; with a negative a it stops after one.
    const g = (w.cappedGrad as (a: number, n: number) => Grad)(-2, 10);
    expect(g).toEqual({ value: -2 + 1, gradient: { a: 1 } });
  });

  it('a condition false from the start runs no iteration', async () => {
    const w = await compileAndLoad(`fn never(a) {
  var x = a
  while x < 0 max 1000 {
    x = x * x
  }
  return 3 * x
}`);
    expect((w.neverGrad as (a: number) => Grad)(2)).toEqual({ value: 6, gradient: { a: 3 } });
    // And one that runs: 3·(a²)² for a = -0.5 ends at 0.0625 ≥ 0 after one step.
    const g = (w.neverGrad as (a: number) => Grad)(-0.5);
    expect(g.value).toBe(3 * 0.25);
    expect(g.gradient.a).toBe(3 * 2 * -0.5);
  });
});

describe('nesting, calls and branches', () => {
  it('nested for loops carry state through both levels', async () => {
    const w = await compileAndLoad(`fn nest(a, b, const n, const k) {
  var s = b
  for i in 0..n {
    var p = 1
    for j in 0..k {
      p = p * a + j
      s = s + p * i
    }
    s = sin(s) + p
  }
  return s
}`);
    // Values against a plain loop; the gradient against central differences (sin has no oracle here).
    const plain = (a: number, b: number, n: number, k: number) => {
      let s = b;
      for (let i = 0; i < n; i++) {
        let p = 1;
        for (let j = 0; j < k; j++) {
          p = p * a + j;
          s = s + p * i;
        }
        s = Math.sin(s) + p;
      }
      return s;
    };
    for (const [n, k] of [[0, 0], [1, 2], [2, 1], [5, 4]]) {
      const g = (w.nestGrad as (...a: number[]) => Grad)(0.8, 0.3, n, k);
      close(g.value, plain(0.8, 0.3, n, k), 1e-14);
      const fd = finiteDifferences((a, b) => plain(a, b, n, k), [0.8, 0.3], ['a', 'b']);
      close(g.gradient.a, fd.a, 1e-7);
      close(g.gradient.b, fd.b, 1e-7);
    }
  });

  it('functions with loops are inlined into callers, whose gradients stay exact', async () => {
    const w = await compileAndLoad(`${source}
fn both(a, k) = newton_sqrt(a) * oscillate(k, a, 0, 0.1, 20)`);
    const a = 3;
    const k = 1.5;
    const value = Math.sqrt(a) * oscillateT(numbers, k, a, 0, 0.1, 20);
    const g = (w.bothGrad as (a: number, k: number) => Grad)(a, k);
    close(g.value, value, 1e-12);
    const fd = finiteDifferences((x, y) => (w.both as (a: number, b: number) => number)(x, y), [a, k], ['a', 'k']);
    close(g.gradient.a, fd.a, 1e-6);
    close(g.gradient.k, fd.k, 1e-6);
  });

  it('an if block outside loops, with an else if chain', async () => {
    const w = await compileAndLoad(`fn piece(x) {
  var y = x
  if x < 0 {
    y = -x * x
  } else if x < 1 {
    y = x * x * x
  } else {
    var z = log(x)
    y = z + 1
  }
  return y * 2
}`);
    for (const [x, value, slope] of [[-2, -8, 8], [0.5, 0.25, 1.5], [Math.E, 4, 2 / Math.E]]) {
      const g = (w.pieceGrad as (x: number) => Grad)(x);
      close(g.value, value, 1e-15);
      close(g.gradient.x, slope, 1e-15);
    }
  });

  it('variables swap through a let (sets read every value before assigning)', async () => {
    const w = await compileAndLoad(`fn swap(a, b, const n) {
  var x = a
  var y = b
  for i in 0..n {
    let t = x
    x = y
    y = t
  }
  return x + 10 * y
}`);
    // An odd number of swaps: x = b, y = a.
    expect((w.swapGrad as (...a: number[]) => Grad)(1, 2, 3)).toEqual({ value: 2 + 10, gradient: { a: 10, b: 1 } });
    expect((w.swapGrad as (...a: number[]) => Grad)(1, 2, 4)).toEqual({ value: 1 + 20, gradient: { a: 1, b: 10 } });
  });
});

describe('generated code', () => {
  const code = compileSync(source).code!;

  it('stores each iteration’s state on a tape and says so', () => {
    expect(code).toContain('// Snapshots of the state (2 numbers) at the start of iterations, for the reverse sweep.');
    expect(code).toContain('// With T the trip count: all T of them if T × 3 ≤ 8,388,608 (64 MB) (a state and its');
    expect(code).toContain('// iteration each), with nothing recomputed; else n = ⌊8,388,608 / 3⌋ (at least ⌈log₂ T⌉ + 1),');
    expect(code).toContain('// Each iteration, from the last: its state from the snapshots (recomputing from the nearest)');
  });

  it('does not unroll: the code does not depend on the number of steps', () => {
    // Lines, not characters: constants folded from the step count (steps - 1, ⌈√steps⌉) differ in digits.
    const size = (steps: number) => compileSync(source.replace(/const steps\) \{/, `steps_unused) {\n  let steps = ${steps}`)).code!.split('\n').length;
    expect(size(100)).toBe(size(900));
    expect(size(100)).toBe(size(1));
  });
});

describe('diagnostics', () => {
  it('assigning to a let, a parameter or a loop index', () => {
    expect(only('fn f(x) {\n  let y = x\n  y = 2\n  return y\n}')).toMatchObject({ code: 'AD7001', line: 3, column: 3 });
    expect(only('fn f(x) {\n  x = 2\n  return x\n}')).toMatchObject({ code: 'AD7002', line: 2, column: 3 });
    expect(only('fn f(x) {\n  var s = 0\n  for i in 0..3 {\n    i = 2\n  }\n  return x\n}')).toMatchObject({ code: 'AD7003', line: 4, column: 5 });
  });

  it('a var used or assigned before its declaration', () => {
    expect(only('fn f(x) {\n  let y = s\n  var s = x\n  return y\n}')).toMatchObject({ code: 'AD7004', line: 2, column: 11 });
    expect(only('fn f(x) {\n  s = x\n  var s = x\n  return s\n}')).toMatchObject({ code: 'AD7004', line: 2, column: 3 });
  });

  it('a while without max, a for without a range, a return inside a block', () => {
    expect(only('fn f(x) {\n  var y = x\n  while y > 1 {\n    y = y / 2\n  }\n  return y\n}')).toMatchObject({ code: 'AD7005', line: 3, column: 3 });
    expect(only('fn f(x) {\n  var y = x\n  for i {\n    y = y / 2\n  }\n  return y\n}')).toMatchObject({ code: 'AD7006', line: 3, column: 7 });
    expect(only('fn f(x) {\n  if x > 1 {\n    return x\n  }\n  return 0\n}')).toMatchObject({ code: 'AD7007', line: 3, column: 5 });
  });

  it('a loop variable shadowing a name, and a duplicate var', () => {
    expect(only('fn f(x) {\n  var s = 0\n  for x in 0..3 {\n    s = s + x\n  }\n  return s\n}')).toMatchObject({ code: 'AD6015', line: 3, column: 7 });
    expect(only('fn f(x) {\n  var s = 0\n  var s = 1\n  return s\n}')).toMatchObject({ code: 'AD2005', line: 3, column: 7 });
  });

  it('an array assigned to a number, an element update of a number', () => {
    expect(only('fn f(x: vec[n]) {\n  var s = 0\n  s = x\n  return s\n}')).toMatchObject({ code: 'AD7008', line: 3, column: 7 });
    expect(only('fn f(x) {\n  var s = 0\n  s[0] = x\n  return s\n}')).toMatchObject({ code: 'AD6006', line: 3, column: 3 });
  });

  it('types: a while condition is a condition, a var holds a number', () => {
    expect(only('fn f(x) {\n  var y = x\n  while y max 3 {\n    y = y / 2\n  }\n  return y\n}')).toMatchObject({ code: 'AD4002', line: 3, column: 9 });
    expect(only('fn f(x) {\n  var y = x > 1\n  return x\n}')).toMatchObject({ code: 'AD4001', line: 2, column: 11 });
  });

  it('arrays whose length could change in a block, and loops inside reductions, are refused', () => {
    // (Arrays made in a header are not: test/loop-headers.test.ts; nor derivatives making arrays
    // in a block, AD7011 before: test/block-derivatives.test.ts.)
    expect(only('fn f(x: vec[n]) {\n  var s = 0\n  for t in 0..3 {\n    let z[i in 0..t] = x[0] * i\n    s = s + z[0]\n  }\n  return s\n}')).toMatchObject({ code: 'AD7014', line: 4, column: 19 });
    expect(only('fn g(x: vec[n], k) {\n  let z[i in 0..k] = x[0] * i\n  return z\n}\nfn f(x: vec[n]) {\n  var s = 0\n  for t in 0..3 {\n    s = s + g(x, t)[0]\n  }\n  return s\n}')).toMatchObject({ code: 'AD7014', line: 8, column: 13 });
    // (By default g, a function of numbers, stays a call there instead: test/calls.test.ts.)
    expect(only('fn g(a) {\n  var s = a\n  for t in 0..3 {\n    s = s * a\n  }\n  return s\n}\nfn f(x: vec[n]) = sum(i: g(x[i]))', { calls: 'inline' })).toMatchObject({ code: 'AD7010', line: 8, column: 26 });
    // (As a function taking arrays does now: test/array-calls.test.ts.)
    expect(only('fn g(a: vec[m]) {\n  var s = 0\n  for t in 0..3 {\n    s = s + a[t]\n  }\n  return s\n}\nfn f(x: vec[n]) = sum(i: g(x) * x[i])', { calls: 'inline' })).toMatchObject({ code: 'AD7010', line: 8, column: 26 });
  });

  it('every error of a file at once, each located', () => {
    const all = diagnose('fn f(x) {\n  x = 1\n  while x > 0 {\n    let a = 2\n    a = 3\n  }\n  return x\n}');
    expect(all.map((d) => d.code)).toEqual(['AD7002', 'AD7005', 'AD7001']);
  });
});

describe('checkpointing', async () => {
  // A budget of 0 MB forces binomial checkpointing with the fewest snapshots (⌈log₂ T⌉ + 1).
  const checkpointed = await compileAndLoad(source, { checkpointMemory: 0 });
  const grad = (module: typeof m, name: string, ...args: unknown[]) => (module[`${name}Grad`] as (...a: unknown[]) => Grad)(...args);

  for (const steps of [0, 1, 2, 3, 10, 17, 1000]) {
    it(`checkpointed and fully stored sweeps agree to the last bit (${steps} steps)`, () => {
      expect(grad(checkpointed, 'oscillate', 2.5, 0.3, -0.7, 0.01, steps)).toEqual(grad(m, 'oscillate', 2.5, 0.3, -0.7, 0.01, steps));
      expect(grad(checkpointed, 'predators', 1.1, 0.4, 0.9, 0.3, 2, 1.5, 0.01, steps)).toEqual(grad(m, 'predators', 1.1, 0.4, 0.9, 0.3, 2, 1.5, 0.01, steps));
      expect(grad(checkpointed, 'bounce', 0.45, 0.37, steps)).toEqual(grad(m, 'bounce', 0.45, 0.37, steps));
      const xs = Array.from({ length: steps + 1 }, (_, t) => Math.cos(t));
      const w = Array.from({ length: 13 }, (_, i) => 0.1 * i - 0.5);
      expect(grad(checkpointed, 'lstm', ...w, xs)).toEqual(grad(m, 'lstm', ...w, xs));
    });
  }

  it('a while loop is checkpointed over the iterations it ran', () => {
    for (const a of [1, 2, 1e-6, 1e6]) expect(grad(checkpointed, 'newton_sqrt', a)).toEqual(grad(m, 'newton_sqrt', a));
  });

  it('says in the code what it chooses and why', () => {
    const code = compileSync(source, { checkpointMemory: 1 }).code!;
    expect(code).toContain('// With T the trip count: all T of them if T × 3 ≤ 131,072 (1 MB) (a state and its');
    expect(code).toContain('// iteration each), with nothing recomputed; else n = ⌊131,072 / 3⌋ (at least ⌈log₂ T⌉ + 1),');
    expect(code).toMatch(/Math\.ceil\(Math\.log2\(/);
  });

  it('the CLI takes --checkpoint-memory MB, and refuses a bad one with exit code 2, writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adc-loops-'));
    try {
      const input = join(dir, 'loops.ad');
      writeFileSync(input, source);
      const io = { out: () => {}, err: (s: string) => errors.push(s) };
      const errors: string[] = [];
      expect(await main(['compile', input, '--no-format', '--checkpoint-memory', '0'], io)).toBe(0);
      const code = readFileSync(join(dir, 'loops.js'), 'utf8');
      expect(code).toBe(compileSync(source, { filename: 'loops.ad', checkpointMemory: 0 }).code);
      expect(code).toContain('≤ 0 (0 MB)');
      for (const bad of ['-1', 'lots', '']) {
        rmSync(join(dir, 'loops.js'), { force: true });
        expect(await main(['compile', input, '--checkpoint-memory', bad], io)).toBe(2);
        expect(existsSync(join(dir, 'loops.js'))).toBe(false);
      }
      expect(errors.at(-1)).toBe("adc: error: --checkpoint-memory takes a number of MB ≥ 0, not ''");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a budget that is not a number of MB', () => {
    expect(() => compileSync(source, { checkpointMemory: -1 })).toThrow(RangeError);
    expect(() => compileSync(source, { checkpointMemory: Number.NaN })).toThrow(RangeError);
  });
});
