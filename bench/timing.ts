/**
 * What one timed benchmark row reports. On its own, without tinybench, so that files the tests
 * import (bench/interleave.ts) type-check from the root tsconfig.json on a fresh checkout, where
 * the benchmark's peers (bench/node_modules) are not installed.
 */
export interface Timing {
  /** Nanoseconds per call in the fastest sample. */
  readonly ns: number;
  /** Nanoseconds per call in the median sample. */
  readonly medianNs: number;
  /** Relative margin of error of the mean sample, in percent (tinybench's rme). */
  readonly rme: number;
  readonly samples: number;
  /** Calls per sample. */
  readonly callsPerSample: number;
  /** With `settle`: ns per call over the first window, and how long it took to settle. */
  readonly firstWindowNs?: number;
  readonly settleMs?: number;
}
