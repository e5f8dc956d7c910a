import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import * as D from './oracle/dual.ts';
import { instantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';

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
