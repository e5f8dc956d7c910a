import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseArb } from '../oracle/arbitrary.ts';
import { checkCase } from '../support/differential.ts';
import { examine, mutationCases, randomByteCases, randomProgramCases, tokenSoupCases, validProgramCases } from '../support/hostile.ts';

/**
 * `npm run fuzz`: the property and robustness checks of `npm test`, for as long as asked.
 *   ADC_FUZZ_SECONDS  time for each of the two searches (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 * Each search prints how many cases it tried.
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz: seed ${seed}, ${seconds} s per search (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing', () => {
  it('random valid programs: compiled values and gradients agree with the oracles', () => {
    let tried = 0;
    fc.assert(
      fc.property(caseArb({ maxDepth: 4, maxLets: 5 }), (c) => {
        tried++;
        checkCase(c);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`valid programs: ${tried} tried, no disagreement`);
  }, (seconds + 60) * 1000);

  it('random call graphs with every call kept as a call: values and gradients agree with the oracles', () => {
    let tried = 0;
    fc.assert(
      fc.property(caseArb({ maxFunctions: 5, maxDepth: 4, maxLets: 5 }), (c) => {
        tried++;
        checkCase(c, { calls: 'keep' });
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`kept calls: ${tried} tried, no disagreement`);
  }, (seconds + 60) * 1000);

  it('hostile input: never a throw, always a located diagnostic', () => {
    const source = readFileSync(new URL('../../examples/seed.ad', import.meta.url), 'utf8');
    const deadline = Date.now() + seconds * 1000;
    let tried = 0;
    for (let round = 0; Date.now() < deadline; round++) {
      const s = seed + round;
      const batches = [randomByteCases(50, s), tokenSoupCases(200, s), mutationCases(source, 200, s), randomProgramCases(100, s), validProgramCases(50, s)];
      for (const batch of batches) {
        for (const { label, source: input } of batch) {
          tried++;
          expect(examine(input, { checkCode: true }).problem, label).toBeUndefined();
        }
      }
    }
    console.log(`hostile inputs: ${tried} tried, no violation`);
  }, (seconds + 60) * 1000);
});
