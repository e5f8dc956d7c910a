/**
 * Output size and compile time of call chains (issue #15), part of `npm run bench -- --only scale`:
 * the doubling chain (each function calls the previous one twice) at depth 10, 20 and 200, and
 * linear chains (each function calls the previous once) of 100, 1,000 and 10,000 functions.
 * Inlined, the first doubles its output at every level and the second grows with the square of
 * its length; with calls that stay calls both are linear in the source.
 */
import { compileSync } from '../src/index.ts';

export const doublingChain = (depth: number): string =>
  ['fn f0(x) = sin(x) * 1.5 + x', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = 0.5 * f${k}(x) + sin(f${k}(0.5 * x + 1))`)].join('\n') + '\n';
export const linearChain = (n: number): string =>
  ['fn f0(x) = sin(x)', ...Array.from({ length: n }, (_, k) => `fn f${k + 1}(x) = f${k}(x) * 1.01 + cos(x)`)].join('\n') + '\n';

export interface ChainRow {
  readonly chain: string;
  readonly functions: number;
  readonly sourceBytes: number;
  readonly outputBytes: number;
  /** Functions compiled once and called (the others are inlined). */
  readonly kept: number;
  readonly wallMs: number;
}

export function callChains(log: (line?: string) => void, doubling: readonly number[] = [10, 20, 200], linear: readonly number[] = [100, 1_000, 10_000]): ChainRow[] {
  compileSync(linearChain(50)); // warm
  const rows: ChainRow[] = [];
  const measure = (chain: string, functions: number, source: string) => {
    const t = performance.now();
    const r = compileSync(source);
    const wallMs = performance.now() - t;
    if (r.code === undefined) throw new Error(`the ${chain} of ${functions} does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
    const kept = (r.code.match(/^\/\/ f\d+ is compiled once and called/gm) ?? []).length;
    rows.push({ chain, functions, sourceBytes: source.length, outputBytes: r.code.length, kept, wallMs });
    log(`call chains: ${chain}, ${functions} functions: ${(r.code.length / 1e3).toFixed(0)} kB in ${wallMs.toFixed(0)} ms (${kept} kept as calls)`);
  };
  for (const d of doubling) measure('doubling', d + 1, doublingChain(d));
  for (const n of linear) measure('linear', n + 1, linearChain(n));
  return rows;
}

export const chainHead = ['chain', 'functions', 'source', 'output', 'output / source', 'kept as calls', 'compileSync (wall)', 'ms per function'];
export const chainBody = (rows: readonly ChainRow[]): string[][] =>
  rows.map((r) => [
    r.chain === 'doubling' ? `doubling, depth ${r.functions - 1}` : 'linear',
    r.functions.toLocaleString('en-US'),
    `${(r.sourceBytes / 1e3).toFixed(1)} kB`,
    `${(r.outputBytes / 1e3).toFixed(0)} kB`,
    `${(r.outputBytes / r.sourceBytes).toFixed(1)}×`,
    r.kept.toLocaleString('en-US'),
    `${r.wallMs.toFixed(0)} ms`,
    (r.wallMs / r.functions).toFixed(2),
  ]);
