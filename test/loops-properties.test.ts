import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLoopCase, checkLoopCaseThroughCalls, evaluateLoopProgram, loopCaseArb, newLoopStats, type LoopCase } from './support/loop-programs.ts';

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
    // (About 0.6 s a program on a loaded machine: some call rr, a function with a loop of its own.)
  }, 300_000);

  it('called from another function as a kept call: the same gradient as inlined, checkpointed or not', () => {
    fc.assert(
      fc.property(loopCaseArb(), (c) => checkLoopCaseThroughCalls(c)),
      { numRuns: 40 },
    );
  }, 300_000);

  it('a 40-step recurrence whose differences need extrapolation (fuzz seed 672563226)', () => {
    // s2 = sin(2·s2 − q): the central difference at h = 1e-6 alone is 1.3e-5 off; the gradient is
    // −7.107799397781882 by reverse mode and −7.107799397781886 by forward mode.
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}},{"name":"s1","init":{"k":"fn","f":"tanh","a":{"k":"num","v":0}}},{"name":"s2","init":{"k":"fn","f":"atan","a":{"k":"bin","op":"*","a":{"k":"bin","op":"+","a":{"k":"var","name":"q"},"b":{"k":"var","name":"q"}},"b":{"k":"fn","f":"tanh","a":{"k":"var","name":"q"}}}}}],"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"num","v":0}}},{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"var","name":"s2"}}}},{"k":"set","name":"s1","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s1"},"b":{"k":"var","name":"p"}}}},{"k":"set","name":"s2","value":{"k":"fn","f":"sin","a":{"k":"bin","op":"+","a":{"k":"var","name":"s2"},"b":{"k":"bin","op":"-","a":{"k":"var","name":"s2"},"b":{"k":"var","name":"q"}}}}}],"result":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"fn","f":"sin","a":{"k":"num","v":0}}}},"p":0.05,"q":1.53,"n":40};
    checkLoopCase(c as Parameters<typeof checkLoopCase>[0]);
  });

  it('a gradient read in an if header inside the loop (seed -640367733)', () => {
    // grad(ga, y)(y, 0.1)[0]'s read was built outside the loop (the array is made there), before
    // the sweep filled it: the test read stale memory. Reads of a derivative's arrays stay in the block.
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"num","v":0},"b":{"k":"var","name":"p"}}}}],"array":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}},"b":{"k":"fn","f":"sin","a":{"k":"num","v":0}}}},"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"list","items":[{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"elem","at":0}},{"k":"fn","f":"sin","a":{"k":"elem","at":0}}],"at":0}}},{"k":"if","c":{"op":"<","a":{"k":"call","arg":{"k":"var","name":"p"},"at":0},"b":{"k":"bin","op":"+","a":{"k":"num","v":0},"b":{"k":"var","name":"p"}}},"then":[{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}},"b":{"k":"var","name":"p"}}}}}],"else":[{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"agrad","arg":{"k":"var","name":"p"}}}}}]},{"k":"if","c":{"op":"<","a":{"k":"agrad","arg":{"k":"num","v":0.1},"at":0},"b":{"k":"bin","op":"+","a":{"k":"var","name":"q"},"b":{"k":"elem","at":0}}},"then":[{"k":"one","index":"t","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"elem","at":0},"b":{"k":"num","v":0}}}}],"else":[]}],"result":{"k":"call","arg":{"k":"call","arg":{"k":"elem","at":0},"at":0},"at":0}},"p":-0.15000000000000002,"q":0.23,"n":2};
    checkLoopCase(c as Parameters<typeof checkLoopCase>[0]);
  });

  it('a reverse sweep that cancels beyond double precision is checked by fJvp instead (seed -1459118426)', () => {
    // y = rr(y, grad(gg, u)(y[0], -1.9)) 40 times from three equal elements: fGrad's ∂/∂p is 0,
    // fJvp's 3.4756220827e-4, the differences' 3.4756220832e-4 (from h = 1e-2 to 1e-8). The
    // adjoint of y entering the loop is [4.6e36, 0, −4.6e36], whose sum is the gradient: see
    // reverseRounding in test/support/loop-programs.ts.
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}},"b":{"k":"num","v":0}}}},{"name":"s1","init":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}}}},{"name":"s2","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}}],"array":{"k":"fn","f":"tanh","a":{"k":"fn","f":"sin","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}}}},"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}},{"k":"if","c":{"op":"<","a":{"k":"num","v":0},"b":{"k":"var","name":"p"}},"then":[{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"list","items":[{"k":"agrad","arg":{"k":"num","v":0}},{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}}],"at":0}}}}],"else":[{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"var","name":"p"}}}}]},{"k":"if","c":{"op":"<","a":{"k":"agrad","arg":{"k":"elem","at":0},"at":0},"b":{"k":"var","name":"p"}},"then":[{"k":"set","name":"s1","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s1"},"b":{"k":"agrad","arg":{"k":"fn","f":"sin","a":{"k":"num","v":0}},"at":0}}}}],"else":[{"k":"set","name":"s1","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s1"},"b":{"k":"bin","op":"+","a":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}},"b":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}}}}}}]},{"k":"set","name":"s2","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s2"},"b":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"elem","at":0}},"b":{"k":"elem","at":0}}}}},{"k":"if","c":{"op":"<","a":{"k":"grad","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}},"then":[{"k":"whole","value":{"k":"grad","a":{"k":"elem","at":0},"b":{"k":"num","v":-1.9}}}],"else":[]}],"result":{"k":"list","items":[{"k":"fn","f":"sin","a":{"k":"elem","at":0}},{"k":"bin","op":"+","a":{"k":"elem","at":0},"b":{"k":"var","name":"p"}}],"at":0}},"p":0.05,"q":0.03,"n":40};
    const stats = newLoopStats();
    checkLoopCase(c as Parameters<typeof checkLoopCase>[0], stats);
    expect(stats.illConditioned).toBe(1);
  });

  it('the same, reduced: y = rr(y, cos(y[0]) * (-1.9)), reverse mode checked while it keeps its digits', () => {
    // The values stay on y[0] = y[2], where rr contracts (×0.81 an iteration); rr's transpose
    // grows the adjoint along y[0] − y[2] (×8.4 an iteration). At n = 3 the cancellation costs a
    // few digits and fGrad is compared itself; at n = 40 about 40 (more than a double has) and fJvp is.
    const program = {
      state: [],
      array: { k: 'fn', f: 'tanh', a: { k: 'fn', f: 'sin', a: { k: 'bin', op: '+', a: { k: 'var', name: 'p' }, b: { k: 'var', name: 'p' } } } },
      loop: { kind: 'for' },
      body: [{ k: 'whole', value: { k: 'bin', op: '*', a: { k: 'fn', f: 'cos', a: { k: 'elem', at: 0 } }, b: { k: 'num', v: -1.9 } } }],
      result: { k: 'fn', f: 'sin', a: { k: 'elem', at: 0 } },
    } as const;
    for (const [n, illConditioned] of [[3, 0], [40, 1]] as const) {
      const stats = newLoopStats();
      checkLoopCase({ program, p: 0.05, q: 0.03, n }, stats);
      expect(stats.compared, `n = ${n}`).toBe(2);
      expect(stats.illConditioned, `n = ${n}`).toBe(illConditioned);
    }
  });

  it('the same growth with q only inside the loop: the terms of the iterations cancel (seed 1774766439)', () => {
    // y = rr(y, sin(q)) after y[i] = tanh(y[i] + p + y[0]): the elements stay equal, rr's ∂/∂a is
    // the same for the three, and the adjoint entering each iteration grows along y[0] − y[2]. No
    // initial value depends on q, so the bound that counted only λ₀·∂x₀/∂q was 0 and fGrad's
    // ∂/∂q (0) was compared with the differences' −5.6136e-4 (fJvp's −5.61355440841e-4). The
    // reduced program: fGrad's ∂/∂q is fJvp's −1.3037672960e-4 to 13 digits at n = 3, −1.30319e-4
    // at n = 20, 0 at n = 40.
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}}}},{"name":"s1","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}},{"name":"s2","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}}],"array":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}}},"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"grad","a":{"k":"bin","op":"+","a":{"k":"elem","at":0},"b":{"k":"var","name":"p"}},"b":{"k":"elem","at":0}}}},{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}}}}},{"k":"set","name":"s1","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s1"},"b":{"k":"bin","op":"+","a":{"k":"agrad","arg":{"k":"elem","at":0}},"b":{"k":"var","name":"p"}}}}},{"k":"set","name":"s2","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s2"},"b":{"k":"elem","at":0}}}},{"k":"if","c":{"op":"<","a":{"k":"bin","op":"-","a":{"k":"num","v":0},"b":{"k":"var","name":"t"}},"b":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}}},"then":[{"k":"all","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"elem","at":"i"},"b":{"k":"list","items":[{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"elem","at":0}},{"k":"grad","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}}],"at":0}}}}],"else":[]},{"k":"whole","value":{"k":"fn","f":"sin","a":{"k":"var","name":"q"}}}],"result":{__proto__:null,"k":"bin","op":"+","a":{__proto__:null,"k":"call","arg":{"k":"var","name":"p"},"at":0},"b":{__proto__:null,"k":"call","arg":{"k":"elem","at":0},"at":2}}},"p":-0.45,"q":-1.47,"n":40};
    const stats = newLoopStats();
    checkLoopCase(c as unknown as LoopCase, stats);
    expect(stats.illConditioned).toBe(1);
    const program = {
      state: [],
      array: { k: 'fn', f: 'tanh', a: { k: 'var', name: 'p' } },
      loop: { kind: 'for' },
      body: [
        { k: 'all', value: { k: 'fn', f: 'tanh', a: { k: 'bin', op: '+', a: { k: 'elem', at: 'i' }, b: { k: 'bin', op: '+', a: { k: 'var', name: 'p' }, b: { k: 'elem', at: 0 } } } } },
        { k: 'whole', value: { k: 'fn', f: 'sin', a: { k: 'var', name: 'q' } } },
      ],
      result: { k: 'call', arg: { k: 'var', name: 'p' }, at: 0 },
    } as const;
    for (const [n, illConditioned] of [[3, 0], [40, 1]] as const) {
      const stats = newLoopStats();
      checkLoopCase({ program, p: -0.45, q: -1.47, n }, stats);
      expect(stats.compared, `n = ${n}`).toBe(2);
      expect(stats.illConditioned, `n = ${n}`).toBe(illConditioned);
    }
  }, 60_000);

  it('kept and inlined sweeps of a cancelling loop differ within its rounding bound (seed 1774766439)', () => {
    // The same growth through w = f(p, q)·f(q, p) + f(p/2, q): ∂w/∂p kept −4.6147482e-4, inlined
    // −4.6140491e-4, 7.0e-8 apart; the rounding bound of the three calls' sweeps is 4.9e-7.
    // (∂w/∂q, bound 1.9e-7, happens to agree to 7e-14.)
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}}}},{"name":"s1","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}},{"name":"s2","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"p"}}}],"array":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}}},"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"grad","a":{"k":"bin","op":"+","a":{"k":"elem","at":0},"b":{"k":"var","name":"p"}},"b":{"k":"elem","at":0}}}},{"k":"set","name":"s0","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s0"},"b":{"k":"bin","op":"+","a":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}},"b":{"k":"fn","f":"sin","a":{"k":"var","name":"p"}}}}}},{"k":"set","name":"s1","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s1"},"b":{"k":"bin","op":"+","a":{"k":"agrad","arg":{"k":"elem","at":0}},"b":{"k":"var","name":"p"}}}}},{"k":"set","name":"s2","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"var","name":"s2"},"b":{"k":"elem","at":0}}}},{"k":"if","c":{"op":"<","a":{"k":"bin","op":"-","a":{"k":"num","v":0},"b":{"k":"var","name":"t"}},"b":{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"var","name":"p"}}},"then":[{"k":"all","value":{"k":"fn","f":"tanh","a":{"k":"bin","op":"+","a":{"k":"elem","at":"i"},"b":{"k":"list","items":[{"k":"bin","op":"+","a":{"k":"var","name":"p"},"b":{"k":"elem","at":0}},{"k":"grad","a":{"k":"var","name":"p"},"b":{"k":"var","name":"q"}}],"at":1}}}}],"else":[]},{"k":"whole","value":{"k":"fn","f":"atan","a":{"k":"var","name":"q"}}}],"result":{__proto__:null,"k":"bin","op":"+","a":{__proto__:null,"k":"call","arg":{"k":"var","name":"p"},"at":0},"b":{__proto__:null,"k":"call","arg":{"k":"elem","at":0},"at":2}}},"p":-0.45,"q":-1.47,"n":40};
    checkLoopCaseThroughCalls(c as unknown as LoopCase);
  }, 60_000);

  it('an array gradient at a = −0 is +0, as the sweep adds it into zeros (seed 1596269426)', () => {
    // grad(ga, y)(y, p * 0)[1] with p < 0: the term cos(y_1·a)·a is −0, and ga's reverse sweep adds
    // it into its array of zeros (d$y[i] += …), so the gradient is 0 + −0 = +0 and s0·(+0) is +0.
    // The evaluator returned the bare term, −0, and s0·(−0) = −0 (the seed's program carried that
    // zero through y and rr to its result).
    const c = {"program":{"state":[{"name":"s0","init":{"k":"fn","f":"tanh","a":{"k":"var","name":"q"}}}],"array":{"k":"fn","f":"atan","a":{"k":"var","name":"q"}},"loop":{"kind":"for"},"body":[{"k":"let","name":"a","value":{"k":"fn","f":"tanh","a":{"k":"var","name":"t"}}},{"k":"set","name":"s0","value":{"k":"fn","f":"sin","a":{"k":"bin","op":"*","a":{"k":"var","name":"s0"},"b":{"k":"agrad","arg":{"k":"bin","op":"*","a":{"k":"var","name":"p"},"b":{"k":"num","v":0}},"at":1}}}}],"result":{"k":"var","name":"s0"}},"p":-0.45,"q":0.33,"n":1};
    expect(Object.is(evaluateLoopProgram(c.program as LoopCase['program'], c), 0)).toBe(true);
    checkLoopCase(c as LoopCase);
  });
  it('a zero derivative whose sign the compiler may drop: grad(gg, u)(p, 0 · (−0.1)) (seed -1241360018)', () => {
    // cos(p) · (−0) is −0 by the chain rule; compiled, the constant adjoint −0 is skipped as zero and
    // the result is +0. Both are 0: compared unsigned where the program takes a gradient.
    const program = {
      state: [],
      loop: { kind: 'for' },
      body: [],
      result: { k: 'grad', a: { k: 'var', name: 'p' }, b: { k: 'bin', op: '*', a: { k: 'num', v: 0 }, b: { k: 'num', v: -0.1 } } },
    } as const;
    const c = { program, p: 0.05, q: 0.03, n: 2 } as unknown as LoopCase;
    expect(Object.is(evaluateLoopProgram(c.program, c), -0)).toBe(true);
    const stats = newLoopStats();
    checkLoopCase(c, stats);
    expect(stats.programs).toBe(1);
  });
});
