import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arrayCaseArb, checkArrayCase, jamCaseArb, newStats, pairCaseArb } from '../support/array-programs.ts';
import { checkTargetsAgree } from '../support/targets.ts';

/**
 * `npm run fuzz`: the WebAssembly target (--target wasm) on random array programs, for as long as
 * asked: the array property (a reference evaluator, finite differences) on the wasm module, and
 * the JS and wasm targets compared (values and gradients within 1e-14, errors word for word).
 *   ADC_FUZZ_SECONDS  time for the search (default 60)
 *   ADC_FUZZ_SEED     the seed to start from (default: random, printed so a run can be replayed)
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (wasm): seed ${seed}, ${seconds} s (replay with ADC_FUZZ_SEED=${seed})`);

describe('fuzzing the wasm target', () => {
  it('random array programs: the property on wasm, and wasm against JS', () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => {
        checkArrayCase(c, stats, { target: 'wasm' });
        checkTargetsAgree(c);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`wasm: ${stats.programs} programs tried, no disagreement; ${stats.compared} gradient entries compared with finite differences`);
  }, (seconds + 60) * 1000);
  it('random loop nests (src/ad/unroll-and-jam.ts, on both targets): the property on wasm, and wasm against JS', () => {
    const stats = newStats();
    fc.assert(
      fc.property(jamCaseArb(), (c) => {
        checkArrayCase(c, stats, { target: 'wasm' });
        checkTargetsAgree(c);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`wasm loop nests: ${stats.programs} programs tried, no disagreement; ${stats.compared} gradient entries compared with finite differences`);
  }, (seconds + 60) * 1000);
  it('random nests in a point loop (src/ad/jam-pairs.ts, on both targets): the property on wasm, and wasm against JS', () => {
    const stats = newStats();
    fc.assert(
      fc.property(pairCaseArb(), (c) => {
        checkArrayCase(c, stats, { target: 'wasm' });
        checkTargetsAgree(c);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`wasm point loops: ${stats.programs} programs tried, no disagreement; ${stats.compared} gradient entries compared with finite differences`);
  }, (seconds + 60) * 1000);
});
