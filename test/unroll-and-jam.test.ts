/**
 * Unroll-and-jam by four of reversed loop nests (src/ad/unroll-and-jam.ts, issue 16): where it is
 * applied (GMM's rows j over c < j, polyfit's k over j) and where it must not be (the IR-level
 * exclusions: an adjoint read in the nest, directly or through a row of the same matrix, a plain
 * store, a number set across iterations, inner bounds moving with the outer index otherwise than
 * `c < j`), with gradients against the forward-mode oracle (test/oracle/arrays.ts), the same
 * program's gradient compiled beside fHvp (never unrolled) and central finite differences
 * (checkArraySource). The random loop nests are in test/arrays-properties.test.ts. On the wasm
 * target: the same programs' gradients against the JS target's (1e-14 of the largest entry), the
 * jammed loops run as f64x2 vectors, and the integers the pass computes (floor(n / 4) groups, the
 * rows left) have i32 twins with bounds that let them.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { unrollAndJam } from '../src/ad/unroll-and-jam.ts';
import { NameSupply } from '../src/ir/builder.ts';
import { constant, variable, type Expr, type Instr, type IrFunction, type Operand, type Origin } from '../src/ir/ir.ts';
import { compileSync } from '../src/index.ts';
import { gmmData, gmmForward, polyData, polyForward, type GradValue } from './oracle/arrays.ts';
import fc from 'fast-check';
import { checkArrayCase, checkArraySource, expectNear, flatGradient, jamCaseArb, nestArguments, newStats } from './support/array-programs.ts';
import { instantiate } from './support/instantiate.ts';
import { both, checkTargetsAgree, compare, type Module as TargetModule } from './support/targets.ts';
import { compileToIr } from '../src/compile.ts';
import { DiagnosticBag } from '../src/diagnostics/diagnostic.ts';
import { LineMap } from '../src/diagnostics/span.ts';
import { ModuleBuilder } from '../src/emit/wasm/module.ts';
import { integerBounds, selectFunction } from '../src/emit/wasm/select.ts';

const NOTE = 'Unrolled and jammed by four';
type Module = Record<string, (...args: unknown[]) => { value: number; gradient: Record<string, GradValue> }>;

function compiled(source: string, derivatives?: ('grad' | 'hvp')[]): { code: string; m: Module } {
  const r = compileSync(source, { filename: 'jam.ad', ...(derivatives && { derivatives }) });
  if (r.code === undefined) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; '));
  return { code: r.code, m: instantiate(r.code) as unknown as Module };
}

describe('GMM: rows j down to j − 3 of the reversed loop over c < j per pass', () => {
  const source = readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8');
  const jammed = compiled(source);
  const plain = compiled(source, ['grad', 'hvp']);

  it('is applied to gmmGrad and gmmGradInto, with its comment, and never beside fHvp', () => {
    const grad = jammed.code.slice(jammed.code.indexOf('function gmmGrad('), jammed.code.indexOf('function gmmGradInto('));
    expect(grad).toContain(NOTE);
    expect(grad).toMatch(/the four rows' terms per index: \$dt\d+ read and written once for the four/i);
    expect(grad).toMatch(/a higher row's terms past the lowest row's range, alone/i);
    expect(jammed.code.slice(jammed.code.indexOf('function gmmGradInto('))).toContain(NOTE);
    expect(plain.code).not.toContain(NOTE);
    // The value function is not touched.
    expect(jammed.code.slice(jammed.code.indexOf('function gmm('), jammed.code.indexOf('function gmmGrad('))).not.toContain(NOTE);
  });

  // D = 1–3: no group of four, the rows left alone; D = 4, 8: groups, nothing left; D = 5, 6, 7, 9: groups and 1–3 rows left.
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9])('D = %i: value bit for bit, gradient against the forward-mode oracle and the unjammed sweep', (D) => {
    const d = gmmData(D, 3, 4, 40 + D);
    const args = [d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5];
    const r = jammed.m.gmmGrad(...args);
    const p = plain.m.gmmGrad(...args);
    expect(r.value).toBe(p.value);
    expectNear(r.gradient, gmmForward(d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5).gradient, 1e-12);
    expectNear(r.gradient, p.gradient, 1e-14);
  });
});

describe("polyfit: four k per pass over the reversed loop's j, d$c[j] written once for the four", () => {
  const source = 'fn polyfit(c: vec[n], const t: vec[m], const y: vec[m]) = sum(k: (sum(j: c[j] * t[k]^j) - y[k])^2) / m';
  const jammed = compiled(source);

  it('keeps the four running powers, each its own, in the jammed loop', () => {
    expect(jammed.code).toContain(NOTE);
    expect(jammed.code).toContain('d$c read and written once for the four');
    expect(jammed.code).toMatch(/running power of j\$\d+ \(one multiplication per iteration, not a power\): \$power\d+ and \$power\d+/);
    // (The comment is cut at the line's length: the group's loop itself starts four powers and advances each.)
    const grad = jammed.code.slice(jammed.code.indexOf('function polyfitGrad('));
    const group = grad.slice(grad.indexOf(NOTE), grad.indexOf('\n  }\n', grad.indexOf(NOTE)));
    const powers = [...group.matchAll(/let (\$power\d+) = 1;/g)].map((m) => m[1]);
    expect(new Set(powers).size).toBe(4);
    for (const p of powers) expect(group).toContain(`${p} = ${p} * `);
  });

  // m = 1–3: no group, the iterations alone; 4, 8: groups only; 5, 7, 9: groups and the iterations left.
  it.each([1, 2, 3, 4, 5, 7, 8, 9])('m = %i (n = 4): gradient against the forward-mode oracle', (m) => {
    const { c, t, y } = polyData(4, m, 7 + m);
    const r = jammed.m.polyfitGrad(c, t, y);
    expectNear(r.gradient, { c: polyForward(c, t, y).gradient.c! }, 1e-12);
  });
});

describe('reduced loop nests: gradients against finite differences, and whether the pass applies', () => {
  const at = nestArguments;
  // Sizes 0 to 5: no iteration, 1–3 (no group of four, the rows alone), one group, one group and a row left.
  const calls = [0, 1, 2, 3, 4, 5].map(at);
  const cases: [name: string, source: string, applies: boolean][] = [
    ['triangular, from 0', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: A[i, j] * x[j]))', true],
    ['triangular, from 1 (the higher row alone only where 1 < i)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 1..i: A[i, j] * x[j]))', true],
    ['rectangular, squared per row (GMM\'s shape)', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: (x[i] + sum(j: A[i, j] * sin(x[j])))^2)', true],
    ['a running power s^j in the inner loop, s differentiated', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: s^j * x[j]))', true],
    ['two names for one matrix: rows i and j of A both read and their adjoints added to', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: A[i, j] * A[j, i] * x[j]))', true],
    ['an outer range from 1 to n − 1', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i in 1..n-1: x[i] * sum(j in 0..i: A[i, j] * x[j]))', true],
    ['inner end i + 1 (moves with i, not the triangular form): refused', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i+1: A[i, j] * x[j]))', false],
    ['inner start i: refused', 'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in i..n: A[i, j] * x[j]))', false],
    ['an inner loop under a zero guard (an array let): refused', 'fn f(x: vec[n], A: mat[n, n], s) {\n  let z[i] = sum(j in 0..i: A[i, j] * x[j])\n  return sum(i: x[i] * z[i])\n}', false],
  ];
  it.each(cases)('%s', (_, source, applies) => {
    expect(compiled(source).code.includes(NOTE)).toBe(applies);
    checkArraySource(source, calls);
    const [j, p] = [compiled(source).m, compiled(source, ['grad', 'hvp']).m];
    for (const args of calls) expectNear(j.fGrad(...args).gradient, p.fGrad(...args).gradient, 1e-14);
  });
});

describe('the exclusions, on the IR: a nest is left as it is', () => {
  const origin: Origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
  const load = (target: string, array: string, index: string): Instr => ({ kind: 'const', target, expr: { op: 'load', args: [variable(array), variable(index)] }, origin });
  const addTo = (array: string, index: string, value: string): Instr => ({ kind: 'store', array, index: variable(index), expr: { op: 'copy', args: [variable(value)] }, accumulate: true, origin });
  /** for j in 0..n (down) { for c in 0..j (down) { inner } }: the reverse sweep of a function. */
  const nest = (inner: Instr[], before: Instr[] = [], innerTo = variable('j')): IrFunction => ({
    name: 'f',
    params: [],
    body: [],
    value: constant(0),
    span: origin.span,
    gradient: [],
    reverse: [
      ...before,
      {
        kind: 'loop',
        index: 'j',
        from: constant(0),
        to: variable('n'),
        descending: true,
        origin,
        body: [{ kind: 'loop', index: 'c', from: constant(0), to: innerTo, descending: true, body: inner, origin }],
      },
    ],
  });
  const jams = (fn: IrFunction) => unrollAndJam(fn, new NameSupply()).reverse !== fn.reverse && JSON.stringify(unrollAndJam(fn, new NameSupply()).reverse).includes(NOTE);
  const rowOf = (target: string, matrix: string, r: number): Instr => ({ kind: 'const', target, expr: { op: 'row', args: [variable(matrix), constant(r)] }, origin });

  it('takes the plain nest (the control): an addition into d at the inner index, reading another array', () => {
    expect(jams(nest([load('t', 'a', 'c'), addTo('d', 'c', 't')]))).toBe(true);
  });
  it('not when the nest reads the adjoint array it adds into', () => {
    expect(jams(nest([load('t', 'd', 'c'), addTo('d', 'c', 't')]))).toBe(false);
  });
  it('not when it reads it through a row of the same matrix', () => {
    expect(jams(nest([load('t', 'r0', 'c'), addTo('r1', 'c', 't')], [rowOf('r0', 'dM', 0), rowOf('r1', 'dM', 1)]))).toBe(false);
    // (Rows of another matrix are other memory: taken.)
    expect(jams(nest([load('t', 'r0', 'c'), addTo('r1', 'c', 't')], [rowOf('r0', 'M', 0), rowOf('r1', 'dM', 1)]))).toBe(true);
  });
  it('not with a plain store (`=`, not `+=`)', () => {
    expect(jams(nest([load('t', 'a', 'c'), { ...addTo('d', 'c', 't'), accumulate: false } as Instr]))).toBe(false);
  });
  it('not when a number of the enclosing code is set (not added to) or read after being added to', () => {
    expect(jams(nest([load('t', 'a', 'c'), addTo('d', 'c', 't'), { kind: 'set', target: 'acc', expr: { op: 'copy', args: [variable('t')] }, origin }]))).toBe(false);
    const added: Instr = { kind: 'add', target: 'acc', expr: { op: 'copy', args: [variable('t')] }, origin };
    expect(jams(nest([load('t', 'a', 'c'), addTo('d', 'c', 't'), added]))).toBe(true);
    expect(jams(nest([load('t', 'a', 'c'), addTo('d', 'c', 't'), added, { kind: 'const', target: 'u', expr: { op: 'mul', args: [variable('acc'), constant(2)] }, origin }]))).toBe(false);
  });
  it('not when the inner end is computed from the outer index (only `c < j` itself is)', () => {
    const end: Instr = { kind: 'const', target: 'e', expr: { op: 'add', args: [variable('j'), constant(1)] }, origin };
    const fn = nest([load('t', 'a', 'c'), addTo('d', 'c', 't')]);
    const outer = fn.reverse![0] as Extract<Instr, { kind: 'loop' }>;
    const moved: IrFunction = { ...fn, reverse: [{ ...outer, body: [end, { ...(outer.body[0] as Extract<Instr, { kind: 'loop' }>), to: variable('e') }] }] };
    expect(jams(moved)).toBe(false);
  });
  it('not when the inner loop adds nothing at its own index (nothing to merge)', () => {
    expect(jams(nest([load('t', 'a', 'c'), addTo('d', 'j', 't')]))).toBe(false);
  });
});

/** Both targets' results for one call: wasm within 1e-14 of the JS target's largest gradient entry (or value). */
function sameOnBothTargets(m: { js: TargetModule; wasm: TargetModule }, name: string, args: unknown[], where: string): void {
  const js = m.js[name](...args) as { value: number; gradient: Record<string, GradValue> };
  const scale = Math.max(Math.abs(js.value), ...flatGradient(js.gradient).map(Math.abs));
  compare(m.wasm[name](...args), js, scale, where);
}

describe('on the wasm target: the same jammed sweep, within 1e-14 of the JS target', () => {
  const gmm = both(readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8'));
  const polyfit = both('fn polyfit(c: vec[n], const t: vec[m], const y: vec[m]) = sum(k: (sum(j: c[j] * t[k]^j) - y[k])^2) / m');

  it('is applied there too, and the exports are WebAssembly', () => {
    const grad = gmm.code.slice(gmm.code.indexOf('function gmmGrad('), gmm.code.indexOf('function gmmGradInto('));
    expect(grad).toContain(NOTE);
    expect(gmm.wasm.gmmGrad.name).toBe('gmmGrad$wasm');
    expect(polyfit.code).toContain(NOTE);
    expect(polyfit.wasm.polyfitGrad.name).toBe('polyfitGrad$wasm');
  });
  it.each([1, 2, 3, 4, 5, 7, 10, 16])('GMM at D = %i', (D) => {
    const d = gmmData(D, 3, 9, 70 + D);
    sameOnBothTargets(gmm, 'gmmGrad', [d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5], `gmm D=${D}`);
    // Against the forward-mode oracle too (independent of both sweeps).
    expectNear((gmm.wasm.gmmGrad(d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5) as { gradient: Record<string, GradValue> }).gradient, gmmForward(d.alpha, d.mu, d.q, d.l, d.x, 0.8, 1.5).gradient, 1e-12);
  });
  it.each([1, 2, 3, 7, 8])('polyfit at m = %i', (m) => {
    const { c, t, y } = polyData(4, m, 7 + m);
    sameOnBothTargets(polyfit, 'polyfitGrad', [c, t, y], `polyfit m=${m}`);
  });
  it('the reduced nests, taken and refused', () => {
    const x = [0.5, -0.2, 0.9, 1.3, -0.7, 0.3, 1.1];
    const A = x.map((_, r) => x.map((v, c) => Math.sin(r + 2 * c) * v));
    for (const source of [
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: A[i, j] * x[j]))',
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 1..i: A[i, j] * x[j]))',
      "fn f(x: vec[n], A: mat[n, n], s) = sum(i: (x[i] + sum(j: A[i, j] * sin(x[j])))^2)",
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: s^j * x[j]))',
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i: A[i, j] * A[j, i] * x[j]))',
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i in 1..n-1: x[i] * sum(j in 0..i: A[i, j] * x[j]))',
      'fn f(x: vec[n], A: mat[n, n], s) = sum(i: x[i] * sum(j in 0..i+1: A[i, j] * x[j]))',
    ]) {
      const m = both(source);
      for (let n = 0; n <= 7; n++) sameOnBothTargets(m, 'fGrad', [x.slice(0, n), A.slice(0, n).map((r) => r.slice(0, n)), 0.7], `${source} at n=${n}`);
    }
  });

  it("runs GMM's jammed inner loop and the higher rows' terms alone as f64x2 vectors", () => {
    const source = readFileSync(new URL('../examples/gmm.ad', import.meta.url), 'utf8');
    const bag = new DiagnosticBag();
    const fn = compileToIr(source, bag)!.functions.find((f) => f.value.name === 'gmm')!.gradient!;
    const all = [...fn.body, ...fn.reverse!];
    const selected = selectFunction(fn, all, [{ operand: fn.value }], new ModuleBuilder(new LineMap(source)));
    const notes = selected.vectorized.map((l) => (l.kind === 'loop' ? (l.note ?? '') : ''));
    expect(notes.some((n) => /the four rows' terms per index/i.test(n))).toBe(true);
    expect(notes.some((n) => /a higher row's terms past the lowest row's range, alone/i.test(n))).toBe(true);
  });

  it('on 40 random loop nests (test/arrays-properties.test.ts has them on the JS target): the property on wasm, and wasm against JS', () => {
    const stats = newStats();
    let fired = 0;
    fc.assert(
      fc.property(jamCaseArb(), (c) => {
        checkArrayCase(c, stats, { target: 'wasm' });
        checkTargetsAgree(c);
        if (compileSync(c.program.source, { target: 'wasm' }).code!.includes(NOTE)) fired++;
      }),
      { numRuns: 40, seed: 16 },
    );
    // (About 30% of the nests are taken.)
    expect(fired).toBeGreaterThan(40 / 6);
  }, 120_000);

  it('floor(n / 2) and n − floor(n / 2)·2 are integers with i32 twins, the second below 2', () => {
    const origin: Origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
    const def = (target: string, op: 'div' | 'floor' | 'mul' | 'sub', args: Operand[]): Instr => ({ kind: 'const', target, expr: { op, args } as Expr, origin });
    const fn: IrFunction = { name: 'f', params: [{ name: 'x', sourceName: 'x', isConst: false, shape: { kind: 'vec', sizes: [{ name: 'n', sourceName: 'n' }] } }], body: [], value: constant(0), span: origin.span };
    const body = [
      def('h', 'div', [variable('n'), constant(2)]),
      def('p', 'floor', [variable('h')]),
      def('p2', 'mul', [variable('p'), constant(2)]),
      def('r', 'sub', [variable('n'), variable('p2')]),
      def('q', 'div', [variable('n'), constant(3)]),
      def('fq', 'floor', [variable('q')]),
    ];
    const ints = integerBounds(fn, body);
    expect(ints.get('p')).toBe(2 ** 28);
    expect(ints.get('r')).toBe(1);
    expect(ints.has('h')).toBe(false);
    // (Only a power of two's quotient: n / 3 has no shift.)
    expect(ints.has('fq')).toBe(false);
  });

  it("floor(n / 4), the jam's group count, is twinned by a shift of 2 and the rows left, n − floor(n / 4)·4, are below 4", () => {
    const origin: Origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
    const def = (target: string, op: 'div' | 'floor' | 'mul' | 'sub', args: Operand[]): Instr => ({ kind: 'const', target, expr: { op, args } as Expr, origin });
    const fn: IrFunction = { name: 'f', params: [{ name: 'x', sourceName: 'x', isConst: false, shape: { kind: 'vec', sizes: [{ name: 'n', sourceName: 'n' }] } }], body: [], value: constant(0), span: origin.span };
    const body = [
      def('h', 'div', [variable('n'), constant(4)]),
      def('g', 'floor', [variable('h')]),
      def('g4', 'mul', [variable('g'), constant(4)]),
      def('r', 'sub', [variable('n'), variable('g4')]),
      // Not the remainder: the multiple is of another quotient's shift (g·2), so only magnitude bounds.
      def('g2', 'mul', [variable('g'), constant(2)]),
      def('s', 'sub', [variable('n'), variable('g2')]),
    ];
    const quotients = new Map();
    const ints = integerBounds(fn, body, quotients);
    expect(quotients.get('g')).toEqual({ dividend: variable('n'), shift: 2 });
    expect(ints.get('g')).toBe(2 ** 27);
    expect(ints.get('r')).toBe(3);
    expect(ints.get('s')).toBe(2 ** 29 + 2 ** 28);
  });
});
