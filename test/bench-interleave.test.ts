/**
 * The benchmark's interleaved timing (bench/interleave.ts), driven by a simulated clock: each
 * simulated call advances it by its cost times the load of the moment, so the expected figures are
 * exact numbers worked out by hand.
 */
import { describe, expect, it } from "vitest";
import {
  interleave,
  median,
  medianRatio,
  timingOfRounds,
} from "../bench/interleave.ts";

describe("median and medianRatio", () => {
  it("takes the middle value (the upper middle one of an even count)", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(() => median([])).toThrow(RangeError);
  });

  it("is the median of per-round ratios, not the ratio of medians", () => {
    // a costs 2× b in every round while the load triples between rounds: each round's ratio is 2.
    const load = [1, 3, 1, 3, 9];
    const a = load.map((l) => 2 * l);
    const b = load.map((l) => l);
    expect(medianRatio(a, b)).toBe(2);
    // Shifted by one round (a timed under other load than b), the ratio of medians reads 3, not 2.
    const bShifted = [3, 1, 3, 1, 1];
    expect(median(a) / median(bShifted)).toBe(6);
    expect(() => medianRatio([1, 2], [1])).toThrow(RangeError);
  });

  it("turns rounds into a Timing: fastest and median round", () => {
    expect(timingOfRounds([30, 10, 20])).toMatchObject({
      ns: 10,
      medianNs: 20,
      samples: 3,
    });
  });
});

/** A simulated machine: one clock (ms) that calls advance by cost × the current load. */
function machine(loadOf: (ms: number) => number) {
  let t = 0;
  const calls: string[] = [];
  const fn = (name: string, costMs: number) => () => {
    calls.push(name);
    t += costMs * loadOf(t);
    return 1;
  };
  return { now: () => t, fn, calls };
}

describe("interleave", () => {
  it("alternates the contenders round by round and reads their ratio through changing load", () => {
    // The load doubles every 100 ms of the clock; a costs 3 ms and b 1 ms per call.
    const m = machine((t) => 2 ** Math.floor(t / 100));
    const r = interleave(
      { a: m.fn("a", 3), b: m.fn("b", 1) },
      {
        clock: "wall",
        windowMs: 6,
        warmMs: 0,
        warmCalls: 1,
        rounds: { min: 5, max: 5 },
        now: m.now,
        wallMs: m.now,
      },
    );
    expect(r.rounds).toBe(5);
    expect(r.times.a).toHaveLength(5);
    // Warm-up a, b; then each round a's window (whole calls to ≥ 6 ms) and then b's.
    expect(m.calls.slice(0, 4)).toEqual(["a", "b", "a", "a"]);
    expect(medianRatio(r.times.a, r.times.b)).toBeCloseTo(3, 12);
    // ns per call: in the first round, a's two calls took 6 ms, 3e6 ns each.
    expect(r.times.a[0]).toBe(3e6);
  });

  it("calls a contender at least minCalls times, a call longer than the window alone", () => {
    const m = machine(() => 1);
    const r = interleave(
      { slow: m.fn("slow", 50) },
      {
        clock: "wall",
        windowMs: 10,
        minCalls: 2,
        warmMs: 0,
        rounds: { min: 1, max: 1 },
        now: m.now,
        wallMs: m.now,
      },
    );
    expect(m.calls).toHaveLength(3); // one warm-up call, two in the window
    expect(r.times.slow).toEqual([50e6]);
  });

  it("runs at least min rounds, then more until the budget has passed, at most max", () => {
    const run = (budgetMs: number, max: number) => {
      const m = machine(() => 1);
      return interleave(
        { f: m.fn("f", 10) },
        {
          clock: "wall",
          windowMs: 1,
          warmMs: 0,
          rounds: { min: 3, max, budgetMs },
          now: m.now,
          wallMs: m.now,
        },
      ).rounds;
    };
    expect(run(0, 21)).toBe(3); // the budget spent: the minimum
    expect(run(75, 21)).toBe(8); // rounds of 10 ms start while under 75 ms: at 0, 10, …, 70
    expect(run(10_000, 21)).toBe(21); // the maximum
    expect(() => run(0, 2)).toThrow(RangeError);
  });

  it("warms every contender for warmMs, in turn", () => {
    const m = machine(() => 1);
    const r = interleave(
      { a: m.fn("a", 4), b: m.fn("b", 6) },
      {
        clock: "wall",
        windowMs: 1,
        warmMs: 25,
        rounds: { min: 1, max: 1 },
        now: m.now,
        wallMs: m.now,
      },
    );
    // Passes of 10 ms start at 0, 10 and 20: three calls each, then one call each in the round.
    expect(m.calls.filter((c) => c === "a")).toHaveLength(4);
    expect(r.warmMs).toBe(30);
    // No warm-up asked (the caller's own calls were it): the rounds start at once.
    const quiet = machine(() => 1);
    interleave(
      { a: quiet.fn("a", 4) },
      {
        clock: "wall",
        windowMs: 1,
        warmMs: 0,
        warmCalls: 0,
        rounds: { min: 2, max: 2 },
        now: quiet.now,
        wallMs: quiet.now,
      },
    );
    expect(quiet.calls).toHaveLength(2);
  });

  it("adds columns timed elsewhere once per round, so their ratios are per-round ratios too", () => {
    const m = machine((t) => (t < 20 ? 1 : 5));
    const r = interleave(
      { js: m.fn("js", 2) },
      {
        clock: "wall",
        windowMs: 2,
        warmMs: 0,
        rounds: { min: 4, max: 4 },
        now: m.now,
        wallMs: m.now,
        // "C" costs 1 ms under the load of its round: the load seen by js's window just before.
        perRound: () => ({ c: 1e6 * (m.now() < 20 ? 1 : 5) }),
      },
    );
    const times = r.times as Record<string, number[]>;
    expect(times.c).toHaveLength(4);
    expect(medianRatio(r.times.js, times.c!)).toBe(2);
  });
});
