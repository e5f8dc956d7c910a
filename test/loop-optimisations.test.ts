/**
 * Optimisations of the generated loops (issue 16): the shape of the code they produce, and results
 * unchanged against independent references (the forward-mode oracle of test/oracle/arrays.ts,
 * central finite differences, plain JavaScript with Math.pow).
 *
 * - Running powers (src/ir/reduce-strength.ts): `t^j` with j a loop's index becomes a product kept
 *   across iterations, in the forward sweep and in the reverse sweep (turned to count up).
 * - Stored costly values (src/ad/loops.ts): exp, tanh… of a loop body read back by the reverse sweep.
 * - logsumexp in two passes (src/emit/emit-js.ts), its exp(term - maximum) kept by a gradient's
 *   forward sweep for the reverse sweep (loops.ts, reverse.ts).
 */
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { polyData, polyForward, type GradValue } from './oracle/arrays.ts';
import { importCode } from './support/load.ts';
import { partialSumsOrder } from './support/partial-sums.ts';

type Module = Record<string, (...args: unknown[]) => unknown>;
interface GradResult {
  value: number;
  gradient: Record<string, GradValue>;
}

async function load(source: string): Promise<{ m: Module; code: string }> {
  const r = compileSync(source, { filename: 'loops-opt.ad' });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  return { m: (await importCode(r.code)) as unknown as Module, code: r.code };
}

/** The text of one generated function. */
function functionText(code: string, name: string): string {
  const start = code.indexOf(`function ${name}(`);
  expect(start, name).toBeGreaterThanOrEqual(0);
  return code.slice(start, code.indexOf('\n}\n', start) + 2);
}

/** Every entry of a gradient within tol·(1 + |expected|), key by key. */
function expectClose(actual: Record<string, GradValue>, expected: Record<string, GradValue>, tol: number): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [key, e] of Object.entries(expected)) {
    const a = actual[key]!;
    const flat = (g: GradValue) => (typeof g === 'number' ? [g] : g instanceof Float64Array ? Array.from(g) : g.flatMap((r) => Array.from(r)));
    const fa = flat(a);
    const fe = flat(e);
    expect(fa.length, key).toBe(fe.length);
    fe.forEach((v, i) => {
      if (!(Math.abs(fa[i]! - v) <= tol * (1 + Math.abs(v)))) expect.fail(`${key}[${i}]: ${fa[i]}, expected ${v} (tolerance ${tol})`);
    });
  }
}

// ---- running powers --------------------------------------------------------------------------

const polySource = `
fn poly(c: vec[n], t: vec[m], const y: vec[m]) = sum(k: (sum(j: c[j] * t[k]^j) - y[k])^2) / m
fn fit(c: vec[n], const t: vec[m], const y: vec[m]) = sum(k: (sum(j: c[j] * t[k]^j) - y[k])^2) / m
fn shifted(c: vec[n], x) = sum(j in 2..n: c[j] * x^(j + 1) + x^(j - 2))
`;

describe('running powers: t^j with j a loop index', () => {
  it('become a product carried by the loop, in the value and in both sweeps of the gradient', async () => {
    const { code } = await load(polySource);
    const value = functionText(code, 'fit');
    const grad = functionText(code, 'fitGrad');
    for (const text of [value, grad]) {
      // No power with the index as exponent is left: a running product starts at 1 and is multiplied per iteration.
      expect(text).not.toMatch(/\*\* j/);
      expect(text).toMatch(/let (\$power\d+) = 1;[\s\S]*\1 = \1 \* \$t\d+;/);
      expect(text).toMatch(/unning power of j \(one multiplication per iteration, not a power\): \$power\d+\./);
    }
    // The reverse sweep's loop over j counts up (its iterations are independent), saying so.
    expect(grad).toMatch(/Counted up \(its iterations are independent/);
    expect(grad).toMatch(/for \(let j\$\d+ = 0; j\$\d+ < n; j\$\d+\+\+\)/);
    // An offset exponent from a start of 2: j + 1 starts at 3, j - 2 at 0.
    const shifted = functionText(code, 'shifted');
    expect(shifted).not.toMatch(/\*\* j/);
    expect(shifted).toMatch(/let \$power\d+ = x \*\* 3;/);
    expect(shifted).toMatch(/let \$power\d+ = 1;/);
  });

  it('give the forward-mode oracle’s values and gradients, with t differentiated too', async () => {
    const { m } = await load(polySource);
    for (const [n, size, seed] of [
      [1, 1, 1],
      [3, 4, 2],
      [8, 20, 3],
      [30, 50, 4],
    ] as const) {
      const { c, t, y } = polyData(n, size, seed);
      const expected = polyForward(c, t, y);
      const r = m.polyGrad!(c, t, y) as GradResult;
      // The oracle multiplies its powers one rounding at a time as the running product does;
      // Math.pow rounds once: agreement to a few roundings per power.
      expect(Math.abs(r.value - expected.value)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(expected.value)));
      expect(m.poly!(c, t, y)).toBe(r.value);
      expectClose(r.gradient, expected.gradient, 1e-12);
      const f = m.fitGrad!(c, t, y) as GradResult;
      expectClose(f.gradient, { c: expected.gradient.c! }, 1e-12);
    }
  });

  it('agree with Math.pow at 0, -0, ±Infinity, NaN and past overflow', async () => {
    const { m } = await load(polySource);
    const c = Float64Array.from([0.5, -2, 3, 0.25, 1e-3, 7]);
    // Plain JavaScript, Math.pow per term, in the same order.
    const reference = (t: number) => {
      let s = 0;
      for (let j = 0; j < c.length; j++) s += c[j]! * Math.pow(t, j);
      return (s - 0.5) ** 2;
    };
    for (const t of [0, -0, Infinity, -Infinity, NaN, 1e80, -1e80, 1e-80, 2, -3]) {
      const v = m.fit!(c, [t], [0.5]) as number;
      const e = reference(t);
      if (!Number.isFinite(e)) expect(Object.is(v, e), `t = ${t}: ${v}, expected ${e}`).toBe(true);
      else expect(Math.abs(v - e), `t = ${t}`).toBeLessThanOrEqual(1e-14 * Math.abs(e));
    }
  });

  it('match central differences for an exponent shifted from a range starting at 2', async () => {
    const { m } = await load(polySource);
    const c = Float64Array.from([0.3, -0.7, 1.1, 0.4, -0.2, 0.9]);
    const x = 0.8;
    const r = m.shiftedGrad!(c, x) as GradResult;
    const f = (cc: Float64Array, xx: number) => m.shifted!(cc, xx) as number;
    const h = 1e-6;
    const dx = (f(c, x + h) - f(c, x - h)) / (2 * h);
    expect(Math.abs((r.gradient.x as number) - dx)).toBeLessThan(1e-8);
    c.forEach((_, j) => {
      const up = Float64Array.from(c);
      const down = Float64Array.from(c);
      up[j] += h;
      down[j] -= h;
      expect(Math.abs((r.gradient.c as Float64Array)[j]! - (f(up, x) - f(down, x)) / (2 * h)), `c[${j}]`).toBeLessThan(1e-8);
    });
  });
});

// ---- stored costly values --------------------------------------------------------------------

const storedSource = `
fn softmax_loss(x: vec[n], w: vec[n]) = log(sum(i: exp(w[i] * x[i])))
fn waves(A: mat[m, n], const s) = sum(k: sum(j: tanh(s * A[k, j]) * A[k, j] + sqrt(1 + A[k, j]^2)))
fn tri(x: vec[n]) = sum(i: sum(j in 0..i: exp(x[i] - x[j])))
`;

describe('stored costly values: the reverse sweep reads exp, tanh… back instead of computing them again', () => {
  it('stores an exp or a tanh computed in a loop body, reads it back, and recomputes cheap values', async () => {
    const { code } = await load(storedSource);
    const grad = functionText(code, 'softmax_lossGrad');
    expect(grad).toContain('// Exp values for the reverse sweep (a store and a load cost less than an exp).');
    // One exp per element, in the forward sweep; the reverse sweep loads it.
    expect(grad.match(/Math\.exp\(/g)).toHaveLength(1);
    expect(grad).toMatch(/(\$saved\d+)\[i\] = \$t\d+;[\s\S]*= \1\[i\$\d+\];/);
    const waves = functionText(code, 'wavesGrad');
    expect(waves).toContain('// Tanh values for the reverse sweep');
    expect(waves.match(/Math\.tanh\(/g)).toHaveLength(1);
    // sqrt costs less than a store and a load: recomputed.
    expect(waves.match(/Math\.sqrt\(/g)).toHaveLength(2);
    // A triangular loop's bounds are not known before the outer loop starts: recomputed there.
    const tri = functionText(code, 'triGrad');
    expect(tri).not.toContain('values for the reverse sweep');
    // The value functions store nothing.
    expect(functionText(code, 'softmax_loss')).not.toContain('$saved');
  });

  it('give the same gradients as central differences', async () => {
    const { m } = await load(storedSource);
    const h = 1e-6;
    const check = (fn: string, args: unknown[], which: number) => {
      const r = m[`${fn}Grad`]!(...args) as GradResult;
      expect(r.value).toBe(m[fn]!(...args));
      const x = args[which] as Float64Array | Float64Array[];
      const rows = Array.isArray(x) ? x : [x];
      const g = Object.values(r.gradient)[which] as Float64Array | Float64Array[];
      const gRows = Array.isArray(g) ? g : [g];
      rows.forEach((row, a) =>
        row.forEach((v, b) => {
          row[b] = v + h;
          const up = m[fn]!(...args) as number;
          row[b] = v - h;
          const down = m[fn]!(...args) as number;
          row[b] = v;
          expect(Math.abs(gRows[a]![b]! - (up - down) / (2 * h)), `${fn} [${a}, ${b}]`).toBeLessThan(1e-7 * (1 + Math.abs(gRows[a]![b]!)));
        }),
      );
    };
    const x = Float64Array.from([0.3, -1.2, 0.8, 2.1, -0.4]);
    const w = Float64Array.from([1.1, 0.2, -0.9, 0.5, 1.7]);
    check('softmax_loss', [x, w], 0);
    check('softmax_loss', [x, w], 1);
    check('waves', [[Float64Array.from([0.2, -0.5, 1.3]), Float64Array.from([0.7, 0.1, -2])], 0.8], 0);
    check('tri', [x], 0);
  });
});

// ---- logsumexp: two passes, its exps kept for the reverse sweep ---------------------------------

const lseSource = `
fn lse(x: vec[n]) = logsumexp(i: x[i])
fn mix(A: mat[m, n], b: vec[m]) = sum(k: logsumexp(i: A[k, i] - b[k]) * b[k])
fn wide(x: vec[n]) = logsumexp(i: exp(x[i]))
`;

/**
 * R = log Σ exp(x_j) and ∂R/∂x_i = exp(x_i - M) / Σ exp(x_j - M), M the largest x_j (plain
 * JavaScript, Math.log of the whole sum; the division keeps the digits that exp(x_i - R) loses
 * when R is large: R's own rounding, 1.1e-13 near 800, moves exp(x_i - R) by as much).
 */
function softmax(x: readonly number[]): { value: number; gradient: number[] } {
  const M = Math.max(...x);
  let s = 0;
  for (const v of x) s += Math.exp(v - M);
  return { value: M + Math.log(s), gradient: x.map((v) => Math.exp(v - M) / s) };
}

describe('logsumexp: the maximum first, then exp(term - maximum), kept for the reverse sweep', () => {
  it('runs in two passes, and the gradient’s reverse sweep reads the stored exps (one exp per term in all)', async () => {
    const { code } = await load(lseSource);
    const value = functionText(code, 'lse');
    const grad = functionText(code, 'lseGrad');
    for (const text of [value, grad]) {
      expect(text).toContain('// logsumexp in two passes: the maximum (no exp), then exp(term - maximum).');
      // The first pass takes no exp; the one-pass rescaling is gone.
      expect(text).toMatch(/let \$t\d+\$first = -1;\n\s+for \(let i = 0; i < n; i\+\+\) \{\n\s+const (\$t\d+) = x\[i\];\n\s+if \(\1 > \$t\d+\$max\) \{/);
      expect(text).not.toMatch(/\$sum \+ 1\) \* Math\.exp/);
    }
    expect(value.match(/Math\.exp\(/g)).toHaveLength(1);
    expect(value).not.toContain('$saved');
    // The gradient: one exp per term, stored; the reverse sweep multiplies it by the scale.
    expect(grad.match(/Math\.exp\(/g)).toHaveLength(1);
    expect(grad).toMatch(/(\$saved\d+)\[i\] = (\$t\d+\$exp);[\s\S]*const (\$t\d+) = 1 \/ \(1 \+ \$t\d+\$sum\);[\s\S]*\1\[i\$\d+\] \* \3/);
    // Nested in a sum: the tape has a row per k (its offset k·n), the scale is stored per k.
    const mix = functionText(code, 'mixGrad');
    expect(mix.match(/Math\.exp\(/g)).toHaveLength(1);
    expect(mix).toMatch(/\$saved\d+\[\$t\d+ \+ i\] = \$t\d+\$exp;/);
    // A costly term (an exp in the body) is not computed twice: one pass (its exp stored as a costly value).
    const wide = functionText(code, 'wideGrad');
    expect(wide).not.toContain('two passes');
    expect(wide).toMatch(/\$sum \+ 1\) \* Math\.exp/);
  });

  it('keeps no tape where the gradient is differentiated again (fHvp) or for the wasm target', async () => {
    const both = compileSync(lseSource, { filename: 'lse.ad', derivatives: ['grad', 'hvp'] });
    // fGrad keeps its tape; fHvp (forward mode over a reverse sweep without tapes) takes exps in both sweeps.
    expect(functionText(both.code!, 'lseGrad')).toMatch(/\$saved\d+\[i\] = /);
    expect(functionText(both.code!, 'lseHvp')).not.toContain('$saved');
    const wasm = compileSync(lseSource, { filename: 'lse.ad', target: 'wasm' });
    expect(functionText(wasm.code!, 'lseGrad')).not.toContain('$saved');
    // fHvp still agrees with central differences of fGrad.
    const m = (await importCode(both.code!)) as unknown as Module;
    const x = Float64Array.from([0.3, -1.2, 0.8, 2.1, -0.4]);
    const v = Float64Array.from([0.5, 1, -0.25, 0.75, 2]);
    const hvp = (m.lseHvp!({ x: v }, x) as { hvp: { x: Float64Array } }).hvp.x;
    const h = 1e-6;
    const at = (s: number) => (m.lseGrad!(x.map((xi, i) => xi + s * v[i]!)) as GradResult).gradient.x as Float64Array;
    const up = at(h);
    const down = at(-h);
    hvp.forEach((e, i) => expect(Math.abs(e - (up[i]! - down[i]!) / (2 * h)), `hvp[${i}]`).toBeLessThan(1e-8));
  });

  it('gives every derivative export the value’s bits, however long the body (its copies take the same form)', () => {
    const source = 'fn long(x: vec[n], w: vec[n]) = logsumexp(i: (x[i] * w[i] + x[i] - w[i]) * (x[i] + 2 * w[i]) - abs(x[i] - 0.5) / (1 + w[i] * w[i]) + max(x[i], w[i]))\n';
    const r = compileSync(source, { filename: 'long.ad', derivatives: ['grad', 'jvp', 'vjp', 'hvp'] });
    for (const name of ['long', 'longGrad', 'longJvp', 'longVjp', 'longHvp']) expect(functionText(r.code!, name), name).toContain('logsumexp in two passes');
    return importCode(r.code!).then((loaded) => {
      const m = loaded as unknown as Module;
      const x = Float64Array.from([0.3, -1.2, 0.8, 2.1, -0.4, 0.05]);
      const w = Float64Array.from([1.1, 0.2, -0.9, 0.5, 1.7, -0.3]);
      const value = m.long!(x, w) as number;
      expect((m.longGrad!(x, w) as GradResult).value).toBe(value);
      expect((m.longJvp!({ x, w }, x, w) as { value: number }).value).toBe(value);
      expect((m.longVjp!(1, x, w) as { value: number }).value).toBe(value);
      expect((m.longHvp!({ x, w }, x, w) as { value: number }).value).toBe(value);
    });
  });

  it('gives the value and softmax gradient of plain JavaScript, and fGrad’s value is f’s to the bit', async () => {
    const { m } = await load(lseSource);
    const cases: number[][] = [[0.7], [1, 2, 3], [3, 1, 3, 2.5], [-800, -801, -799.5], [1000, 1000], [5, -30, 0.1, 4.9, 5]];
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 20 - 10;
    cases.push(Array.from({ length: 1000 }, random));
    for (const x of cases) {
      const ref = softmax(x);
      const r = m.lseGrad!(x) as GradResult;
      expect(r.value).toBe(m.lse!(x));
      expect(Math.abs(r.value - ref.value), `value at ${x.length}`).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(ref.value)));
      expectClose(r.gradient, { x: Float64Array.from(ref.gradient) }, 1e-15);
    }
    // One term: its gradient is exactly 1; two equal terms: exactly one half each.
    expectClose((m.lseGrad!([0.7]) as GradResult).gradient, { x: Float64Array.from([1]) }, 0);
    expectClose((m.lseGrad!([1000, 1000]) as GradResult).gradient, { x: Float64Array.from([0.5, 0.5]) }, 0);
  });

  it('keeps the reverse sweep’s results at empty ranges, ±Infinity and NaN (exp(term - result) as before)', async () => {
    const { m } = await load(lseSource);
    const cases: number[][] = [[], [-Infinity], [-Infinity, -Infinity], [Infinity, 1], [1, Infinity, Infinity], [-Infinity, 2, 1], [NaN, 1], [1, NaN]];
    for (const x of cases) {
      const r = m.lseGrad!(x) as GradResult;
      expect(Object.is(r.value, m.lse!(x)), `value at [${x}]`).toBe(true);
      const g = Array.from(r.gradient.x as Float64Array);
      // The formula the reverse sweep used before the tape, term by term.
      const before = x.map((v) => Math.exp(v - r.value));
      g.forEach((e, i) => {
        if (Number.isNaN(before[i]!)) expect(e, `[${x}] at ${i}`).toBeNaN();
        else expect(Math.abs(e - before[i]!), `[${x}] at ${i}`).toBeLessThanOrEqual(1e-15);
      });
    }
    expect((m.lseGrad!([]) as GradResult).value).toBe(-Infinity);
    expect(m.lse!([Infinity, 1])).toBe(Infinity);
    expect(m.lse!([NaN, 1])).toBeNaN();
  });

  it('matches central differences when nested in a sum, and the wasm target’s gradient', async () => {
    const { m } = await load(lseSource);
    const A = [Float64Array.from([0.3, -1.2, 0.8]), Float64Array.from([2.1, -0.4, 0.5]), Float64Array.from([-0.9, 1.7, 0.2])];
    const b = Float64Array.from([0.4, -0.6, 1.1]);
    const r = m.mixGrad!(A, b) as GradResult;
    expect(r.value).toBe(m.mix!(A, b));
    const h = 1e-6;
    const f = () => m.mix!(A, b) as number;
    const diff = (arr: Float64Array, i: number) => {
      const v = arr[i]!;
      arr[i] = v + h;
      const up = f();
      arr[i] = v - h;
      const down = f();
      arr[i] = v;
      return (up - down) / (2 * h);
    };
    const gA = r.gradient.A as Float64Array[];
    A.forEach((row, k) => row.forEach((_, i) => expect(Math.abs(gA[k]![i]! - diff(row, i)), `A[${k}, ${i}]`).toBeLessThan(1e-8)));
    b.forEach((_, k) => expect(Math.abs((r.gradient.b as Float64Array)[k]! - diff(b, k)), `b[${k}]`).toBeLessThan(1e-8));
    const wasm = compileSync(lseSource, { filename: 'lse.ad', target: 'wasm' });
    const w = (await importCode(wasm.code!)) as unknown as Module;
    const rw = w.mixGrad!(A, b) as GradResult;
    expect(Math.abs(rw.value - r.value)).toBeLessThanOrEqual(1e-14 * Math.abs(r.value));
    expectClose(rw.gradient, r.gradient, 1e-14);
  });
});

// ---- element-wise differences buffered (src/ir/buffer-elements.ts) ----------------------------

const triSource = `
fn tq(L: mat[n, n], x: vec[n], mu: vec[n]) = sum(j: ((x[j] - mu[j]) + sum(c in 0..j: L[j, c] * (x[c] - mu[c])))^2)
fn inner(L: mat[n, n], x: vec[n], mu: vec[n]) = sum(j: sum(c in 0..j: L[j, c] * (x[c] - mu[c]))^2)
`;

/** tq by hand, in the same order of operations: its value and its gradient (r_j = d_j + Σ_{c<j} L[j, c]·d_c, d = x - mu). */
function tqReference(L: Float64Array[], x: Float64Array, mu: Float64Array) {
  const n = x.length;
  const d = x.map((v, i) => v - mu[i]!);
  const r = new Float64Array(n);
  let value = 0;
  for (let j = 0; j < n; j++) {
    // The inner sum in the JavaScript target's order for long sums (four partial sums); the outer
    // one, whose body holds a loop, in index order.
    const s = partialSumsOrder(Array.from({ length: j }, (_, c) => L[j]![c]! * (x[c]! - mu[c]!)));
    r[j] = x[j]! - mu[j]! + s;
    value += r[j]! * r[j]!;
  }
  const dL = L.map((row, j) => row.map((_, c) => (c < j ? 2 * r[j]! * d[c]! : 0)));
  const dx = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    dx[c] = 2 * r[c]!;
    for (let j = c + 1; j < n; j++) dx[c] += 2 * r[j]! * L[j]![c]!;
  }
  return { value, gradient: { L: dL, x: dx, mu: dx.map((v) => -v) } };
}

describe('element-wise differences read by a loop and its triangular inner loop are computed once per element', () => {
  it('fills a buffer before the loop, in the value and in both sweeps of the gradient, and the inner loops read it', async () => {
    const { code } = await load(triSource);
    for (const name of ['tq', 'tqGrad']) {
      const text = functionText(code, name);
      const fills = text.match(/\/\/ Each element once, read by the loop below at every index and by its inner loop\./g) ?? [];
      expect(fills.length, text).toBe(name === 'tq' ? 1 : 2);
      // No difference of x and mu is computed inside a loop over c any more.
      expect(text, text).not.toMatch(/x\[c[$\d]*\] - mu\[c[$\d]*\]/);
    }
    // Without the use at every j in the outer loop, the inner loop's reads are left alone.
    expect(functionText(code, 'inner')).not.toContain('Each element once');
    expect(functionText(code, 'inner')).toMatch(/x\[c[$\d]*\] - mu\[c[$\d]*\]/);
  });

  it('gives the value of plain JavaScript to the bit and its gradient, and the wasm target agrees', async () => {
    const { m } = await load(triSource);
    const wasm = compileSync(triSource, { filename: 'tri.ad', target: 'wasm' });
    const w = (await importCode(wasm.code!)) as unknown as Module;
    let seed = 5;
    const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (const n of [1, 2, 5, 9]) {
      const L = Array.from({ length: n }, () => Float64Array.from({ length: n }, next));
      const x = Float64Array.from({ length: n }, next);
      const mu = Float64Array.from({ length: n }, next);
      const want = tqReference(L, x, mu);
      expect(m.tq!(L, x, mu)).toBe(want.value);
      const r = m.tqGrad!(L, x, mu) as GradResult;
      expect(r.value).toBe(want.value);
      expectClose(r.gradient, want.gradient, 1e-13);
      const rw = w.tqGrad!(L, x, mu) as GradResult;
      expect(Math.abs(rw.value - r.value)).toBeLessThanOrEqual(1e-14 * Math.abs(r.value));
      expectClose(rw.gradient, r.gradient, 1e-14);
    }
  });
});
