import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arrayCaseArb } from '../support/array-programs.ts';
import { checkExplainArrayCase, checkExplainLoopCase } from '../support/explain-programs.ts';
import { loopCaseArb } from '../support/loop-programs.ts';

/**
 * `npm run fuzz`: the explain properties of test/explain-unrolled.test.ts (the unrolled graph of
 * random loop and array programs against the generated code), for as long as asked.
 *   ADC_FUZZ_SECONDS  time for each search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (explain): seed ${seed}, ${seconds} s per search (replay with ADC_FUZZ_SEED=${seed})`);

const options = { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false };

describe('fuzzing adc explain', () => {
  it('random loops with state: the unrolled graph’s sweeps agree with the generated code', () => {
    let tried = 0;
    fc.assert(fc.property(loopCaseArb({ gradients: false }), (c) => (tried++, checkExplainLoopCase(c))), options);
    console.log(`explain of loop programs: ${tried} tried, no disagreement`);
  }, (seconds + 60) * 1000);

  it('random array programs: the unrolled graph’s reverse sweep agrees with the generated code', () => {
    let tried = 0;
    fc.assert(fc.property(arrayCaseArb(), (c) => (tried++, checkExplainArrayCase(c))), options);
    console.log(`explain of array programs: ${tried} tried, no disagreement`);
  }, (seconds + 60) * 1000);
});
