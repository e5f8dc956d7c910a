/**
 * Output size and compile time of call chains (issue #15), part of `npm run bench -- --only scale`:
 * the doubling chain (each function calls the previous one twice) at depth 10, 20 and 200, and
 * linear chains (each function calls the previous once) of 100, 1,000 and 10,000 functions.
 * Inlined, the first doubles its output at every level and the second grows with the square of
 * its length; with calls that stay calls both are linear in the source. The same two chains of
 * functions returning vectors (kept as calls by the same rule) at depth 10, 20, 200 and of 100 and
 * 1,000 functions.
 */
import { compileSync } from '../src/index.ts';
import { loadSync } from '../src/explain/generated.ts';
import type { CallPolicy } from '../src/ir/call-graph.ts';

export const doublingChain = (depth: number): string =>
  ['fn f0(x) = sin(x) * 1.5 + x', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = 0.5 * f${k}(x) + sin(f${k}(0.5 * x + 1))`)].join('\n') + '\n';
export const linearChain = (n: number): string =>
  ['fn f0(x) = sin(x)', ...Array.from({ length: n }, (_, k) => `fn f${k + 1}(x) = f${k}(x) * 1.01 + cos(x)`)].join('\n') + '\n';

/**
 * The same two chains of functions returning arrays (vectors): each level makes a vector from the
 * previous level's, called twice (on x and on an array let of x) or once. `top` sums the last
 * level, so that fGrad reaches through every level.
 */
export const arrayDoublingChain = (depth: number): string =>
  [
    'fn r0(x: vec[n]) {\n  let y[i] = sin(x[i]) * 1.5 + x[i]\n  return y\n}',
    ...Array.from({ length: depth }, (_, k) => `fn r${k + 1}(x: vec[n]) {\n  let z[i] = 0.5 * x[i] + 1\n  let y[i] = 0.5 * r${k}(x)[i] + sin(r${k}(z)[i])\n  return y\n}`),
    `fn top(x: vec[n]) = sum(i: r${depth}(x)[i])`,
  ].join('\n') + '\n';
export const arrayLinearChain = (n: number): string =>
  [
    'fn r0(x: vec[n]) {\n  let y[i] = sin(x[i])\n  return y\n}',
    ...Array.from({ length: n }, (_, k) => `fn r${k + 1}(x: vec[n]) {\n  let y[i] = r${k}(x)[i] * 1.01 + cos(x[i])\n  return y\n}`),
    `fn top(x: vec[n]) = sum(i: r${n}(x)[i])`,
  ].join('\n') + '\n';

export interface ChainRow {
  readonly chain: string;
  readonly functions: number;
  readonly sourceBytes: number;
  readonly outputBytes: number;
  /** Functions compiled once and called (the others are inlined). */
  readonly kept: number;
  readonly wallMs: number;
}

export function callChains(
  log: (line?: string) => void,
  doubling: readonly number[] = [10, 20, 200],
  linear: readonly number[] = [100, 1_000, 10_000],
  arrayDoubling: readonly number[] = [10, 20, 200],
  arrayLinear: readonly number[] = [100, 1_000],
): ChainRow[] {
  compileSync(linearChain(50)); // warm
  const rows: ChainRow[] = [];
  const measure = (chain: string, functions: number, source: string) => {
    const t = performance.now();
    const r = compileSync(source);
    const wallMs = performance.now() - t;
    if (r.code === undefined) throw new Error(`the ${chain} of ${functions} does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    const kept = (r.code.match(/^\/\/ [fr]\d+ is compiled once and called/gm) ?? []).length;
    rows.push({ chain, functions, sourceBytes: source.length, outputBytes: r.code.length, kept, wallMs });
    log(`call chains: ${chain}, ${functions} functions: ${(r.code.length / 1e3).toFixed(0)} kB in ${wallMs.toFixed(0)} ms (${kept} kept as calls)`);
  };
  for (const d of doubling) measure('doubling', d + 1, doublingChain(d));
  for (const n of linear) measure('linear', n + 1, linearChain(n));
  // (The array chains have one more function, top, which sums the last level.)
  for (const d of arrayDoubling) measure('array doubling', d + 2, arrayDoublingChain(d));
  for (const n of arrayLinear) measure('array linear', n + 2, arrayLinearChain(n));
  return rows;
}

export const chainHead = ['chain', 'functions', 'source', 'output', 'output / source', 'kept as calls', 'compileSync (wall)', 'ms per function'];
export const chainBody = (rows: readonly ChainRow[]): string[][] =>
  rows.map((r) => [
    r.chain === 'doubling' ? `doubling, depth ${r.functions - 1}` : r.chain === 'array doubling' ? `doubling of arrays, depth ${r.functions - 2}` : r.chain === 'array linear' ? 'linear, of arrays' : 'linear',
    r.functions.toLocaleString('en-US'),
    `${(r.sourceBytes / 1e3).toFixed(1)} kB`,
    `${(r.outputBytes / 1e3).toFixed(0)} kB`,
    `${(r.outputBytes / r.sourceBytes).toFixed(1)}×`,
    r.kept.toLocaleString('en-US'),
    `${r.wallMs.toFixed(0)} ms`,
    (r.wallMs / r.functions).toFixed(2),
  ]);

export interface ChainSpeedRow {
  readonly depth: number;
  readonly calls: CallPolicy;
  /** Median ns per call of the value and of fGrad, measured interleaved in one process. */
  readonly valueNs: number;
  readonly gradNs: number;
}

/**
 * The run time of the doubling chain's value and gradient (fGrad), with every call kept, with the
 * compiler's choice and with every call inlined: the gradient's cost relative to the value's is
 * what a kept call's adjoint adds. Value and gradient batches alternate (medians of `rounds`), so
 * the machine's load affects both alike.
 */
export function chainSpeed(log: (line?: string) => void, depth = 10, rounds = 15): ChainSpeedRow[] {
  const rows: ChainSpeedRow[] = [];
  const source = doublingChain(depth);
  const top = `f${depth}`;
  for (const calls of ['keep', 'auto', 'inline'] as const) {
    const m = loadSync(compileSync(source, { calls }).code!) as Record<string, (x: number) => number & { value: number; gradient: { x: number } }>;
    const value = m[top]!;
    const grad = m[`${top}Grad`]!;
    const xs = Array.from({ length: 16 }, (_, i) => 0.1 + i / 16);
    const time = (f: (x: number) => number, reps: number) => {
      const t = performance.now();
      let s = 0;
      for (let r = 0; r < reps; r++) for (const x of xs) s += f(x);
      const ns = ((performance.now() - t) * 1e6) / (reps * xs.length);
      if (!Number.isFinite(s)) throw new Error('not finite');
      return ns;
    };
    const v = (x: number) => value(x);
    const g = (x: number) => grad(x).gradient.x;
    // Calibrate to about 20 ms a batch, then warm both up (V8 optimises the large inlined ones late).
    let reps = 1;
    while (time(g, reps) * reps * xs.length < 20e6) reps *= 2;
    for (let r = 0; r < 5; r++) time(v, reps * 4), time(g, reps);
    const vs: number[] = [];
    const gs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      vs.push(time(v, reps));
      gs.push(time(g, reps));
    }
    const median = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!;
    const row = { depth, calls, valueNs: median(vs), gradNs: median(gs) };
    rows.push(row);
    log(`call chains: doubling depth ${depth}, calls ${calls}: value ${(row.valueNs / 1e3).toFixed(2)} µs, gradient ${(row.gradNs / 1e3).toFixed(2)} µs (${(row.gradNs / row.valueNs).toFixed(2)}×)`);
  }
  return rows;
}

export const chainSpeedHead = ['doubling chain', 'calls', 'value', 'fGrad', 'fGrad / value'];
export const chainSpeedBody = (rows: readonly ChainSpeedRow[]): string[][] =>
  rows.map((r) => [`depth ${r.depth}`, r.calls, `${(r.valueNs / 1e3).toFixed(2)} µs`, `${(r.gradNs / 1e3).toFixed(2)} µs`, `${(r.gradNs / r.valueNs).toFixed(2)}×`]);
