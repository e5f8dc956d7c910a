import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkLoopCase, checkLoopCaseThroughCalls, loopCaseArb, newLoopStats } from '../support/loop-programs.ts';

/**
 * `npm run fuzz`: the loop property of test/loops-properties.test.ts, for as long as asked.
 *   ADC_FUZZ_SECONDS  time for the search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (loops): seed ${seed}, ${seconds} s (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing loops with state', () => {
  it('random loops: values, gradients, finite differences and checkpointing agree', () => {
    const stats = newLoopStats();
    fc.assert(fc.property(loopCaseArb(), (c) => checkLoopCase(c, stats)), {
      seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: seconds * 1000,
      markInterruptAsFailure: false,
    });
    console.log(`loop programs: ${stats.programs} tried, no disagreement; gradient entries: ${stats.compared} compared, ${stats.nonsmooth} skipped where f is not smooth, ${stats.illConditioned} checked by fJvp where the reverse sweep cancels beyond double precision`);
  }, (seconds + 60) * 1000);

  it('random loops called as kept calls: the same gradient as inlined, checkpointed or not', () => {
    let tried = 0;
    fc.assert(
      fc.property(loopCaseArb(), (c) => {
        tried++;
        checkLoopCaseThroughCalls(c);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`loop programs through kept calls: ${tried} tried, no disagreement`);
  }, (seconds + 60) * 1000);
});
