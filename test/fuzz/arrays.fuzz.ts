import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arrayCaseArb, checkArrayCase, checkJamCase, checkNestedCase, checkNestedJacobianCase, checkNestedJvpCase, jacobianCaseArb, jamCaseArb, newStats, pairCaseArb } from '../support/array-programs.ts';

/**
 * `npm run fuzz`: the array properties of test/arrays-properties.test.ts (plain, and under a nested
 * grad, jvp or jacobian, the loop nests of unroll-and-jam and the point loops of jam-pairs), for as
 * long as asked each.
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

  it('random array programs with every call kept (arrays passed flat to the forms): the same checks', () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => checkArrayCase(c, stats, { calls: 'keep' })),
      { seed: seed + 2, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`array programs, calls kept: ${stats.programs} tried, no disagreement; gradient entries: ${stats.compared} compared`);
  }, (seconds + 60) * 1000);

  it('grad(f, p)(…) of random array programs, differentiated again: the exported gradient and finite differences agree', () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => {
        checkNestedCase(c, stats);
      }),
      { seed: seed + 1, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`nested gradients: ${stats.programs} programs tried, no disagreement; gradient entries: ${stats.compared} compared, ${stats.nonsmooth} skipped where f is not smooth`);
  }, (seconds + 60) * 1000);

  it('jvp(f, p)(…, p) of random array programs, differentiated again: the exported fJvp and finite differences agree', () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => {
        checkNestedJvpCase(c, stats);
      }),
      { seed: seed + 3, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`nested jvps: ${stats.programs} programs tried, no disagreement; gradient entries: ${stats.compared} compared, ${stats.nonsmooth} skipped where f is not smooth`);
  }, (seconds + 60) * 1000);

  it('jacobian(r, v)(x) of random array programs with the vec → vec helper, differentiated again: rJacobian and finite differences agree', () => {
    const stats = newStats();
    fc.assert(
      fc.property(
        jacobianCaseArb(),
        (c) => {
          checkNestedJacobianCase(c, stats);
        },
      ),
      { seed: seed + 4, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`nested jacobians: ${stats.programs} programs tried, no disagreement; gradient entries: ${stats.compared} compared, ${stats.nonsmooth} skipped where f is not smooth`);
  }, (seconds + 60) * 1000);

  it('random loop nests (src/ad/unroll-and-jam.ts): the same checks, and the gradient beside fHvp (never unrolled) to rounding', () => {
    const stats = newStats();
    let fired = 0;
    fc.assert(
      fc.property(jamCaseArb(), (c) => {
        if (checkJamCase(c, stats)) fired++;
      }),
      { seed: seed + 5, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`loop nests: ${stats.programs} tried, ${fired} unrolled and jammed, no disagreement; gradient entries: ${stats.compared} compared`);
  }, (seconds + 60) * 1000);

  it('random nests in a point loop (src/ad/jam-pairs.ts): the same checks, and the gradient beside fHvp (never paired) to rounding', () => {
    const stats = newStats();
    let fired = 0;
    fc.assert(
      fc.property(pairCaseArb(), (c) => {
        if (checkJamCase(c, stats, 'Two iterations per pass')) fired++;
      }),
      { seed: seed + 6, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    console.log(`point loops: ${stats.programs} tried, ${fired} with two points per pass, no disagreement; gradient entries: ${stats.compared} compared`);
  }, (seconds + 60) * 1000);
});
