/**
 * Does V8 optimise big generated gradients? Run by bench/run.ts as
 *   node --allow-natives-syntax --import tsx bench/v8-opt.ts
 * For let chains of growing length (ADC_V8_SIZES, default 200,450,500,1000; bench/run.ts reports
 * the 10,000-statement chain itself) it warms the compiled gradient up, then reads its tier (or
 * that of each part, when the compiler splits the body) and times it per statement. Prints a
 * summary, then one line `JSON: [...]` for run.ts.
 *
 * `--force N` instead forces TurboFan on the N-statement gradient (or on its first part) and
 * reports how long that compilation takes; add node's --max-optimized-bytecode-size=100000000 to
 * lift V8's 60 KB limit.
 */
import { compileSync } from '../src/index.ts';
import { chainSource } from './chain.ts';
import { describeStatus, describeTier, exposeParts, hasNatives, isOptimized, optimizeOnNextCall, partsOf, prepareForOptimization } from './v8.ts';

type Fn = (...args: number[]) => unknown;
if (!hasNatives) {
  console.error('bench/v8-opt.ts needs node --allow-natives-syntax');
  process.exit(2);
}

interface Loaded {
  readonly value: Fn;
  readonly grad: Fn;
  readonly valueParts: Fn[];
  readonly gradParts: Fn[];
}

async function load(n: number): Promise<Loaded> {
  const compiled = compileSync(chainSource(n)).code;
  if (!compiled) throw new Error(`chain ${n} did not compile`);
  const { code, parts } = exposeParts(compiled);
  const mod = await import(`data:text/javascript,${encodeURIComponent(code)}`);
  return { value: mod.chain, grad: mod.chainGrad, valueParts: partsOf(mod, parts, 'chain') as Fn[], gradParts: partsOf(mod, parts, 'chainGrad') as Fn[] };
}

let sink = 0;
const call = (f: Fn, i: number) => {
  const r = f(0.7 + (i & 15) * 1e-4, 0.9, 0.3) as number | { value: number };
  sink += typeof r === 'number' ? r : r.value;
};

/** Calls f for `ms` milliseconds (at least `min` times); returns the median of 7 timed rounds, ns per call. */
function warmAndTime(f: Fn, ms: number, min: number): number {
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < ms || i < min) call(f, i++);
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    const reps = Math.max(1, Math.min(200, i >> 3));
    const t = performance.now();
    for (let k = 0; k < reps; k++) call(f, k);
    times.push(((performance.now() - t) * 1e6) / reps);
  }
  return times.sort((a, b) => a - b)[3]!;
}

const forceIndex = process.argv.indexOf('--force');
if (forceIndex >= 0) {
  const n = Number(process.argv[forceIndex + 1]);
  const { grad, gradParts } = await load(n);
  const target = gradParts[0] ?? grad;
  prepareForOptimization!(target);
  const before = warmAndTime(grad, 300, 20);
  optimizeOnNextCall!(target);
  const t = performance.now();
  call(grad, 0);
  const compileMs = performance.now() - t;
  const after = warmAndTime(grad, 300, 20);
  console.log(
    `forced TurboFan on the ${n}-statement gradient${gradParts.length ? ` (first of ${gradParts.length} parts)` : ''}: the optimising call took ${compileMs.toFixed(0)} ms; ` +
      `${(before / n).toFixed(1)} → ${(after / n).toFixed(1)} ns per statement; now ${describeStatus(target)}`,
  );
  console.log('JSON: ' + JSON.stringify({ n, compileMs, nsPerStatementBefore: before / n, nsPerStatementAfter: after / n, status: describeStatus(target) }));
  process.exit(0);
}

const sizes = (process.env.ADC_V8_SIZES ?? '200,450,500,1000').split(',').map(Number);
const rows = [];
for (const n of sizes) {
  const { value, grad, valueParts, gradParts } = await load(n);
  // V8 marks a function hot after a budget of executed bytecode; a split body is optimised part
  // by part, each once it is hot: keep calling until every part is optimised (or 20 s).
  const t0 = performance.now();
  const firstNs = warmAndTime(grad, 300, 20);
  while (gradParts.length > 0 && !gradParts.every(isOptimized) && performance.now() - t0 < 20_000) warmAndTime(grad, 300, 1);
  const warmMs = performance.now() - t0;
  const ns = warmAndTime(grad, 300, 20);
  warmAndTime(value, 300, 50);
  const t1 = performance.now();
  while (valueParts.length > 0 && !valueParts.every(isOptimized) && performance.now() - t1 < 10_000) warmAndTime(value, 300, 1);
  const row = {
    n,
    gradStatus: describeTier(grad, gradParts),
    valueStatus: describeTier(value, valueParts),
    gradNsPerStatement: ns / n,
    gradFirstNsPerStatement: firstNs / n,
    gradWarmMs: warmMs,
  };
  rows.push(row);
  console.log(
    `  ${String(n).padStart(6)} statements: gradient ${row.gradStatus.padEnd(28)} ${row.gradNsPerStatement.toFixed(1).padStart(6)} ns/statement ` +
      `(first 0.3 s: ${row.gradFirstNsPerStatement.toFixed(1)}; warm after ${(warmMs / 1000).toFixed(1)} s); value ${row.valueStatus}`,
  );
}
if (!Number.isFinite(sink)) throw new Error('non-finite results');
console.log('JSON: ' + JSON.stringify(rows));
