/**
 * Second-order forward mode: a number with its derivative along one input p, both dual numbers
 * (dual.ts) over all the inputs. The value's tangent is the gradient; the p-derivative's tangent
 * is row p of the Hessian, and its magnitudes (`Dual.m`) are the sum of |term| over the
 * second-order chain-rule terms that the row adds up. Where those terms cancel (x·(4/x) has the
 * second derivative 0 as −8/x² + 8/x², both exact only in one order), two correct evaluation
 * orders differ by rounding residues relative to the magnitudes, not to the row. An independent
 * reference for the compiler's Hessians; imports nothing from src/.
 *
 * `t` absent is a structural zero (no path from p): partials are never multiplied by it, as in
 * dual.ts, so `sqrt(c)·x` with c = 0 has no Infinity·0 in its second derivatives either.
 */
import { Dual, add, builtins as first, constant, div, mul, neg, sub, variable } from './dual.ts';
import type { BinaryOp, Domain, Program } from './program.ts';
import { callFunction, findFunction } from './program.ts';

export class Dual2 {
  constructor(
    /** The value, with the gradient as its tangent. */
    readonly v: Dual,
    /** The derivative along p, with row p of the Hessian as its tangent; absent: no path from p. */
    readonly t?: Dual,
  ) {}
}

const k = (c: number) => constant(c);
const plus = (a?: Dual, b?: Dual): Dual | undefined => (a === undefined ? b : b === undefined ? a : add(a, b));
/** `f′·t`, or no tangent without one (f′ is then never computed). */
const times = (f: () => Dual, t?: Dual): Dual | undefined => (t === undefined ? undefined : mul(f(), t));

/** f(a) with its derivative f′(a) (a dual number: its own tangent is f″·a′). */
const unary = (f: (a: Dual) => Dual, df: (a: Dual, fa: Dual) => Dual) => (a: Dual2): Dual2 => {
  const fa = f(a.v);
  return new Dual2(fa, times(() => df(a.v, fa), a.t));
};

const { sin, cos, sinh, cosh, exp, sqrt, hypot, atan2, log } = first;
const sq = (a: Dual) => mul(a, a);
const inv = (a: Dual) => div(k(1), a);

/** x^y: y·x^(y−1)·x′ + x^y·ln(x)·y′ (the second only with a path from p to y). */
function pow(x: Dual2, y: Dual2): Dual2 {
  const v = first.pow(x.v, y.v);
  return new Dual2(v, plus(
    times(() => mul(y.v, first.pow(x.v, sub(y.v, k(1)))), x.t),
    times(() => mul(v, log(x.v)), y.t),
  ));
}

/** The value-only built-ins: no derivative at all (sign, floor, ceil). */
const flat = (f: (a: Dual) => Dual) => (a: Dual2): Dual2 => new Dual2(f(a.v));

/** Min and max: the selected argument, as in dual.ts (ties: the first). */
const select = (firstSelected: boolean, a: Dual2, b: Dual2, v: Dual) => new Dual2(v, firstSelected ? a.t : b.t);

export const builtins2: Record<string, (...args: Dual2[]) => Dual2> = {
  sin: unary(sin, (a) => cos(a)),
  cos: unary(cos, (a) => neg(sin(a))),
  tan: unary(first.tan, (a) => inv(sq(cos(a)))),
  asin: unary(first.asin, (a) => inv(sqrt(sub(k(1), sq(a))))),
  acos: unary(first.acos, (a) => neg(inv(sqrt(sub(k(1), sq(a)))))),
  atan: unary(first.atan, (a) => inv(add(k(1), sq(a)))),
  sinh: unary(sinh, (a) => cosh(a)),
  cosh: unary(cosh, (a) => sinh(a)),
  tanh: unary(first.tanh, (_a, fa) => sub(k(1), sq(fa))),
  exp: unary(exp, (_a, fa) => fa),
  log: unary(log, (a) => inv(a)),
  ln: unary(log, (a) => inv(a)),
  log1p: unary(first.log1p, (a) => inv(add(k(1), a))),
  expm1: unary(first.expm1, (a) => exp(a)),
  log2: unary(first.log2, (a) => inv(mul(a, k(Math.LN2)))),
  log10: unary(first.log10, (a) => inv(mul(a, k(Math.LN10)))),
  sqrt: unary(sqrt, (_a, fa) => div(k(0.5), fa)),
  cbrt: unary(first.cbrt, (_a, fa) => inv(mul(k(3), sq(fa)))),
  abs: unary(first.abs, (a) => k(Math.sign(a.v))),
  sign: flat(first.sign),
  floor: flat(first.floor),
  ceil: flat(first.ceil),
  // ∂/∂y = x/r², ∂/∂x = −y/r², r = hypot(x, y), each as (x/r)/r as dual.ts does.
  atan2: (y: Dual2, x: Dual2): Dual2 => {
    const r = () => hypot(x.v, y.v);
    return new Dual2(atan2(y.v, x.v), plus(times(() => div(div(x.v, r()), r()), y.t), times(() => neg(div(div(y.v, r()), r())), x.t)));
  },
  pow,
  hypot: (x: Dual2, y: Dual2): Dual2 => {
    const h = hypot(x.v, y.v);
    return new Dual2(h, plus(times(() => div(x.v, h), x.t), times(() => div(y.v, h), y.t)));
  },
  min: (a: Dual2, b: Dual2) => select(a.v.v <= b.v.v, a, b, first.min(a.v, b.v)),
  max: (a: Dual2, b: Dual2) => select(a.v.v >= b.v.v, a, b, first.max(a.v, b.v)),
};

const binary: Record<BinaryOp, (a: Dual2, b: Dual2) => Dual2> = {
  '+': (a, b) => new Dual2(add(a.v, b.v), plus(a.t, b.t)),
  '-': (a, b) => new Dual2(sub(a.v, b.v), plus(a.t, b.t === undefined ? undefined : neg(b.t))),
  '*': (a, b) => new Dual2(mul(a.v, b.v), plus(times(() => b.v, a.t), times(() => a.v, b.t))),
  // d(a/b) = a′/b − (a/b)·b′/b, as dual.ts's −(a/b)/b.
  '/': (a, b) => {
    const q = div(a.v, b.v);
    return new Dual2(q, plus(times(() => inv(b.v), a.t), times(() => neg(div(q, b.v)), b.t)));
  },
  '^': pow,
};

export const secondOrderDomain: Domain<Dual2> = {
  num: (v) => new Dual2(constant(v)),
  value: (t) => t.v.v,
  neg: (a) => new Dual2(neg(a.v), a.t === undefined ? undefined : neg(a.t)),
  binary: (op, a, b) => binary[op](a, b),
  builtin: (name, args) => builtins2[name](...args),
};

/**
 * Row `p` (an index among the non-const parameters) of the Hessian of function `name` at `args`,
 * with respect to the non-const parameters in order, and for each entry the sum of the magnitudes
 * of the second-order terms it adds up: the size of what cancelled.
 */
export function hessianRow(p: Program, name: string, args: number[], row: number): { row: number[]; scale: number[] } {
  const f = findFunction(p, name);
  const n = f.params.filter((q) => !q.isConst).length;
  let i = 0;
  const inputs = f.params.map((q, j) => {
    if (q.isConst) return new Dual2(constant(args[j]));
    const index = i++;
    return new Dual2(variable(args[j], index, n), index === row ? constant(1) : undefined);
  });
  const r = callFunction(p, secondOrderDomain, name, inputs);
  return r.t === undefined ? { row: new Array<number>(n).fill(0), scale: new Array<number>(n).fill(0) } : { row: r.t.gradient(n), scale: r.t.scale(n) };
}
