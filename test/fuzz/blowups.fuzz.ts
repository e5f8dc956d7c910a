import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../src/repl/index.ts';
import { checkDerivativeChain, checkExplainCase, checkPlotSeries, checkTypoCase, derivativeChainCases, explainCases, plotEntryCases, plotSeriesCases, typoCases } from '../support/blowups.ts';

/**
 * `npm run fuzz`: the blow-up searches of test/robustness.test.ts (issue 12, items 13–15), for
 * ADC_FUZZ_SECONDS each (default 60), from ADC_FUZZ_SEED (default random, printed). Each search
 * prints how many cases it tried.
 */
const seconds = Number(process.env.ADC_FUZZ_SECONDS ?? 60);
const seed = Number(process.env.ADC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`adc fuzz (blow-ups): seed ${seed}, ${seconds} s per search (replay with ADC_FUZZ_SEED=${seed})`);

/** Runs batches of a generator until the time is up; fails at the first violation, naming the case. */
function search<T extends { label: string }>(what: string, batch: (s: number) => Iterable<T>, check: (c: T) => string | undefined) {
  const deadline = Date.now() + seconds * 1000;
  let tried = 0;
  for (let round = 0; Date.now() < deadline; round++) {
    for (const c of batch(seed + round)) {
      tried++;
      expect(check(c), c.label).toBeUndefined();
      if (Date.now() >= deadline) break;
    }
  }
  console.log(`${what}: ${tried} tried, no violation`);
}

describe('fuzzing blow-ups', () => {
  it('misspelt names: bounded time, suggestions that are defined and near', () => {
    search('typo programs', (s) => typoCases(20, s), (c) => checkTypoCase(c.source, c.declared));
  }, (seconds + 120) * 1000);

  it('plots of extreme values: bounded, labelled, gaps marked', () => {
    search('plot series', (s) => plotSeriesCases(500, s), (c) => checkPlotSeries(c.samples, c.height));
  }, (seconds + 60) * 1000);

  it(':plot entries over extreme ranges', async () => {
    const deadline = Date.now() + seconds * 1000;
    const interpreter = new Interpreter();
    let tried = 0;
    for (let round = 0; Date.now() < deadline; round++) {
      for (const { label, entry } of plotEntryCases(10, seed + round)) {
        tried++;
        const reply = await interpreter.run(entry);
        expect(reply.text, `${label}: ${entry}`).not.toMatch(/internal error|stopped after/);
      }
    }
    console.log(`plot entries: ${tried} tried, no violation`);
  }, (seconds + 120) * 1000);

  it('chains of derivatives of derivatives: compiled, or AD3009 on a derivative, in bounded time', () => {
    search('derivative chains', (s) => derivativeChainCases(5, s), (c) => checkDerivativeChain(c.source));
  }, (seconds + 120) * 1000);

  it('explain graphs of up to 1,200 lets', () => {
    search('explain graphs', (s) => explainCases(5, s, 1200), (c) => checkExplainCase(c.source));
  }, (seconds + 120) * 1000);
});
