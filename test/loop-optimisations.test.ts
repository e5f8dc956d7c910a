/**
 * Optimisations of the generated loops (issue 16): the shape of the code they produce, and results
 * unchanged against independent references (the forward-mode oracle of test/oracle/arrays.ts,
 * central finite differences, plain JavaScript with Math.pow).
 *
 * - Running powers (src/ir/reduce-strength.ts): `t^j` with j a loop's index becomes a product kept
 *   across iterations, in the forward sweep and in the reverse sweep (turned to count up).
 */
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { polyData, polyForward, type GradValue } from './oracle/arrays.ts';
import { importCode } from './support/load.ts';

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
