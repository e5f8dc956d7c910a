import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Dual, add, approxEqual, builtinArity, builtins, constant, div, mul, neg, pow, sub, variable } from './dual.ts';
import type { Cond, Expr, Program } from './program.ts';
import { callFunction, evaluate, gradient, nudgedDomain, printCond, printExpr, printProgram, roundingStable, validateProgram } from './program.ts';
import { caseArb, pointArb, programArb } from './arbitrary.ts';
import { Dual as ArrayDual, duals } from './arrays.ts';
import { hessianRow } from './second-order.ts';

// ---- helpers ---------------------------------------------------------------------------------

const num = (value: number): Expr => ({ kind: 'num', value });
const v = (name: string): Expr => ({ kind: 'var', name });
const bin = (op: '+' | '-' | '*' | '/' | '^', left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
const call = (name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args });
const negE = (arg: Expr): Expr => ({ kind: 'unary', op: '-', arg });
const PI: Expr = { kind: 'const', name: 'pi' };
const cmp = (op: '<' | '<=' | '>' | '>=' | '==' | '!=', left: Expr, right: Expr): Cond => ({ kind: 'cmp', op, left, right });
const params = (...names: string[]) => names.map((name) => ({ name: name.replace('const ', ''), isConst: name.startsWith('const ') }));

/** Central finite differences of f at point p. */
function fd(f: (p: number[]) => number, p: number[], rel = 1e-6): number[] {
  return p.map((_, i) => {
    const h = rel * Math.max(1, Math.abs(p[i]));
    const up = [...p]; up[i] += h;
    const dn = [...p]; dn[i] -= h;
    return (f(up) - f(dn)) / (2 * h);
  });
}

/** Gradient of a function written against the Dual API, at point p. */
function dualGrad(f: (...xs: Dual[]) => Dual, p: number[]): { value: number; gradient: number[] } {
  const r = f(...p.map((x, i) => variable(x, i, p.length)));
  return { value: r.v, gradient: r.gradient(p.length) };
}

const expectClose = (actual: number[], expected: number[], rtol: number) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(approxEqual(a, expected[i], rtol, rtol), `component ${i}: ${a} vs ${expected[i]}`).toBe(true));
};

// ---- seed document numbers -------------------------------------------------------------------

describe('seed-document gradients', () => {
  const { sin, cos, sqrt, exp, log } = builtins;
  const k = (c: number) => constant(c);
  const pi = k(Math.PI);

  it("f(x) = f1(sin x, sqrt x + exp x), f1 = 3x²+5xy+4y²: f'(1) = 122.045158140265", () => {
    const f1 = (x: Dual, y: Dual) => add(add(mul(k(3), pow(x, k(2))), mul(mul(k(5), x), y)), mul(k(4), pow(y, k(2))));
    const f = (x: Dual) => f1(sin(x), add(sqrt(x), exp(x)));
    expectClose(dualGrad(f, [1]).gradient, [122.045158140265], 1e-12);

    const program: Program = {
      functions: [
        { name: 'f1', params: params('x', 'y'), lets: [], body: bin('+', bin('+', bin('*', num(3), bin('^', v('x'), num(2))), bin('*', bin('*', num(5), v('x')), v('y'))), bin('*', num(4), bin('^', v('y'), num(2)))) },
        { name: 'f3', params: params('x'), lets: [], body: bin('+', call('sqrt', v('x')), call('exp', v('x'))) },
        { name: 'f', params: params('x'), lets: [], body: call('f1', call('sin', v('x')), call('f3', v('x'))) },
      ],
    };
    expectClose(gradient(program, 'f', [1]).gradient, [122.045158140265], 1e-12);
  });

  it('f = f1(f2(x1, f2(x2, x1)), f3(x1)), f1 = sin(πx)+cos(πy), f2 = x^y, f3 = log at (2,3)', () => {
    const f1 = (x: Dual, y: Dual) => add(sin(mul(pi, x)), cos(mul(pi, y)));
    const f = (x1: Dual, x2: Dual) => f1(pow(x1, pow(x2, x1)), log(x1));
    const g = dualGrad(f, [2, 3]);
    expectClose(g.gradient, [18260.7627311899, 6689.544469], 1e-9);

    const program: Program = {
      functions: [
        { name: 'f', params: params('x1', 'x2'), lets: [], body: call('f1', call('f2', v('x1'), call('f2', v('x2'), v('x1'))), call('f3', v('x1'))) },
        { name: 'f1', params: params('x', 'y'), lets: [], body: bin('+', call('sin', bin('*', PI, v('x'))), call('cos', bin('*', PI, v('y')))) },
        { name: 'f2', params: params('x', 'y'), lets: [], body: bin('^', v('x'), v('y')) },
        { name: 'f3', params: params('x'), lets: [], body: call('log', v('x')) },
      ],
    };
    const r = gradient(program, 'f', [2, 3]);
    expect(r.value).toBe(g.value);
    expectClose(r.gradient, g.gradient, 1e-15);
  });

  it('f = f1(f2(x1,x2), f3(x1,x2)), f1 = xy, f2 = cos(πx)/sin(x), f3 = ln(x)/y at (2,3)', () => {
    const f = (x1: Dual, x2: Dual) => mul(div(cos(mul(pi, x1)), sin(x1)), div(builtins.ln(x1), x2));
    expectClose(dualGrad(f, [2, 3]).gradient, [0.29958076032382, -0.0846987477622259], 1e-12);
  });
});

// ---- finite differences ------------------------------------------------------------------------

describe('dual numbers against central finite differences', () => {
  const safePoint: Record<string, number[]> = {
    asin: [0.3], acos: [-0.4], log: [1.7], ln: [0.6], log1p: [0.5], log2: [2.5], log10: [0.3], sqrt: [2.2],
    cbrt: [-1.3], abs: [-0.7], atan2: [0.7, -1.2], pow: [1.3, 0.7], hypot: [-1.1, 0.4], min: [0.3, 0.9], max: [0.3, 0.9],
  };
  for (const name of Object.keys(builtins)) {
    it(`builtin ${name}`, () => {
      const p = safePoint[name] ?? (builtinArity[name] === 1 ? [0.8] : [0.8, 1.1]);
      const plain = (q: number[]) => builtins[name](...q.map((x) => constant(x))).v;
      const r = dualGrad(builtins[name], p);
      expect(r.value).toBe(plain(p));
      expectClose(r.gradient, fd(plain, p), 1e-7);
    });
  }

  const handWritten: [string, (...xs: Dual[]) => Dual, number[]][] = [
    ['rosenbrock', (x, y) => add(pow(sub(constant(1), x), constant(2)), mul(constant(100), pow(sub(y, pow(x, constant(2))), constant(2)))), [-1.2, 1]],
    ['quotient chain', (x, y, z) => div(builtins.exp(mul(x, y)), add(constant(1), mul(z, z))), [0.3, -0.8, 1.7]],
    ['variable exponent', (x, y) => pow(add(x, constant(2)), neg(mul(y, x))), [0.4, 1.3]],
    ['mixed builtins', (x, y) => builtins.atan2(builtins.tanh(x), builtins.hypot(y, builtins.log1p(builtins.abs(x)))), [-0.9, 0.35]],
  ];
  for (const [name, f, p] of handWritten) {
    it(name, () => {
      const plain = (q: number[]) => f(...q.map((x) => constant(x))).v;
      expectClose(dualGrad(f, p).gradient, fd(plain, p), 1e-6);
    });
  }
});

// ---- derivative conventions ------------------------------------------------------------------

describe('derivative conventions', () => {
  const d1 = (name: string, x: number) => dualGrad(builtins[name], [x]).gradient[0];
  const d2 = (name: string, a: number, b: number) => dualGrad(builtins[name], [a, b]).gradient;

  it('abs, sign, floor, ceil, sqrt at their kinks', () => {
    expect(d1('abs', 0)).toBe(0);
    expect(d1('abs', -2)).toBe(-1);
    expect(d1('sign', 0.5)).toBe(0);
    expect(d1('floor', 2)).toBe(0);
    expect(d1('ceil', -1.5)).toBe(0);
    expect(d1('sqrt', 0)).toBe(Infinity);
    expect(d1('sqrt', 4)).toBe(0.25);
  });

  it('min and max select one argument; ties go to the first', () => {
    expect(d2('min', 1, 1)).toEqual([1, 0]);
    expect(d2('max', 1, 1)).toEqual([1, 0]);
    expect(d2('min', 2, 1)).toEqual([0, 1]);
    expect(d2('max', 2, 1)).toEqual([1, 0]);
  });

  it('atan2 and hypot partials', () => {
    expect(d2('atan2', 3, 4)).toEqual([4 / 25, -3 / 25]);
    expect(d2('hypot', 3, 4)).toEqual([3 / 5, 4 / 5]);
  });

  it('division and atan2 partials do not overflow where the partials are ordinary numbers (fuzz seed 1327329621)', () => {
    // -a/b² at a = b = 1e155 is -1e-155; b·b would overflow to Infinity and give -0.
    expect(dualGrad(div, [1e155, 1e155]).gradient).toEqual([1e-155, -1e-155]);
    expect(duals.div(new ArrayDual(1e155, 0), new ArrayDual(1e155, 1)).d).toBe(-1e-155);
    // atan2 at (1e200, 1e200): x/(x² + y²) = 5e-201, not 1e200/Infinity = 0.
    const [dy, dx] = d2('atan2', 1e200, 1e200);
    expect(dy).toBeCloseTo(5e-201, 215);
    expect(dx).toBeCloseTo(-5e-201, 215);
  });

  it('pow with a constant exponent has no ln term, so negative bases work', () => {
    const r = pow(variable(-2, 0, 1), constant(3));
    expect(r.v).toBe(-8);
    expect(r.gradient(1)).toEqual([12]);
    // x^y with both differentiated: d/dy = x^y ln x, NaN for a negative base.
    const both = dualGrad(pow, [-2, 3]).gradient;
    expect(both[0]).toBe(12);
    expect(both[1]).toBeNaN();
    expect(dualGrad(pow, [2, 3]).gradient).toEqual([12, 8 * Math.LN2]);
  });

  it('tracks the magnitudes of the chain-rule terms beside their sum', () => {
    // 3x/(x/6) at x = 2: the terms 3·6/x = 9 and −(18/(x/6))·(1/6) = −9 cancel to 0; magnitudes 18.
    const x = variable(2, 0, 1);
    const r = div(mul(constant(3), x), div(x, constant(6)));
    expect(r.gradient(1)).toEqual([0]);
    expect(r.scale(1)).toEqual([18]);
    // Without cancellation the magnitude is |derivative|; min/max keep the selected side's.
    expect(mul(neg(x), x).scale(1)).toEqual([4]);
    expect(builtins.max(sub(x, x), constant(-1)).scale(1)).toEqual([2]);
    expect(constant(5).scale(1)).toEqual([0]);
  });

  it('constants are structural zeros: no Infinity * 0 from const subexpressions', () => {
    const c = constant(0);
    const r = mul(builtins.sqrt(c), variable(3, 0, 1));
    expect(r.gradient(1)).toEqual([0]);
    expect(mul(builtins.sqrt(variable(0, 0, 2)), variable(3, 1, 2)).gradient(2)).toEqual([Infinity, 0]);
    expect(constant(5).isConstant).toBe(true);
    expect(builtins.floor(variable(1.5, 0, 1)).isConstant).toBe(true);
  });
});

// ---- programs: printer, evaluator ----------------------------------------------------------------

describe('printer', () => {
  const cases: [Expr, string][] = [
    [negE(bin('^', v('x'), num(2))), '-x^2'],
    [bin('^', num(2), negE(v('x'))), '2^-x'],
    [bin('^', v('a'), bin('^', v('b'), v('c'))), 'a^b^c'],
    [bin('^', bin('^', v('a'), v('b')), v('c')), '(a^b)^c'],
    [bin('^', negE(v('x')), num(2)), '(-x)^2'],
    [bin('-', v('a'), bin('-', v('b'), v('c'))), 'a - (b - c)'],
    [bin('-', bin('-', v('a'), v('b')), v('c')), 'a - b - c'],
    [bin('*', bin('+', v('a'), num(1)), bin('/', v('b'), v('c'))), '(a + 1) * (b / c)'],
    [bin('/', v('a'), bin('*', v('b'), v('c'))), 'a / (b * c)'],
    [bin('+', v('a'), bin('*', negE(v('b')), v('c'))), 'a + -b * c'],
    [negE(negE(v('x'))), '-(-x)'],
    [num(-2), '-2'],
    [bin('^', v('x'), num(-2)), 'x^-2'],
    [bin('*', num(2), { kind: 'if', cond: cmp('>', v('x'), num(0)), then: v('x'), else: num(0.5) }), '2 * (if x > 0 then x else 0.5)'],
    [call('max', { kind: 'if', cond: { kind: 'not', arg: { kind: 'cvar', name: 'c' } }, then: PI, else: { kind: 'const', name: 'e' } }, num(1)), 'max(if not c then pi else e, 1)'],
    [{ kind: 'paren', arg: bin('*', v('x'), v('y')) }, '(x * y)'],
  ];
  for (const [tree, text] of cases) it(`prints ${text}`, () => expect(printExpr(tree)).toBe(text));

  it('prints conditions with and/or/not precedence', () => {
    const a = cmp('<', v('x'), num(1));
    const b = cmp('>=', bin('+', v('y'), num(1)), num(0));
    const c: Cond = { kind: 'cvar', name: 'c' };
    expect(printCond({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } })).toBe('x < 1 or y + 1 >= 0 and c');
    expect(printCond({ kind: 'and', left: { kind: 'or', left: a, right: b }, right: c })).toBe('(x < 1 or y + 1 >= 0) and c');
    expect(printCond({ kind: 'not', arg: { kind: 'or', left: a, right: c } })).toBe('not (x < 1 or c)');
    expect(printCond({ kind: 'and', left: a, right: { kind: 'and', left: b, right: c } })).toBe('x < 1 and (y + 1 >= 0 and c)');
  });

  it('prints whole programs', () => {
    const program: Program = {
      functions: [
        { name: 'fit', params: params('a', 'const x'), lets: [], body: bin('^', bin('-', bin('*', v('a'), v('x')), num(1)), num(2)) },
        {
          name: 'g', params: params('x', 'y'), semicolons: true,
          lets: [{ name: 'c', value: cmp('>', v('x'), v('y')) }, { name: 't', value: call('fit', v('y'), v('x')) }],
          body: { kind: 'if', cond: { kind: 'cvar', name: 'c' }, then: v('t'), else: num(0) },
        },
      ],
    };
    expect(printProgram(program)).toBe(
      'fn fit(a, const x) = (a * x - 1)^2\n' +
        'fn g(x, y) {\n  let c = x > y;\n  let t = fit(y, x);\n  return if c then t else 0;\n}\n',
    );
  });
});

describe('evaluator', () => {
  const huber: Program = {
    functions: [{
      name: 'huber', params: params('r'), lets: [],
      body: { kind: 'if', cond: cmp('<=', call('abs', v('r')), num(1)), then: bin('*', num(0.5), bin('^', v('r'), num(2))), else: bin('-', call('abs', v('r')), num(0.5)) },
    }],
  };

  it('takes the derivative through the branch taken', () => {
    expect(gradient(huber, 'huber', [0.5])).toEqual({ value: 0.125, gradient: [0.5], scale: [0.5] });
    expect(gradient(huber, 'huber', [-3])).toEqual({ value: 2.5, gradient: [-1], scale: [1] });
  });

  it('skips const parameters and, by default, differentiates through callee const parameters', () => {
    const p: Program = {
      functions: [
        { name: 'sq', params: params('a', 'const b'), lets: [], body: bin('*', v('a'), v('b')) },
        { name: 'top', params: params('const k', 'x'), lets: [], body: call('sq', v('k'), v('x')) },
      ],
    };
    expect(gradient(p, 'top', [3, 5])).toEqual({ value: 15, gradient: [3], scale: [3] });
    expect(gradient(p, 'top', [3, 5], { constCalls: 'stop' })).toEqual({ value: 15, gradient: [0], scale: [0] });
    expect(gradient(p, 'sq', [3, 5])).toEqual({ value: 15, gradient: [5], scale: [5] });
    expect(evaluate(p, 'top', [3, 5])).toBe(15);
  });
});

describe('rounding stability (the value check of test/support/differential.ts)', () => {
  const fn = (name: string, ps: string[], body: Expr) => ({ name, params: params(...ps), lets: [], body });
  // Fuzz seed 654188507, reduced: g reads sin(f(2)^(π + 1)) with f(x) = (1 + x + π + x)^4 ≈ 1.4e3^4.
  const seedCase: Program = {
    functions: [
      fn('f', ['x'], bin('^', bin('+', bin('+', bin('+', num(1), v('x')), PI), v('x')), num(4))),
      fn('g', ['x'], bin('+', call('sin', bin('^', call('f', num(2)), bin('+', PI, num(1)))), call('sin', v('x')))),
    ],
  };

  it('finds the seed-654188507 value ill-conditioned, which nudging its arguments does not', () => {
    // What the compiler computes for f(2)^4, (x·x)·(x·x), against Math.pow: one ulp, then 0.0025.
    const base = 1 + 2 + Math.PI + 2;
    const sq = base * base;
    expect(Math.abs(sq * sq - Math.pow(base, 4))).toBeGreaterThan(0);
    const viaProduct = Math.sin((sq * sq) ** (Math.PI + 1));
    expect(Math.abs(viaProduct - Math.sin(Math.pow(base, 4) ** (Math.PI + 1)))).toBeGreaterThan(1e-3);
    // The argument nudge of the value check leaves x = 0 where it is; the rounding nudge does not.
    expect(evaluate(seedCase, 'g', [0])).toBe(evaluate(seedCase, 'g', [0 * (1 + 2 ** -44)]));
    expect(roundingStable(seedCase, 'g', [0], 1e-10, 1e-300)).toBe(false);
  });

  it('finds ordinary programs stable, and exact operations (x − x, a few-bit result, floor) unmoved', () => {
    const p: Program = {
      functions: [
        fn('f', ['x', 'y'], bin('+', bin('*', v('x'), call('sin', v('y'))), bin('/', call('exp', v('x')), v('y')))),
        // 1/(x − x): Infinity whatever the nudge (x − x is exact); (x + 0.5)·4 − 4x: 2, exact at x = 1.25.
        fn('z', ['x'], bin('/', num(1), bin('-', v('x'), v('x')))),
        fn('q', ['x'], bin('-', bin('*', bin('+', v('x'), num(0.5)), num(4)), bin('*', num(4), v('x')))),
        fn('fl', ['x'], call('floor', bin('/', v('x'), num(3)))),
        // A cancellation that rounding does move: (x + 0.1) − x is 0.1 only up to x's ulp.
        fn('c', ['x'], bin('-', bin('+', v('x'), num(0.1)), v('x'))),
      ],
    };
    for (const a of [[0.3, 1.7], [-2, 0.5], [2.5, -3]]) expect(roundingStable(p, 'f', a, 1e-10, 1e-300), `f(${a})`).toBe(true);
    for (const pattern of [0, 1, 2]) {
      expect(callFunction(p, nudgedDomain(pattern), 'z', [0.7])).toBe(Infinity);
      expect(callFunction(p, nudgedDomain(pattern), 'q', [1.25])).toBe(2);
      expect(callFunction(p, nudgedDomain(pattern), 'fl', [6])).toBe(2);
    }
    // 0.1 + x rounds: nudged by 2^-44 · 1e6 = 6e-8 against 0.1, it moves 6e-7 relative.
    expect(roundingStable(p, 'c', [1e6], 1e-10, 1e-300)).toBe(false);
    expect(roundingStable(p, 'c', [1e-3], 1e-10, 1e-300)).toBe(true);
    // The three patterns are not all the same: mixed signs show a cancellation a uniform nudge hides.
    const values = [0, 1, 2].map((pattern) => callFunction(p, nudgedDomain(pattern), 'f', [0.3, 1.7]));
    expect(new Set(values).size).toBeGreaterThan(1);
  });
});

// ---- the generator ---------------------------------------------------------------------------

describe('random programs', () => {
  it('are valid and evaluate to the same value in numbers and duals', () => {
    fc.assert(
      fc.property(caseArb(), ({ program, fn, args }) => {
        expect(validateProgram(program)).toEqual([]);
        expect(printProgram(program)).toMatch(/^fn /);
        const plain = evaluate(program, fn, args);
        expect(Object.is(gradient(program, fn, args).value, plain)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('use every builtin and operator', () => {
    const seen = new Set<string>();
    const walk = (n: unknown): void => {
      if (n && typeof n === 'object') {
        const o = n as Record<string, unknown>;
        if (o.kind === 'call' || o.kind === 'binary' || o.kind === 'unary') seen.add(String(o.name ?? o.op));
        if (typeof o.kind === 'string' && !['call', 'binary', 'unary'].includes(o.kind)) seen.add(o.kind);
        Object.values(o).forEach(walk);
      }
    };
    fc.sample(programArb(), { numRuns: 300, seed: 1 }).forEach(walk);
    for (const name of [...Object.keys(builtins), '+', '-', '*', '/', '^', 'if', 'and', 'or', 'not', 'cvar', 'const', 'paren']) {
      expect(seen, name).toContain(name);
    }
  });

  it('have gradients that match finite differences where the function is smooth', () => {
    let checked = 0;
    fc.assert(
      fc.property(caseArb(), ({ program, fn, args }) => {
        if (args.some((x) => x !== 0 && Math.abs(x) < 1e-3)) return; // the steps must be << |x|
        const f = program.functions.find((g) => g.name === fn)!;
        const r = gradient(program, fn, args);
        f.params.filter((q) => !q.isConst).forEach((q, k) => {
          const i = f.params.indexOf(q);
          const traces = new Set<string>();
          const at = (t: number) => {
            const trace: (boolean | number)[] = [];
            const y = evaluate(program, fn, args.map((x, j) => (j === i ? t : x)), { onChoice: (c) => trace.push(c) });
            traces.add(trace.join());
            return y;
          };
          const x = args[i];
          const h = 1e-5 * Math.max(1, Math.abs(x));
          const ys = [at(x - h), at(x - h / 10), at(x), at(x + h / 10), at(x + h)];
          const g = r.gradient[k];
          // Skip kinks and jumps (a branch, floor, min... changes), non-finite, flat or steep spots.
          if (traces.size > 1 || ![g, ...ys].every(Number.isFinite) || ys[0] === ys[4]) return;
          if (Math.abs(g) > 1e6 || Math.abs(ys[4] - ys[0]) > 1e6 * h) return;
          const tol = 1e-3 * (1 + Math.abs(g)) + (1e-15 * Math.max(...ys.map(Math.abs))) / (h / 10);
          const [left, right] = [(ys[2] - ys[0]) / h, (ys[4] - ys[2]) / h];
          const [wide, narrow] = [(ys[4] - ys[0]) / (2 * h), (ys[3] - ys[1]) / (h / 5)];
          if (Math.abs(left - right) > tol || Math.abs(wide - narrow) > tol) return; // too curved or noisy
          checked++;
          expect(Math.abs(g - wide), `${printProgram(program)}${fn}(${args}) d/d${q.name}: ${g} vs ${wide}`).toBeLessThan(tol);
        });
      }),
      { numRuns: 1000, seed: 20240501 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('have Hessian rows (second-order.ts) that match central differences of the dual gradient, symmetric, with magnitudes ≥ |entry|', () => {
    let checked = 0;
    fc.assert(
      fc.property(caseArb(), ({ program, fn, args }) => {
        if (args.some((x) => x !== 0 && Math.abs(x) < 1e-3)) return;
        const f = program.functions.find((g) => g.name === fn)!;
        const indices = f.params.flatMap((q, i) => (q.isConst ? [] : [i]));
        const rows = indices.map((_, k) => hessianRow(program, fn, args, k));
        rows.forEach((r, k) => r.row.forEach((h, j) => {
          if (Number.isFinite(h) && Number.isFinite(r.scale[j])) expect(r.scale[j]).toBeGreaterThanOrEqual(Math.abs(h) * (1 - 1e-12));
          // Symmetry up to rounding relative to what cancelled.
          const other = rows[j].row[k];
          if ([h, other, r.scale[j], rows[j].scale[k]].every(Number.isFinite)) {
            expect(Math.abs(h - other), `H[${k}][${j}] ${h} vs H[${j}][${k}] ${other}\n${printProgram(program)}`).toBeLessThanOrEqual(1e-9 * Math.max(1, r.scale[j], rows[j].scale[k]));
          }
        }));
        indices.forEach((i, k) => {
          const traces = new Set<string>();
          const at = (t: number) => {
            const point = args.map((x, j) => (j === i ? t : x));
            const trace: (boolean | number)[] = [];
            evaluate(program, fn, point, { onChoice: (c) => trace.push(c) });
            traces.add(trace.join());
            return gradient(program, fn, point).gradient;
          };
          const x = args[i];
          const h = 1e-5 * Math.max(1, Math.abs(x));
          const [lo, mid, hi] = [at(x - h), at(x), at(x + h)];
          if (traces.size > 1) return;
          rows[k].row.forEach((want, j) => {
            const wide = (hi[j] - lo[j]) / (2 * h);
            const [left, right] = [(mid[j] - lo[j]) / h, (hi[j] - mid[j]) / h];
            if (![want, wide, left, right].every(Number.isFinite) || Math.abs(want) > 1e6 || Math.abs(wide) > 1e6) return;
            const tol = 1e-3 * (1 + Math.abs(want)) + (1e-14 * Math.max(...[lo[j], mid[j], hi[j]].map(Math.abs))) / h;
            if (Math.abs(left - right) > tol) return; // too curved or noisy
            checked++;
            expect(Math.abs(want - wide), `${printProgram(program)}${fn}(${args}) H[${k}][${j}]: ${want} vs ${wide}`).toBeLessThan(tol);
          });
        });
      }),
      { numRuns: 500, seed: 20261207 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  it('Hessian rows by hand: x²·y + sin(x·y), and magnitudes equal to |entry| where no term cancels', () => {
    const p: Program = {
      functions: [
        { name: 'f', params: params('x', 'y'), lets: [], body: bin('+', bin('*', bin('^', v('x'), num(2)), v('y')), call('sin', bin('*', v('x'), v('y')))) },
        { name: 'g', params: params('x', 'const c', 'y'), lets: [], body: bin('*', bin('*', v('x'), v('x')), bin('*', v('y'), v('c'))) },
      ],
    };
    const [x, y] = [0.7, -1.3];
    const r0 = hessianRow(p, 'f', [x, y], 0);
    const r1 = hessianRow(p, 'f', [x, y], 1);
    expectClose(r0.row, [2 * y - y * y * Math.sin(x * y), 2 * x + Math.cos(x * y) - x * y * Math.sin(x * y)], 1e-14);
    expectClose(r1.row, [2 * x + Math.cos(x * y) - x * y * Math.sin(x * y), -x * x * Math.sin(x * y)], 1e-14);
    // g = x²·y·c: row x = [2yc, 2xc], every term positive at a positive point: nothing cancels.
    const g = hessianRow(p, 'g', [1.5, 3, 2], 0);
    expectClose(g.row, [12, 9], 1e-15);
    expectClose(g.scale, [12, 9], 1e-15);
  });

  it('pointArb gives n coordinates in [-3, 3] without -0', () => {
    fc.assert(fc.property(pointArb(3), (p) => p.length === 3 && p.every((x) => x >= -3 && x <= 3 && !Object.is(x, -0))));
  });
});
