/**
 * Timing helpers. A compiled gradient takes tens of nanoseconds, below what one timer read can
 * resolve, so every task runs a batch: `reps` passes over a small array of slightly varied inputs,
 * summing each result so that nothing is dead code. The batch size is calibrated so that one
 * sample takes at least `targetMs`. The reported time is tinybench's fastest sample divided by the
 * calls in it: on a shared machine, other load only ever adds time, so the fastest sample is the
 * least disturbed one (the median is kept too).
 */
import { Bench } from 'tinybench';
import type { Timing } from './timing.ts';

/** Results flow here, so V8 cannot drop the work; checked to be finite at the end. */
export let sink = 0;
export const addToSink = (x: number): void => {
  sink += x;
};

export type Batch = (reps: number) => number;

/**
 * A batch over `f(A0[i], A1[i], …)` for i over the inputs, built with `new Function` so each task
 * gets its own call site (monomorphic, its own feedback) with the arguments passed positionally,
 * exactly as user code would call the function. `keys` names the gradient entries to sum; without
 * them `f` returns a number.
 */
export function makeBatch(tag: string, f: Function, inputs: readonly Float64Array[], keys?: readonly string[]): Batch {
  const n = inputs[0]!.length;
  const args = inputs.map((_, j) => `A${j}[i]`).join(', ');
  // The per-call terms are summed on their own and then added once to s, so the loop-carried
  // dependency is one addition per call rather than one per gradient entry.
  const sum = keys ? `(o.value + ${keys.map((k) => `o.gradient[${JSON.stringify(k)}]`).join(' + ')})` : 'o';
  const body = `// batch: ${tag}
return function batch(reps) {
  let s = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < ${n}; i++) {
      const o = f(${args});
      s += ${sum};
    }
  }
  return s;
};`;
  return new Function('f', ...inputs.map((_, j) => `A${j}`), body)(f, ...inputs) as Batch;
}

export type { Timing } from './timing.ts';

export interface TimeOptions {
  /** Calls one `batch(1)` makes. */
  readonly callsPerRep: number;
  /** Minimum duration of one sample (the batch is doubled until it takes this long). */
  readonly targetMs?: number;
  /** tinybench's time budget and minimum sample count. */
  readonly time?: number;
  readonly iterations?: number;
  /** For slow tasks: the calibration run is the warm-up. */
  readonly slow?: boolean;
  /**
   * For functions V8 takes long to optimise (a big generated module is many functions, each
   * optimised only once it is hot): before timing, call in windows of `windowMs` until `ready()`
   * (or, without it, until three windows in a row bring no 10% improvement on the best so far),
   * or `maxMs` have passed.
   */
  readonly settle?: { readonly windowMs: number; readonly maxMs: number; readonly ready?: () => boolean };
}

function settle(batch: Batch, callsPerRep: number, windowMs: number, maxMs: number, ready?: () => boolean): { firstWindowNs: number; settleMs: number } {
  const start = performance.now();
  let first = 0;
  let best = Infinity;
  let stale = 0;
  for (;;) {
    const t0 = performance.now();
    let calls = 0;
    while (performance.now() - t0 < windowMs) {
      addToSink(batch(1));
      calls += callsPerRep;
    }
    const ns = ((performance.now() - t0) * 1e6) / calls;
    if (first === 0) first = ns;
    stale = ns > 0.9 * best ? stale + 1 : 0;
    best = Math.min(best, ns);
    if ((ready ? ready() : stale >= 3) || performance.now() - start >= maxMs) return { firstWindowNs: first, settleMs: performance.now() - start };
  }
}

export async function timeBatch(name: string, batch: Batch, options: TimeOptions): Promise<Timing> {
  const targetMs = options.targetMs ?? 0.5;
  const settled = options.settle ? settle(batch, options.callsPerRep, options.settle.windowMs, options.settle.maxMs, options.settle.ready) : undefined;
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    addToSink(batch(reps));
    if (performance.now() - t0 >= targetMs || reps >= 1 << 24) break;
    reps *= 2;
  }
  const bench = new Bench({
    name,
    time: options.time ?? 400,
    iterations: options.iterations ?? 64,
    warmupTime: options.slow ? 0 : 100,
    warmupIterations: options.slow ? 0 : 16,
    warmup: !options.slow,
    throws: true,
  });
  bench.add(name, () => {
    addToSink(batch(reps));
  });
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`benchmark ${name}: ${result.state}`);
  const calls = reps * options.callsPerRep;
  return { ns: (result.latency.min * 1e6) / calls, medianNs: (result.latency.p50 * 1e6) / calls, rme: result.latency.rme, samples: result.latency.samplesCount, callsPerSample: calls, ...settled };
}
