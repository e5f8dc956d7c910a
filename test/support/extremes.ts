import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { disagreement, exact, reference, vectorReference, type P, type Reference } from '../oracle/precise.ts';
import { compileAndInstantiate } from './instantiate.ts';
import type { Gradient } from './load.ts';

/**
 * The extreme-magnitude search (test/extremes.test.ts bounded, test/fuzz/extremes.fuzz.ts for as
 * long as asked): every built-in, operator and vector reduction, at arguments like 1e±300,
 * 1e±150, subnormals and the largest doubles, against decimal.js at 60 digits
 * (test/oracle/precise.ts). Wherever the exact value or a partial is a finite double, the compiled
 * one must match it: no Infinity from a square that overflows on the way (`norm` at 1e200), no 0
 * from one that underflows (`atan2` at 1e-200), no 0·∞.
 */

/** One case: the function's name in the module, what the reference computes, and the arguments. */
export interface ExtremeCase {
  readonly fn: string;
  readonly args: readonly (number | number[])[];
}

const UNARY = ['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'exp', 'log', 'log1p', 'expm1', 'log2', 'log10', 'sqrt', 'cbrt', 'abs'];
const BINARY: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', pow: '^' };
const BINARY_CALLS = ['atan2', 'hypot'];
/** Constant exponents reduce to other code (x*x, sqrt, 1/x): each is its own function. */
const EXPONENTS: Record<string, number> = { sq: 2, cube: 3, half: 0.5, inv: -1, invsq: -2, threehalves: 1.5 };
const VECTORS = { vnorm: 'norm(a)', vlogsumexp: 'logsumexp(i: a[i])', vsum: 'sum(i: a[i])', vprod: 'prod(i: a[i])', vdot: 'dot(a, b)' } as const;

export const EXTREME_SOURCE = [
  ...UNARY.map((op) => `fn f${op}(x) = ${op}(x)`),
  ...Object.entries(BINARY).map(([name, op]) => `fn f${name}(x, y) = x ${op} y`),
  ...BINARY_CALLS.map((op) => `fn f${op}(x, y) = ${op}(x, y)`),
  ...Object.entries(EXPONENTS).map(([name, p]) => `fn f${name}(x) = x ^ ${p < 0 ? `(${p})` : p}`),
  ...Object.entries(VECTORS).map(([name, body]) => `fn ${name}(a: vec[n]${name === 'vdot' ? ', b: vec[n]' : ''}) = ${body}`),
].join('\n');

/** Magnitudes where scaling goes wrong: near overflow and underflow, square roots of both, subnormals. */
const SPECIAL = [1e300, 1e-300, 1e200, 1e-200, 1e155, 1e-155, 1e150, 1e-150, 1.7976931348623157e308, 2.2250738585072014e-308, 5e-324, 1e-310, 1, 0.5, 0];
export const extremeArb: Arbitrary<number> = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom(...SPECIAL), weight: 3 },
      // A random decimal exponent over the whole range, and a mantissa.
      { arbitrary: fc.tuple(fc.integer({ min: -323, max: 308 }), fc.double({ min: 1, max: 9.99, noNaN: true })).map(([e, m]) => m * 10 ** e), weight: 4 },
      { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }), weight: 1 },
    ),
    fc.boolean(),
  )
  .map(([x, negative]) => (negative ? -x : x))
  .filter(Number.isFinite);

/** A second argument of about the same magnitude (where hypot-like code overflows) or any. */
const partnerArb = (x: number): Arbitrary<number> =>
  fc.oneof(extremeArb, fc.double({ min: 0.5, max: 2, noNaN: true }).map((k) => x * k), fc.constant(x), fc.constant(-x));

export const extremeCaseArb: Arbitrary<ExtremeCase> = fc.oneof(
  fc.tuple(fc.constantFrom(...UNARY, ...Object.keys(EXPONENTS)), extremeArb).map(([op, x]) => ({ fn: `f${op}`, args: [x] })),
  fc.tuple(fc.constantFrom(...Object.keys(BINARY), ...BINARY_CALLS), extremeArb.chain((x) => fc.tuple(fc.constant(x), partnerArb(x)))).map(([op, xy]) => ({ fn: `f${op}`, args: xy })),
  fc
    .tuple(fc.constantFrom(...Object.keys(VECTORS)), fc.integer({ min: 1, max: 4 }), extremeArb)
    .chain(([fn, n, x]) =>
      fc.tuple(fc.array(partnerArb(x), { minLength: n, maxLength: n }), fc.array(partnerArb(x), { minLength: n, maxLength: n })).map(([a, b]) => ({
        fn,
        args: fn === 'vdot' ? [a, b] : [a],
      })),
    ),
);

let compiled: ReturnType<typeof compileAndInstantiate> | undefined;

/** The exact value and partials of a case, or undefined where the reference makes no claim. */
function exactOf(c: ExtremeCase): Reference | undefined {
  const p = (x: number) => exact(x);
  if (c.fn.startsWith('v')) {
    const op = c.fn.slice(1) as 'norm' | 'logsumexp' | 'sum' | 'dot' | 'prod';
    return vectorReference(op, (c.args[0] as number[]).map(p), ((c.args[1] as number[] | undefined) ?? []).map(p));
  }
  const name = c.fn.slice(1);
  const xs = (c.args as number[]).map(p);
  if (name in EXPONENTS) {
    const r = reference('^', [xs[0], exact(EXPONENTS[name])]);
    return r && { value: r.value, partials: [r.partials[0]] };
  }
  return reference(BINARY[name] ?? name, xs);
}

/** Counts of what the search compared. */
export interface ExtremeStats {
  cases: number;
  compared: number;
  noClaim: number;
}
export const newExtremeStats = (): ExtremeStats => ({ cases: 0, compared: 0, noClaim: 0 });

/** Checks one case; throws with the case and the disagreement. */
export function checkExtremeCase(c: ExtremeCase, stats: ExtremeStats = newExtremeStats()): void {
  compiled ??= compileAndInstantiate(EXTREME_SOURCE);
  stats.cases++;
  const want = exactOf(c);
  if (!want) {
    stats.noClaim++;
    return;
  }
  const args = c.args.map((a) => (Array.isArray(a) ? Float64Array.from(a) : a));
  const call = (name: string) => (compiled![name] as unknown as (...a: unknown[]) => unknown)(...args);
  const value = call(c.fn) as number;
  const r = call(`${c.fn}Grad`) as Gradient;
  const show = `${c.fn}(${c.args.map((a) => (Array.isArray(a) ? `[${a.join(', ')}]` : String(a))).join(', ')})`;
  const problems: string[] = [];
  const v = disagreement(value, want.value, 1e-9, want.scale);
  if (v) problems.push(`value ${v}`);
  const flat: number[] = Object.values(r.gradient).flatMap((g) => (typeof g === 'number' ? [g] : Array.from(g as ArrayLike<number>)));
  flat.forEach((g, i) => {
    const d = disagreement(g, (want.partials[i] ?? null) as P | null, want.rtol?.[i] ?? 1e-9);
    if (d) problems.push(`partial ${i + 1}: ${d}`);
  });
  stats.compared++;
  if (problems.length > 0) throw new Error(`${show}: ${problems.join('; ')}`);
}
