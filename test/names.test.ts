import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { globalsUsed } from '../src/emit/names.ts';
import { builtinArity, constants } from '../src/ir/builtins.ts';
import { keywords } from '../src/syntax/lexer.ts';
import { instantiate } from './support/instantiate.ts';
import type { Gradient } from './support/load.ts';
import { acceptedNames, arrayNamesProgram, checkNames, checkNameTuple, fixedNames, namesProgram } from './support/names.ts';

const nameArb = fc.constantFrom(...acceptedNames);

describe('names', () => {
  it('every accepted name works as a parameter, a let and a function name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, q, local]) => {
        fc.pre(!fnName.endsWith('Grad'));
        checkNameTuple(fnName, p, q, local);
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
        // Both targets: the wasm target's glue names its own variables ($heap, p$at) beside the user's.
        for (const target of ['js', 'wasm'] as const) {
          const result = compileSync(source, { target });
          expect(result.diagnostics, source).toEqual([]);
          const m = instantiate(result.code!) as unknown as Record<string, (x: number[]) => unknown>;
          if (target === 'wasm') expect(m[caller].name).toMatch(/\$wasm$/);
          expect([...(m[fnName]([1, 2]) as Float64Array)]).toEqual([2, 4]);
          expect(m[`${fnName}Grad`]).toBeUndefined();
          expect(m[caller]([1, 2])).toBe(9);
          expect([...((m[`${caller}Grad`]([1, 2]) as { gradient: Record<string, Float64Array> }).gradient[p])]).toEqual([2, 2]);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('every accepted name works for fVjp and fJacobian: function, parameter and local names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, q, local]) => {
        fc.pre(!fnName.endsWith('Grad'));
        const source = `fn ${fnName}(${p}: vec[n], ${q}) {\n  let ${local}[i] = ${q} * ${p}[i] * ${p}[i]\n  return ${local}\n}\n`;
        const result = compileSync(source, { derivatives: ['vjp', 'jacobian'], dts: true });
        expect(result.diagnostics, source).toEqual([]);
        const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => { value: Float64Array; gradient?: Record<string, unknown>; jacobian?: Record<string, unknown> }>;
        // ∂(q·p_i²)/∂p_i = 2 q p_i, ∂/∂q = p_i²; with u = (1, 10): uᵀJ_p = (2·3·1, 10·2·3·2), uᵀJ_q = 1 + 40.
        const r = m[`${fnName}Vjp`]([1, 10], [1, 2], 3);
        expect([...r.value]).toEqual([3, 12]);
        expect(Object.keys(r.gradient!)).toEqual([p, q]);
        expect([...(r.gradient![p] as Float64Array)]).toEqual([6, 120]);
        expect(r.gradient![q]).toBe(41);
        const J = m[`${fnName}Jacobian`]([1, 2], 3).jacobian!;
        expect((J[p] as Float64Array[]).map((row) => [...row])).toEqual([[6, 0], [0, 12]]);
        expect([...(J[q] as Float64Array)]).toEqual([1, 4]);
        expect(result.dts).toContain(`Vjp(cotangent: ArrayLike<number>`);
      }),
      { numRuns: 100 },
    );
  });

  it('every accepted name works in grad(f, p)(…) inside the language, beside a parameter named d<p> (the nested adjoint dp)', () => {
    // f = p³·Σq², caller = ∂f/∂p (p·dp, q) + Σ_i ∂f/∂q_i (p, q) · dp = 3p²dp²S + 2p³(Σq)dp, S = Σq².
    // At p = 2, dp = 0.5, q = (1, 2): 39; ∂/∂p = 6p·dp²S + 6p²(Σq)dp = 51, ∂/∂dp = 6p²dp·S + 2p³Σq = 108,
    // ∂/∂q_i = 6p²dp²q_i + 2p³dp = (14, 20).
    const check = (fnName: string, p: string, q: string, caller: string) => {
      const dp = `d${p}`;
      const source =
        `fn ${fnName}(${p}, ${q}: vec[n]) = ${p}^3 * sum(i: ${q}[i]^2)\n` +
        `fn ${caller}(${p}, ${q}: vec[n], ${dp}) = grad(${fnName}, ${p})(${p} * ${dp}, ${q}) + sum(i: grad(${fnName}, ${q})(${p}, ${q})[i]) * ${dp}\n`;
      const result = compileSync(source);
      expect(result.diagnostics, source).toEqual([]);
      const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => { value: number; gradient: Record<string, number | Float64Array> }>;
      const g = m[`${caller}Grad`](2, [1, 2], 0.5);
      expect(g.value, source).toBeCloseTo(39, 12);
      expect(Object.keys(g.gradient)).toEqual([p, q, dp]);
      expect(g.gradient[p], source).toBeCloseTo(51, 12);
      expect(g.gradient[dp], source).toBeCloseTo(108, 12);
      expect([...(g.gradient[q] as Float64Array)].map((v) => Math.round(v * 1e9) / 1e9), source).toEqual([14, 20]);
    };
    check('f', 'x', 'w', 'g');
    check('d', 'x', 'dxdx', 'dd');
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, q, caller]) => {
        const taken = [fnName, q, caller].flatMap((n) => [n, `${n}Grad`, `${n}GradInto`]);
        fc.pre(!fnName.endsWith('Grad') && !caller.endsWith('Grad') && !taken.includes(`d${p}`) && `${fnName}Grad` !== caller && `${fnName}GradInto` !== caller);
        check(fnName, p, q, caller);
      }),
      { numRuns: 150 },
    );
  });

  it('every accepted name works in jvp(f, p)(…) and jacobian(f, q)(…) inside the language, beside parameters named t<p> and t<q> (the nested tangents)', () => {
    // f = p³·Σq², caller = jvp_p(p, q; tp)·… : ∂f/∂p·tp = 3p²·S·tp (S = Σq²), plus the Jacobian of
    // r(q) = (p·q_i²)_i with respect to q (diagonal 2p·q_i) summed: 2p·Σq. At p = 2, tp = 0.5,
    // q = (1, 2): 3·4·5·0.5 + 2·2·3 = 42; ∂/∂p = 6p·S·tp + 2Σq = 36, ∂/∂tp = 3p²S = 60,
    // ∂/∂q_i = 6p²·tp·q_i + 2p = (16, 28).
    const check = (fnName: string, p: string, q: string, caller: string) => {
      const [tp, tq] = [`t${p}`, `t${q}`];
      const r = `${fnName}r`;
      const source =
        `fn ${fnName}(${p}, ${q}: vec[n]) = ${p}^3 * sum(i: ${q}[i]^2)\n` +
        `fn ${r}(${p}, ${q}: vec[n]) {\n  let ${tq}[i] = ${p} * ${q}[i]^2\n  return ${tq}\n}\n` +
        `fn ${caller}(${p}, ${q}: vec[n], ${tp}) = jvp(${fnName}, ${p})(${p}, ${q}, ${tp}) + sum(i: jacobian(${r}, ${q})(${p}, ${q})[i, i])\n`;
      const result = compileSync(source);
      expect(result.diagnostics, source).toEqual([]);
      const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => { value: number; gradient: Record<string, number | Float64Array> }>;
      const g = m[`${caller}Grad`](2, [1, 2], 0.5);
      expect(g.value, source).toBeCloseTo(42, 12);
      expect(Object.keys(g.gradient)).toEqual([p, q, tp]);
      expect(g.gradient[p], source).toBeCloseTo(36, 12);
      expect(g.gradient[tp], source).toBeCloseTo(60, 12);
      expect([...(g.gradient[q] as Float64Array)].map((v) => Math.round(v * 1e9) / 1e9), source).toEqual([16, 28]);
    };
    check('f', 'x', 'w', 'g');
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 4, maxLength: 4 }), ([fnName, p, q, caller]) => {
        const suffixes = ['Grad', 'GradInto', 'Jvp', 'Jacobian', 'Vjp', 'r'];
        const taken = [fnName, q, caller, `${fnName}r`].flatMap((n) => [n, ...suffixes.map((x) => `${n}${x}`)]);
        fc.pre(!taken.includes(`t${p}`) && !taken.includes(`t${q}`) && `t${p}` !== `t${q}` && !suffixes.some((x) => caller.endsWith(x) || fnName.endsWith(x)) && !taken.slice(0, 2 * (suffixes.length + 1)).includes(caller) && caller !== `${fnName}r`);
        check(fnName, p, q, caller);
      }),
      { numRuns: 100 },
    );
  });

  it('every accepted name works for a function kept as a call, its parameter, and a caller parameter of its name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 3, maxLength: 3 }), ([fnName, p, caller]) => {
        fc.pre(![fnName, caller].some((n) => n.endsWith('Grad') || n.endsWith('Hvp') || n.endsWith('Jvp')) && `${fnName}Grad` !== caller);
        // The caller's parameter named like the function: the calls must still reach the function.
        const source = `fn ${fnName}(${p}) = ${p} * ${p} + 1\nfn ${caller}(${fnName}, ${p}) = ${fnName} * ${fnName}(${p}) + ${fnName}(${fnName})\n`;
        const result = compileSync(source, { calls: 'keep', derivatives: ['grad', 'hvp'] });
        expect(result.diagnostics, source).toEqual([]);
        expect(result.code).toContain('$gradient(');
        const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => { value: number; gradient: Record<string, number>; hvp: Record<string, number> } | number>;
        // c(a, q) = a (q² + 1) + a² + 1: at (2, 3), 25; ∂/∂a = q² + 1 + 2a = 14, ∂/∂q = 2aq = 12.
        expect(m[caller](2, 3)).toBe(25);
        const r = m[`${caller}Hvp`]({ [fnName]: 1, [p]: 0 }, 2, 3) as { value: number; gradient: Record<string, number>; hvp: Record<string, number> };
        expect(r.gradient).toEqual({ [fnName]: 14, [p]: 12 });
        // H·(1, 0) = (∂²/∂a², ∂²/∂q∂a) = (2, 2q).
        expect(r.hvp).toEqual({ [fnName]: 2, [p]: 6 });
      }),
      { numRuns: 100 },
    );
  });

  it('every accepted name works for a kept function returning an array (its primal and adjoint forms), and for a gradient form for some parameters only', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 7, maxLength: 7 }), ([fnName, p, size, index, caller, other, y]) => {
        const exported = (n: string) => ['Grad', 'GradInto', 'Hvp', 'Jvp', 'Vjp', 'Jacobian', 'Hessian'].map((e) => `${n}${e}`);
        fc.pre(![fnName, caller, other].some((n) => exported(n).some((e) => [fnName, caller, other].includes(e))));
        // fnName returns 2·p (a vector); other(x, y) = x·y is called with a constant first argument.
        const source =
          `fn ${fnName}(${p}: vec[${size}]) {\n  let ${y}[${index}] = ${p}[${index}] * 2 + 0 * ${size}\n  return ${y}\n}\n` +
          `fn ${other}(${p}, ${size}) = ${p} * ${size} + sin(${size})\n` +
          `fn ${caller}(${fnName}: vec[${p}]) = sum(${index}: ${fnName}(${fnName})[${index}] * ${fnName}[${index}]) + ${other}(3, ${fnName}[0])\n`;
        const result = compileSync(source, { calls: 'keep', derivatives: ['grad'] });
        expect(result.diagnostics, source).toEqual([]);
        expect(result.code).toContain('$adjoint(');
        expect(result.code).toContain('$gradient$1(');
        const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => any>;
        // c(a) = Σ 2a_i² + 3a_0 + sin(a_0): at [1, 2], 10 + 3 + sin 1; ∂/∂a = 4a + (3 + cos a_0, 0).
        expect(m[caller]([1, 2])).toBe(10 + 3 + Math.sin(1));
        expect([...m[`${caller}Grad`]([1, 2]).gradient[fnName]]).toEqual([4 + 3 + Math.cos(1), 8]);
      }),
      { numRuns: 60 },
    );
  });

  it('every accepted name works for a kept function with an array parameter: the function, the array, its size, an index and a caller parameter of its name', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { minLength: 6, maxLength: 6 }), ([fnName, p, q, size, index, caller]) => {
        fc.pre(![fnName, caller].some((n) => n.endsWith('Grad') || n.endsWith('Hvp') || n.endsWith('Jvp')) && `${fnName}Grad` !== caller && `${fnName}GradInto` !== caller);
        // The caller's array parameter is named like the function, and passed to it (flat, then its size).
        const source = `fn ${fnName}(${p}: vec[${size}], ${q}) = sum(${index}: ${p}[${index}] * ${q}) + ${size}\nfn ${caller}(${fnName}: vec[${p}], ${q}) = ${fnName}(${fnName}, ${q}) * 2\n`;
        const result = compileSync(source, { calls: 'keep', derivatives: ['grad', 'hvp'] });
        expect(result.diagnostics, source).toEqual([]);
        expect(result.code).toContain('$gradient(');
        const m = instantiate(result.code!) as unknown as Record<string, (...a: unknown[]) => any>;
        // c(a, q) = 2 (q Σa + len): at ([1, 2, 3], 0.5), 2 (3 + 3) = 12; ∂/∂a = 2q = 1 each, ∂/∂q = 2 Σa = 12.
        expect(m[caller]([1, 2, 3], 0.5)).toBe(12);
        const r = m[`${caller}Hvp`]({ [fnName]: [0, 0, 0], [q]: 1 }, [1, 2, 3], 0.5);
        expect([...r.gradient[fnName]]).toEqual([1, 1, 1]);
        expect(r.gradient[q]).toBe(12);
        // H·(0, 1) = (∂²/∂q∂a, ∂²/∂q²) = (2, 2, 2; 0).
        expect([...r.hvp[fnName]]).toEqual([2, 2, 2]);
        expect(r.hvp[q]).toBe(0);
      }),
      { numRuns: 100 },
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

/**
 * Every global identifier JavaScript defines, as a function, a matrix and a scalar parameter, a
 * let, an array let, a var, a loop index, a size, an array variable (also as loop state) and an array made
 * in a loop (test/support/names.ts). The globals generated code reads are
 * checked every run; a sample of the others per run (all of them in `npm run fuzz`).
 */
describe('global names', () => {
  const usable = acceptedNames.filter((n) => !fixedNames.has(n) && !n.endsWith('Grad'));

  it('the globals generated code reads work in every role, with and without checkArgs', () => {
    for (const name of globalsUsed) {
      checkNames(name, true);
      checkNames(name, false);
    }
  });

  it('any global or tricky name works in every role (a sample per run)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...usable), fc.boolean(), (name, checkArgs) => {
        checkNames(name, checkArgs);
      }),
      { numRuns: 25 },
    );
  });

  it('the declarations are valid TypeScript for every one of these names (tsc --strict)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adc-names-dts-'));
    try {
      // One module: each name as a function, and as a vector, matrix and scalar parameter of others.
      const source = usable
        .map((name, i) => `fn ${name}(w: vec[n], b) = b\nfn v${i}(${name}: vec[n], b) = b\nfn m${i}(${name}: mat[r, c], b) = b\nfn s${i}(w: vec[n], ${name}) = ${name}\nfn r${i}(${name}) = [${name}, ${name}]\n`)
        .join('');
      const result = compileSync(source, { dts: true });
      expect(result.diagnostics).toEqual([]);
      writeFileSync(join(dir, 'names.d.ts'), result.dts!);
      const compilerOptions = { noEmit: true, strict: true, skipLibCheck: false, types: [], lib: ['es2022'], module: 'nodenext' };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['names.d.ts'] }));
      const tsc = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules', 'typescript', 'bin', 'tsc');
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generated code reads no global but the ones names.ts lists (run in a realm with only those)', () => {
    const big = ['fn big(x, y) {', '  let v0 = x * y'];
    for (let i = 1; i < 700; i++) big.push(`  let v${i} = sin(v${i - 1}) * 0.5 + y`);
    big.push('  return v699', '}');
    const programs = [
      namesProgram('q'),
      arrayNamesProgram('q'),
      'fn chk(x: vec[n], const y: vec[m]) = sum(i in 0..m: x[i] * y[i]) + logsumexp(i: x[i]) + prod(i: x[i]) + min(i: x[i])\n',
      'fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) = sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2) / m + norm(w) + dot(w, w)\n',
      'fn s(x, y) = if x > y then sqrt(x) ^ y else atan2(x, y) + hypot(x, y) + max(x, y) + abs(x) + floor(x) + sign(y)\n',
      big.join('\n'),
      // Calls that stay calls (the rule keeps kb: large, called three times): its internal forms.
      `fn kb(x, y) = ${Array.from({ length: 40 }, (_, k) => `sin(x * ${k + 1}) * y`).join(' + ')}\nfn kc(x) = kb(x, 1) + kb(2, x) + kb(x, x)\n`,
    ];
    // Recursion over a size (a kept call with an array, whose forms allocate their own arrays);
    // JavaScript only: the wasm target leaves a function calling a kept call in JavaScript.
    const recursion = readFileSync(new URL('../examples/recursion.ad', import.meta.url), 'utf8');
    // Both targets: the wasm target's glue (instantiation, memory, errors) reads the same globals.
    for (const [checkArgs, target] of [[false, 'js'], [true, 'js'], [false, 'wasm'], [true, 'wasm']] as const) {
      for (const source of target === 'js' ? [...programs, recursion] : programs) {
        const result = compileSync(source, { checkArgs, target });
        expect(result.diagnostics, source).toEqual([]);
        const context = createContext({});
        runInContext(`const g = globalThis; for (const name of Object.getOwnPropertyNames(g)) if (!${JSON.stringify(globalsUsed)}.includes(name)) delete g[name];`, context);
        expect(runInContext('Object.getOwnPropertyNames(this).sort()', context)).toEqual([...globalsUsed].sort());
        const match = /export \{([^}]*)\};\s*$/.exec(result.code!)!;
        const entries = match[1].split(',').filter((spec) => spec.trim() !== '').map((spec) => spec.trim().split(/\s+as\s+/));
        const body = `${result.code!.slice(0, match.index)}\n({ ${entries.map(([local, exported = local]) => `${JSON.stringify(exported)}: ${local}`).join(', ')} })`;
        const m = runInContext(`'use strict';\n${body}`, context) as Record<string, (...args: unknown[]) => unknown>;
        // In that realm the WebAssembly module instantiates: functions with arrays do not fall back to JavaScript.
        if (target === 'wasm') for (const f of result.functions) if (f.params.some((p) => p.type)) expect(m[f.name].name).toBe(`${f.name}$wasm`);
        const calls: unknown[][] = [
          [[1, 2], [0.5, 2, 3]],
          [0.5, 2],
          [[0.5, 2], 1, [[1, 2], [3, 4]], [1, 2]],
          [{ w: [0, 0], b: 0, x: [0, 0], q: [0, 0] }, [[1, 2], [3, 4]], 2],
          ['one', undefined],
          [[1, 2, 3], 'two'],
          [[[1, 2], [3]], 1],
        ];
        for (const [name, f] of Object.entries(m)) {
          for (const args of calls) {
            try {
              f(...args);
            } catch (error) {
              // A wrong argument is reported (RangeError, TypeError), never by a missing global.
              expect((error as Error).name, `${name}(${JSON.stringify(args)}): ${String(error)}`).toMatch(/^(RangeError|TypeError)$/);
            }
          }
        }
      }
    }
  });
});
