/**
 * What the emitted module itself must get right, whatever the source (issue #12): the helpers it
 * calls are there, the gradient reaches every out object, an fGradInto never destroys its input,
 * sqrt's derivative at 0 does not depend on the sign of the zero, and `checkArgs` checks number
 * arguments. Expected numbers are computed by hand from the formulas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { Interpreter } from '../src/repl/index.ts';
import { arrayProgramArb } from './support/array-programs.ts';
import { compileAndInstantiate, instantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';

type Fn = (...args: unknown[]) => unknown;
const load = (source: string) => compileAndInstantiate(source) as unknown as Record<string, Fn>;

/** The helpers a module declares and the ones its code calls (`$name(`), outside their declarations. */
function helperUse(code: string): { declared: string[]; called: string[] } {
  const declared = [...code.matchAll(/^(?:function|const) (\$\w+)/gm)].map((m) => m[1]).sort();
  const called = [...new Set([...code.matchAll(/(?<![\w$])(\$[a-z]\w*)(?=\(|\[)/gi)].map((m) => m[1]))].filter((n) => !/^\$(t|dt|saved|prefix|suffix|out|cotangent|u)\d*$/.test(n)) // locals and parameters (fVjp's $cotangent, fJacobian's unit cotangent $u; a product's $prefix and $suffix arrays), not helpers.sort();
  return { declared, called };
}

describe('the helpers a module contains', () => {
  it('are there for a function with number parameters only that defines an array (issue #12, item 4)', () => {
    const m = load('fn f(x) { let z[i in 0..3] = x * i; return sum(i: z[i]) }\n');
    expect(m.f(2)).toBe(6);
    expect(m.fGrad(2)).toEqual({ value: 6, gradient: { x: 3 } });
  });

  it('are what the code calls, no more and no fewer, for any array program', () => {
    fc.assert(
      fc.property(arrayProgramArb(), ({ source }) => {
        const result = compileSync(source);
        const { declared, called } = helperUse(result.code!);
        for (const name of called) expect(declared, `${name} is called\n${source}`).toContain(name);
        // Every declared helper is called by the code or by another helper.
        for (const name of declared) expect(result.code!.split(name).length, `${name} is declared but unused\n${source}`).toBeGreaterThan(2);
      }),
      { numRuns: 40 },
    );
  });

  it('are none without arrays or checks', () => {
    expect(helperUse(compileSync('fn f(x, y) = x * y\n').code!).declared).toEqual([]);
    expect(helperUse(compileSync('fn f(x, y) = x * y\n', { checkArgs: true }).code!).declared).toEqual(['$describe', '$number']);
  });

  it('let the REPL evaluate a function with number parameters that defines an array', async () => {
    const repl = new Interpreter();
    await repl.run('fn f(x) { let z[i in 0..3] = x * i; return sum(i: z[i]) }');
    expect((await repl.run('grad f(2)')).text).toBe('value  6\n∂f/∂x  3');
  });
});

describe('fGradInto', () => {
  it('writes the gradient of a scalar parameter named __proto__ as an own property of a plain out (item 9)', () => {
    const m = load('fn f(w: vec[n], __proto__) = __proto__ * sum(i: w[i])\n');
    const out: Record<string, unknown> = { w: new Float64Array(2) };
    expect(m.fGradInto(out, [1, 2], 3)).toBe(9);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(out['__proto__']).toBe(3);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect([...(out.w as Float64Array)]).toEqual([3, 3]);
    // Called again, the own property is overwritten.
    m.fGradInto(out, [1, 5], 3);
    expect(out['__proto__']).toBe(6);
    const g = m.fGrad([1, 2], 3) as Gradient;
    expect(Object.keys(g.gradient)).toEqual(['w', '__proto__']);
    expect(Object.getPrototypeOf(g.gradient)).toBe(Object.prototype);
  });

  it('throws, writing nothing, when an out array is an argument (out.x === x) (item 9)', () => {
    const m = load('fn f(x: vec[n], W: mat[n, n], const y: vec[n]) = sum(i: x[i] * y[i]) + sum(i: sum(j: W[i, j] * W[i, j]))\n');
    const x = [1, 2];
    const y = [3, 4];
    const W = [
      [1, 2],
      [3, 4],
    ];
    const fresh = () => ({ x: new Float64Array(2), W: [new Float64Array(2), new Float64Array(2)] });
    const throwsUntouched = (out: { x: ArrayLike<number>; W: ArrayLike<number>[] }, message: RegExp) => {
      expect(() => m.fGradInto(out, x, W, y)).toThrow(TypeError);
      expect(() => m.fGradInto(out, x, W, y)).toThrow(message);
      expect(x).toEqual([1, 2]);
      expect(y).toEqual([3, 4]);
      expect(W).toEqual([
        [1, 2],
        [3, 4],
      ]);
    };
    throwsUntouched({ ...fresh(), x }, /^fGradInto: out\.x is the same array as the argument x: the gradient would overwrite it$/);
    throwsUntouched({ ...fresh(), x: y }, /^fGradInto: out\.x is the same array as the argument y/);
    throwsUntouched({ ...fresh(), W }, /^fGradInto: out\.W is the same array as the argument W/);
    // A shallow copy shares the rows.
    throwsUntouched({ ...fresh(), W: [...W] }, /^fGradInto: out\.W\[0\] is the same array as the argument W\[0\]/);
    throwsUntouched({ ...fresh(), W: [new Float64Array(2), W[1]] }, /^fGradInto: out\.W\[1\] is the same array as the argument W\[1\]/);
    const shared = new Float64Array(2);
    throwsUntouched({ x: shared, W: [shared, new Float64Array(2)] }, /^fGradInto: out\.W\[0\] is the same array as out\.x: /);
    throwsUntouched({ ...fresh(), x: W[1] }, /^fGradInto: out\.x is the same array as the argument W\[1\]: /);
    throwsUntouched({ ...fresh(), W: [new Float64Array(2), y] }, /^fGradInto: out\.W\[1\] is the same array as the argument y: /);
    // Distinct arrays work, and get exactly fGrad's gradient.
    const out = fresh();
    const value = m.fGradInto(out, x, W, y);
    const g = m.fGrad(x, W, y) as { value: number; gradient: { x: Float64Array; W: Float64Array[] } };
    expect(value).toBe(g.value);
    expect([...out.x]).toEqual([3, 4]);
    expect(out.W.map((r) => [...r])).toEqual([
      [2, 4],
      [6, 8],
    ]);
    expect(g.gradient.W.map((r) => [...r])).toEqual(out.W.map((r) => [...r]));
  });
});

describe("sqrt's derivative at 0 (README, Derivative conventions)", () => {
  it('is +Infinity at +0 and at -0, so sqrt(-x) and sqrt(0 - x) agree (item 9)', () => {
    const m = load('fn f(x) = sqrt(x)\nfn g(x) = sqrt(-x)\nfn h(x) = sqrt(0 - x)\n');
    const d = (name: string, x: number) => (m[`${name}Grad`](x) as Gradient).gradient.x;
    expect(d('f', 0)).toBe(Infinity);
    expect(d('f', -0)).toBe(Infinity);
    // d/dx sqrt(-x) = -1 / (2 sqrt(-x)): -Infinity at 0 from either form and either zero.
    for (const x of [0, -0]) {
      expect(d('g', x)).toBe(-Infinity);
      expect(d('h', x)).toBe(-Infinity);
    }
    expect(d('f', 4)).toBe(0.25);
    expect(d('g', -4)).toBe(-0.25);
  });
});

describe('checkArgs (item 20)', () => {
  const source = 'fn f(x, const c) = x * c\nfn g(w: vec[n], b) = b * sum(i: w[i])\n';

  it('is off by default: a string converts and undefined gives NaN, as JavaScript does', () => {
    const m = load(source);
    expect(m.f('3', 2)).toBe(6);
    expect(m.f(undefined, 2)).toBeNaN();
  });

  it('throws a TypeError naming the function, the parameter and what was passed', () => {
    const checked = instantiate(compileSync(source, { checkArgs: true }).code!) as unknown as Record<string, Fn>;
    const cases: [Fn, unknown[], string][] = [
      [checked.f, ['3', 2], "f: x must be a number, but is the string '3'"],
      [checked.f, [1, undefined], 'f: c must be a number, but is undefined'],
      [checked.fGrad, [null, 2], 'fGrad: x must be a number, but is null'],
      [checked.fGrad, [1, true], 'fGrad: c must be a number, but is true'],
      [checked.g, [[1], 10n], 'g: b must be a number, but is the bigint 10n'],
      [checked.gGrad, [[1], [2]], 'gGrad: b must be a number, but is an array'],
      [checked.gGradInto, [{ w: [0] }, [1], {}], 'gGradInto: b must be a number, but is a value of type object'],
      [checked.f, ['a very long string that goes on and on', 1], "f: x must be a number, but is the string 'a very long string t…'"],
    ];
    for (const [f, args, message] of cases) {
      expect(() => f(...args), message).toThrow(TypeError);
      expect(() => f(...args), message).toThrow(message);
    }
    // Numbers pass, NaN and Infinity included; arrays keep their own checks.
    expect(checked.f(2, 3)).toBe(6);
    expect(checked.f(NaN, 3)).toBeNaN();
    expect((checked.fGrad(Infinity, 1) as Gradient).gradient.x).toBe(1);
    expect(() => checked.g('ab', 1)).toThrow('g: w must be an array of numbers');
  });

  it('checks the number parameters of a function split into chunks', () => {
    const lines = ['fn big(x) {', '  let v0 = x'];
    for (let i = 1; i < 1300; i++) lines.push(`  let v${i} = sin(v${i - 1}) + x`);
    lines.push('  return v1299', '}');
    const result = compileSync(lines.join('\n'), { checkArgs: true });
    expect(result.code).toContain('big$scratch');
    const m = instantiate(result.code!) as unknown as Record<string, Fn>;
    expect(() => m.bigGrad('1')).toThrow("bigGrad: x must be a number, but is the string '1'");
    expect(typeof m.big(0.5)).toBe('number');
  });
});
