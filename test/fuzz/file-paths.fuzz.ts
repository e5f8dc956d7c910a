import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fileNameProperty } from '../support/file-paths.ts';

/**
 * `npm run fuzz`: the file-path search of test/file-paths.test.ts, for as long as asked.
 *   ADC_FUZZ_SECONDS  time for the search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (file paths): seed ${seed}, ${seconds} s (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing file names', () => {
  it('hostile file names through the CLI and the API: nothing runs, names read back', async () => {
    let tried = 0;
    await fc.assert(
      fileNameProperty(() => void tried++),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`file names: ${tried} tried, no violation`);
  }, (seconds + 60) * 1000);
});
