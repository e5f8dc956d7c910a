import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileAndLoad, type Gradient } from './support/load.ts';

/** The worked examples of shared/seed, with the numbers it prints (15 significant digits). */
describe('the seed document examples', async () => {
  const m = await compileAndLoad(readFileSync(new URL('../examples/seed.ad', import.meta.url), 'utf8'), { filename: 'seed.ad' });

  it("§1: f(x) = f1(f2(x), f3(x)) has f'(1) = 122.045158140265", () => {
    const r = m.forwardGrad(1) as Gradient;
    expect(r.gradient.x).toBeCloseTo(122.045158140265, 11);
    expect(r.value).toBeCloseTo(m.forward(1) as number, 15);
  });

  it('§2.3: the two-variable example has ∂f/∂x1 = 18260.7627311899 and ∂f/∂x2 = 6689.544469 at (2, 3)', () => {
    const r = m.graphGrad(2, 3) as Gradient;
    expect(r.gradient.x1).toBeCloseTo(18260.7627311899, 9);
    expect(r.gradient.x2).toBeCloseTo(6689.544469, 6);
    // f1(512, log 2) = sin(512π) + cos(π log 2)
    expect(r.value).toBeCloseTo(Math.sin(512 * Math.PI) + Math.cos(Math.PI * Math.log(2)), 12);
  });

  it('appendix: h1(h2, h3) has gradient {x1: 0.299580760323820, x2: -0.0846987477622259} at (2, 3)', () => {
    const r = m.appendixGrad(2, 3) as Gradient;
    expect(r.gradient.x1).toBeCloseTo(0.29958076032382, 14);
    expect(r.gradient.x2).toBeCloseTo(-0.0846987477622259, 15);
    expect(Object.keys(r.gradient)).toEqual(['x1', 'x2']);
  });
});
