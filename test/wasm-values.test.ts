import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { compileToIr } from '../src/compile.ts';
import { DiagnosticBag } from '../src/diagnostics/diagnostic.ts';
import { LineMap } from '../src/diagnostics/span.ts';
import { emitWasmModule } from '../src/emit/wasm/emit-wasm.ts';
import { joinSections } from '../src/emit/format.ts';
import { forEachInstr } from '../src/ir/ir.ts';
import { partialSumsOrder } from './support/partial-sums.ts';
import { compare, fallbackOf, sameValue, type Module } from './support/targets.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * On the wasm target every export returns the function's value to the bit (README "WebAssembly
 * target"): f, fGrad and fGradInto (WebAssembly) and fJvp, fHvp and the fallback (the module's
 * JavaScript functions). Each copy of a loop (the value's, fGrad's forward sweep's, which also
 * saves values for the reverse sweep) sums in the order the JS target takes (four partial sums
 * for cheap straight-line bodies, index order otherwise: src/emit/wasm/select.ts's sumsInLanes),
 * whether that copy vectorises or not. Found by the wasm loop-nest fuzz search (seed 2131872777):
 * f vectorised `sum(j: sin(x[j]) * A[i, j])`, fGrad's copy (which stores sin(x[j]) at i·n + j)
 * did not, and the two values differed in the last bit.
 */

/** A deterministic stream of numbers in [-1.5, 1.5), some zeros. */
function data(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % 11 === 0 ? 0 : (s / 2 ** 32) * 3 - 1.5;
  };
}

const vec = (n: number, next: () => number) => Array.from({ length: n }, next);
const mat = (m: number, n: number, next: () => number) => Array.from({ length: m }, () => vec(n, next));

type Value = { value: number };

/** Every export's value at `args`, named; `tangent` shapes fJvp's and fHvp's direction. */
function values(wasm: Module, fallback: Module, name: string, args: unknown[], tangent: Record<string, unknown>): [string, number][] {
  const grad = wasm[`${name}Grad`](...args) as Value & { gradient: Record<string, unknown> };
  // fGradInto into arrays shaped as the gradient, full of garbage.
  const out = Object.fromEntries(
    Object.entries(grad.gradient).map(([k, g]) => [k, typeof g === 'number' ? 777 : g instanceof Float64Array ? new Float64Array(g.length).fill(777) : (g as Float64Array[]).map((r) => new Float64Array(r.length).fill(777))]),
  );
  return [
    [`${name}Grad`, grad.value],
    [`${name}GradInto`, wasm[`${name}GradInto`](out, ...args) as number],
    [`${name}Jvp`, (wasm[`${name}Jvp`](tangent, ...args) as Value).value],
    [`${name}Hvp`, (wasm[`${name}Hvp`](tangent, ...args) as Value).value],
    [`fallback ${name}`, fallback[name](...args) as number],
  ];
}

/** Compiles for wasm with fJvp and fHvp; f must be WebAssembly. */
function load(source: string, name = 'f'): { wasm: Module; fallback: Module; code: string } {
  const r = compileSync(source, { target: 'wasm', derivatives: ['grad', 'jvp', 'hvp'] });
  expect(r.diagnostics, source).toEqual([]);
  const wasm = instantiate(r.code!) as unknown as Module;
  expect(wasm[name].name, source).toBe(`${name}$wasm`);
  expect(wasm[`${name}Jvp`].name, source).toBe(`${name}Jvp`);
  return { wasm, fallback: fallbackOf(r.code!), code: r.code! };
}

/** Whether the module's bytes extract an f64x2 lane (a vectorised loop adding its lanes in index order). */
function extractsLanes(code: string): boolean {
  const bytes = Buffer.from(/\$base64\('([A-Za-z0-9+/]*)'\)/.exec(code)![1], 'base64');
  return bytes.includes(Buffer.from([0xfd, 0x21, 0x00])) && bytes.includes(Buffer.from([0xfd, 0x21, 0x01]));
}

const counterexample = 'fn f(x: vec[n], A: mat[n, n], s, const y: vec[n]) = sum(i in 0..n: x[i] * sum(j in 0..n: sin(x[j]) * A[i, j]))\n';

describe('every export of the wasm target returns the value to the bit', () => {
  it("the fuzz search's counter-example (seed 2131872777): fGrad's forward copy saves sin(x[j]) and sums as f, in index order", () => {
    const { wasm, fallback, code } = load(counterexample);
    // f's inner loop runs vectorised and adds its lanes one by one (sin is costly: index order).
    expect(extractsLanes(code)).toBe(true);
    const x = [0.0959, -0.9832, 0, -0.7875];
    const A = [[0, 0, 0, 0], [0.0337, 0.7136, 0, -0.4877], [0, 0, 0, 0], [0, 0, 0, 0]];
    const args = [x, A, 0, [0, 0, 0, 0]];
    const f = wasm.f(...args) as number;
    // Index order, written out (sin is JavaScript's Math.sin on both targets: the same bits everywhere).
    let reference = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 4; j++) inner += Math.sin(x[j]) * A[i][j];
      reference += x[i] * inner;
    }
    expect(f).toBe(reference);
    expect(f).toBe(0.24098717195176153);
    for (const [name, v] of values(wasm, fallback, 'f', args, { x: [1, 0.5, -1, 2], s: 1 })) expect(v, name).toBe(f);
  });

  /**
   * Neighbours: reductions whose gradient copy stores values for the reverse sweep (exp, log, sin,
   * cos, tanh, which fission.ts splits out), cheap ones (four partial sums), products, nested and
   * triangular sums, an offset, a check in the body (a copy that never vectorises), logsumexp in
   * one pass and in two. Each at n = 0 … 9, 11, 16, 17 (every remainder of the four lanes).
   */
  const neighbours = [
    'sum(i: x[i] * sum(j: exp(x[j]) * A[i, j]))',
    'sum(i: x[i] * sum(j: log(1 + x[j]^2) * A[i, j]))',
    'sum(i: x[i] * sum(j: tanh(x[j] * A[i, j])))',
    'sum(i: x[i] * sum(j in 0..n-1: cos(x[j + 1]) * A[i, j]))',
    'sum(i: x[i] * sum(j: x[j] * x[j] * A[i, j]))',
    'sum(i: prod(j: 1 + sin(x[j]) * A[i, j]))',
    'sum(i: sum(j: sin(x[j]) * sum(k: cos(x[k]) * A[j, k]) * A[i, j]))',
    'sum(j: sum(c in 0..j: sin(x[c]) * A[j, c])^2)',
    'sum(j: exp(sum(c in 0..j: A[j, c] * x[c])))',
    'sum(i in 0..n-1: x[i] * x[i + 1]) + sum(i: exp(x[i]) * x[i])',
    'sum(i: logsumexp(j: A[i, j] * x[j]))',
    'sum(i: x[i] * logsumexp(j: sin(A[i, j] * x[j])))',
    'sum(i in 0..n-s: x[i + s] * x[i]) + sum(i in 0..n-s: sin(x[i + s]) * x[i])',
  ];
  it.each(neighbours)('fn f(x: vec[n], A: mat[n, n], s) = %s', (body) => {
    const source = `fn f(x: vec[n], A: mat[n, n], s) = ${body}\n`;
    const { wasm, fallback } = load(source);
    const next = data(body.length);
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17]) {
      for (let round = 0; round < 2; round++) {
        const args = [vec(n, next), mat(n, n, next), Math.min(n, 1)];
        const where = `${source} at n = ${n}, round ${round}`;
        const f = wasm.f(...args) as number;
        for (const [name, v] of values(wasm, fallback, 'f', args, { x: vec(n, next), A: mat(n, n, next), s: 0 })) {
          // WebAssembly's exports: the same function, always the same bits.
          if (name === 'fGrad' || name === 'fGradInto') expect(Object.is(v, f), `${where}: ${name} ${v}, f ${f}`).toBe(true);
          // The JS functions: the same bits where the module's exp, log, tanh are Math's.
          else sameValue(f, v, 1 + Math.abs(f), `${where}: ${name}`);
        }
      }
    }
  });

  it('sums in the order written out: cheap terms in four partial sums, also in a copy that cannot vectorise (a check per iteration), costly ones in index order', () => {
    const { wasm } = load('fn f(x: vec[n], s) = sum(i in 0..n-s: x[i + s] * x[i])\n');
    const { wasm: costly } = load('fn f(x: vec[n], s) = sum(i: sin(x[i]) * x[i])\n');
    const next = data(5);
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 13, 100]) {
      // Terms of mixed magnitudes, so orders differ in the last bits.
      const x = vec(n, () => next() * 10 ** Math.floor(next() * 6));
      const terms = x.slice(1).map((v, i) => v * x[i]);
      expect(wasm.f(x, 1), `n = ${n}`).toBe(partialSumsOrder(terms));
      expect((wasm.fGrad(x, 1) as Value).value, `n = ${n}`).toBe(partialSumsOrder(terms));
      let inOrder = 0;
      for (const v of x) inOrder += Math.sin(v) * v;
      expect(costly.f(x, 0), `n = ${n}`).toBe(inOrder);
      expect((costly.fGrad(x, 0) as Value).value, `n = ${n}`).toBe(inOrder);
    }
  });

  it("the reverse sweep's accumulations into one array at several offsets (`d$x[i + 1] += x[i]; d$x[i] += x[i + 1]`): each element adds its terms in the JS target's order, so the JS target's gradient to the bit", () => {
    const sources = [
      'fn f(x: vec[n]) = sum(i in 0..n-1: x[i] * x[i + 1]) + sum(i: x[i] * x[i] * x[i])\n',
      'fn f(x: vec[n]) = sum(i in 0..n-2: x[i] * x[i + 1] * x[i + 2]) + sum(i: x[i] * x[i] * x[i])\n',
      'fn f(x: vec[n]) = sum(i in 1..n-1: x[i - 1] * x[i + 1] - x[i] * x[i]) + sum(i: x[i] * x[i] * x[i])\n',
    ];
    const next = data(9);
    for (const source of sources) {
      // Both targets with the same options (asking for fHvp changes how the gradient is grouped).
      const js = instantiate(compileSync(source, { derivatives: ['grad'] }).code!) as unknown as Module;
      const wasm = instantiate(compileSync(source, { derivatives: ['grad'], target: 'wasm' }).code!) as unknown as Module;
      expect(wasm.fGrad.name).toBe('fGrad$wasm');
      for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 40]) {
        // Mixed magnitudes: a reordered element would differ in its last bits.
        const x = vec(n, () => next() * 10 ** Math.floor(next() * 4));
        const a = (wasm.fGrad(x) as { gradient: { x: Float64Array } }).gradient.x;
        const b = (js.fGrad(x) as { gradient: { x: Float64Array } }).gradient.x;
        const wrong = [...b.keys()].filter((k) => !Object.is(a[k], b[k])).map((k) => `d$x[${k}]: wasm ${a[k]}, js ${b[k]}`);
        expect(wrong, `${source} at x = ${JSON.stringify(x)}`).toEqual([]);
      }
    }
  });

  it("a cheap logsumexp runs in the JS target's two passes, and writes the JS target's tape when its IR has one", () => {
    // The JS target's IR (compileToIr: the gradient's logsumexp keeps exp(term − maximum) on a
    // tape for the reverse sweep), selected by the wasm target: the wasm target's own IR has no
    // tape, but its selector must not ignore one (the reverse sweep reads it).
    const source = 'fn f(x: vec[n], A: mat[n, n]) = sum(i: x[i] * logsumexp(j: A[i, j] * x[j]))\n';
    const functions = compileToIr(source, new DiagnosticBag())!.functions;
    let taped = false;
    forEachInstr(functions[0].gradient!.body, (i) => (taped ||= i.kind === 'loop' && i.reduction?.tape !== undefined));
    expect(taped).toBe(true);
    const diagnostics = new DiagnosticBag();
    const code = joinSections(emitWasmModule({ filename: 'f.ad', version: '0', lines: new LineMap(source), functions }, diagnostics));
    expect(diagnostics.items).toEqual([]);
    const wasm = instantiate(code) as unknown as Module;
    const js = instantiate(compileSync(source).code!) as unknown as Module;
    expect(wasm.fGrad.name).toBe('fGrad$wasm');
    const next = data(13);
    for (const n of [0, 1, 2, 3, 5, 8, 13]) {
      const args = [vec(n, next), mat(n, n, next)];
      const [a, b] = [wasm.fGrad(...args) as Value, js.fGrad(...args) as Value];
      sameValue(a.value, b.value, 1, `n = ${n}: fGrad`);
      sameValue(wasm.f(...args) as number, b.value, 1, `n = ${n}: f`);
      compare(a, b, 1 + n, `n = ${n}`);
    }
  });

  it('on examples/gmm.ad and arrays.ad (mlp)', () => {
    const gmm = load(readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8'), 'gmm');
    const next = data(3);
    for (const [N, D, K] of [[1, 1, 1], [10, 2, 3], [7, 5, 4], [20, 10, 5]]) {
      const T = (D * (D - 1)) / 2;
      const args = [vec(K, next), mat(K, D, next), mat(K, D, next), mat(K, T, next), mat(N, D, next), 1.5, 3];
      const f = gmm.wasm.gmm(...args) as number;
      const tangent = { alpha: vec(K, next), mu: mat(K, D, next), q: mat(K, D, next), l: mat(K, T, next) };
      for (const [name, v] of values(gmm.wasm, gmm.fallback, 'gmm', args, tangent)) {
        if (name.startsWith('gmmGrad')) expect(Object.is(v, f), `gmm N=${N} D=${D} K=${K}: ${name}`).toBe(true);
        else sameValue(f, v, N * D * K, `gmm N=${N} D=${D} K=${K}: ${name}`);
      }
    }
    const arrays = load(readFileSync(new URL('../examples/arrays.ad', import.meta.url), 'utf8'), 'mlp');
    for (const [m, n, h] of [[1, 1, 1], [7, 5, 3], [30, 9, 17]]) {
      const X = mat(m, n, next);
      const y = vec(m, next);
      const args = [mat(h, n, next), vec(h, next), vec(h, next), 0.1, X, y];
      const f = arrays.wasm.mlp(...args) as number;
      for (const [name, v] of values(arrays.wasm, arrays.fallback, 'mlp', args, { W1: mat(h, n, next) })) {
        if (name.startsWith('mlpGrad')) expect(Object.is(v, f), `mlp ${m}×${n}, h = ${h}: ${name}`).toBe(true);
        else sameValue(f, v, 1 + Math.abs(f), `mlp ${m}×${n}, h = ${h}: ${name}`);
      }
    }
  });
});
