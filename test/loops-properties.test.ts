import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkLoopCase, loopCaseArb, newLoopStats } from './support/loop-programs.ts';

/**
 * Random programs with loops that carry state (test/support/loop-programs.ts): values against a
 * plain-JavaScript evaluation of the same tree, gradients against central differences, and the
 * checkpointed reverse sweep against the fully stored one, bit for bit. `npm run fuzz` runs longer.
 */
describe('random loops with state', () => {
  it('values, gradients and checkpointing agree', () => {
    const stats = newLoopStats();
    fc.assert(
      fc.property(loopCaseArb(), (c) => checkLoopCase(c, stats)),
      { numRuns: 150 },
    );
  }, 120_000);
});
