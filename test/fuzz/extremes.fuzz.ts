import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkExtremeCase, extremeCaseArb, newExtremeStats } from '../support/extremes.ts';

/**
 * `npm run fuzz`: the extreme-magnitude search of test/extremes.test.ts, for as long as asked.
 *   ADC_FUZZ_SECONDS  time for the search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (extreme magnitudes): seed ${seed}, ${seconds} s (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing extreme magnitudes', () => {
  it('built-ins, operators and reductions at 1e±300, 1e±150 and subnormals agree with 60-digit arithmetic', () => {
    const stats = newExtremeStats();
    fc.assert(fc.property(extremeCaseArb, (c) => checkExtremeCase(c, stats)), {
      seed,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: seconds * 1000,
      markInterruptAsFailure: false,
    });
    console.log(`extreme magnitudes: ${stats.cases} cases, ${stats.compared} compared, ${stats.noClaim} where the exact result is no double`);
  }, (seconds + 60) * 1000);
});
