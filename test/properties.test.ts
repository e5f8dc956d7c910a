import fc from 'fast-check';
import { describe, it } from 'vitest';
import { caseArb } from './oracle/arbitrary.ts';
import { checkCase } from './support/differential.ts';

/**
 * Differential property tests: random valid programs (every operator, built-in, conditional,
 * let chains, calls, const parameters) are compiled, and the compiled value must equal an
 * independent reference evaluator, and the compiled gradient a forward-mode (dual number)
 * evaluation, wherever both are finite. A failure shrinks to a small program and prints the seed:
 * replay with `fc.assert(..., { seed, path })`. `npm run fuzz` runs the same for longer.
 */
const runs = Number(process.env.ADC_PROPERTY_RUNS ?? 1500);

describe('compiled programs agree with the reference evaluator and forward mode', () => {
  it(`on ${runs} random programs`, () => {
    fc.assert(
      fc.property(caseArb(), (c) => checkCase(c)),
      { numRuns: runs },
    );
  });

  // Random call graphs (up to five functions, each calling the earlier ones, often more than once)
  // with every call of a function kept as a call: its adjoint, not its inlined body.
  it(`on ${Math.ceil(runs / 3)} random call graphs, every call kept as a call`, () => {
    fc.assert(
      fc.property(caseArb({ maxFunctions: 5 }), (c) => checkCase(c, { calls: 'keep' })),
      { numRuns: Math.ceil(runs / 3) },
    );
  });
});
