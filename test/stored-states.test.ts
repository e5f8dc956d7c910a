/**
 * The gradient of a loop with state when every state fits the budget (checkpoint.ts,
 * storeEveryState; reverse.ts, reverseCarried): the forward sweep runs a second version of the
 * loop that only stores each state in its slot, and the reverse sweep reads slot t; the last
 * iteration is reversed first on its own, guarding the state adjoints that may be exactly 0, and
 * the others without the guards they do not need. Pinned here: the shape of that code, gradients
 * against the forward-mode oracle, central differences and the loop written out (unrolled), for
 * trip counts 0, 1, 2, 3 and large, a `while` that stops at once or reaches its max, an `if` in
 * the body; and the checkpointed sweep (a budget of 0) equal to the stored one to the last bit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { foldBranches } from '../src/ir/fold-branches.ts';
import type { IrFunction } from '../src/ir/ir.ts';
import { duals, forwardGradient, numbers, type Dual, type Param } from './oracle/arrays.ts';
import { bounceT, lstmT, oscillateT, predatorsT, type LstmWeights } from './oracle/loops.ts';
import { compileAndLoad, importCode } from './support/load.ts';
import { instantiate } from './support/instantiate.ts';

type Grad = { value: number; gradient: Record<string, number> };
type Fn = (...args: unknown[]) => unknown;

const source = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');
const stored = await compileAndLoad(source);
const checkpointed = await compileAndLoad(source, { checkpointMemory: 0 });
const code = compileSync(source).code!;

/** The text of a generated function, from its `function` line to the closing brace at column 0. */
function functionText(text: string, name: string): string {
  const start = text.indexOf(`function ${name}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  return text.slice(start, text.indexOf('\n}\n', start) + 2);
}

/** The block opened on the first line matching `opening` (after `from`), up to its closing brace at the same indentation. */
function blockAfter(text: string, opening: RegExp, from = 0): string {
  const lines = text.slice(from).split('\n');
  const k = lines.findIndex((l) => opening.test(l));
  expect(k, `no line matching ${opening}`).toBeGreaterThanOrEqual(0);
  const indent = /^\s*/.exec(lines[k])![0];
  const end = lines.findIndex((l, j) => j > k && l.startsWith(`${indent}}`));
  return lines.slice(k, end + 1).join('\n');
}

const scalar = (value: number) => ({ kind: 'scalar', value }) as const satisfies Param;
function oracleOf(values: Record<string, number>, f: (p: Record<string, Dual>) => Dual): Record<string, number> {
  const params = Object.fromEntries(Object.entries(values).map(([n, v]) => [n, scalar(v)]));
  return forwardGradient(params, (p) => f(p as Record<string, Dual>)).gradient as Record<string, number>;
}

function close(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected) / Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`).toBeLessThanOrEqual(relative);
}

function finiteDifferences(f: (...args: number[]) => number, args: number[], count: number): number[] {
  return args.slice(0, count).map((x, k) => {
    const h = 1e-6 * Math.max(1, Math.abs(x));
    const up = [...args];
    const dn = [...args];
    up[k] += h;
    dn[k] -= h;
    return (f(...up) - f(...dn)) / (2 * h);
  });
}

describe('the code when every state fits', () => {
  const oscillate = functionText(code, 'oscillateGrad');
  const predators = functionText(code, 'predatorsGrad');

  it('the forward sweep has a loop that only stores each state in slot t, beside the checkpointed one', () => {
    for (const text of [oscillate, predators]) {
      expect(text).toContain('// Every state fits the budget: this loop stores each in slot t');
      const straight = blockAfter(text, /^\s*for \(let /, text.indexOf('// Every state fits the budget'));
      // Slot t at t·2 (S = 2: two numbers), and nothing of the schedule: no positions, no stack top.
      expect(straight).toMatch(/\$saved\d+\[\$t\d+\] = (x|u)\$2;\n\s*\$saved\d+\[\$t\d+ \+ 1\] = (v|w)\$2;/);
      expect(straight).toMatch(/const \$t\d+ = (t|s)\$\d+ \* 2;/);
      expect(straight).not.toMatch(/\btop\b|capo|planned/);
      expect(straight.match(/\$saved\d+\[/g)).toHaveLength(2);
      // Then `else`: the checkpointed loop, with its snapshot check.
      const rest = text.slice(text.indexOf(straight) + straight.length);
      expect(rest).toMatch(/^\s*\} else \{\n\s*for \(let (t|s) = 0;/);
    }
  });

  it('the reverse sweep reads slot t when every state was stored, else restores from the snapshots', () => {
    const reverse = oscillate.slice(oscillate.indexOf('// Reverse sweep'));
    expect(reverse).toMatch(/if \(\$t\d+\) \{\n\s*const \$t\d+ = t\$\d+ \* 2;\n\s*x\$\d+ = \$saved\d+\[\$t\d+\];\n\s*v\$\d+ = \$saved\d+\[\$t\d+ \+ 1\];\n\s*\} else \{\n\s*const \$t\d+ = \$saved\d+\[top\];/);
  });

  it('the last iteration is reversed guarded, the others without the guards (every state adjoint is nonzero there), in one loop', () => {
    for (const [text, zero] of [
      [oscillate, 'd$v$2'],
      [predators, 'd$u$2'],
    ] as const) {
      const reverse = text.slice(text.indexOf('// Reverse sweep'));
      // The state unused after the loop starts from 0: guarded in the last iteration.
      const test = /^(\s*)if \((t|s)\$\d+ === \$t1 - 1\) \{$/m.exec(reverse)!;
      expect(test, 'a test of the last iteration').not.toBeNull();
      const peeled = blockAfter(reverse, /^\s*if \((t|s)\$\d+ === \$t1 - 1\) \{$/);
      expect(peeled).toContain(`${zero} !== 0`);
      // The others, in its else branch.
      const others = blockAfter(reverse, new RegExp(`^${test[1]}\\} else \\{$`), test.index);
      expect(others).not.toContain('!== 0');
      expect(others).toMatch(/d\$(x|u)\$2 = d\$(x|u)\$\d+;/);
      // One reversed loop: the code restoring the state (Revolve's schedule included) once, not once more for the last iteration.
      expect(reverse.match(/for \(let (t|s)\$\d+ = \$t1 - 1; (t|s)\$\d+ >= 0; (t|s)\$\d+--\) \{/g)).toHaveLength(1);
      expect(reverse.match(/Where the next snapshots go/g)).toHaveLength(1);
    }
  });

  it('a loop whose state adjoints may be 0 in every iteration (a variable only passed on) keeps one loop, guarded', () => {
    // `count` is never read: its adjoint stays 0, so every iteration guards it and none is peeled.
    const text = functionText(compileSync(`fn f(a, const n) {\n  var x = a\n  var count = 0\n  for t in 0..n {\n    count = count + sqrt(x)\n    x = x * 0.9\n  }\n  return x\n}`).code!, 'fGrad');
    expect(text).not.toMatch(/if \(0 < \$t\d+\) \{/);
    // The adjoint of count is 0 throughout: its guard, `if (0 !== 0)` after constant propagation,
    // is dropped with what it guarded (fold-branches.ts); nothing else needs a guard.
    expect(text).not.toContain('!== 0');
    expect(text).not.toContain('Math.sqrt');
    // ∂/∂a of a·0.9^n.
    const m = instantiate(compileSync(`fn f(a, const n) {\n  var x = a\n  var count = 0\n  for t in 0..n {\n    count = count + sqrt(x)\n    x = x * 0.9\n  }\n  return x\n}`).code!);
    expect((m.fGrad(2, 3) as { gradient: { a: number } }).gradient.a).toBe(0.9 * 0.9 * 0.9);
  });
});

describe('values and gradients', () => {
  for (const steps of [0, 1, 2, 3, 700]) {
    it(`oscillate and predators over ${steps} steps: the oracle, differences, and the checkpointed sweep to the last bit`, () => {
      const osc = [2.5, 0.3, -0.7];
      const oscArgs = [...osc, 0.01, steps];
      const g = (stored.oscillateGrad as Fn)(...oscArgs) as Grad;
      const oracle = oracleOf({ k: osc[0], x0: osc[1], v0: osc[2] }, (p) => oscillateT(duals, p.k, p.x0, p.v0, 0.01, steps));
      close(g.value, oscillateT(numbers, osc[0], osc[1], osc[2], 0.01, steps), 1e-14);
      const fd = finiteDifferences((...a) => (stored.oscillate as Fn)(...a) as number, oscArgs, 3);
      ['k', 'x0', 'v0'].forEach((n, k) => {
        close(g.gradient[n], oracle[n], 1e-12);
        close(g.gradient[n], fd[k], 1e-7);
      });
      expect((checkpointed.oscillateGrad as Fn)(...oscArgs)).toEqual(g);

      const p = [1.1, 0.4, 0.9, 0.3, 2, 1.5];
      const names = ['a', 'b', 'c', 'd', 'u0', 'w0'];
      const pArgs = [...p, 0.01, steps];
      const pg = (stored.predatorsGrad as Fn)(...pArgs) as Grad;
      const pOracle = oracleOf(Object.fromEntries(names.map((n, i) => [n, p[i]])), (q) => predatorsT(duals, q.a, q.b, q.c, q.d, q.u0, q.w0, 0.01, steps));
      const pfd = finiteDifferences((...a) => (stored.predators as Fn)(...a) as number, pArgs, 6);
      names.forEach((n, k) => {
        close(pg.gradient[n], pOracle[n], 1e-12);
        close(pg.gradient[n], pfd[k], 1e-6);
      });
      expect((checkpointed.predatorsGrad as Fn)(...pArgs)).toEqual(pg);
      if (steps === 0) expect(pg.gradient).toEqual({ a: 0, b: 0, c: 0, d: 0, u0: 0, w0: 1 });
    });
  }

  for (const steps of [0, 1, 2, 60]) {
    it(`an if in the body (bounce, ${steps} steps) and the LSTM: the oracle, and checkpointed = stored`, () => {
      const g = (stored.bounceGrad as Fn)(0.45, 0.37, steps) as Grad;
      const oracle = oracleOf({ x0: 0.45, r: 0.37 }, (p) => bounceT(duals, p.x0, p.r, steps));
      close(g.value, bounceT(numbers, 0.45, 0.37, steps), 1e-14);
      close(g.gradient.x0, oracle.x0, 1e-11);
      close(g.gradient.r, oracle.r, 1e-11);
      expect((checkpointed.bounceGrad as Fn)(0.45, 0.37, steps)).toEqual(g);

      const xs = Array.from({ length: steps + 1 }, (_, t) => Math.sin(0.7 * t) * 0.8);
      const names = ['wf', 'uf', 'bf', 'wi', 'ui', 'bi', 'wo', 'uo', 'bo', 'wc', 'uc', 'bc', 'v'];
      const values = names.map((_, i) => 0.3 * Math.cos(1.3 * i + 0.2));
      const lg = (stored.lstmGrad as Fn)(...values, xs) as Grad;
      const lOracle = oracleOf(Object.fromEntries(names.map((n, i) => [n, values[i]])), (p) => lstmT(duals, p as unknown as LstmWeights<Dual>, xs));
      for (const n of names) close(lg.gradient[n], lOracle[n], 1e-11);
      expect((checkpointed.lstmGrad as Fn)(...values, xs)).toEqual(lg);
    });
  }

  it('a while that stops at once, stops early, or reaches its max: checkpointed = stored, and the differences', async () => {
    const program = `fn halving(a, tol, const n) {
  var x = a
  var s = 0
  while x > tol max n {
    x = x * 0.9 + 0.01 * sin(x)
    s = s + sqrt(x) * a
  }
  return s + x
}`;
    const m = await compileAndLoad(program);
    const c = await compileAndLoad(program, { checkpointMemory: 0 });
    for (const [a, tol, n] of [
      [0.5, 1, 50],
      [2, 1, 50],
      [2, 1e-9, 40],
      [3, 0.5, 3],
    ]) {
      const g = (m.halvingGrad as Fn)(a, tol, n) as Grad;
      expect((c.halvingGrad as Fn)(a, tol, n)).toEqual(g);
      const [da] = finiteDifferences((...x) => (m.halving as Fn)(...x) as number, [a, tol, n], 1);
      close(g.gradient.a, da, 1e-6);
      expect(g.gradient.tol).toBe(0);
    }
  });
});

describe('guards: a state adjoint that is exactly 0 in the last iteration only', () => {
  // v is unused after the loop: its adjoint is 0 when the last iteration is reversed, where the
  // partial of sqrt is infinite (its argument is 0 there). Guarded, that contributes 0, as in the
  // loop written out (where v's last value has no adjoint at all); in the iterations before, v is
  // read by the next one and its adjoint is not 0.
  const looped = `fn f(x0, c, const steps) {
  var x = x0
  var v = 0
  for t in 0..steps {
    x = x + 0.5 * v
    v = sqrt(abs(t - (steps - 1)) * x * c)
  }
  return x * c
}`;
  const unrolled = (steps: number) => {
    const lines = ['fn g(x0, c) {', '  let x0_ = x0', '  let v0_ = 0'];
    for (let t = 0; t < steps; t++) {
      lines.push(`  let x${t + 1}_ = x${t}_ + 0.5 * v${t}_`);
      lines.push(`  let v${t + 1}_ = sqrt(${Math.abs(t - (steps - 1))} * x${t + 1}_ * c)`);
    }
    lines.push(`  return x${steps}_ * c`, '}');
    return lines.join('\n');
  };

  for (const steps of [1, 2, 3, 8]) {
    it(`${steps} steps: finite, the unrolled loop's gradient, the differences; checkpointed = stored`, async () => {
      const m = await compileAndLoad(looped);
      const c = await compileAndLoad(looped, { checkpointMemory: 0 });
      const u = await importCode(compileSync(unrolled(steps)).code!);
      const args = [1.3, 0.8, steps];
      const g = (m.fGrad as Fn)(...args) as Grad;
      const reference = (u.gGrad as Fn)(1.3, 0.8) as Grad;
      expect(Number.isFinite(g.gradient.x0) && Number.isFinite(g.gradient.c)).toBe(true);
      close(g.value, reference.value, 1e-14);
      close(g.gradient.x0, reference.gradient.x0, 1e-13);
      close(g.gradient.c, reference.gradient.c, 1e-13);
      expect((c.fGrad as Fn)(...args)).toEqual(g);
      // (Differences in x0 only when v is ever read: with one step it is not, and the derivative is c.)
      const [dx0, dc] = finiteDifferences((...a) => (m.f as Fn)(...a) as number, args, 2);
      close(g.gradient.x0, dx0, 1e-6);
      close(g.gradient.c, dc, 1e-6);
    });
  }
});

describe('foldBranches (src/ir/fold-branches.ts) takes a branch as the emitted `if (c)` would', () => {
  const span = { start: 0, end: 1 };
  const origin = { span, statement: span };
  const branch = (condition: number): IrFunction => ({
    name: 'f',
    params: [],
    body: [
      { kind: 'const', target: 'c', expr: { op: 'copy', args: [{ kind: 'const', value: condition }] }, origin },
      { kind: 'let', target: 'r', expr: { op: 'copy', args: [{ kind: 'const', value: 0 }] }, origin },
      {
        kind: 'if',
        condition: { kind: 'var', name: 'c' },
        then: [{ kind: 'set', target: 'r', expr: { op: 'copy', args: [{ kind: 'const', value: 1 }] }, origin }],
        else: [{ kind: 'set', target: 'r', expr: { op: 'copy', args: [{ kind: 'const', value: 2 }] }, origin }],
        origin,
      },
    ],
    value: { kind: 'var', name: 'r' },
    span,
  });
  const taken = (condition: number) => {
    const set = foldBranches(branch(condition)).body.find((i) => i.kind === 'set');
    return set?.kind === 'set' ? set.expr.args[0] : undefined;
  };
  it.each([
    [1, 1],
    [-3, 1],
    [Infinity, 1],
    [0, 2],
    [-0, 2],
    [NaN, 2],
  ])('condition %s takes the block that sets %s', (condition, expected) => {
    // JavaScript: `if (NaN)` and `if (-0)` take the else block.
    expect(taken(condition)).toEqual({ kind: 'const', value: expected });
  });
});
