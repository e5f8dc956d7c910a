/**
 * Forward-mode dual numbers: a value plus a sparse tangent (one entry per differentiated input
 * that the value depends on). An independent reference for the compiler's reverse-mode
 * gradients; imports nothing from src/.
 *
 * A missing tangent entry is a structural zero: "no path from that input to this value".
 * Partial derivatives are never multiplied by a structural zero, which makes the result equal the
 * reverse-mode sum over paths even when a partial is Infinity or NaN. With `const c = 0`,
 * `sqrt(c) * x` has the gradient 0 (not Infinity * 0 = NaN), and `x ^ y` at (-2, 3) has the
 * x-partial 12 even though the y-partial (8 ln(-2)) is NaN. A value with no entries is constant,
 * which is also the "exponent depends on a differentiated input" test of `x ^ y`.
 */

export type Tangent = ReadonlyMap<number, number>;
const NONE: Tangent = new Map();

export class Dual {
  constructor(
    readonly v: number,
    /** Partial derivatives by input index; inputs without a path to this value are absent. */
    readonly d: Tangent = NONE,
    /**
     * The same chain rule over magnitudes: for each entry of `d`, the sum of |partial| × |term| over
     * every path, where `d` sums the signed terms. It bounds what cancelled in `d`, which rounding
     * errors are relative to: `3x/(x/6)` has the derivative 18/x − 18/x, exactly 0 in one order
     * and a residue of 1e-15 · 36/x in another (both correct), so comparisons scale with it.
     * Absent: the magnitudes of `d` itself (no cancellation yet).
     */
    readonly m: Tangent = d,
  ) {}

  /** True when no differentiated input reaches this value. */
  get isConstant(): boolean {
    return this.d.size === 0;
  }

  /** The dense tangent of length n (structural zeros become 0). */
  gradient(n: number): number[] {
    const g = new Array<number>(n).fill(0);
    for (const [i, t] of this.d) g[i] = t;
    return g;
  }

  /** The dense magnitudes (see `m`) of length n: a bound on the terms each gradient entry sums. */
  scale(n: number): number[] {
    const g = new Array<number>(n).fill(0);
    for (const [i, t] of this.m) g[i] = Math.abs(t);
    return g;
  }
}

/** A constant (no tangent entries); `n` is accepted for symmetry with `variable`. */
export function constant(value: number, _n = 0): Dual {
  return new Dual(value, NONE);
}

/** Input number `index` of `n` differentiated inputs, with the given value. */
export function variable(value: number, index: number, n: number): Dual {
  if (!(Number.isInteger(index) && index >= 0 && index < n)) throw new RangeError(`variable index ${index} out of range 0..${n - 1}`);
  return new Dual(value, new Map([[index, 1]]));
}

function scaled(k: number, d: Tangent, into = new Map<number, number>()): Map<number, number> {
  for (const [i, t] of d) into.set(i, into.has(i) ? into.get(i)! + k * t : k * t);
  return into;
}

/** `k·a.d` with its magnitudes `|k|·|a.m|`, added into `into` (a tangent and its magnitudes). */
function term(k: number, a: Dual, into: [Map<number, number>, Map<number, number>] = [new Map(), new Map()]) {
  scaled(k, a.d, into[0]);
  for (const [i, t] of a.m) into[1].set(i, (into[1].get(i) ?? 0) + Math.abs(k * t));
  return into;
}

/** `f(a.v)` with derivative `da` (computed only when a is not constant). */
function chain1(a: Dual, v: number, da: () => number): Dual {
  return a.isConstant ? new Dual(v) : new Dual(v, ...term(da(), a));
}

/** `ka * a.d + kb * b.d`; each partial is computed only when its operand is not constant. */
function chain2(a: Dual, b: Dual, v: number, ka: () => number, kb: () => number): Dual {
  if (a.isConstant) return chain1(b, v, kb);
  if (b.isConstant) return chain1(a, v, ka);
  return new Dual(v, ...term(kb(), b, term(ka(), a)));
}

export const add = (a: Dual, b: Dual): Dual => chain2(a, b, a.v + b.v, () => 1, () => 1);
export const sub = (a: Dual, b: Dual): Dual => chain2(a, b, a.v - b.v, () => 1, () => -1);
export const mul = (a: Dual, b: Dual): Dual => chain2(a, b, a.v * b.v, () => b.v, () => a.v);
// d(a/b)/db = -a/b², computed as -(a/b)/b: b·b overflows for |b| past about 1e154 where the
// partial itself is an ordinary number.
export const div = (a: Dual, b: Dual): Dual =>
  chain2(a, b, a.v / b.v, () => 1 / b.v, () => -(a.v / b.v) / b.v);
export const neg = (a: Dual): Dual => chain1(a, -a.v, () => -1);
export const pos = (a: Dual): Dual => a;

/** x^y: d/dx = y*x^(y-1); d/dy = x^y*ln(x), only when y is not constant. */
export const pow = (x: Dual, y: Dual): Dual => {
  const v = Math.pow(x.v, y.v);
  return chain2(x, y, v, () => y.v * Math.pow(x.v, y.v - 1), () => v * Math.log(x.v));
};

/** Min and max: the value of Math.min/Math.max, the tangent of the selected argument (ties: the first). */
export const min = (a: Dual, b: Dual): Dual => {
  const s = a.v <= b.v ? a : b;
  return new Dual(Math.min(a.v, b.v), s.d, s.m);
};
export const max = (a: Dual, b: Dual): Dual => {
  const s = a.v >= b.v ? a : b;
  return new Dual(Math.max(a.v, b.v), s.d, s.m);
};

/** Value-only helpers whose derivative is zero: the result is a structural zero. */
const flat = (f: (x: number) => number) => (a: Dual): Dual => new Dual(f(a.v));

const unary = (f: (x: number) => number, df: (x: number, fx: number) => number) => (a: Dual): Dual => {
  const fx = f(a.v);
  return chain1(a, fx, () => df(a.v, fx));
};

export const builtins: Record<string, (...args: Dual[]) => Dual> = {
  sin: unary(Math.sin, (x) => Math.cos(x)),
  cos: unary(Math.cos, (x) => -Math.sin(x)),
  tan: unary(Math.tan, (x) => 1 / (Math.cos(x) * Math.cos(x))),
  asin: unary(Math.asin, (x) => 1 / Math.sqrt(1 - x * x)),
  acos: unary(Math.acos, (x) => -1 / Math.sqrt(1 - x * x)),
  atan: unary(Math.atan, (x) => 1 / (1 + x * x)),
  sinh: unary(Math.sinh, (x) => Math.cosh(x)),
  cosh: unary(Math.cosh, (x) => Math.sinh(x)),
  tanh: unary(Math.tanh, (_x, fx) => 1 - fx * fx),
  exp: unary(Math.exp, (_x, fx) => fx),
  log: unary(Math.log, (x) => 1 / x),
  ln: unary(Math.log, (x) => 1 / x),
  log1p: unary(Math.log1p, (x) => 1 / (1 + x)),
  expm1: unary(Math.expm1, (x) => Math.exp(x)),
  log2: unary(Math.log2, (x) => 1 / (x * Math.LN2)),
  log10: unary(Math.log10, (x) => 1 / (x * Math.LN10)),
  sqrt: unary(Math.sqrt, (_x, fx) => 0.5 / fx),
  cbrt: unary(Math.cbrt, (_x, fx) => 1 / (3 * fx * fx)),
  abs: unary(Math.abs, (x) => Math.sign(x)),
  sign: flat(Math.sign),
  floor: flat(Math.floor),
  ceil: flat(Math.ceil),
  // x/(x² + y²) as (x/r)/r with r = hypot(x, y): the squares overflow (or underflow) where the
  // partials do not.
  atan2: (y: Dual, x: Dual): Dual => {
    const r = () => Math.hypot(x.v, y.v);
    return chain2(y, x, Math.atan2(y.v, x.v), () => x.v / r() / r(), () => -y.v / r() / r());
  },
  pow,
  hypot: (x: Dual, y: Dual): Dual => {
    const h = Math.hypot(x.v, y.v);
    return chain2(x, y, h, () => x.v / h, () => y.v / h);
  },
  min,
  max,
};

/** Number of arguments of each built-in function. */
export const builtinArity: Record<string, number> = Object.fromEntries(
  Object.entries(builtins).map(([name, f]) => [name, f.length]),
);

/** Plain-number values of the built-ins (the JS Math functions; `ln` is `Math.log`). */
export const mathBuiltins: Record<string, (...args: number[]) => number> = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh, exp: Math.exp, log: Math.log, ln: Math.log,
  log1p: Math.log1p, expm1: Math.expm1, log2: Math.log2, log10: Math.log10, sqrt: Math.sqrt,
  cbrt: Math.cbrt, abs: Math.abs, sign: Math.sign, floor: Math.floor, ceil: Math.ceil,
  atan2: Math.atan2, pow: Math.pow, hypot: Math.hypot, min: Math.min, max: Math.max,
};

/**
 * Approximate equality for comparing a compiler's numbers with the oracle's: NaN equals NaN,
 * infinities must match exactly, finite numbers within `rtol * max(|a|,|b|) + atol`.
 */
export function approxEqual(a: number, b: number, rtol = 1e-9, atol = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b)) + atol;
}
