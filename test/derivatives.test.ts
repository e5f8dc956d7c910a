import { describe, expect, it } from 'vitest';
import * as D from './oracle/dual.ts';
import { compileAndInstantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';

/**
 * Every built-in and operator, differentiated by the compiler, against two independent oracles:
 * forward-mode dual numbers (test/oracle/dual.ts, exact to rounding, conventions at kinks
 * included) and central finite differences (at smooth points only).
 */
const unary: Record<string, number[]> = {
  sin: [-2, 0, 0.5, 3],
  cos: [-2, 0, 0.5, 3],
  tan: [-1.2, 0, 0.5, 1],
  asin: [-0.9, 0, 0.5],
  acos: [-0.9, 0, 0.5],
  atan: [-3, 0, 2],
  sinh: [-2, 0, 1.5],
  cosh: [-2, 0, 1.5],
  tanh: [-2, 0, 1.5],
  exp: [-2, 0, 1.5],
  log: [0.1, 1, 7],
  ln: [0.1, 1, 7],
  log1p: [-0.5, 0, 3],
  expm1: [-2, 0, 1.5],
  log2: [0.1, 1, 7],
  log10: [0.1, 1, 7],
  sqrt: [0.01, 1, 9],
  cbrt: [-8, -0.5, 2, 27],
  abs: [-2, 3],
  sign: [-2, 3],
  floor: [-1.5, 2.3],
  ceil: [-1.5, 2.3],
};

const binary: Record<string, [number, number][]> = {
  atan2: [
    [1, 2],
    [-1, -2],
    [0.5, -3],
  ],
  pow: [
    [2, 3],
    [0.5, -1.5],
    [3, 0.5],
  ],
  hypot: [
    [3, 4],
    [-1, 2],
  ],
  min: [
    [1, 2],
    [3, -1],
  ],
  max: [
    [1, 2],
    [3, -1],
  ],
};

const operators: Record<string, [number, number][]> = {
  '+': [[1.5, -2]],
  '-': [[1.5, -2]],
  '*': [[1.5, -2]],
  '/': [
    [1.5, -2],
    [-3, 0.25],
  ],
  '^': [
    [2, 3],
    [1.5, -0.5],
  ],
};

function central(f: (...a: number[]) => number, args: number[], i: number): number {
  const h = 1e-6 * Math.max(1, Math.abs(args[i]));
  const up = [...args];
  const down = [...args];
  up[i] += h;
  down[i] -= h;
  return (f(...up) - f(...down)) / (2 * h);
}

function dualGradient(f: (...a: D.Dual[]) => D.Dual, args: number[]): number[] {
  return f(...args.map((v, i) => D.variable(v, i, args.length))).gradient(args.length);
}

function check(source: string, oracle: (...a: D.Dual[]) => D.Dual, points: number[][], smooth = true) {
  const m = compileAndInstantiate(source);
  for (const args of points) {
    const r = m.tGrad(...args) as Gradient;
    const names = Object.keys(r.gradient);
    const want = dualGradient(oracle, args);
    expect(r.value).toBe(m.t(...args));
    names.forEach((name, i) => {
      expect(D.approxEqual(r.gradient[name], want[i], 1e-13), `${source.trim()} at (${args}): ∂/∂${name} = ${r.gradient[name]}, dual ${want[i]}`).toBe(true);
      if (smooth) expect(r.gradient[name]).toBeCloseTo(central(m.t as (...a: number[]) => number, args, i), 5);
    });
  }
}

describe('built-ins of one argument', () => {
  it.each(Object.entries(unary))('%s', (name, points) => {
    check(`fn t(x) = ${name}(x)\n`, D.builtins[name], points.map((p) => [p]));
  });
});

describe('built-ins of two arguments', () => {
  it.each(Object.entries(binary))('%s', (name, points) => {
    check(`fn t(x, y) = ${name}(x, y)\n`, D.builtins[name], points);
  });
});

describe('operators', () => {
  const duals: Record<string, (a: D.Dual, b: D.Dual) => D.Dual> = { '+': D.add, '-': D.sub, '*': D.mul, '/': D.div, '^': D.pow };
  it.each(Object.entries(operators))('%s', (op, points) => {
    check(`fn t(x, y) = x ${op} y\n`, duals[op], points);
  });
  it('unary minus and plus', () => {
    check('fn t(x) = -x + +x * 2\n', (x) => D.add(D.neg(x), D.mul(x, D.constant(2))), [[1.5], [-2]]);
  });
});

describe('derivative conventions at kinks and edges', () => {
  const grad = (source: string, ...args: number[]) => (compileAndInstantiate(source).tGrad(...args) as Gradient).gradient;

  it("abs'(0) = 0; sign, floor, ceil have derivative 0", () => {
    expect(grad('fn t(x) = abs(x)', 0).x).toBe(0);
    expect(grad('fn t(x) = sign(x) + floor(x) + ceil(x)', 2).x).toBe(0);
    expect(grad('fn t(x) = floor(x)', 2).x).toBe(0);
  });

  it('min and max send the adjoint to the selected argument, ties to the first', () => {
    expect(grad('fn t(x, y) = min(x, y)', 1, 1)).toEqual({ x: 1, y: 0 });
    expect(grad('fn t(x, y) = max(x, y)', 1, 1)).toEqual({ x: 1, y: 0 });
    expect(grad('fn t(x, y) = min(x, y)', 2, 1)).toEqual({ x: 0, y: 1 });
    expect(grad('fn t(x, y) = max(x, y)', 2, 1)).toEqual({ x: 1, y: 0 });
  });

  it("sqrt'(0) = +Infinity", () => {
    expect(grad('fn t(x) = sqrt(x)', 0).x).toBe(Infinity);
  });

  it('x^c with a constant exponent works for negative bases; x^y with variable y is NaN there', () => {
    expect(grad('fn t(x) = x^3', -2).x).toBe(12);
    expect(grad('fn t(x) = x^2', -3).x).toBe(-6);
    expect(grad('fn t(x, const c) = x^c', -2, 3).x).toBe(12);
    const g = grad('fn t(x, y) = x^y', -2, 3);
    expect(g.x).toBe(12);
    expect(g.y).toBeNaN(); // (-2)^3 · ln(-2)
  });

  it('conditionals send the adjoint only through the branch taken', () => {
    // The other branch is NaN at this point (log of a negative number) and must not leak.
    const source = 'fn t(x) = if x < 0 then x * x else log(x)';
    expect(grad(source, -3).x).toBe(-6);
    expect(grad(source, 2).x).toBe(0.5);
  });

  it('NaN and infinities propagate as in IEEE arithmetic; overflow gives Infinity', () => {
    const m = compileAndInstantiate('fn t(x) = exp(x) * 2');
    expect(m.t(1000)).toBe(Infinity);
    expect((m.tGrad(1000) as Gradient).gradient.x).toBe(Infinity);
    expect(m.t(NaN)).toBeNaN();
    expect((m.tGrad(NaN) as Gradient).gradient.x).toBeNaN();
  });
});
