import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../src/repl/index.ts';
import { checkDerivativeEntry, derivativeEntry, derivativeSetup } from '../support/repl-entries.ts';

/**
 * `npm run fuzz`: the REPL's derivative commands (test/repl-derivatives.test.ts) with random
 * entries for ADC_FUZZ_SECONDS (default 60) from ADC_FUZZ_SEED (default random, printed): each is
 * answered or refused at a place in it, never a crash, and a jvp agrees with the gradient.
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe('REPL derivative entries', () => {
  it('answered or refused at a place in the entry, for as long as asked', async () => {
    const interpreter = new Interpreter();
    for (const e of derivativeSetup) expect((await interpreter.run(e)).error).toBe(false);
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(derivativeEntry, async (e) => {
        tried++;
        expect(await checkDerivativeEntry(interpreter, e), e.text).toBeUndefined();
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`REPL derivative entries (seed ${seed}): ${tried} tried, no violation`);
  }, (seconds + 60) * 1000);
});
