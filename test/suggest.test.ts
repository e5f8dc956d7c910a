/**
 * "Did you mean" (src/check/suggest.ts): the banded distance against a plain full-table
 * reference, the choice of suggestion, and bounded work on hostile input (issue 12, item 13: a
 * 26,000-character misspelt name ran out of memory; 5,000 typos took 98 s).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Suggester, SUGGESTION_BUDGET, didYouMean, distanceWithin } from '../src/check/suggest.ts';
import { compileSync } from '../src/index.ts';
import { referenceDistance } from './support/blowups.ts';

describe('the banded distance', () => {
  it('agrees with the full table up to the limit (random strings over a small alphabet)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 12 });
    fc.assert(
      fc.property(word, word, fc.integer({ min: 0, max: 4 }), (a, b, limit) => {
        expect(distanceWithin(a, b, limit)).toBe(Math.min(referenceDistance(a, b), limit + 1));
      }),
      { numRuns: 3000, seed: 12 },
    );
  });

  it('agrees with the full table on near-misses of long names (edits, swaps, shared prefixes)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'x'), minLength: 20, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 4 }), (a, edits) => {
        let b = a;
        for (const e of edits) {
          const k = e % b.length;
          const op = e % 4;
          if (op === 0) b = b.slice(0, k) + b.slice(k + 1);
          else if (op === 1) b = `${b.slice(0, k)}y${b.slice(k)}`;
          else if (op === 2) b = `${b.slice(0, k)}z${b.slice(k + 1)}`;
          else if (k + 1 < b.length) b = b.slice(0, k) + b[k + 1] + b[k] + b.slice(k + 2);
        }
        for (const limit of [1, 2, 3]) expect(distanceWithin(a, b, limit)).toBe(Math.min(referenceDistance(a, b), limit + 1));
      }),
      { numRuns: 1000, seed: 13 },
    );
  });

  it('reuses its rows correctly across calls of different lengths', () => {
    const pairs: [string, string][] = [['abcdefghijklmnopqrstuvwxyz'.repeat(4), 'abcdefghijklmnopqrstuvwxyz'.repeat(4).replace('q', '')], ['ab', 'ba'], ['rate', 'rat'], ['x', 'xyz'], ['abcd', 'acbd']];
    for (let round = 0; round < 3; round++) {
      for (const [a, b] of pairs) expect(distanceWithin(a, b, 2)).toBe(Math.min(referenceDistance(a, b), 3));
    }
  });
});

describe('suggestions', () => {
  it('picks the nearest name, then the longer common prefix, then the first alphabetically', () => {
    expect(didYouMean('rat', ['rate', 'x'])).toBe(" (did you mean 'rate'?)");
    expect(didYouMean('sinn', ['sign', 'sin', 'sinh'])).toBe(" (did you mean 'sin'?)");
    expect(didYouMean('ab', ['ac', 'ad'])).toBe(" (did you mean 'ac'?)");
    expect(didYouMean('y', ['e', 'pi'])).toBe('');
    expect(didYouMean('Rate', ['rate'])).toBe(" (did you mean 'rate'?)");
  });

  it('a 26,000-character misspelt name: a suggestion, in bounded work and memory', () => {
    const name = 'a'.repeat(26_000);
    const typo = `${'a'.repeat(12_000)}b${'a'.repeat(13_999)}`;
    const suggest = new Suggester();
    expect(suggest.didYouMean(typo, [name, 'x', 'y'])).toBe(` (did you mean '${name}'?)`);
    // One banded comparison: length × (2 × limit + 1) cells, not length².
    expect(suggest.work).toBeLessThanOrEqual(3 + 26_000 * 5);

    const source = `fn f(${name}) = ${typo}`;
    const t0 = performance.now();
    const result = compileSync(source);
    expect(performance.now() - t0).toBeLessThan(10_000); // ran out of memory after about a minute before
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0].code).toBe('AD2001');
    expect(result.diagnostics[0].message).toContain('did you mean');
  });

  it('candidates whose length differs by more than the limit cost one unit each', () => {
    const suggest = new Suggester();
    const names = Array.from({ length: 1000 }, (_, i) => `n${'q'.repeat(i % 50)}`);
    suggest.didYouMean('z'.repeat(100_000), names);
    expect(suggest.work).toBe(1000);
  });

  it('one file’s suggestions stop at the budget, and the rest of its errors still come', () => {
    const suggest = new Suggester(10_000);
    const names = Array.from({ length: 500 }, (_, i) => `v${i}`);
    const answers = Array.from({ length: 100 }, (_, i) => suggest.didYouMean(`w${i}`, names));
    expect(answers[0]).toBe(" (did you mean 'v0'?)");
    expect(answers.at(-1)).toBe('');
    expect(suggest.exhausted).toBe(true);
    // Once exhausted, each call spends one unit and stops.
    const spent = suggest.work;
    suggest.didYouMean('w1', names);
    expect(suggest.work).toBe(spent + 1);
  });

  it('5,000 typos among 5,000 names: every error reported, suggestion work within the budget', () => {
    const n = 5000;
    const lets = Array.from({ length: n }, (_, i) => `  let v${i} = x`).join('\n');
    const uses = Array.from({ length: n }, (_, i) => `w${i}`).join(' + ');
    const t0 = performance.now();
    const result = compileSync(`fn f(x) {\n${lets}\n  return ${uses}\n}`);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(30_000); // 98 s before (about 25 million full distance tables)
    expect(result.diagnostics).toHaveLength(n);
    expect(result.diagnostics.every((d) => d.code === 'AD2001')).toBe(true);
    expect(result.diagnostics[0].message).toBe("unknown variable 'w0' (did you mean 'v0'?)");
    // The budget allows about 5e6 / (5,000 × ~11) ≈ 90 suggestions; later typos get none.
    const suggested = result.diagnostics.filter((d) => d.message.includes('did you mean')).length;
    expect(suggested).toBeGreaterThan(10);
    expect(suggested).toBeLessThan(SUGGESTION_BUDGET / n);
  }, 60_000);
});

describe('the other places that suggest', () => {
  it("commander's suggestions for CLI flags and commands stay fast on a 26,000-character word (its own length window)", async () => {
    const { main } = await import('../src/cli/main.ts');
    const long = 'a'.repeat(26_000);
    for (const argv of [[`--${long}`], [long], ['compile', `--${long}`], ['compile', '--out-dirr', 'x']]) {
      const err: string[] = [];
      const t0 = performance.now();
      const code = await main(argv, { out: () => {}, err: (s) => err.push(s) });
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(code).toBe(2);
      expect(err.join('\n')).toMatch(/unknown (option|command)/);
    }
  });

  it('the REPL suggests commands and names with the same bounds', async () => {
    const { Interpreter } = await import('../src/repl/index.ts');
    const interpreter = new Interpreter();
    expect((await interpreter.run(':plto')).text).toContain("unknown command ':plto' (did you mean ':plot'?)");
    const t0 = performance.now();
    const reply = await interpreter.run(`:${'p'.repeat(26_000)}`);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(reply.error).toBe(true);
  });
});
