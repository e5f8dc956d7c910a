/**
 * Comparing the JS and the wasm targets (test/wasm.test.ts, test/fuzz/wasm.fuzz.ts): the same
 * results within 1e-14 relative, or the same error, message included.
 */
import { expect } from 'vitest';
import { compileSync, type CompileOptions } from '../../src/index.ts';
import { buildArgs, type ArrayCase } from './array-programs.ts';
import { instantiate } from './instantiate.ts';
import { loadSync } from '../../src/explain/generated.ts';

export type Module = Record<string, (...args: unknown[]) => unknown>;

export function both(source: string, options: CompileOptions = {}): { js: Module; wasm: Module; code: string } {
  const js = compileSync(source, options);
  const wasm = compileSync(source, { ...options, target: 'wasm' });
  expect(js.diagnostics, source).toEqual([]);
  expect(wasm.diagnostics, source).toEqual([]);
  return { js: instantiate(js.code!) as unknown as Module, wasm: instantiate(wasm.code!) as unknown as Module, code: wasm.code! };
}

/**
 * Within 1e-14 relative, against `scale` (the size of the terms a result is summed from: SIMD sums
 * add their terms in another order, so a sum that cancels can differ by rounding relative to its
 * terms, not to itself). Non-finite values must be identical.
 */
export function agree(a: number, b: number, scale: number, where: string): void {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return;
  if (!Number.isFinite(a) || !Number.isFinite(b)) expect.fail(`${where}: wasm ${a}, js ${b}`);
  const tol = 1e-14 * Math.max(Math.abs(a), Math.abs(b), scale);
  if (!(Math.abs(a - b) <= tol)) expect.fail(`${where}: wasm ${a}, js ${b} (differ by ${Math.abs(a - b)}, tolerance ${tol})`);
}

/** Compares two results (numbers, arrays, rows, { value, gradient }) entry by entry. */
export function compare(a: unknown, b: unknown, scale: number, where: string): void {
  if (typeof b === 'number') {
    expect(typeof a, where).toBe('number');
    return agree(a as number, b, scale, where);
  }
  if (b instanceof Float64Array) {
    expect(a, where).toBeInstanceOf(Float64Array);
    expect((a as Float64Array).length, where).toBe(b.length);
    return b.forEach((x, i) => agree((a as Float64Array)[i], x, scale, `${where}[${i}]`));
  }
  if (Array.isArray(b)) {
    expect(Array.isArray(a), where).toBe(true);
    expect((a as unknown[]).length, where).toBe(b.length);
    return b.forEach((x, i) => compare((a as unknown[])[i], x, scale, `${where}[${i}]`));
  }
  const keys = Object.keys(b as object);
  expect(Object.keys(a as object), where).toEqual(keys);
  for (const k of keys) compare((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], scale, `${where}.${k}`);
}

/** Calls f on both modules: the same result (within rounding) or the same error, message included. */
export function callBoth(js: Module, wasm: Module, name: string, args: readonly unknown[], scale: number, where: string): void {
  let expected: unknown;
  let error: unknown;
  try {
    expected = js[name](...args);
  } catch (e) {
    error = e;
  }
  if (error !== undefined) {
    expect(() => wasm[name](...args), `${where}: ${name} throws on both targets`).toThrow(error as Error);
    expect(() => wasm[name](...args)).toThrow((error as Error).constructor as ErrorConstructor);
    return;
  }
  compare(wasm[name](...args), expected, scale, `${where}: ${name}`);
}

/** fGradInto on both, into fresh out objects shaped as the gradient. */
export function intoBoth(js: Module, wasm: Module, name: string, args: readonly unknown[], scale: number, where: string): void {
  let gradient: Record<string, unknown>;
  try {
    gradient = (js[`${name}Grad`](...args) as { gradient: Record<string, unknown> }).gradient;
  } catch {
    return;
  }
  const shaped = () => Object.fromEntries(Object.entries(gradient).map(([k, g]) => [k, typeof g === 'number' ? 777 : g instanceof Float64Array ? new Float64Array(g.length).fill(777) : (g as Float64Array[]).map((r) => new Float64Array(r.length).fill(777))]));
  const [outJs, outWasm] = [shaped(), shaped()];
  const value = js[`${name}GradInto`](outJs, ...args) as number;
  agree(wasm[`${name}GradInto`](outWasm, ...args) as number, value, scale, `${where}: ${name}GradInto value`);
  compare(outWasm, outJs, scale, `${where}: ${name}GradInto out`);
}

/**
 * A wasm module's own JavaScript functions: the fallback its exports become where WebAssembly is
 * missing (the code run with `WebAssembly` undefined). They are printed from the same IR as the
 * module's fJvp, fHvp, …, so their values are those functions' values.
 */
export function fallbackOf(code: string): Module {
  return loadSync(`const WebAssembly = undefined;\n${code}`) as Module;
}

/**
 * Where the module's math routines (exp, log, tanh, …: src/emit/wasm/math.ts) give Math's bits
 * (x86-64, README "WebAssembly target"): there a wasm value must be its JS functions' to the bit.
 */
export const exactMath = process.arch === 'x64';

/**
 * The wasm target's value is its module's JS functions' value to the bit (every sum in the same
 * order: Selector.sumsInLanes), so f, fGrad, fGradInto and the JS fJvp, fHvp, … all return it; off
 * x86-64 (exactMath), within the 1 ulp per routine asked there.
 */
export function sameValue(wasmValue: number, jsValue: number, scale: number, where: string): void {
  if (exactMath) expect(Object.is(wasmValue, jsValue), `${where}: wasm ${wasmValue}, the module's JS function ${jsValue}`).toBe(true);
  else agree(wasmValue, jsValue, scale, where);
}

/** One random array program (test/support/array-programs.ts) on both targets, at its sizes: f, fGrad and fGradInto. */
export function checkTargetsAgree({ program, configs, data }: ArrayCase): void {
  const { js, wasm, code } = both(program.source);
  const fallback = fallbackOf(code);
  for (const sizes of configs) {
    const args = buildArgs(program.params, sizes, data);
    const where = `${program.source}\nat ${JSON.stringify(args, (_, v) => (v instanceof Float64Array ? [...v] : v))}`;
    const scale = program.bound;
    callBoth(js, wasm, 'f', args, scale, where);
    callBoth(js, wasm, 'fGrad', args, scale, where);
    intoBoth(js, wasm, 'f', args, scale, where);
    // The value: the module's JS f's bits (what its fJvp and fHvp return), not only within rounding.
    let value: unknown;
    try {
      value = fallback.f(...args);
    } catch {
      continue;
    }
    if (typeof value === 'number') sameValue(wasm.f(...args) as number, value, scale, `${where}: f`);
  }
}
