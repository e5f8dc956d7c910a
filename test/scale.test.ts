/**
 * Properties of scale that must not regress silently (times are in `npm run bench -- --only
 * scale`, not here): the output grows linearly with the input.
 */
import { describe, expect, it } from 'vitest';
import { chainSource } from '../bench/chain.ts';
import { compileSync } from '../src/index.ts';

describe('output size is linear in the input', () => {
  it('a let chain 4 times as long gives 4 times the output (±10%; both long enough to be split), and the same for its source map', () => {
    const small = compileSync(chainSource(600), { sourceMap: true });
    const large = compileSync(chainSource(2_400), { sourceMap: true });
    const ratio = large.code!.length / small.code!.length;
    expect(ratio).toBeGreaterThan(3.6);
    expect(ratio).toBeLessThan(4.4);
    const mapRatio = large.map!.mappings.length / small.map!.mappings.length;
    expect(mapRatio).toBeGreaterThan(3.6);
    expect(mapRatio).toBeLessThan(4.4);
  });

  it('a file of 4 times as many functions gives 4 times the output (±10%)', () => {
    const file = (n: number) => Array.from({ length: n }, (_, i) => `fn f${i}(x, y) = sin(x * ${i + 1}) * y + x^2`).join('\n');
    const ratio = compileSync(file(800)).code!.length / compileSync(file(200)).code!.length;
    expect(ratio).toBeGreaterThan(3.6);
    expect(ratio).toBeLessThan(4.4);
  });
});
