import { describe, expect, it } from 'vitest';
import { compileSync, CompileCache, type CompileOptions } from '../src/index.ts';
import { KEEP_WORK } from '../src/ir/call-graph.ts';
import { approxEqual } from './oracle/dual.ts';
import { gradient } from './oracle/program.ts';
import type { Program } from './oracle/program.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Calls that stay calls (issue #15): a function compiled once, called, with adjoint, tangent and
 * adjoint-tangent forms its callers' derivatives call. Each program is compiled three ways (the
 * compiler's choice, every call kept, every call inlined), and the derivatives are checked against
 * each other, central differences and the forward-mode oracle.
 */
type Module = Record<string, (...args: unknown[]) => unknown>;
const all = ['grad', 'jvp', 'vjp', 'jacobian', 'hvp', 'hessian'] as const;

function build(source: string, options: CompileOptions = {}): { code: string; m: Module } {
  const r = compileSync(source, { derivatives: [...all], ...options });
  expect(r.diagnostics, source).toEqual([]);
  return { code: r.code!, m: instantiate(r.code!) as unknown as Module };
}

const close = (a: number, b: number, rtol = 1e-10) => approxEqual(a, b, rtol, 1e-12);

/** Central differences of a function of numbers. */
function centralDifferences(f: (...x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const up = [...x];
    const down = [...x];
    up[i] += h;
    down[i] -= h;
    return (f(...up) - f(...down)) / (2 * h);
  });
}

// Calls in a loop with state, in reductions, in branches, with const parameters, repeated calls
// and calls of calls; the caller takes a vector, the callees numbers.
const program = `
fn bump(x, const c) = c * sin(x) + x * x / (1 + c * c)
fn pair(x, y) = bump(x * y, 2) + bump(y - x, 0.5) * exp(-x * x)
fn pick(x, y) = if x > y then pair(x, y) else pair(y, 1) * x
fn scalar(a, b) {
  var s = a
  for t in 0..4 {
    s = s + 0.1 * pick(s, b) + bump(s, t)
  }
  return s * pair(a, b) + pick(b, a)
}
fn vector(a, w: vec[n]) = sum(i: pair(w[i], a)) + max(i: bump(w[i] * a, 1)) + logsumexp(i: pick(w[i], a))
`;

describe('kept calls compute the derivatives inlined code computes', () => {
  const kept = build(program, { calls: 'keep' });
  const inlined = build(program, { calls: 'inline' });
  const auto = build(program);

  it('the choice is written in the output, and each way is what was asked for', () => {
    for (const name of ['bump', 'pair', 'pick']) {
      expect(kept.code).toContain(`// ${name} is compiled once and called, not inlined (the option calls: 'keep').`);
      expect(inlined.code).not.toContain(`${name}$gradient`);
    }
    expect(kept.code).toMatch(/function pair\$gradient\(x, y\)/);
    expect(kept.code).toMatch(/function bump\$gradientTangent\(/);
    // Internal forms are never exported.
    const exported = kept.code.slice(kept.code.lastIndexOf('export {'));
    expect(exported).not.toContain('$');
  });

  it('fGrad: against inlined code and central differences, at several points', () => {
    for (const [a, b] of [
      [0.3, 0.7],
      [1.2, -0.4],
      [-0.8, 0.25],
    ]) {
      const want = inlined.m.scalarGrad(a, b) as { value: number; gradient: Record<string, number> };
      for (const { m } of [kept, auto]) {
        const got = m.scalarGrad(a, b) as typeof want;
        expect(close(got.value, want.value, 1e-14)).toBe(true);
        for (const p of ['a', 'b']) expect(close(got.gradient[p], want.gradient[p]), `${p}: ${got.gradient[p]} vs ${want.gradient[p]}`).toBe(true);
        const fd = centralDifferences((x, y) => m.scalar(x, y) as number, [a, b]);
        expect(close(got.gradient.a, fd[0], 1e-6) && close(got.gradient.b, fd[1], 1e-6), `${got.gradient.a}, ${got.gradient.b} vs ${fd}`).toBe(true);
      }
    }
  });

  it('every derivative export through kept calls: grad, jvp, vjp, jacobian, hvp, hessian (arrays too)', () => {
    const w = [0.4, -1.1, 0.9];
    const v = { a: 0.3, w: [1, -0.5, 0.25] };
    type R = { value: number; gradient: Record<string, number | Float64Array>; tangent: number; hvp: Record<string, number | Float64Array>; hessian: Record<string, Record<string, number | Float64Array | Float64Array[]>>; jacobian: Record<string, unknown> };
    const flat = (x: unknown): number[] =>
      typeof x === 'number' ? [x] : Array.isArray(x) ? x.flatMap(flat) : x instanceof Float64Array ? [...x] : Object.keys(x as object).sort().flatMap((k) => flat((x as Record<string, unknown>)[k]));
    const same = (got: unknown, want: unknown, what: string) => {
      const [g, e] = [flat(got), flat(want)];
      expect(g.length, what).toBe(e.length);
      g.forEach((x, i) => expect(close(x, e[i], 1e-9), `${what}[${i}]: ${x} vs ${e[i]}`).toBe(true));
    };
    const calls: [string, unknown[]][] = [
      ['vectorGrad', [0.7, w]],
      ['vectorJvp', [v, 0.7, w]],
      ['vectorVjp', [2, 0.7, w]],
      ['vectorHvp', [v, 0.7, w]],
      ['vectorHessian', [0.7, w]],
      ['scalarJvp', [{ a: 1, b: -2 }, 0.3, 0.7]],
      ['scalarVjp', [-1.5, 0.3, 0.7]],
      ['scalarHvp', [{ a: 1, b: -2 }, 0.3, 0.7]],
      ['scalarHessian', [0.3, 0.7]],
    ];
    for (const [name, args] of calls) {
      const want = inlined.m[name](...args) as R;
      const got = kept.m[name](...args) as R;
      for (const key of ['value', 'gradient', 'tangent', 'hvp', 'hessian'] as const) if (key in want) same(got[key], want[key], `${name}.${key}`);
    }
    // A function returning a vector: fJacobian (and fVjp, fJvp) through kept calls.
    const jac = `fn sq(x) = x * x * sin(x) + cos(x * x)\nfn r(a, b) = [sq(a) * b, sq(b) - sq(a * b), sq(a + b)]\n`;
    const jk = build(jac, { calls: 'keep' });
    const ji = build(jac, { calls: 'inline' });
    expect(jk.code).toContain('sq$gradient(');
    same((jk.m.rJacobian(0.4, 1.3) as R).jacobian, (ji.m.rJacobian(0.4, 1.3) as R).jacobian, 'rJacobian');
    same((jk.m.rVjp([1, 2, 3], 0.4, 1.3) as R).gradient, (ji.m.rVjp([1, 2, 3], 0.4, 1.3) as R).gradient, 'rVjp');
    same((jk.m.rJvp({ a: 1, b: 2 }, 0.4, 1.3) as R).tangent, (ji.m.rJvp({ a: 1, b: 2 }, 0.4, 1.3) as R).tangent, 'rJvp');
  });

  it('agrees with the forward-mode oracle on a call graph with repeated calls', () => {
    const p: Program = {
      functions: [
        { name: 'g', params: [{ name: 'x', isConst: false }, { name: 'y', isConst: true }], lets: [], body: { kind: 'binary', op: '*', left: { kind: 'call', name: 'sin', args: [{ kind: 'var', name: 'x' }] }, right: { kind: 'var', name: 'y' } } },
        {
          name: 'f',
          params: [{ name: 'x', isConst: false }, { name: 'y', isConst: false }],
          lets: [],
          body: {
            kind: 'binary',
            op: '+',
            left: { kind: 'call', name: 'g', args: [{ kind: 'var', name: 'x' }, { kind: 'var', name: 'y' }] },
            right: { kind: 'call', name: 'g', args: [{ kind: 'call', name: 'g', args: [{ kind: 'var', name: 'y' }, { kind: 'var', name: 'x' }] }, { kind: 'var', name: 'x' }] },
          },
        },
      ],
    };
    const source = 'fn g(x, const y) = sin(x) * y\nfn f(x, y) = g(x, y) + g(g(y, x), x)\n';
    const { m, code } = build(source, { calls: 'keep' });
    expect(code).toContain('g$gradient(');
    const oracle = gradient(p, 'f', [0.9, -0.3]);
    const got = m.fGrad(0.9, -0.3) as { value: number; gradient: { x: number; y: number } };
    // The const y of g is not differentiated in g's own gradient, but f's flows through it.
    expect(close(got.gradient.x, oracle.gradient[0], 1e-13) && close(got.gradient.y, oracle.gradient[1], 1e-13)).toBe(true);
  });
});

describe('an argument the kept callee does not use', () => {
  it('contributes nothing through an infinite adjoint of the call (∞ times a zero gradient entry)', () => {
    // The call's adjoint is 3/0 = ∞ and g ignores y: inlined, no path reaches x (0); kept, the
    // gradient form's entry for y is 0 and ∞·0 gave NaN (found by the nested-gradient property,
    // seed -492653326).
    const source = 'fn g(a, y) = a * a\nfn h(x) = 3 * g(2, 5 - x) / 0\n';
    for (const calls of ['keep', 'inline'] as const) {
      const m = instantiate(compileSync(source, { calls }).code!) as unknown as Record<string, (x: number) => { value: number; gradient: { x: number } }>;
      const r = m.hGrad(1);
      // (−0 kept: the contribution 0 goes through the negation of 5 − x.)
      expect([r.value, Math.abs(r.gradient.x)]).toEqual([Infinity, 0]);
    }
  });

  it('passed twice, its two adjoints of exactly 0 still contribute nothing through an infinite partial', () => {
    // d$t = 0 + 0 (y and z unused), then times sqrt'(0) = ∞: 0 as inlined, not NaN (found by the
    // nested-gradient property with the compiler's choice of kept calls; main gave NaN too).
    const source = 'fn g(x, y, z) = x * x * 3\nfn h(x) {\n  let t = sqrt(x)\n  return g(x, t, t)\n}\n';
    for (const calls of ['keep', 'inline'] as const) {
      const m = instantiate(compileSync(source, { calls }).code!) as unknown as Record<string, (x: number) => { value: number; gradient: { x: number } }>;
      expect(m.hGrad(0)).toEqual({ value: 0, gradient: { x: 0 } });
      expect(m.hGrad(2).gradient.x).toBe(12);
    }
  });

  it('gets an adjoint of exactly 0 that contributes nothing through an infinite partial, as inlined', () => {
    // ∂h/∂x at 0 = g_a·sqrt'(0) + g_b·1 = 0·∞ + 2·0 = 0 (README "Derivative conventions"); before,
    // a kept g gave NaN (found by the nested-gradient property: hGrad NaN where inlined code gave 0).
    const source = 'fn g(a, b) = b * b + 1\nfn h(x) = g(sqrt(x), x) * 3\n';
    for (const calls of ['keep', 'inline'] as const) {
      const r = compileSync(source, { calls });
      expect(r.diagnostics).toEqual([]);
      expect(r.code!.includes('g$gradient')).toBe(calls === 'keep');
      const m = instantiate(r.code!) as unknown as Record<string, (x: number) => { value: number; gradient: { x: number } }>;
      expect(m.hGrad(0)).toEqual({ value: 3, gradient: { x: 0 } });
      expect(m.hGrad(4).gradient.x).toBe(24);
    }
  });
});

describe('a function with state called once per index stays a call (AD7010 lifted)', () => {
  const source = `fn g(a) {
  var s = a
  for t in 0..3 {
    s = s * a + sin(s)
  }
  return s
}
fn f(x: vec[n], c) = sum(i: g(x[i] * c)) + max(i: g(x[i]))
fn h(x: vec[n]) {
  let z[i] = g(x[i])
  return sum(i: z[i] * z[i])
}
`;
  it('compiles, says why, and its gradient and Hessian-vector product match central differences', () => {
    const { m, code } = build(source, { derivatives: ['grad', 'hvp'] });
    expect(code).toContain('// g is compiled once and called, not inlined: it has state (a loop, a var or an if block)');
    const x = [0.3, -0.2, 0.5];
    const h = 1e-6;
    const r = m.fGrad(x, 0.7) as { gradient: { x: Float64Array; c: number } };
    x.forEach((_, k) => {
      const up = [...x];
      const down = [...x];
      up[k] += h;
      down[k] -= h;
      const fd = ((m.f(up, 0.7) as number) - (m.f(down, 0.7) as number)) / (2 * h);
      expect(close(r.gradient.x[k], fd, 1e-7), `∂f/∂x${k}: ${r.gradient.x[k]} vs ${fd}`).toBe(true);
    });
    const fdc = ((m.f(x, 0.7 + h) as number) - (m.f(x, 0.7 - h) as number)) / (2 * h);
    expect(close(r.gradient.c, fdc, 1e-7)).toBe(true);
    // H·e0 of h against central differences of its gradient.
    const hv = (m.hHvp({ x: [1, 0, 0] }, x) as { hvp: { x: Float64Array } }).hvp.x;
    const gradAt = (y: number[]) => (m.hGrad(y) as { gradient: { x: Float64Array } }).gradient.x;
    const [up, down] = [gradAt([x[0] + h, x[1], x[2]]), gradAt([x[0] - h, x[1], x[2]])];
    hv.forEach((v, k) => expect(Math.abs(v - (up[k] - down[k]) / (2 * h)), `(H e0)[${k}]`).toBeLessThan(1e-5 * (1 + Math.abs(v))));
  });
});

describe('structurally bounded recursion', () => {
  const source = `fn pw(x, const n) = if n > 0 then x * pw(x, n - 1) else 1
fn fact(n) = if n > 1 then n * fact(n - 1) else 1
fn taylor(x, n) = if n >= 1 then taylor(x, n - 1) + x ^ n / fact(n) else 1
fn steps(x, n) {
  var s = x
  if n >= 0.5 and x > -10 {
    s = sin(steps(s, n - 0.5)) + x
  }
  return s
}
`;
  it('compiles, says why, and its derivatives are exact', () => {
    const { m, code } = build(source);
    expect(code).toContain('// pw is compiled once and called, not inlined: it calls itself');
    // x^10 at 2: 1024, 10·2^9, 90·2^8; a non-integer n runs ⌈n⌉ levels.
    expect(m.pw(2, 10)).toBe(1024);
    expect((m.pwGrad(2, 10) as { gradient: { x: number } }).gradient.x).toBe(5120);
    expect((m.pwHvp({ x: 1 }, 2, 10) as { hvp: { x: number } }).hvp.x).toBe(23040);
    expect(m.pw(2, 2.5)).toBe(8);
    expect(m.fact(6)).toBe(720);
    // Σ x^k/k!, k ≤ 14: e^x and its derivative (e^x less the last term) to rounding.
    const t = m.taylorGrad(0.5, 14) as { value: number; gradient: { x: number } };
    expect(close(t.value, Math.exp(0.5), 1e-14)).toBe(true);
    expect(close(t.gradient.x, Math.exp(0.5) - 0.5 ** 14 / 87178291200, 1e-13)).toBe(true);
    // A recursion with state, through an if statement: against inlined code is impossible, so
    // against central differences and the jvp.
    const g = m.stepsGrad(0.3, 3) as { gradient: { x: number; n: number } };
    const fd = centralDifferences((x) => m.steps(x, 3) as number, [0.3])[0];
    expect(close(g.gradient.x, fd, 1e-7), `${g.gradient.x} vs ${fd}`).toBe(true);
    expect(close((m.stepsJvp({ x: 1 }, 0.3, 3) as { tangent: number }).tangent, g.gradient.x, 1e-12)).toBe(true);
  });

  it('stops where the rule says: NaN makes no recursion, ∞ exhausts the stack with a RangeError', () => {
    const { m } = build(source);
    expect(m.pw(2, Number.NaN)).toBe(1);
    expect(() => m.pw(2, Infinity)).toThrow(RangeError);
  });

  it('refuses, at the call, a recursion whose bound the compiler cannot check', () => {
    const refused = [
      'fn f(x, n) = if n > 0 then f(x, n + 1) else x', // grows
      'fn f(x, n) = if n > 0 then f(x, n - 0) else x', // does not decrease
      'fn f(x, n) = f(x, n - 1) + x', // no bound
      'fn f(x, n) = if n < 5 then x else f(x, n - 1)', // NaN would recurse forever
      'fn f(x, n) = if x > 0 then f(x, n - 1) else x', // the bound is on another parameter
      'fn f(x, n) = if n > 0 or x > 0 then f(x, n - 1) else x', // or: not bounded
    ];
    for (const text of refused) {
      const r = compileSync(`${text}\n`);
      expect(r.diagnostics.map((d) => [d.code, text.slice(d.span.start, d.span.end)]), text).toEqual([['AD3008', 'f']]);
    }
    // Mutual recursion stays refused (AD3002), and with every call inlined any recursion is.
    expect(compileSync('fn f(x, n) = if n > 0 then g(x, n - 1) else x\nfn g(x, n) = f(x, n)\n').diagnostics.map((d) => d.code)).toEqual(['AD3002']);
    expect(compileSync(source, { calls: 'inline' }).diagnostics.map((d) => d.code)).toEqual(['AD3002', 'AD3002', 'AD3002', 'AD3002']);
  });
});

describe('the compile cache (watch mode, plugins) with kept calls', () => {
  it('after edits, the output equals a fresh compile, and unchanged functions are reused', () => {
    const big = Array.from({ length: 30 }, (_, k) => `sin(x * ${k + 1}) * y`).join(' + ');
    const versions = [
      `fn big(x, y) = ${big}\nfn a(x) = big(x, 1) + big(2, x)\nfn b(x) = big(x, x) * 3\nfn c(x) = x * 2\n`,
      // An edit of b only: a and big are reused, b calls the same forms.
      `fn big(x, y) = ${big}\nfn a(x) = big(x, 1) + big(2, x)\nfn b(x) = big(x, x) * 4\nfn c(x) = x * 2\n`,
      // A new caller of c makes nothing else change; an edit of big changes every caller.
      `fn big(x, y) = ${big.replace('* 1)', '* 1.5)')}\nfn a(x) = big(x, 1) + big(2, x)\nfn b(x) = big(x, x) * 4\nfn c(x) = x * 2\nfn d(x) = c(x) + 1\n`,
      // b no longer calls big: big is still kept (three call sites), only b is compiled again.
      `fn big(x, y) = ${big.replace('* 1)', '* 1.5)')}\nfn a(x) = big(x, 1) + big(2, x) + big(x, 2)\nfn b(x) = x * 4\nfn c(x) = x * 2\nfn d(x) = c(x) + 1\n`,
      // An edit of c alone: every caller of big is reused, and big's forms are still emitted.
      `fn big(x, y) = ${big.replace('* 1)', '* 1.5)')}\nfn a(x) = big(x, 1) + big(2, x) + big(x, 2)\nfn b(x) = x * 4\nfn c(x) = x * 3\nfn d(x) = c(x) + 1\n`,
    ];
    for (const derivatives of [undefined, [...all]]) {
      const cache = new CompileCache();
      const reused: number[] = [];
      for (const source of versions) {
        const options = { ...(derivatives && { derivatives }) };
        const cached = compileSync(source, { ...options, cache });
        reused.push(cache.reusedLast);
        expect(cached.code).toBe(compileSync(source, options).code);
        // (Its gradient form for all parameters, or for those not constant at a call site: big$gradient$0.)
        expect(cached.code).toMatch(/big\$gradient(\$\d)*\(/);
      }
      expect(reused[0]).toBe(0);
      expect(reused[1]).toBeGreaterThanOrEqual(3);
      expect(reused[4]).toBe(3); // big, a, b

    }
  });
});

describe('the compiler chooses: small functions inlined, copies that add up kept', () => {
  it('the seed examples stay inlined (as fast as hand-written code)', () => {
    const seed = compileSync('fn g1(x, y) = sin(pi * x) + cos(pi * y)\nfn g2(x, y) = x ^ y\nfn graph(x1, x2) = g1(g2(x1, g2(x2, x1)), log(x1))\n');
    expect(seed.code).not.toContain('compiled once');
  });

  it('a function whose copies would exceed the rule is kept, and says why', () => {
    const big = Array.from({ length: 40 }, (_, k) => `sin(x * ${k + 1})`).join(' + ');
    const r = compileSync(`fn big(x) = ${big}\nfn f(x) = big(x) + big(2 * x) + big(x * x)\n`);
    expect(r.code).toMatch(new RegExp(`// big is compiled once and called, not inlined: \\d+ operations × 3 call sites\\n// \\(inlined, that would copy more than ${KEEP_WORK} operations\\)\\.`));
    expect(r.code).toContain('const big$primal = big;');
  });
});

describe('output size is linear in the source', () => {
  const doubling = (depth: number) => ['fn f0(x) = sin(x) * 1.5 + x', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = 0.5 * f${k}(x) + sin(f${k}(0.5 * x + 1))`)].join('\n') + '\n';
  const linear = (n: number) => ['fn f0(x) = sin(x)', ...Array.from({ length: n }, (_, k) => `fn f${k + 1}(x) = f${k}(x) * 1.01 + cos(x)`)].join('\n') + '\n';
  const size = (source: string) => {
    const r = compileSync(source);
    expect(r.diagnostics).toEqual([]);
    return r.code!.length;
  };

  it('the doubling chain (each function calls the previous twice): depth 10, 20, 40', () => {
    const [s10, s20, s40] = [10, 20, 40].map((d) => size(doubling(d)));
    // Linear: twice the depth, about twice the output (exponential would be 1024× and more).
    expect(s20 / s10).toBeGreaterThan(1.6);
    expect(s20 / s10).toBeLessThan(2.4);
    expect(s40 / s20).toBeGreaterThan(1.6);
    expect(s40 / s20).toBeLessThan(2.4);
  });

  it('the linear chain (each function calls the previous once): 100, 200, 400 functions', () => {
    const [s1, s2, s4] = [100, 200, 400].map((n) => size(linear(n)));
    expect(s2 / s1).toBeGreaterThan(1.6);
    expect(s2 / s1).toBeLessThan(2.4);
    expect(s4 / s2).toBeGreaterThan(1.6);
    expect(s4 / s2).toBeLessThan(2.4);
  });

  it('the doubling chain at depth 16 computes the derivative inlining could not', () => {
    const { m } = build(doubling(10), { derivatives: ['grad'] });
    const { m: inl } = build(doubling(10), { calls: 'inline', derivatives: ['grad'] });
    const got = m.f10Grad(0.3) as { gradient: { x: number } };
    const want = inl.f10Grad(0.3) as { gradient: { x: number } };
    expect(close(got.gradient.x, want.gradient.x, 1e-12)).toBe(true);
    // (Running it costs 2^depth calls, as the program says: the output is what is linear.)
    const deep = build(doubling(16), { derivatives: ['grad'] }).m;
    const r = deep.f16Grad(0.3) as { value: number; gradient: { x: number } };
    const fd = centralDifferences((x) => deep.f16(x) as number, [0.3], 1e-7)[0];
    expect(Number.isFinite(r.value)).toBe(true);
    // The derivative is small (about 2e-6): central differences agree to their own error, absolutely.
    expect(Math.abs(r.gradient.x - fd), `${r.gradient.x} vs ${fd}`).toBeLessThan(1e-8);
  });
});
