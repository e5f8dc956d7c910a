import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import * as D from './oracle/dual.ts';
import { instantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';
import { partialSumsOrderWith } from './support/partial-sums.ts';

/**
 * A function too large for V8 to optimise is emitted as chunk functions sharing a scratch array.
 * The chunked code must compute exactly what the statements say: checked against dual numbers on
 * a long chain whose values, conditions and adjoints cross chunk boundaries.
 */
const n = 1500;
function source(): string {
  const lines = ['fn chain(x, y, const c) {', '  let v0 = x * y', '  let big = x > 0'];
  for (let i = 1; i < n; i++) {
    const p = `v${i - 1}`;
    const step = [`sin(${p}) + x`, `${p} * 0.5 + y * c`, `if big then tanh(${p}) * x else ${p}`, `${p} - y * 0.25`][i % 4];
    lines.push(`  let v${i} = ${step}`);
  }
  lines.push(`  return v${n - 1} + v0 * v${n >> 1}`, '}');
  return lines.join('\n');
}

function oracle(x: number, y: number, c: number): D.Dual {
  const X = D.variable(x, 0, 2);
  const Y = D.variable(y, 1, 2);
  const C = D.constant(c);
  const v: D.Dual[] = [D.mul(X, Y)];
  for (let i = 1; i < n; i++) {
    const p = v[i - 1];
    const step = [
      () => D.add(D.builtins.sin(p), X),
      () => D.add(D.mul(p, D.constant(0.5)), D.mul(Y, C)),
      () => (x > 0 ? D.mul(D.builtins.tanh(p), X) : p),
      () => D.sub(p, D.mul(Y, D.constant(0.25))),
    ][i % 4];
    v.push(step());
  }
  return D.add(v[n - 1], D.mul(v[0], v[n >> 1]));
}

describe('splitting large functions', () => {
  const result = compileSync(source());
  const m = instantiate(result.code!);

  it('splits the gradient into chunk functions with a scratch array', () => {
    expect(result.code).toContain('const chainGrad$scratch = new Float64Array(');
    expect(result.code).toMatch(/function chainGrad\$3\(x, y, c\)/);
  });

  it.each([
    [0.7, 0.3, 2],
    [-0.4, 1.1, 0.5],
  ])('computes the value and gradient exactly at (%d, %d, %d)', (x, y, c) => {
    const want = oracle(x, y, c);
    const r = m.chainGrad(x, y, c) as Gradient;
    expect(m.chain(x, y, c)).toBe(want.v);
    expect(r.value).toBe(want.v);
    const g = want.gradient(2);
    expect(D.approxEqual(r.gradient.x, g[0], 1e-12)).toBe(true);
    expect(D.approxEqual(r.gradient.y, g[1], 1e-12)).toBe(true);
  });
});

/**
 * A function with loops splits between its top-level statements: a 400-statement chain of array
 * lets (each an element-wise function of the one before) ran 7× slower per element than a
 * 100-statement one when V8 would not optimise its gradient. Arrays, sizes and reductions' results
 * cross the chunks; the results must be those of the statements, exactly.
 */
describe('splitting large functions with loops', () => {
  const steps = 400;
  const lines = ['fn chain(x: vec[m], w) {', '  let a0[i] = x[i] * w'];
  const step = (k: number, p: string) => [`sin(${p}) + w`, `${p} * 0.5 + x[i]`, `cos(${p} * w)`, `${p} - 0.25 * x[i]`][k % 4];
  for (let k = 1; k < steps; k++) lines.push(`  let a${k}[i] = ${step(k, `a${k - 1}[i]`)}`);
  lines.push(`  return sum(i: a${steps - 1}[i]) + w * a${steps >> 1}[0]`, '}');
  const result = compileSync(lines.join('\n'));
  const m = instantiate(result.code!) as unknown as Record<string, (...args: unknown[]) => unknown>;

  /** The same statements over dual numbers: x's entries are variables 0..n-1, w variable n. */
  function oracle(x: readonly number[], w: number): D.Dual {
    const n = x.length;
    const X = x.map((v, i) => D.variable(v, i, n + 1));
    const W = D.variable(w, n, n + 1);
    let a = X.map((xi) => D.mul(xi, W));
    const keep: D.Dual[][] = [a];
    for (let k = 1; k < steps; k++) {
      a = a.map((p, i) =>
        [
          () => D.add(D.builtins.sin(p), W),
          () => D.add(D.mul(p, D.constant(0.5)), X[i]),
          () => D.builtins.cos(D.mul(p, W)),
          () => D.sub(p, D.mul(D.constant(0.25), X[i])),
        ][k % 4](),
      );
      keep.push(a);
    }
    return D.add(
      // The sum's body reads one element at the index: four partial sums (src/emit/js/partial-sums.ts).
      partialSumsOrderWith(a, D.add, D.constant(0)),
      D.mul(W, keep[steps >> 1][0]),
    );
  }

  it('splits the gradient and its Into twin into chunk functions that pass arrays and sizes', () => {
    expect(result.code).toContain('const chainGrad$scratch = new Array(');
    expect(result.code).toMatch(/function chainGrad\$2\(x, w, m\)/);
    expect(result.code).toMatch(/function chainGradInto\$2\(\$out, x, w, m\)/);
  });

  it.each([
    [[0.7, -0.3, 1.2, 0.05, -2], 0.8],
    [[1.5], -0.4],
  ])('computes the value and gradient of the statements at x = %j, w = %d', (x, w) => {
    const want = oracle(x, w);
    const r = m.chainGrad(x, w) as { value: number; gradient: { x: Float64Array; w: number } };
    expect(m.chain(x, w)).toBe(want.v);
    expect(r.value).toBe(want.v);
    const g = want.gradient(x.length + 1);
    x.forEach((_, i) => expect(D.approxEqual(r.gradient.x[i], g[i], 1e-12), `x[${i}]: ${r.gradient.x[i]} vs ${g[i]}`).toBe(true));
    expect(D.approxEqual(r.gradient.w, g[x.length], 1e-12)).toBe(true);
    // fGradInto: the same gradient, written into the caller's arrays, with the value returned.
    const out = { x: new Float64Array(x.length), w: 0 };
    expect(m.chainGradInto(out, x, w)).toBe(r.value);
    expect(Array.from(out.x)).toEqual(Array.from(r.gradient.x));
    expect(out.w).toBe(r.gradient.w);
  });

  it('still checks its arguments in the main function', () => {
    expect(() => m.chainGrad('no', 1)).toThrow(TypeError);
  });
});
