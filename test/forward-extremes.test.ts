import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics } from '../src/index.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Forward mode uses the same partials as reverse mode where rounding or range makes the textbook
 * formula wrong (1 − tanh² rounds to 0 past |x| ≈ 19, x² + y² overflows past 1e154, …): fJvp
 * along each input equals fGrad's entry, bit for bit (up to the sign of a zero), at points the extreme-magnitude search
 * (test/extremes.test.ts) checks reverse mode at against a 60-digit reference. Found by the explain
 * fuzz search: fJvp gave 1 where fGrad gave 2.5e39 for a program through tanh.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules
type Module = Record<string, (...args: any[]) => any>;

const cases: [string, string[], number[][]][] = [
  ['tanh(x)', ['x'], [[30], [-25], [400], [0.5]]],
  ['expm1(x)', ['x'], [[-50], [-800], [1e-300], [2]]],
  ['sqrt(x)', ['x'], [[-0], [0], [5e-324], [4]]],
  ['atan2(y, x)', ['y', 'x'], [[1e200, 1e200], [1e-200, 1e-200], [-3e-170, 4e-170], [1, 2]]],
  ['hypot(x, y)', ['x', 'y'], [[1e308, 1e308], [5e-324, 5e-324], [3e-310, 4e-310], [3, 4]]],
  ['x ^ y', ['x', 'y'], [[1e200, 1.2], [1e-300, 2], [1e-200, 1.5], [0, 2], [2, 0.5]]],
  ['cbrt(x)', ['x'], [[0], [-8], [1e-310]]],
];

describe('forward mode at extreme magnitudes agrees with reverse mode', () => {
  for (const [body, params, points] of cases) {
    it(body, () => {
      const source = `fn f(${params.join(', ')}) {\n  return ${body}\n}\n`;
      const r = compileSync(source, { derivatives: ['grad', 'jvp'] });
      if (r.code === undefined) throw new Error(formatDiagnostics(r.diagnostics, source, 'input.ad'));
      const m = instantiate(r.code) as unknown as Module;
      for (const at of points) {
        const { gradient } = m.fGrad(...at);
        for (const p of params) {
          const { tangent } = m.fJvp({ [p]: 1 }, ...at);
          // == rather than Object.is: fJvp adds the other inputs' zero tangents (+0 + −0 is +0).
          const same = tangent === gradient[p] || (Number.isNaN(tangent) && Number.isNaN(gradient[p]));
          expect(same, `∂f/∂${p} at (${at}) for ${body}: fJvp ${tangent}, fGrad ${gradient[p]}`).toBe(true);
        }
      }
    });
  }
});

/**
 * Where a partial is infinite but the value finite (sqrt and cbrt at 0, asin and acos at ±1), a
 * direction that does not move that argument gives tangent 0, not 0·∞ = NaN: fJvp along e_k is
 * then fGrad's entry k (the nested-jvp property test found the norm of an empty vector, a
 * constant, with tangent NaN in fJvp and 0 in the in-language jvp, seed 291862380).
 */
describe('a zero tangent through an infinite partial is 0', () => {
  const cases: [string, number[]][] = [
    ['sqrt(x) + 3 * y', [0, 2]],
    ['cbrt(x) + 3 * y', [0, 2]],
    ['asin(x) + 3 * y', [1, 2]],
    ['acos(x) + 3 * y', [-1, 2]],
  ];
  for (const [body, at] of cases) {
    it(body, () => {
      const source = `fn f(x, y) = ${body}\n`;
      const m = instantiate(compileSync(source, { derivatives: ['grad', 'jvp'] }).code!) as unknown as Module;
      expect(m.fJvp({ y: 1 }, ...at).tangent).toBe(3);
      expect(m.fGrad(...at).gradient.y).toBe(3);
      // Along x the derivative stays infinite (or NaN past asin's domain edge): no guard there.
      expect(Number.isFinite(m.fJvp({ x: 1 }, ...at).tangent)).toBe(false);
    });
  }

  it('the norm of an empty vector has tangent 0 along any direction', () => {
    const source = 'fn f(x: vec[n], s) = norm(x) + s\n';
    const m = instantiate(compileSync(source, { derivatives: ['grad', 'jvp'] }).code!) as unknown as Module;
    expect(m.fJvp({ s: 1 }, new Float64Array(0), 2).tangent).toBe(1);
    expect(m.fJvp({ x: new Float64Array(0) }, new Float64Array(0), 2).tangent).toBe(0);
  });
});

/**
 * sign, floor and ceil have no tangent, as they have no adjoint: their results are constants to
 * forward mode too, never a tangent of 0 times the other factor, which an infinite factor made
 * NaN where fGrad's entry is ±∞ (found by hand: the third derivative of sqrt(abs(x)) at 1e-300
 * was NaN by fJvp of the nested gradient and +∞ by its fGrad).
 */
describe('sign, floor and ceil carry no tangent', () => {
  const cases: [string, number[], number][] = [
    ['floor(x + 1.5) * exp(x)', [1000], Infinity],
    ['ceil(x) * exp(-x) * 0 + sign(x) * exp(x)', [800], Infinity],
    ['(ceil(x) + 1) * exp(x) - x', [710], Infinity],
  ];
  for (const [body, at, want] of cases) {
    it(body, () => {
      const source = `fn f(x) = ${body}\n`;
      const r = compileSync(source, { derivatives: ['grad', 'jvp'] });
      const m = instantiate(r.code!) as unknown as Module;
      expect(m.fGrad(...at).gradient.x).toBe(want);
      expect(m.fJvp({ x: 1 }, ...at).tangent).toBe(want);
      // No `0 * …` term for the constant's tangent in the generated forward mode.
      expect(r.code!.slice(r.code!.indexOf('function fJvp'))).not.toMatch(/\b0 \*/);
    });
  }

  it('the third derivative of sqrt(abs(x)) at 1e-300, a nested gradient: fJvp equals fGrad', () => {
    const source = 'fn f(x) = sqrt(abs(x))\nfn g(x) = grad(f)(x)\nfn h(x) = grad(g)(x)\n';
    const m = instantiate(compileSync(source, { derivatives: ['grad', 'jvp'] }).code!) as unknown as Module;
    for (const x of [1e-300, 1e-100, 0.25]) {
      const want = (3 / 8) * x ** -2.5;
      const g = m.hGrad(x).gradient.x;
      expect(m.hJvp({ x: 1 }, x).tangent).toBe(g);
      if (Number.isFinite(want)) expect(Math.abs(g - want) / want).toBeLessThan(1e-14);
      else expect(g).toBe(Infinity);
    }
  });
});
