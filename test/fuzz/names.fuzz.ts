import fc from 'fast-check';
import { describe, it } from 'vitest';
import { acceptedNames, checkNames, checkNameTuple, fixedNames, globalNames } from '../support/names.ts';

/**
 * `npm run fuzz`: the names search of test/names.test.ts, in full. Every global identifier
 * JavaScript defines, in every role of test/support/names.ts, with and without checkArgs; then
 * random tuples of names in four roles for ADC_FUZZ_SECONDS (default 60) from ADC_FUZZ_SEED.
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe('names search', () => {
  const usable = globalNames.filter((n) => !fixedNames.has(n) && !n.endsWith('Grad'));

  it('every global, in every role, with and without checkArgs', () => {
    for (const name of usable) {
      checkNames(name, false);
      checkNames(name, true);
    }
    console.log(`names: ${usable.length} globals × 2, no failure`);
  }, 3_600_000);

  it('random names as function, parameter, const parameter and let, for as long as asked', () => {
    let tried = 0;
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...acceptedNames), { minLength: 4, maxLength: 4 }), ([fnName, p, q, local]) => {
        fc.pre(!fnName.endsWith('Grad'));
        tried++;
        checkNameTuple(fnName, p, q, local);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`names (seed ${seed}): ${tried} tried, no failure`);
  }, (seconds + 60) * 1000);
});
