/**
 * Interleaved timing, shared by the array benchmark (bench/arrays.ts), its kernels against C
 * (bench/arrays-c.ts) and the wasm-versus-peers runs (bench/wasm-peers.ts): every figure a target
 * reads is a ratio of two functions timed in the same process, in alternating rounds.
 *
 * Each round calls every contender in turn for one window (whole calls, at least `minCalls`, until
 * the window has passed on the chosen clock) and records its time per call. A ratio of two
 * contenders is the median over rounds of their ratio within each round, so load that changes
 * between rounds (the machine is shared) cancels out; a contender's own time is its median round.
 * No dependency: the test suite imports it without the benchmark's peers installed.
 *
 * Why not the fastest sample of each function timed on its own, as bench/arrays.ts did before
 * session 9: on a loaded machine the functions of one row were timed seconds apart under different
 * load, and the fastest of 40 single ~1 ms calls is an extreme value whose distance from the
 * typical call differs between functions (jax-js float32's fastest MLP call was 0.45× its mean
 * CPU time per call, adc's wasm gradient's 0.8×), so a row's ratios moved by tens of percent
 * between runs and one harness read 2.63× where the interleaved one read 0.88× (README, "Arrays").
 */

import type { Timing } from "./timing.ts";

/** The clock windows are measured on: the wall clock, or the process's CPU time (all its threads). */
export type Clock = "wall" | "cpu";

/**
 * Milliseconds on `clock`. CPU time is `process.cpuUsage()` (user + system, every thread of the
 * process: V8's background compiler and GC threads are counted, as they are work the calls cause);
 * on a machine shared by many processes the wall clock also counts the time others ran.
 */
export function clockMs(clock: Clock): () => number {
  if (clock === "wall") return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
}

/** The median of a non-empty list (the upper one of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no numbers");
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

/** The median over rounds of `a[i] / b[i]`: the ratio of two contenders timed in the same rounds. */
export function medianRatio(
  a: readonly number[],
  b: readonly number[],
): number {
  if (a.length !== b.length)
    throw new RangeError(`medianRatio: ${a.length} rounds against ${b.length}`);
  return median(a.map((v, i) => v / b[i]!));
}

/** A contender's rounds as a Timing: `ns` its fastest round, `medianNs` its median round. */
export function timingOfRounds(xs: readonly number[]): Timing {
  return {
    ns: Math.min(...xs),
    medianNs: median(xs),
    rme: 0,
    samples: xs.length,
    callsPerSample: 0,
  };
}

export interface InterleaveOptions {
  readonly clock: Clock;
  /** Each contender's window per round, in ms of `clock`. */
  readonly windowMs: number;
  /** Whole calls per window at least (a call longer than the window is timed alone). */
  readonly minCalls?: number;
  /** Before the rounds: every contender called in turn until this many wall-clock ms have passed (each at least `warmCalls` times). */
  readonly warmMs: number;
  readonly warmCalls?: number;
  /** Rounds: at least `min`, at most `max`; between them, rounds stop once `budgetMs` of wall clock have passed since the first round began. */
  readonly rounds: {
    readonly min: number;
    readonly max: number;
    readonly budgetMs?: number;
  };
  /**
   * Columns timed elsewhere (another process), once per round after the contenders: returns ns per
   * call for each (the same keys every round), so that their ratios too are per-round ratios.
   */
  readonly perRound?: () => Record<string, number>;
  /** Called with the wall clock in ms, so tests can drive it; defaults to `performance.now`. */
  readonly wallMs?: () => number;
  /** The clock windows are measured on, for tests; defaults to `clockMs(clock)`. */
  readonly now?: () => number;
}

export interface Interleaved<K extends string> {
  /** Per contender (and `perRound` column), ns per call in each round (rounds in order). */
  readonly times: Record<K, number[]>;
  readonly rounds: number;
  readonly windowMs: number;
  readonly clock: Clock;
  /** Wall-clock ms the warm-up and the rounds took. */
  readonly warmMs: number;
  readonly roundsMs: number;
}

/**
 * Times `contenders` (each returning a number, summed into `sink` so no call is dead code)
 * interleaved: a warm-up, then rounds, each calling every contender for one window in the same order.
 */
export function interleave<K extends string>(
  contenders: Record<K, () => number>,
  options: InterleaveOptions,
  sink: (x: number) => void = () => {},
): Interleaved<K> {
  const names = Object.keys(contenders) as K[];
  const wall = options.wallMs ?? (() => performance.now());
  const now = options.now ?? clockMs(options.clock);
  const minCalls = options.minCalls ?? 1;
  const warmCalls = options.warmCalls ?? 1;
  const { min, max, budgetMs = Infinity } = options.rounds;
  if (!(min >= 1 && max >= min))
    throw new RangeError(`interleave: rounds ${min}..${max}`);

  const warmStart = wall();
  for (
    let pass = 0;
    pass < warmCalls || wall() - warmStart < options.warmMs;
    pass++
  )
    for (const name of names) sink(contenders[name]());
  const roundsStart = wall();

  const times = Object.fromEntries(
    names.map((n) => [n, [] as number[]]),
  ) as Record<K, number[]>;
  let rounds = 0;
  while (rounds < max && (rounds < min || wall() - roundsStart < budgetMs)) {
    for (const name of names) {
      const f = contenders[name];
      let calls = 0;
      let s = 0;
      const t0 = now();
      let t1 = t0;
      while (calls < minCalls || t1 - t0 < options.windowMs) {
        s += f();
        calls++;
        t1 = now();
      }
      sink(s);
      times[name].push(((t1 - t0) * 1e6) / calls);
    }
    if (options.perRound) {
      for (const [name, ns] of Object.entries(options.perRound()))
        ((times as Record<string, number[]>)[name] ??= []).push(ns);
    }
    rounds++;
  }
  return {
    times,
    rounds,
    windowMs: options.windowMs,
    clock: options.clock,
    warmMs: roundsStart - warmStart,
    roundsMs: wall() - roundsStart,
  };
}
