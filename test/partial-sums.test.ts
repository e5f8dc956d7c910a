/**
 * Long sums in four partial sums (src/emit/js/partial-sums.ts): the order of the additions, which
 * changes the last bits, is the one written in the generated comment and in README ("Arrays"):
 * iterations from + 4q … from + 4q + 3 into parts 0..3, then two more into parts 0 and 1 when two
 * or three are left, (p0 + p2) + (p1 + p3), then the last iteration. Checked against that order
 * written out here, at every trip count through 13, on values where any other order gives other
 * bits; against the wasm target (which sums its vectorised loops in the same order) bit for bit;
 * and through every export of one function, which must all return the value's bits.
 */
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { compileAndInstantiate, instantiate } from './support/instantiate.ts';
import { partialSumsOrder } from './support/partial-sums.ts';

type Fn = (...args: any[]) => any;

function indexOrder(terms: readonly number[]): number {
  let s = 0;
  for (const t of terms) s += t;
  return s;
}

/** Terms whose sum depends on the order of the additions (large ones cancelling, small ones lost). */
function awkwardTerms(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1e16 * (i % 2 ? -1 : 1) : 1 + i / 7) * (1 + Math.sin(i) * 1e-3));
}

const dotSource = 'fn f(x: vec[n], y: vec[n]) = sum(i: x[i] * y[i])\n';

describe('long sums in four partial sums', () => {
  it('sums in the documented order at trip counts 0 through 13, and 64, 1001', () => {
    const m = compileAndInstantiate(dotSource) as Record<string, Fn>;
    let differs = 0;
    for (const n of [...Array(14).keys(), 64, 1001]) {
      const x = awkwardTerms(n);
      const y = x.map(() => 1);
      const got = m.f(x, y);
      expect(Object.is(got, partialSumsOrder(x)), `n = ${n}: ${got}, documented order ${partialSumsOrder(x)}`).toBe(true);
      if (!Object.is(got, indexOrder(x))) differs++;
    }
    // The test can tell the orders apart.
    expect(differs).toBeGreaterThan(5);
    // The classic case: index order loses both 1s, the partial sums keep them (exactly 2).
    expect(indexOrder([1e16, 1, -1e16, 1])).toBe(1);
    expect(m.f([1e16, 1, -1e16, 1], [1, 1, 1, 1])).toBe(2);
  });

  it('NaN, ±Infinity and −0 terms as IEEE addition gives them, in any order', () => {
    const m = compileAndInstantiate(dotSource) as Record<string, Fn>;
    const ones = (n: number) => Array(n).fill(1);
    for (const n of [1, 2, 3, 4, 5, 7, 9]) {
      for (let at = 0; at < n; at++) {
        const x = Array.from({ length: n }, (_, i) => i + 0.5);
        x[at] = NaN;
        expect(m.f(x, ones(n))).toBeNaN();
        x[at] = Infinity;
        expect(m.f(x, ones(n))).toBe(Infinity);
        x[at] = -Infinity;
        expect(m.f(x, ones(n))).toBe(-Infinity);
        // +∞ and −∞ in different partial sums (or the same): NaN, as in index order.
        const other = (at + 1) % n;
        if (other !== at) {
          x[other] = Infinity;
          expect(m.f(x, ones(n))).toBeNaN();
        }
      }
      // Every term −0: the sum is +0 (0 + −0), as index order from 0 gives.
      expect(Object.is(m.f(Array(n).fill(-0), ones(n)), 0)).toBe(true);
      expect(Object.is(m.f(Array(n).fill(-1), Array(n).fill(0)), 0)).toBe(true);
    }
    expect(Object.is(m.f([], []), 0)).toBe(true);
  });

  it('gives the wasm target’s bits (it sums vectorised loops in this order)', () => {
    const js = compileAndInstantiate(dotSource) as Record<string, Fn>;
    const wasm = compileAndInstantiate(dotSource, { target: 'wasm' }) as Record<string, Fn>;
    expect(wasm.f.name).toBe('f$wasm');
    for (const n of [...Array(14).keys(), 1001, 100_000]) {
      const x = awkwardTerms(n);
      const y = x.map((_, i) => Math.exp(Math.cos(i)));
      const a = js.f(x, y);
      const b = wasm.f(x, y);
      expect(Object.is(a, b), `n = ${n}: JS ${a}, wasm ${b}`).toBe(true);
      expect(Object.is(js.fGrad(x, y).value, wasm.fGrad(x, y).value)).toBe(true);
    }
  });

  it('every export of a function returns the value’s bits (the decision is the same for each copy of a loop)', () => {
    // A longer cheap body, a nested sum (stored by the forward sweep, recomputed nowhere else) and
    // a sum under a branch: fJvp's and fHvp's copies add the tangents' arithmetic to each body.
    const source = [
      'fn f(x: vec[n], y: vec[n], s) {',
      '  let u[i] = (x[i] - s * y[i]) * (x[i] + 2 * y[i]) / (1 + abs(y[i]))',
      '  let inner = sum(k: sum(j: x[j] * u[k] - y[j] * s))',
      '  return sum(i: u[i] * u[i]) + inner + (if s > 0 then sum(i: sqrt(1 + x[i] * x[i])) else 0)',
      '}',
    ].join('\n');
    const r = compileSync(source, { derivatives: ['grad', 'jvp', 'vjp', 'hvp', 'hessian'] });
    expect(r.code).toBeDefined();
    expect(r.code).toContain('$part3');
    const m = instantiate(r.code!) as Record<string, Fn>;
    for (const n of [0, 1, 2, 3, 5, 8, 13, 40]) {
      const x = awkwardTerms(n).map((v) => v * 1e-8);
      const y = x.map((_, i) => Math.cos(i * 1.7));
      for (const s of [0.75, -0.5]) {
        const value = m.f(x, y, s);
        const tangent = { x: x.map((_, i) => Math.sin(i)), y: y.map(() => 0.5), s: 1 };
        const out = { x: new Float64Array(n), y: new Float64Array(n), s: 0 };
        const grad = m.fGrad(x, y, s);
        const values = { fGrad: grad.value, fGradInto: m.fGradInto(out, x, y, s), fJvp: m.fJvp(tangent, x, y, s).value, fVjp: m.fVjp(1, x, y, s).value, fHvp: m.fHvp(tangent, x, y, s).value };
        for (const [name, v] of Object.entries(values)) expect(Object.is(v, value), `n = ${n}, s = ${s}: ${name} ${v}, f ${value}`).toBe(true);
        expect(Array.from(out.x)).toEqual(Array.from(grad.gradient.x));
        expect(out.s).toBe(grad.gradient.s);
      }
    }
  });

  it('leaves in index order the sums it does not pay for: a costly body, a short fixed range', () => {
    const costly = compileSync('fn f(x: vec[n]) = sum(i: exp(x[i]))\n').code!;
    expect(costly).not.toContain('$part');
    const m = instantiate(costly) as Record<string, Fn>;
    const x = awkwardTerms(9).map((v) => Math.log(Math.abs(v)));
    expect(Object.is(m.f(x), indexOrder(x.map(Math.exp)))).toBe(true);
    expect(compileSync('fn f(x: vec[7]) = sum(i: x[i] * x[i])\n').code).not.toContain('$part');
    expect(compileSync('fn f(x: vec[8]) = sum(i: x[i] * x[i])\n').code).toContain('$part');
    // A sum with an inner loop or a branch in its body stays one loop.
    const nested = compileSync('fn f(A: mat[n, n]) = sum(i: sum(j: A[i, j]) * (if A[i, i] > 0 then 1 else 2))\n').code!;
    const f = nested.slice(nested.indexOf('function f('), nested.indexOf('function fGrad('));
    expect(f.match(/\$part0 = 0/g)).toHaveLength(1); // the inner sum
    expect(f).toContain('for (let i = 0; i < n; i++) {');
  });

  it('prints one block per iteration, binding the index, with the choice said in a comment', () => {
    const code = compileSync(dotSource).code!;
    const f = code.slice(code.indexOf('function f('), code.indexOf('function fGrad('));
    expect(f).toContain('// Summed in four partial sums');
    expect(f).toContain('for (; i$lanes + 3 < n; i$lanes += 4) {');
    expect(f).toContain('const i = i$lanes + 3;');
    expect(f).toContain('let $t4 = $t4$part0 + $t4$part2 + ($t4$part1 + $t4$part3);');
  });
});
