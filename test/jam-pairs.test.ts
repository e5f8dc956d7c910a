/**
 * Two iterations per pass of a reversed loop around loop nests, their bodies fused
 * (src/ad/jam-pairs.ts, issue 16: GMM at D = 64): where it is applied (GMM's and the MLP's loop over
 * points / rows, in fGrad and fGradInto) and where it must not be (beside fHvp, the
 * IR-level exclusions), on both targets, with gradients against the forward-mode oracle
 * (test/oracle/arrays.ts), the same program's gradient compiled beside fHvp (never jammed) and
 * central finite differences (checkArraySource), at every count of points modulo two (0 to 5: no
 * pair, a point alone, pairs, pairs and a point left), and the wasm target's against the JS
 * target's (both pair). The random nests are in test/arrays-properties.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { unrollAndJam } from '../src/ad/unroll-and-jam.ts';
import { NameSupply } from '../src/ir/builder.ts';
import { constant, variable, type Instr, type IrFunction, type Operand, type Origin } from '../src/ir/ir.ts';
import { compileSync } from '../src/index.ts';
import { gmmData, gmmForward, mlpData, mlpForward, type GradValue } from './oracle/arrays.ts';
import fc from 'fast-check';
import { checkArraySource, expectNear, flatGradient, nestArguments, pairCaseArb } from './support/array-programs.ts';
import { both, checkTargetsAgree, compare } from './support/targets.ts';
import { instantiate } from './support/instantiate.ts';

const NOTE = 'Two iterations per pass';
type Module = Record<string, (...args: unknown[]) => { value: number; gradient: Record<string, GradValue> }>;

function compiled(source: string, options: { derivatives?: ('grad' | 'hvp')[]; target?: 'js' | 'wasm' } = {}): { code: string; m: Module } {
  const r = compileSync(source, { filename: 'pairs.ad', ...options });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  return { code: r.code, m: (options.target === 'wasm' ? {} : instantiate(r.code)) as unknown as Module };
}

describe('GMM: points i and i − 1 per pass of the reversed loop over the points', () => {
  const source = readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8');
  const paired = compiled(source);
  const plain = compiled(source, { derivatives: ['grad', 'hvp'] });

  it('is applied to gmmGrad and gmmGradInto (the fused rows then jammed by four), never beside fHvp', () => {
    const grad = paired.code.slice(paired.code.indexOf('function gmmGrad('), paired.code.indexOf('function gmmGradInto('));
    expect(grad).toContain(NOTE);
    expect(grad).toContain('Unrolled and jammed by four');
    // Both points' work arrays x_i − μ_k, filled by one loop; L's adjoint added once per pair.
    // (μ_k's element, the same for both points, loaded once.)
    expect(grad).toMatch(/\$t\d+\[(i\$\d+)\] = \$t\d+\[\1\] - (\$t\d+);\n\s*\$t\d+\[\1\] = \$t\d+\[\1\] - \2;/);
    expect(grad).toMatch(/if \(\$t\d+ && \$t\d+\) \{/);
    expect(paired.code.slice(paired.code.indexOf('function gmmGradInto('))).toContain(NOTE);
    expect(plain.code).not.toContain(NOTE);
    expect(paired.code.slice(paired.code.indexOf('function gmm('), paired.code.indexOf('function gmmGrad('))).not.toContain(NOTE);
  });

  // N = 0 (nothing), 1 (the point alone), 2 and 4 (pairs), 3 and 5 (pairs and a point left); D from 1 to 9.
  const cases = [0, 1, 2, 3, 4, 5].flatMap((N) => [1, 2, 3, 5, 7, 9].map((D) => [N, D]));
  it.each(cases)('N = %i, D = %i: value bit for bit, gradient against the forward-mode oracle and the unpaired sweep', (N, D) => {
    const d = gmmData(D, 3, N, 70 + 10 * N + D);
    const args = [d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5];
    const r = paired.m.gmmGrad(...args);
    const p = plain.m.gmmGrad(...args);
    expect(r.value).toBe(p.value);
    expectNear(r.gradient, gmmForward(d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5).gradient, 1e-12);
    expectNear(r.gradient, p.gradient, 1e-14);
    const out = { alpha: new Float64Array(3), mu: d.mu.map((row) => new Float64Array(row.length)), q: d.q.map((row) => new Float64Array(row.length)), l: d.l.map((row) => new Float64Array(row.length)) };
    expect((paired.m.gmmGradInto as unknown as (...a: unknown[]) => number)(out, ...args)).toBe(r.value);
    expectNear(out as unknown as Record<string, GradValue>, r.gradient, 0);
  });
});

describe("MLP: rows k and k − 1 per pass of the reversed loop over the rows, W1's adjoint added once per pair", () => {
  const source = readFileSync(new URL('../bench/cases/mlp.ad', import.meta.url), 'utf8');
  const paired = compiled(source);
  const plain = compiled(source, { derivatives: ['grad', 'hvp'] });

  it('is applied', () => {
    expect(paired.code).toContain(NOTE);
    expect(plain.code).not.toContain(NOTE);
  });
  it.each([0, 1, 2, 3, 4, 5, 8])('m = %i rows: gradient against the forward-mode oracle and the unpaired sweep', (m) => {
    const d = mlpData(3, 4, m, 5 + m);
    const args = [d.W1, d.b1, d.w2, d.b2, d.X, d.y];
    const r = paired.m.mlpGrad(...args);
    const p = plain.m.mlpGrad(...args);
    expect(r.value).toBe(p.value);
    if (m > 0) expectNear(r.gradient, mlpForward(d.W1, d.b1, d.w2, d.b2, d.X, d.y).gradient, 1e-12);
    expectNear(r.gradient, p.gradient, 1e-14);
  });
});

describe('reduced nests in a point loop: gradients against finite differences, and whether the pass applies', () => {
  const at = nestArguments;
  const calls = [0, 1, 2, 3, 4, 5].map(at);
  const cases: [name: string, source: string, applies: boolean][] = [
    ['a triangular nest per point, A[i, j] shared (GMM\'s shape)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: sum(i: (x[i] - x[p] + sum(j in 0..i: A[i, j] * (x[j] - x[p])))^2))', true],
    ['a rectangular nest per point, a sin of the point', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: sin(x[p]) * sum(i: x[i] * sum(j: A[i, j] * x[j] * x[p])))', true],
    ['a point range from 1 (an odd count where n is even)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p in 1..n: sum(i: (s + sum(j: A[i, j] * x[p]))^2))', true],
    ['the nest indexed by the point only (A[p, j]: nothing two points share)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: sum(i: x[i] * sum(j: A[p, j] * x[j])))', false],
    // (The loop over k < p runs a number of times that depends on the point: its additions into the
    // point's own adjoint of x[p] · s, an independent 1 each, belong to each copy, not to one shared.)
    ['a loop whose bounds depend on the point, adding a constant into a local adjoint', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: sum(k in 0..p: x[p] * s) + sum(i: sum(j: A[i, j] * x[j] * x[p])))', true],
    // (d$s += 2·s in every point's pass: an addition that does not depend on the point, into a
    // number outside the loop, made by both copies.)
    ['a term that does not depend on the point (s²), beside the nest', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: s * s + sum(i: sum(j: A[i, j] * x[j] * x[p])))', true],
    // (x = 0.5, −0.2, 0.9, 1.3: pairs where both points take the branch, fused, and where they differ, each alone.)
    ['the nest in a branch on the point', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: if x[p] > 0 then sum(i: sum(j: A[i, j] * x[j] * x[p])) else s * x[p])', true],
    ['one loop in the point loop (no nest to fuse)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: x[p] * sum(j: A[0, j] * x[j] * x[p]))', false],
  ];
  it('a nest in two point loops: paired once (the outer), not again inside the pairs', () => {
    const source = 'fn f(x: vec[n], A: mat[n, n], s) = sum(p: x[p] * sum(q: x[q] * sum(i: sum(j: A[i, j] * x[j] * x[p] * x[q]))))';
    const code = compiled(source).code;
    // fGrad's and fGradInto's outer loop, nothing more.
    expect(code.split(NOTE).length - 1).toBe(2);
    checkArraySource(source, calls);
  });
  it.each(cases)('%s', (_, source, applies) => {
    expect(compiled(source).code.includes(NOTE)).toBe(applies);
    checkArraySource(source, calls);
    const [j, p] = [compiled(source).m, compiled(source, { derivatives: ['grad', 'hvp'] }).m];
    for (const args of calls) expectNear(j.fGrad(...args).gradient, p.fGrad(...args).gradient, 1e-13);
  });
});

describe('the exclusions, on the IR: a loop is left as it is', () => {
  const origin: Origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
  const op = (target: string, o: 'load' | 'add' | 'sub' | 'mul', ...args: Operand[]): Instr => ({ kind: 'const', target, expr: { op: o, args }, origin });
  const addTo = (array: string, index: Operand, value: string): Instr => ({ kind: 'store', array, index, expr: { op: 'copy', args: [variable(value)] }, accumulate: true, origin });
  const loop = (index: string, to: Operand, body: Instr[]): Instr => ({ kind: 'loop', index, from: constant(0), to, descending: true, body, origin });
  const [p, i, j, n] = ['p', 'i', 'j', 'n'].map(variable);
  /** for p { for i { for j { a = A[i·n + j]; d[i·n + j] += a·x[p] } } } with `extra` in the j body, `before` ahead of the p loop. */
  const nest = (inner: Instr[] = [], outerBody: Instr[] = [], before: Instr[] = []): IrFunction => ({
    name: 'f',
    params: [],
    body: before,
    value: constant(0),
    span: origin.span,
    gradient: [],
    reverse: [
      loop('p', n, [
        op('xp', 'load', variable('x'), p),
        ...outerBody,
        loop('i', n, [op('row', 'mul', i, n), loop('j', n, [op('at', 'add', variable('row'), j), op('a', 'load', variable('A'), variable('at')), op('t', 'mul', variable('a'), variable('xp')), addTo('d', variable('at'), 't'), ...inner])]),
      ]),
    ],
  });
  const pairs = (fn: IrFunction) => JSON.stringify(unrollAndJam(fn, new NameSupply(), { pairs: true }).reverse).includes(NOTE);
  const work = (name: string): Instr => ({ kind: 'array', target: name, length: n, overwritten: true, origin });
  const fill = (name: string): Instr => loop('c', n, [op('v', 'load', variable('x'), variable('c')), { kind: 'store', array: name, index: variable('c'), expr: { op: 'mul', args: [variable('v'), variable('xp')] }, accumulate: false, origin }]);

  it('takes the plain nest (the control): d at an address both points share', () => {
    expect(pairs(nest())).toBe(true);
    // Only when asked (the wasm target does not ask).
    expect(JSON.stringify(unrollAndJam(nest(), new NameSupply()).reverse).includes(NOTE)).toBe(false);
  });
  it('not when the loop reads the array it adds into', () => {
    expect(pairs(nest([op('u', 'load', variable('d'), j)]))).toBe(false);
  });
  it('not when nothing in the innermost loop is shared (d at an address made from p)', () => {
    const fn = nest();
    const text = JSON.stringify(fn.reverse).replace('{"kind":"const","target":"row","expr":{"op":"mul","args":[{"kind":"var","name":"i"},{"kind":"var","name":"n"}]}', '{"kind":"const","target":"row","expr":{"op":"mul","args":[{"kind":"var","name":"p"},{"kind":"var","name":"n"}]}');
    expect(text).not.toBe(JSON.stringify(fn.reverse));
    expect(pairs({ ...fn, reverse: JSON.parse(text) as Instr[] })).toBe(false);
  });
  it('not with a check or a plain store into an array that is not a work array filled whole', () => {
    expect(pairs(nest([{ kind: 'check', index: j, length: n, message: 'm', origin }]))).toBe(false);
    expect(pairs(nest([{ kind: 'store', array: 'e', index: j, expr: { op: 'copy', args: [variable('t')] }, accumulate: false, origin }]))).toBe(false);
  });
  it('a work array filled whole before it is read: taken, each point its own; not when read before the fill, read elsewhere, or filled in part', () => {
    const readW = op('w', 'load', variable('W'), j);
    const taken = unrollAndJam(nest([readW], [fill('W')], [work('W')]), new NameSupply(), { pairs: true });
    expect(JSON.stringify(taken.reverse).includes(NOTE)).toBe(true);
    expect(taken.body.filter((x) => x.kind === 'array')).toHaveLength(2);
    // (Only read, never written in the loop: an input like any other.)
    expect(pairs(nest([readW], [], [work('W')]))).toBe(true);
    expect(pairs(nest([readW], [op('w0', 'load', variable('W'), constant(0)), fill('W')], [work('W')]))).toBe(false);
    const elsewhere = nest([readW], [fill('W')], [work('W')]);
    expect(pairs({ ...elsewhere, reverse: [...elsewhere.reverse!, op('late', 'load', variable('W'), constant(0))] })).toBe(false);
    const part = { ...(fill('W') as Extract<Instr, { kind: 'loop' }>), to: constant(2) };
    expect(pairs(nest([readW], [part], [work('W')]))).toBe(false);
  });
});

describe('on the wasm target: the same pairs, within 1e-14 of the JS target', () => {
  const gmm = both(readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8'));
  it.each([0, 1, 2, 3, 4, 5])('GMM at N = %i (D = 7, K = 3)', (N) => {
    const d = gmmData(7, 3, N, 90 + N);
    const args = [d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5];
    const js = gmm.js.gmmGrad(...args) as { value: number; gradient: Record<string, GradValue> };
    const scale = Math.max(Math.abs(js.value), ...flatGradient(js.gradient).map(Math.abs));
    compare(gmm.wasm.gmmGrad(...args), js, scale, `N = ${N}`);
  });
  it('on 30 random nests in a point loop', () => {
    fc.assert(fc.property(pairCaseArb(), (c) => checkTargetsAgree(c)), { numRuns: 30 });
  });
});
