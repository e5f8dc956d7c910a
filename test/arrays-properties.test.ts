import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expect } from 'vitest';
import { arrayCaseArb, checkArrayCase, checkArraySource, checkJamCase, checkNestedCase, checkNestedJacobianCase, checkNestedJvpCase, jacobianCaseArb, jamCaseArb, newStats, pairCaseArb, type Arg } from './support/array-programs.ts';

/**
 * Property test of the array compiler: random well-typed array programs (test/support/array-programs.ts:
 * vec and mat parameters, array and scalar lets, nested, offset and triangular reductions, dot,
 * norm, `if`, a helper function taking an array) at random sizes 0..5, each compiled module called
 * at two sizes in turn (work arrays warm from the first). Each program must compile without
 * diagnostics (a throw is a compiler crash); `f` must equal a direct interpretation of the program;
 * `fGrad` and `fGradInto` must return `f`'s value and the same gradient; and each gradient entry
 * must match central finite differences of `f` wherever `f` is smooth there. A failure shrinks to a
 * small program and prints the seed: replay with `fc.assert(..., { seed, path })`.
 * ADC_ARRAY_PROPERTY_RUNS sets the number of programs (default 300); `npm run fuzz` runs the same
 * property for ADC_FUZZ_SECONDS (test/fuzz/arrays.fuzz.ts).
 */
const runs = Number(process.env.ADC_ARRAY_PROPERTY_RUNS ?? 300);

describe('compiled array programs agree with a reference evaluator and finite differences', () => {
  it(`on ${runs} random programs`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => checkArrayCase(c, stats)),
      { numRuns: runs },
    );
    console.log(
      `array programs: ${stats.programs} compiled; gradient entries: ${stats.compared} compared with finite differences, ` +
        `${stats.nonsmooth} skipped where f is not smooth, ${stats.nonfinite} where it is not finite`,
    );
  });
});

const keptRuns = Number(process.env.ADC_KEPT_PROPERTY_RUNS ?? 150);

describe('with every call kept (issue #15: the helper g, taking vectors or matrices, compiled once and called), the same checks', () => {
  it(`on ${keptRuns} random programs`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => checkArrayCase(c, stats, { calls: 'keep' })),
      { numRuns: keptRuns },
    );
    console.log(`array programs, calls kept: ${stats.programs} compiled; gradient entries: ${stats.compared} compared with finite differences`);
  });
});

const nestedRuns = Number(process.env.ADC_NESTED_PROPERTY_RUNS ?? 100);

describe('grad(f, p)(…) of random array programs, differentiated again, agrees with the exported gradient and finite differences', () => {
  it(`on ${nestedRuns} random programs`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => {
        checkNestedCase(c, stats);
      }),
      { numRuns: nestedRuns },
    );
    console.log(`nested gradients: ${stats.programs} programs compiled; gradient entries: ${stats.compared} compared with finite differences, ${stats.nonsmooth} skipped where f is not smooth, ${stats.nonfinite} where it is not finite`);
  });
});

const nestedJvpRuns = Number(process.env.ADC_NESTED_JVP_PROPERTY_RUNS ?? 40);
// (A Jacobian of r is n forward sweeps in a loop that fGrad reverses: slower to compile and check.)
const nestedJacobianRuns = Number(process.env.ADC_NESTED_JACOBIAN_PROPERTY_RUNS ?? 20);

describe('jvp(f, p)(…, p) and jacobian(r, v)(x) of random array programs, differentiated again, agree with the exported fJvp, rJacobian and finite differences', () => {
  it(`jvp on ${nestedJvpRuns} random programs`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(arrayCaseArb(), (c) => {
        checkNestedJvpCase(c, stats);
      }),
      { numRuns: nestedJvpRuns },
    );
    console.log(`nested jvps: ${stats.programs} programs compiled; gradient entries: ${stats.compared} compared with finite differences, ${stats.nonsmooth} skipped where f is not smooth, ${stats.nonfinite} where it is not finite`);
  });

  it(`jacobian on ${nestedJacobianRuns} random programs with the vec → vec helper`, () => {
    const stats = newStats();
    fc.assert(
      fc.property(
        jacobianCaseArb(),
        (c) => {
          checkNestedJacobianCase(c, stats);
        },
      ),
      { numRuns: nestedJacobianRuns },
    );
    console.log(`nested jacobians: ${stats.programs} programs compiled; gradient entries: ${stats.compared} compared with finite differences, ${stats.nonsmooth} skipped where f is not smooth, ${stats.nonfinite} where it is not finite`);
  });
});

const jamRuns = Number(process.env.ADC_JAM_PROPERTY_RUNS ?? 150);

describe('loop nests whose reverse sweep is unrolled and jammed (src/ad/unroll-and-jam.ts), or refused: the same checks, and the gradient beside fHvp (never unrolled) to rounding', () => {
  it(`on ${jamRuns} random loop nests`, () => {
    const stats = newStats();
    let fired = 0;
    fc.assert(
      fc.property(jamCaseArb(), (c) => {
        if (checkJamCase(c, stats)) fired++;
      }),
      { numRuns: jamRuns },
    );
    console.log(`loop nests: ${stats.programs} compiled, ${fired} unrolled and jammed; gradient entries: ${stats.compared} compared with finite differences`);
    // The property exercises the pass: about 30% of the programs are taken (refused: inner ranges
    // 0..i+1 and i..n, a zero-guarded inner loop (the array let), a sum hoisted out of the loop).
    expect(fired).toBeGreaterThan(jamRuns / 6);
  });
});

const pairRuns = Number(process.env.ADC_PAIR_PROPERTY_RUNS ?? 60);

describe('loop nests inside a loop over points whose reverse sweep runs two points per pass (src/ad/jam-pairs.ts), or not: the same checks, and the gradient beside fHvp to rounding', () => {
  it(`on ${pairRuns} random nests in a point loop`, () => {
    const stats = newStats();
    let fired = 0;
    fc.assert(
      fc.property(pairCaseArb(), (c) => {
        if (checkJamCase(c, stats, 'Two iterations per pass')) fired++;
      }),
      { numRuns: pairRuns },
    );
    console.log(`point loops: ${stats.programs} compiled, ${fired} with two points per pass; gradient entries: ${stats.compared} compared with finite differences`);
    // The property exercises the pass (refused: a nest hoisted out of the point loop, nothing shared).
    expect(fired).toBeGreaterThan(pairRuns / 4);
  });
});

/** Counter-examples the property test found, reduced by hand; the same checks as above (but the reference value). */
describe('counter-examples found by the property test', () => {
  const x = [0.5, 0.2, 0.9];
  const cases: [name: string, source: string, calls: Arg[][]][] = [
    // fGrad threw ReferenceError: the forward sweep declared the reduction's state (the argmax
    // index, the running maximum, the product) inside the `if` branch, and the reverse sweep read it
    // outside. (Fixed: hoist.ts declares it before the branch.)
    ['max inside an if branch', 'fn f(x: vec[n], s) = if s > 0 then max(i: x[i]) else 0', [[x, 1]]],
    ['min inside an if branch', 'fn f(x: vec[n], s) = if s > 0 then min(i: x[i]) else 0', [[x, 1]]],
    ['prod inside an if branch', 'fn f(x: vec[n], s) = if s > 0 then prod(i: x[i]) else 0', [[x, 1]]],
    ['logsumexp inside an if branch', 'fn f(x: vec[n], s) = if s > 0 then logsumexp(i: x[i]) else 0', [[x, 1]]],
    ['max guarded against an empty range', 'fn f(x: vec[n]) = if n > 0 then max(i: x[i]) else 1', [[x], [[]]]],
    ['max inside an if inside a sum', 'fn f(x: vec[n]) = sum(i: if x[i] > 0.3 then max(j: x[j]) else 0)', [[x]]],
    // compileSync threw "internal error: no adjoint array for '{"kind":"var","name":"w$2"}'".
    ['a function defining an array, called in an if branch', 'fn g(v: vec[q]) {\n  let w[i] = 2 * v[i]\n  return sum(i: w[i])\n}\nfn f(x: vec[n], s) = if s > 0 then g(x) else 0', [[x, 1]]],
    // The gradient through a loop whose body reads no (differentiated) array element at its index
    // was dropped (∂/∂s was 0, not 3, and so on below): dead-code elimination removed reverse loops
    // that only add into outer adjoints.
    ['sum(i in 0..n: i * s)', 'fn f(x: vec[n], s) = sum(i in 0..n: i * s)', [[[1, 2, 3], 2]]],
    ['a sum of a loop-invariant dot', 'fn f(x: vec[n]) = sum(i in 1..n: i + dot(x, x))', [[x]]],
    ['a sum of a loop-invariant sum', 'fn f(x: vec[n]) = sum(j in 0..n: sum(k: x[k]))', [[x]]],
    ['a loop whose only read is of a const array', 'fn f(x: vec[n], const A: mat[n, n]) = sum(i: A[i, i] * sum(j: x[j]))', [[x, [x, x, x]]]],
    ['an array let reading no array', 'fn f(x: vec[n], s) {\n  let z[i in 0..n] = sin(i * s)\n  return sum(i: x[i] * z[i])\n}', [[x, 0.7]]],
    // Found in review: bounds that are not whole numbers made the reverse loop visit other indices
    // (a..b is now the whole numbers from ceil(a) below b); an unused array let made fGrad read
    // out of range (its loop is now reversed only when something reads the array); a checked
    // read moved with its loop before an empty loop threw.
    ['a range ending at n/2', 'fn f(x: vec[n]) = sum(i in 0..n/2: x[i]^2)', [[[1, 2, 3]], [[1, 2]]]],
    ['a range starting at a fraction', 'fn f(x: vec[n], w, c) = sum(i in c..3: w * i) + x[0]', [[x, 1.3, 0.5]]],
    ['an array let of length n/2', 'fn f(x: vec[n]) {\n  let h[j in 0..n/2] = x[j]\n  return sum(j: h[j])\n}', [[x]]],
    ['an unused array let', 'fn f(x: vec[n], s, const c) {\n  let h[i in 0..c] = exp(x[i] * s)\n  return s\n}', [[[1], 2, 3]]],
    ['a checked read in a loop inside an empty loop', 'fn f(x: vec[n], y: vec[m], c) = sum(i: x[i] * max(j in 0..2: y[c + j]))', [[[], [1], 5]]],
    // Long sums in four partial sums (src/emit/js/partial-sums.ts): every trip count through the
    // main step, the pair left over and the last term, in the value and each export, and a sum
    // of a cheap body nested in a loop, whose trip count is the outer index (triangular).
    ['a dot product at trip counts 0 to 9', 'fn f(x: vec[n], y: vec[n]) = sum(i: x[i] * y[i])', Array.from({ length: 10 }, (_, n) => [Array.from({ length: n }, (_, i) => Math.sin(i + 1)), Array.from({ length: n }, (_, i) => Math.cos(i) / 2)])],
    ['a cheap body of several reads, at trip counts 0 to 6', 'fn f(x: vec[n], s) = sum(i: (x[i] - s)^2 / (1 + abs(x[i])) - s * x[i])', Array.from({ length: 7 }, (_, n) => [Array.from({ length: n }, (_, i) => Math.sin(3 * i + 1)), 0.3])],
    ['a triangular sum of partial sums', 'fn f(A: mat[n, n], x: vec[n]) = sum(j: sum(c in 0..j: A[j, c] * x[c])^2)', [5, 6, 9].map((n) => [Array.from({ length: n }, (_, j) => Array.from({ length: n }, (_, c) => Math.cos(j + 2 * c))), Array.from({ length: n }, (_, i) => Math.sin(i))])],
    ['a matrix let constant along its last index', 'fn f(y: vec[n]) {\n  let Z[i, j in 0..n] = y[i] + j\n  return sum(i: Z[i, 0])\n}', [[x]]],
  ];
  it.each(cases)('%s', (_, source, calls) => checkArraySource(source, calls));
  // With every call kept: compileSync threw "no adjoint array for 'v$2'", the flat copy of a matrix
  // argument made inside a reduction's loop (seed 378754296).
  it('a kept call taking a matrix, inside a sum', () => {
    const A = [[0.5, 0.2, 0.9], [0.1, -0.4, 0.3], [0.7, 0.6, -0.2]];
    checkArraySource('fn g(v: mat[q, q]) = sum(i: v[i, i])\nfn f(A: mat[n, n]) = sum(i: A[i, i] + g(A))', [[A], [[[1]]]], newStats(), { calls: 'keep' });
  });
});
