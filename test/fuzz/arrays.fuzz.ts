import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arrayCaseArb, checkArrayCase, newStats } from '../support/array-programs.ts';

/**
 * `npm run fuzz`: the array property of test/arrays-properties.test.ts, for as long as asked.
 *   ADC_FUZZ_SECONDS  time for the search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (arrays): seed ${seed}, ${seconds} s (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing arrays', () => {
  it('random array programs: values, fGrad, fGradInto and finite differences agree', () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => checkArrayCase(c, stats)),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(
      `array programs: ${stats.programs} tried, no disagreement; gradient entries: ${stats.compared} compared, ` +
        `${stats.nonsmooth} skipped where f is not smooth, ${stats.nonfinite} where it is not finite`,
    );
  }, (seconds + 60) * 1000);
});
