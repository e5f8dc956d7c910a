import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { builtinArity, constants } from '../src/ir/builtins.ts';
import { keywords } from '../src/syntax/lexer.ts';
import { instantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';

/**
 * Every name the language accepts must give JavaScript that loads and computes the right thing, or
 * be refused with a diagnostic. The pool mixes JavaScript's reserved words, globals and special
 * properties with names shaped like the compiler's own temporaries and adjoints.
 */
const tricky = [
  ...'break case catch class continue debugger default delete do enum export extends false finally for function import in instanceof new null super switch this throw true try typeof var void while with yield await async static implements interface package private protected public get set of'.split(' '),
  ...'arguments eval undefined NaN Infinity Math Object Float64Array globalThis Symbol Array Number String JSON console window process require module exports'.split(' '),
  ...'__proto__ constructor prototype toString valueOf hasOwnProperty __defineGetter__'.split(' '),
  ...'t1 t_1 d_x dx x_bar d t value gradient Grad fGrad_ _ __ $ x2 X'.split(' ').filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)),
];
const accepted = tricky.filter((n) => !keywords.has(n) && !builtinArity.has(n) && !constants.has(n));

const nameArb = fc.constantFrom(...accepted);

describe('names', () => {
  it('every accepted name works as a parameter, a let and a function name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, q, local]) => {
        fc.pre(!fnName.endsWith('Grad'));
        const source = `fn ${fnName}(${p}, const ${q}) {\n  let ${local} = ${p} * ${q}\n  return ${local} * ${p} + sin(${p})\n}\nfn caller(${q}) = ${fnName}(${q}, 2)\n`;
        const result = compileSync(source);
        expect(result.diagnostics, source).toEqual([]);
        const m = instantiate(result.code!);
        const x = 1.5;
        const c = 2;
        expect(m[fnName](x, c)).toBeCloseTo(x * c * x + Math.sin(x), 12);
        const g = m[`${fnName}Grad`](x, c) as Gradient;
        expect(Object.keys(g.gradient)).toEqual([p]);
        expect(Object.prototype.hasOwnProperty.call(g.gradient, p)).toBe(true);
        expect(g.gradient[p]).toBeCloseTo(2 * x * c + Math.cos(x), 12);
        expect(Object.getPrototypeOf(g.gradient)).toBe(Object.prototype);
        expect((m.callerGrad(x) as Gradient).gradient[q]).toBeCloseTo(2 * 2 * x + Math.cos(x), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('every accepted name works for a function returning an array, its array let and a list', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, local, caller]) => {
        fc.pre(!fnName.endsWith('Grad') && !caller.endsWith('Grad') && `${fnName}Grad` !== caller);
        const source =
          `fn ${fnName}(${p}: vec[n]) {\n  let ${local}[i] = 2 * ${p}[i]\n  return ${local}\n}\n` +
          `fn ${caller}(${p}: vec[n]) = sum(i: ${fnName}(${p})[i]) + [${p}[0], 3][1]\n`;
        const result = compileSync(source);
        expect(result.diagnostics, source).toEqual([]);
        const m = instantiate(result.code!) as unknown as Record<string, (x: number[]) => unknown>;
        expect([...(m[fnName]([1, 2]) as Float64Array)]).toEqual([2, 4]);
        expect(m[`${fnName}Grad`]).toBeUndefined();
        expect(m[caller]([1, 2])).toBe(9);
        expect([...((m[`${caller}Grad`]([1, 2]) as { gradient: Record<string, Float64Array> }).gradient[p])]).toEqual([2, 2]);
      }),
      { numRuns: 150 },
    );
  });

  it('keywords and constants are refused as names with a diagnostic', () => {
    for (const name of [...keywords, ...constants.keys()]) {
      const result = compileSync(`fn f(${name}) = ${name}\n`);
      expect(result.code, name).toBeUndefined();
      expect(result.diagnostics.length, name).toBeGreaterThan(0);
    }
  });

  it("a parameter may share a built-in's name: the name is the variable, a call is the built-in", () => {
    for (const name of builtinArity.keys()) {
      const result = compileSync(`fn f(${name}) = ${name} * 2\n`);
      expect(result.diagnostics, name).toEqual([]);
      expect((instantiate(result.code!).fGrad(3) as Gradient).gradient[name]).toBe(2);
    }
    const m = instantiate(compileSync('fn f(sin) = sin(sin)\n').code!);
    expect(m.f(0.5)).toBe(Math.sin(0.5));
  });

  it("a function may not take a built-in's name", () => {
    expect(compileSync('fn sin(x) = x\n').diagnostics.map((d) => d.code)).toEqual(['AD2007']);
  });
});
