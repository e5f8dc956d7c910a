/**
 * The reverse of element loops, as the vector RK4 of examples/loops.ad needs it fast
 * (src/ad/reverse.ts: reverseSoleStore, lastUpdate; src/ad/accumulate-once.ts):
 * - an element loop whose one store is its only source of adjoints tests that store's seed against
 *   0 once per element (not each adjoint derived from it), and still adds nothing where it is 0,
 *   even through an infinite partial (README, "Derivative conventions");
 * - an adjoint added into the same element by every iteration (d$p[0] in the reverse of rhs) is
 *   summed in a local and added once after the loop;
 * - the last statement of an iteration recomputed whole, an update of the state in place, is not
 *   run again: its reverse recomputes its values from the state as it was before it.
 * The shapes are read from the generated code; the gradients are checked against hand-derived
 * numbers, the forward-mode oracle (test/oracle), central differences, and the checkpointed sweep
 * to the last bit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { duals, forwardGradient, numbers, type Arith, type Dual } from './oracle/arrays.ts';
import { rk4VecT } from './oracle/loops.ts';
import { compileAndLoad, type CompiledModule } from './support/load.ts';

/** Calls a generated function with arrays among its arguments. */
const run = (m: CompiledModule, name: string, ...args: unknown[]): unknown => (m[name] as (...a: unknown[]) => unknown)(...args);

const loopsSource = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');

/** The text of one generated function, from its `function name(` line to the next function. */
function functionText(code: string, name: string): string {
  const start = code.indexOf(`function ${name}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = code.indexOf('\nfunction ', start + 1);
  return code.slice(start, end < 0 ? undefined : end);
}

/** The bodies of the loops counting down (the reverse sweep's), each up to its closing brace. */
function reverseLoops(text: string): string[] {
  const bodies: string[] = [];
  const head = /for \(let (i\$\d+) = n - 1; \1 >= 0; \1--\) \{/g;
  for (let m = head.exec(text); m; m = head.exec(text)) {
    let depth = 1;
    let k = m.index + m[0].length;
    for (; k < text.length && depth > 0; k++) depth += text[k] === '{' ? 1 : text[k] === '}' ? -1 : 0;
    bodies.push(text.slice(m.index + m[0].length, k - 1));
  }
  return bodies;
}

describe('the vector RK4: the shape of its reverse sweep', () => {
  const grad = functionText(compileSync(loopsSource).code!, 'rk4Grad');
  const reverse = grad.slice(grad.indexOf('// Reverse sweep'));

  it("reverses each rhs element with one test of its seed, not one per adjoint derived from it", () => {
    // The reversed loops of rhs's statement: each reads its seed from an adjoint of f (d$f, d$f$2, …).
    const seeded = reverseLoops(reverse).filter((body) => /const \$t\d+ = d\$f(\$\d+)?\[i\$\d+\];/.test(body) && body.includes('/ n'));
    expect(seeded).toHaveLength(4);
    for (const body of seeded) {
      expect(body.match(/!== 0/g) ?? []).toHaveLength(1);
      expect(body.match(/\bif \(/g) ?? []).toHaveLength(1);
    }
  });

  it("adds the adjoint of p once per reversed call of rhs, after its element loop", () => {
    // Not inside the loops: after each, one addition per parameter element.
    for (const body of reverseLoops(reverse)) expect(body).not.toMatch(/d\$p\[/);
    const flushes = reverse.match(/\n(\s*)\}\n\1d\$p\[\d\] \+= \$t\d+;\n\1d\$p\[\d\] \+= \$t\d+;/g) ?? [];
    expect(flushes).toHaveLength(4);
    expect(reverse.match(/d\$p\[\d\] \+=/g) ?? []).toHaveLength(8);
  });

  it('does not run the update of y again before reversing it (in the reverse sweep, only the recomputation from a snapshot does)', () => {
    expect(reverse.match(/\+ 2 \* \$t\d+ \+ 2 \* \$t\d+ \+/g) ?? []).toHaveLength(1);
  });

  it('keeps the gradient: the forward-mode oracle and the checkpointed sweep', async () => {
    const stored = await compileAndLoad(loopsSource);
    const checkpointed = await compileAndLoad(loopsSource, { checkpointMemory: 0 });
    const p = [1.3, 0.7];
    const y0 = [0.05, 0.1, 0.2, 0.35, 0.5];
    const steps = 40;
    type G = { value: number; gradient: { p: Float64Array; y0: Float64Array } };
    const g = run(stored, 'rk4Grad', 0.01, p, y0, steps) as unknown as G;
    const c = run(checkpointed, 'rk4Grad', 0.01, p, y0, steps) as unknown as G;
    expect([c.value, ...c.gradient.p, ...c.gradient.y0]).toEqual([g.value, ...g.gradient.p, ...g.gradient.y0]);
    const oracle = forwardGradient({ p: { kind: 'vec', value: p }, y0: { kind: 'vec', value: y0 } }, (a) => rk4VecT(duals, 0.01, a.p, a.y0, steps));
    const close = (mine: ArrayLike<number>, theirs: ArrayLike<number>) =>
      Array.from(mine).forEach((v, k) => expect(Math.abs(v - theirs[k])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(theirs[k]))));
    close(g.gradient.p, oracle.gradient.p as Float64Array);
    close(g.gradient.y0, oracle.gradient.y0 as Float64Array);
  });
});

describe('one test per element keeps the 0·∞ convention', () => {
  const source = `
fn scaled(p: vec[m], x: vec[n]) {
  let a[i] = p[0] * sqrt(x[i]) + p[1] * x[i] * x[i]
  return a[0] + 2 * a[n - 1]
}
`;
  it('an element nothing reads adds nothing, even where sqrt has an infinite derivative; the others are exact', async () => {
    const m = await compileAndLoad(source);
    const code = functionText(compileSync(source).code!, 'scaledGrad');
    // One test per element, and p's adjoint summed after the loop.
    const [body] = reverseLoops(code);
    expect(body.match(/!== 0/g) ?? []).toHaveLength(1);
    expect(body).not.toMatch(/d\$p\[/);
    const p = [1.5, -0.25];
    const x = [4, 0, 9];
    const g = run(m, 'scaledGrad', p, x) as unknown as { value: number; gradient: { p: Float64Array; x: Float64Array } };
    // By hand: a[i] = p0·√x_i + p1·x_i², f = a[0] + 2·a[2].
    expect(g.value).toBe(1.5 * 2 - 0.25 * 16 + 2 * (1.5 * 3 - 0.25 * 81));
    expect([...g.gradient.p]).toEqual([2 + 2 * 3, 16 + 2 * 81]);
    // x[1] = 0 is read by a[1] alone, which nothing reads: 0, not 0·∞ = NaN.
    expect([...g.gradient.x]).toEqual([1.5 / (2 * 2) - 0.25 * 2 * 4, 0, 2 * (1.5 / (2 * 3) - 0.25 * 2 * 9)]);
    // Where the element is read, the infinite derivative shows, as in straight-line code.
    const at0 = run(m, 'scaledGrad', p, [0, 1, 9]) as unknown as { gradient: { x: Float64Array } };
    expect(at0.gradient.x[0]).toBe(Infinity);
    expect(at0.gradient.x[1]).toBe(0);
  });
});

describe('the last update of an iteration, reversed without running it again', () => {
  // tanh's derivative reads its own value: with the update not run again, the reverse recomputes
  // it from y as it was before the update (reading y would give the old value, not tanh's).
  const source = `
fn squash(p: vec[m], x: vec[n], const steps) {
  var y: vec[n] = x
  for t in 0..steps {
    let a[i] = p[0] * y[i] + p[1]
    y[i] = tanh(a[n - 1 - i] + y[i])
  }
  return sum(i: y[i] * (i + 1))
}
`;
  function squashT<T>(A: Arith<T>, p: readonly T[], x: readonly T[], steps: number): T {
    const n = x.length;
    let y = [...x];
    for (let t = 0; t < steps; t++) {
      const a = y.map((v) => A.add(A.mul(p[0], v), p[1]));
      y = y.map((v, i) => A.tanh(A.add(a[n - 1 - i], v)));
    }
    return y.reduce((acc, v, i) => A.add(acc, A.mul(v, A.lift(i + 1))), A.lift(0));
  }
  for (const steps of [0, 1, 2, 30]) {
    it(`${steps} steps: the oracle, central differences and the checkpointed sweep`, async () => {
      const stored = await compileAndLoad(source);
      const checkpointed = await compileAndLoad(source, { checkpointMemory: 0 });
      const p = [0.8, -0.3];
      const x = [0.4, -0.7, 1.1, 0.2];
      type G = { value: number; gradient: { p: Float64Array; x: Float64Array } };
      const g = run(stored, 'squashGrad', p, x, steps) as unknown as G;
      const c = run(checkpointed, 'squashGrad', p, x, steps) as unknown as G;
      expect([c.value, ...c.gradient.p, ...c.gradient.x]).toEqual([g.value, ...g.gradient.p, ...g.gradient.x]);
      expect(Math.abs(g.value - squashT(numbers, p, x, steps))).toBeLessThanOrEqual(1e-13);
      const oracle = forwardGradient({ p: { kind: 'vec', value: p }, x: { kind: 'vec', value: x } }, (a) => squashT<Dual>(duals, a.p, a.x, steps));
      const h = 1e-6;
      for (const [key, values] of [['p', p], ['x', x]] as const) {
        const mine = g.gradient[key];
        const theirs = oracle.gradient[key] as Float64Array;
        values.forEach((_, k) => {
          expect(Math.abs(mine[k] - theirs[k])).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(theirs[k])));
          const moved = (d: number) => {
            const q = [...p];
            const z = [...x];
            (key === 'p' ? q : z)[k] += d;
            return run(stored, 'squash', q, z, steps) as unknown as number;
          };
          expect(Math.abs(mine[k] - (moved(h) - moved(-h)) / (2 * h))).toBeLessThanOrEqual(1e-7);
        });
      }
    });
  }
});
