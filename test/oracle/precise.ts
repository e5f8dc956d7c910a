/**
 * A high-precision reference for the built-ins at extreme magnitudes: each operation's value and
 * partial derivatives computed in 60-digit decimal arithmetic (decimal.js), from the exact value
 * of the double arguments, so nothing overflows or underflows along the way. Independent of the
 * compiler (imports nothing from src/) and of the floating-point formulas in dual.ts.
 */
import { Decimal } from 'decimal.js';
import { partialSumsOrderWith } from '../support/partial-sums.ts';

export const P = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN, minE: -9e15, maxE: 9e15 });
export type P = InstanceType<typeof P>;

/** The exact value of a double, through its bits (decimal.js reads binary exponents exactly). */
export function exact(x: number): P {
  if (!Number.isFinite(x)) return new P(x);
  if (x === 0) return new P(Object.is(x, -0) ? '-0' : '0');
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = (bits & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
  const text = biased === 0 ? `0x0.${fraction}p-1022` : `0x1.${fraction}p${biased - 1023}`;
  return new P(text).times(Math.sign(x));
}

/** A reference result: the value and one partial per argument (null: the partial is structurally 0). */
export interface Reference {
  readonly value: P;
  /** For sums: the sum of the terms' magnitudes, which rounding errors are relative to. */
  readonly scale?: P;
  readonly partials: readonly (P | null)[];
  /** A relative tolerance per partial, where it is larger than the default. */
  readonly rtol?: readonly number[];
}

const one = new P(1);
const ln2 = P.ln(2);
const ln10 = P.ln(10);
const zero = new P(0);

/** ln(1 + x) and exp(x) - 1 keep their relative precision for tiny x (1 + 1e-300 is 1 to 60 digits). */
const log1p = (x: P) => (x.abs().lt('1e-20') ? x.minus(x.times(x).div(2)) : P.ln(one.plus(x)));
const expm1 = (x: P) => (x.abs().lt('1e-20') ? x.plus(x.times(x).div(2)) : P.exp(x).minus(1));
/** exp(x) without computing a billion-digit power: past ±1e6 it is Infinity or 0 for doubles anyway. */
const exp = (x: P) => (x.gt(1e6) ? new P(Infinity) : x.lt(-1e6) ? zero : P.exp(x));
const cosh = (x: P) => (x.abs().gt(1e6) ? new P(Infinity) : P.cosh(x));
const sinh = (x: P) => (x.abs().gt(1e6) ? new P(Infinity).times(x.s) : P.sinh(x));

/** x^p for real p: exact for integer p and negative bases, through exp(p ln x) otherwise. */
function power(x: P, p: P): P {
  if (x.isZero()) return p.isZero() ? one : p.gt(0) ? zero : new P(Infinity);
  const magnitude = p.times(P.ln(x.abs()));
  if (magnitude.gt(1e6)) return new P(Infinity).times(x.lt(0) && p.isInteger() && !p.mod(2).isZero() ? -1 : 1);
  if (magnitude.lt(-1e6)) return zero;
  return P.pow(x, p);
}

/**
 * Value and partials of each built-in and operator, from their textbook formulas. The
 * trigonometric functions are left out past |x| = 1e15 (where they are exact in both but the
 * reference would need hundreds of digits of pi): `undefined`.
 */
export function reference(op: string, args: readonly P[]): Reference | undefined {
  const [x, y] = args;
  const big = (v: P) => v.abs().gt(1e15);
  switch (op) {
    case '+': return { value: x.plus(y), partials: [one, one] };
    case '-': return { value: x.minus(y), partials: [one, one.neg()] };
    case '*': return { value: x.times(y), partials: [y, x] };
    case '/': return { value: x.div(y), partials: [one.div(y), x.neg().div(y.times(y))] };
    case '^':
    case 'pow': {
      // A negative base has a real power only for whole exponents (y - 1 may round to one).
      if (x.lt(0) && !y.isInteger()) return { value: new P(NaN), partials: [new P(NaN), new P(NaN)] };
      // Every double of magnitude 2^53 or more is an even integer, but 60 digits cannot hold the
      // parity of one past 10^59 (y - 1 rounds back to y): take it from the double, not the decimal.
      if (x.lt(0) && y.abs().gte(2 ** 53)) {
        const v = power(x.neg(), y);
        return { value: v, partials: [y.times(v).div(x), new P(NaN)] };
      }
      const v = power(x, y);
      return { value: v, partials: [y.isZero() ? zero : y.times(power(x, y.minus(1))), x.isZero() ? zero : v.times(P.ln(x))] };
    }
    case 'sin': return big(x) ? undefined : { value: P.sin(x), partials: [P.cos(x)] };
    case 'cos': return big(x) ? undefined : { value: P.cos(x), partials: [P.sin(x).neg()] };
    case 'tan': return big(x) ? undefined : { value: P.tan(x), partials: [one.div(P.cos(x).pow(2))] };
    case 'asin': return { value: P.asin(x), partials: [one.div(P.sqrt(one.minus(x.times(x))))] };
    case 'acos': return { value: P.acos(x), partials: [one.div(P.sqrt(one.minus(x.times(x)))).neg()] };
    case 'atan': return { value: P.atan(x), partials: [one.div(one.plus(x.times(x)))] };
    case 'sinh': return { value: sinh(x), partials: [cosh(x)] };
    case 'cosh': return { value: cosh(x), partials: [sinh(x)] };
    // decimal.js's tanh does not return for |x| near 1e300; past 100 it is ±1 to 60 digits.
    case 'tanh': return { value: x.abs().gt(100) ? new P(x.s) : P.tanh(x), partials: [one.div(cosh(x).pow(2))] };
    case 'exp': return { value: exp(x), partials: [exp(x)] };
    case 'log':
    case 'ln': return { value: P.ln(x), partials: [one.div(x)] };
    case 'log1p': return { value: log1p(x), partials: [one.div(one.plus(x))] };
    case 'expm1': return { value: expm1(x), partials: [exp(x)] };
    case 'log2': return { value: P.ln(x).div(ln2), partials: [one.div(x.times(ln2))] };
    case 'log10': return { value: P.ln(x).div(ln10), partials: [one.div(x.times(ln10))] };
    case 'sqrt': return { value: P.sqrt(x), partials: [new P(0.5).div(P.sqrt(x))] };
    case 'cbrt': return { value: P.cbrt(x), partials: [one.div(P.cbrt(x).pow(2).times(3))] };
    case 'abs': return { value: x.abs(), partials: [new P(x.isZero() ? 0 : x.s)] };
    case 'atan2': {
      const r2 = x.times(x).plus(y.times(y));
      return { value: P.atan2(x, y), partials: [y.div(r2), x.neg().div(r2)] };
    }
    case 'hypot': {
      const h = P.hypot(x, y);
      return { value: h, partials: [x.div(h), y.div(h)] };
    }
    default:
      throw new Error(`no reference for '${op}'`);
  }
}

/**
 * Vector reductions: the value and the gradient over the elements, or undefined where a loop
 * over doubles would overflow on the way for any order of evaluation (a running sum or product,
 * or one of dot's products, past the largest double, which no scaling of the result avoids).
 */
export function vectorReference(op: 'norm' | 'logsumexp' | 'sum' | 'dot' | 'prod', a: readonly P[], b: readonly P[] = []): Reference | undefined {
  const max = new P(1.7976931348623157e308);
  switch (op) {
    case 'norm': {
      const n = P.sqrt(a.reduce((s, x) => s.plus(x.times(x)), zero));
      // The partial a[i]/norm passes through a number of a[i]'s size: for a subnormal a[i], it is
      // as precise as a[i]'s own spacing (2^-1074) allows.
      const rtol = a.map((x) => Math.max(1e-9, x.isZero() ? 0 : 2 ** -1072 / Math.abs(x.toNumber())));
      return { value: n, partials: a.map((x) => (n.isZero() ? new P(NaN) : x.div(n))), rtol };
    }
    case 'logsumexp': {
      if (a.length === 0) return undefined;
      // max + log1p(Σ over the other terms of exp(term - max)): ln(1 + s) at 60 digits is 0 for
      // s below 1e-60, where the exact value is s (logsumexp([0, -222.86]) is 1.63e-97, not 0).
      const top = a.reduce((k, x, i) => (x.gt(a[k]) ? i : k), 0);
      const m = a[top];
      // An infinite term: ∞ - ∞ in every form of the sum; no claim (as before, when it made the sum NaN).
      if (!m.isFinite()) return undefined;
      const rest = a.reduce((t, x, i) => (i === top ? t : t.plus(exp(x.minus(m)))), zero);
      const value = m.plus(log1p(rest));
      // exp(a[i] - value): the double value is rounded to its own ulp, which the difference keeps.
      const rtol = a.map(() => Math.max(1e-9, 2 ** -50 * Math.abs(value.toNumber())));
      return { value, partials: a.map((x) => exp(x.minus(value))), rtol };
    }
    case 'sum':
    case 'dot': {
      let s = zero;
      let scale = zero;
      for (let i = 0; i < a.length; i++) {
        const term = op === 'sum' ? a[i] : a[i].times(b[i]);
        // A product that rounds past the largest double is Infinity in every order of the sum (each
        // term is a double product): 7.8e153 · 2.3e154 beside −1.3e308, a finite 4.7e307 exactly
        // (fuzz seed 195584139). No claim, as for a running sum past it.
        if (!Number.isFinite(term.toNumber())) return undefined;
        s = s.plus(term);
        scale = scale.plus(term.abs());
        if (s.abs().gt(max)) return undefined;
      }
      // The JavaScript target adds a long sum in four partial sums (README "Arrays";
      // test/support/partial-sums.ts): where one of them, or their combination, passes the largest
      // double, the loop's value is Infinity though the index-order sum is finite (fuzz seed
      // 631315712: [−1.09e306, 1.787e308, 1, 1.09e306], 1.787e308 + 1.09e306 in part 1 + part 3).
      // No claim there either, as for prod's running product (README "Derivative conventions").
      let passes = false;
      partialSumsOrderWith(
        a.map((x, i) => (op === 'sum' ? x : x.times(b[i]))),
        (p, q) => {
          const r = p.plus(q);
          if (r.abs().gt(max)) passes = true;
          return r;
        },
        zero,
      );
      if (passes) return undefined;
      return { value: s, scale, partials: op === 'sum' ? a.map(() => one) : [...b, ...a] };
    }
    case 'prod': {
      // The running product of the nonzero terms is a double in the compiled loop: past the
      // largest double or below the least normal one on the way, its value is the loop's (README,
      // "Derivative conventions"), and no claim is made.
      let nonzero = one;
      for (const x of a) {
        if (x.isZero()) continue; // zeros are counted, not multiplied in
        nonzero = nonzero.times(x);
        if (nonzero.abs().gt(max) || nonzero.abs().lt(2 ** -1022)) return undefined;
      }
      // Each partial is the product of the terms before it (a running product, ascending) times
      // the product of those after it (descending): where either leaves the doubles' normal range
      // on the way (an exact 0 stays 0), that partial is the loops', and no claim is made (NaN).
      const inRange = (t: P) => t.isZero() || (t.abs().lte(max) && t.abs().gte(2 ** -1022));
      const partials = a.map((_, i) => {
        let before = one;
        for (const x of a.slice(0, i)) if (!inRange((before = before.times(x)))) return new P(NaN);
        let after = one;
        for (const x of a.slice(i + 1).reverse()) if (!inRange((after = after.times(x)))) return new P(NaN);
        return inRange(before.times(after)) ? before.times(after) : new P(NaN);
      });
      return { value: a.reduce((t, x) => t.times(x), one), partials };
    }
  }
}

/**
 * Whether a compiled number agrees with a reference: where the reference is a finite double the
 * compiled number must be within `rtol` of it (differences in the subnormal range, below 2^-1000,
 * are rounding, not a defect); where the reference overflows, anything goes (no claim is made).
 * Returns a reason when they disagree.
 */
export function disagreement(got: number, want: P | null, rtol = 1e-9, scale?: P): string | undefined {
  if (want === null) return got === 0 ? undefined : `expected a structural 0`;
  if (want.isNaN()) return undefined;
  const w = want.toNumber();
  if (!Number.isFinite(w)) return undefined;
  if (!Number.isFinite(got)) return `${got} where the exact value is ${want.toSignificantDigits(17).toString()}`;
  const tolerance = rtol * Math.max(Math.abs(w), scale ? scale.toNumber() : 0) + 2 ** -1000;
  return Math.abs(got - w) <= tolerance ? undefined : `${got} where the exact value is ${want.toSignificantDigits(17).toString()}`;
}
