import type { Builder } from '../ir/builder.ts';
import type { BuiltinName } from '../ir/builtins.ts';
import { constant, type ArithmeticOp, type Expr, type Operand } from '../ir/ir.ts';

/**
 * The derivative table: for each operation, one entry per argument giving that argument's adjoint
 * contribution, ḡ·∂result/∂arg, where ḡ is the adjoint of the result. An entry may emit helper
 * instructions through the builder and returns the final expression, which the reverse sweep
 * assigns or adds (`+=`) to the argument's adjoint. `null` means the partial is zero everywhere the
 * operation is differentiable, so no code is written at all. Entries reuse the forward value
 * (`y`) where that is cheaper and as exact: d exp(x) = ḡ·y, d sqrt(x) = ḡ·0.5/y.
 *
 * Conventions at kinks (README, "Derivative conventions"): abs'(0) = 0; sign, floor and ceil have
 * derivative 0; min and max send the adjoint to the selected argument, ties to the first; sqrt'(0)
 * is +Infinity; x^y differentiates with y·x^(y-1) and x^y·ln(x), the second only when the exponent
 * depends on a differentiated input, and both taken as 0 where they would be 0·∞ (x = 0). sqrt'(−0)
 * is +Infinity too.
 */
export interface RuleContext {
  readonly b: Builder;
  /** The operation's arguments. */
  readonly args: readonly Operand[];
  /** The operation's (forward) result. */
  readonly y: Operand;
  /** The adjoint of the result. */
  readonly g: Operand;
}

export type Partial = ((c: RuleContext) => Expr | Operand) | null;

const e = (op: Expr['op'], ...args: Operand[]): Expr => ({ op, args });
const one = constant(1);
/** The least positive normal number: below it a double has lost precision (subnormal). */
const MIN_NORMAL = 2 ** -1022;

/** ḡ · f(x) with f built by the caller. */
const scale = (c: RuleContext, factor: Operand): Expr => e('mul', c.g, factor);
/** ḡ / d. */
const over = (c: RuleContext, denominator: Operand): Expr => e('div', c.g, denominator);

/**
 * ḡ·x/h for h = hypot(x, z). Where h is subnormal or has overflowed (hypot(5e-324, 5e-324) rounds
 * to 5e-324, hypot(1e308, 1e308) is Infinity) x/h would be 1 or 0: the pair is scaled by 2^600
 * or 2^-600 first (exact), and the quotient taken on it.
 */
function hypotPartial({ b, args, y, g }: RuleContext, k: 0 | 1): Expr {
  const normal = b.op('and', b.op('ge', y, constant(MIN_NORMAL)), b.op('lt', y, constant(Infinity)));
  const quotient = b.choose(
    normal,
    () => b.op('div', args[k], y),
    () => {
      const s = b.op('select', b.op('lt', y, one), constant(2 ** 600), constant(2 ** -600));
      const [x, z] = args.map((a) => b.op('mul', a, s));
      return b.op('div', k === 0 ? x : z, b.op('hypot', x, z));
    },
  );
  return e('mul', g, quotient);
}

export const rules: Record<ArithmeticOp | BuiltinName | 'copy' | 'select', readonly Partial[]> = {
  copy: [(c) => c.g],
  add: [(c) => c.g, (c) => c.g],
  sub: [(c) => c.g, (c) => e('neg', c.g)],
  mul: [(c) => scale(c, c.args[1]), (c) => scale(c, c.args[0])],
  // d(a/b)/db = -a/b² = -(a/b)/b: reuses the quotient.
  div: [(c) => over(c, c.args[1]), (c) => e('neg', c.b.op('div', c.b.op('mul', c.g, c.y), c.args[1]))],
  neg: [(c) => e('neg', c.g)],
  pow: [
    // d(x^p)/dx = p·x^(p-1). With a constant exponent the power folds or reduces (x^2 → 2x); with
    // a variable one, p·y/x reuses y = x^p instead of a second power, except at x = 0.
    ({ b, args: [x, p], y, g }) => {
      const slow = () => b.op('mul', p, b.op('pow', x, b.op('sub', p, one)));
      if (p.kind === 'const') return p.value === 0 ? constant(0) : e('mul', g, slow());
      // At x = 0: p·0^(p-1), except that x^0 is constant (0·∞ would be NaN). Where y has
      // overflowed or underflowed (1e200^2, 1e-200^2) p·y/x is not the derivative: power again.
      const atZero = () => b.choose(b.op('eq', p, constant(0)), () => constant(0), slow);
      const reuse = () => {
        const size = b.op('abs', y);
        const normal = b.op('and', b.op('ge', size, constant(MIN_NORMAL)), b.op('lt', size, constant(Infinity)));
        return b.choose(normal, () => b.op('div', b.op('mul', p, y), x), slow);
      };
      return e('mul', g, b.choose(b.op('ne', x, constant(0)), reuse, atZero));
    },
    // d(x^p)/dp = x^p·ln(x); at x = 0 it is taken as 0 (0^p does not change with p > 0).
    ({ b, args: [x], y, g }) => e('mul', g, b.choose(b.op('ne', x, constant(0)), () => b.op('mul', y, b.op('log', x)), () => constant(0))),
  ],
  // select(c, a, b): the adjoint goes to the side that was selected.
  select: [null, ({ args: [k], g }) => e('select', k, g, constant(0)), ({ args: [k], g }) => e('select', k, constant(0), g)],

  sin: [(c) => scale(c, c.b.op('cos', c.args[0]))],
  cos: [(c) => e('neg', c.b.op('mul', c.g, c.b.op('sin', c.args[0])))],
  tan: [(c) => scale(c, c.b.op('add', one, c.b.op('mul', c.y, c.y)))],
  asin: [(c) => over(c, c.b.op('sqrt', c.b.op('sub', one, c.b.op('mul', c.args[0], c.args[0]))))],
  acos: [(c) => e('neg', c.b.op('div', c.g, c.b.op('sqrt', c.b.op('sub', one, c.b.op('mul', c.args[0], c.args[0])))))],
  atan: [(c) => over(c, c.b.op('add', one, c.b.op('mul', c.args[0], c.args[0])))],
  // x/(x² + y²) as (x/r)/r with r = hypot(y, x): the squares overflow past 1e154 and underflow
  // below 1e-154 where the partials are ordinary numbers.
  atan2: [
    ({ b, args: [y, x], g }) => {
      const r = b.op('hypot', y, x);
      return e('div', b.op('div', b.op('mul', g, x), r), r);
    },
    ({ b, args: [y, x], g }) => {
      const r = b.op('hypot', y, x);
      return e('neg', b.op('div', b.op('div', b.op('mul', g, y), r), r));
    },
  ],
  sinh: [(c) => scale(c, c.b.op('cosh', c.args[0]))],
  cosh: [(c) => scale(c, c.b.op('sinh', c.args[0]))],
  // 1/cosh(x)², not 1 - y²: y rounds to ±1 past |x| ≈ 19, where the derivative (down to 1e-308
  // at |x| ≈ 354) would become 0; 1 - y² also loses relative precision from |x| ≈ 3 on.
  tanh: [(c) => {
    const sech = c.b.op('div', one, c.b.op('cosh', c.args[0]));
    return scale(c, c.b.op('mul', sech, sech));
  }],
  exp: [(c) => scale(c, c.y)],
  log: [(c) => over(c, c.args[0])],
  log1p: [(c) => over(c, c.b.op('add', one, c.args[0]))],
  // exp(x), not y + 1: y rounds to -1 below x ≈ -37, where the derivative is still e^x.
  expm1: [(c) => scale(c, c.b.op('exp', c.args[0]))],
  log2: [(c) => over(c, c.b.op('mul', c.args[0], constant(Math.LN2)))],
  log10: [(c) => over(c, c.b.op('mul', c.args[0], constant(Math.LN10)))],
  // d sqrt(x) = 0.5/sqrt(x): +Infinity at 0. sqrt(-0) is -0, and `+ 0` makes it +0, so the
  // derivative at 0 does not depend on the sign of the zero (sqrt(-x) and sqrt(0 - x) agree).
  sqrt: [(c) => e('div', c.b.op('mul', constant(0.5), c.g), c.b.op('add', c.y, constant(0)))],
  cbrt: [(c) => over(c, c.b.op('mul', constant(3), c.b.op('mul', c.y, c.y)))],
  abs: [(c) => scale(c, c.b.op('sign', c.args[0]))],
  hypot: [(c) => hypotPartial(c, 0), (c) => hypotPartial(c, 1)],
  // Ties go to the first argument.
  min: [
    ({ b, args: [p, q], g }) => e('select', b.op('le', p, q), g, constant(0)),
    ({ b, args: [p, q], g }) => e('select', b.op('le', p, q), constant(0), g),
  ],
  max: [
    ({ b, args: [p, q], g }) => e('select', b.op('ge', p, q), g, constant(0)),
    ({ b, args: [p, q], g }) => e('select', b.op('ge', p, q), constant(0), g),
  ],
  sign: [null],
  floor: [null],
  ceil: [null],
};

export function isDifferentiable(op: Expr['op']): op is keyof typeof rules {
  return Object.prototype.hasOwnProperty.call(rules, op);
}

/**
 * The forward (JVP) table, beside the reverse one: for each operation, its tangent ẏ from the
 * tangents of its arguments (`dots[k]`, undefined where an argument is constant: its tangent is 0),
 * Σ_k ẋ_k·∂y/∂x_k with the same partials and the same conventions at kinks as the reverse entries
 * above. forward.ts applies it; it knows no particular operation either.
 */
export interface TangentContext {
  readonly b: Builder;
  readonly args: readonly Operand[];
  /** The operation's result. */
  readonly y: Operand;
  /** The tangent of each argument, undefined for one that does not depend on a seeded input. */
  readonly dots: readonly (Operand | undefined)[];
}

export type TangentRule = (c: TangentContext) => Operand;

const zero = constant(0);

/** Σ_k ẋ_k·factor_k over the arguments that have tangents; a factor is built only where needed. */
const chain =
  (...factors: (((c: TangentContext) => Operand) | null)[]): TangentRule =>
  (c) => {
    let sum: Operand | undefined;
    factors.forEach((factor, k) => {
      const dot = c.dots[k];
      if (!factor || !dot) return;
      const term = c.b.op('mul', dot, factor(c));
      sum = sum === undefined ? term : c.b.op('add', sum, term);
    });
    return sum ?? zero;
  };
const d = (k: number, c: TangentContext) => c.dots[k] ?? zero;
const isExpr = (x: Expr | Operand): x is Expr => 'op' in x && !('kind' in x);
/**
 * Σ_k reverse entry k with ḡ = ẋ_k: the tangent from the reverse table itself, for the operations
 * whose textbook partial goes wrong where the reverse entry is careful (1 − tanh² rounds to 0 past
 * |x| ≈ 19, x² + y² overflows past 1e154, sqrt'(−0), p·y/x where y overflowed, hypot of subnormals),
 * so fJvp and fGrad agree there bit for bit (test/forward-extremes.test.ts).
 */
const fromReverse =
  (op: keyof typeof rules): TangentRule =>
  (c) => {
    let sum: Operand | undefined;
    rules[op].forEach((entry, k) => {
      const dot = c.dots[k];
      if (!entry || !dot) return;
      const r = entry({ b: c.b, args: c.args, y: c.y, g: dot });
      const term = isExpr(r) ? c.b.op(r.op, ...r.args) : r;
      sum = sum === undefined ? term : c.b.op('add', sum, term);
    });
    return sum ?? zero;
  };
const unit = () => one;
/**
 * The rule, but a tangent of exactly 0 gives 0: for the operations whose partial is infinite where
 * their value is finite (sqrt and cbrt at 0, asin and acos at ±1), the derivative along a direction
 * that does not move the argument is 0, not 0·∞ = NaN. So fJvp along e_k equals fGrad's entry k
 * there (sqrt(x) + y at x = 0 along y is 1), and the norm of an empty vector, a constant, has
 * tangent 0 (README, "Derivative conventions").
 */
const zeroSafe =
  (rule: TangentRule, singular: (c: TangentContext) => Operand): TangentRule =>
  (c) => {
    const dot = c.dots[0];
    if (dot?.kind === 'const' && dot.value === 0) return zero;
    const t = rule(c);
    if (!dot || dot.kind === 'const') return t;
    // Only where the partial is infinite: elsewhere ẋ·∂ is already 0 when ẋ is, and the guard would
    // cut what a derivative of this tangent reads through ẋ (sqrt(1 + v²) at v = 0: ẋ = 2v·v̇ = 0,
    // and the Jacobian's own derivative lost 1/sqrt(1 + v²); array property seed -598858306).
    return c.b.op('select', c.b.op('and', c.b.op('eq', dot, zero), singular(c)), zero, t);
  };
/** Where sqrt's and cbrt's partials are infinite: a result of 0 (±0). */
const atZero = (c: TangentContext) => c.b.op('eq', c.y, zero);
/** Where asin's and acos's are: |x| = 1. */
const atOne = (c: TangentContext) => c.b.op('eq', c.b.op('abs', c.args[0]), one);

export const tangentRules: Record<ArithmeticOp | BuiltinName | 'copy' | 'select', TangentRule> = {
  copy: (c) => d(0, c),
  add: chain(unit, unit),
  sub: (c) => (c.dots[1] ? c.b.op('sub', d(0, c), d(1, c)) : d(0, c)),
  mul: chain(
    (c) => c.args[1],
    (c) => c.args[0],
  ),
  // (ȧ - ḃ·y) / b: reuses the quotient, as the reverse entry does.
  div: (c) => c.b.op('div', c.dots[1] ? c.b.op('sub', d(0, c), c.b.op('mul', d(1, c), c.y)) : d(0, c), c.args[1]),
  neg: (c) => (c.dots[0] ? c.b.op('neg', d(0, c)) : zero),
  pow: fromReverse('pow'),
  select: ({ b, args: [k], dots }) => (dots[1] || dots[2] ? b.op('select', k, dots[1] ?? zero, dots[2] ?? zero) : zero),

  sin: chain((c) => c.b.op('cos', c.args[0])),
  cos: (c) => c.b.op('neg', c.b.op('mul', d(0, c), c.b.op('sin', c.args[0]))),
  tan: chain((c) => c.b.op('add', one, c.b.op('mul', c.y, c.y))),
  asin: zeroSafe((c) => c.b.op('div', d(0, c), c.b.op('sqrt', c.b.op('sub', one, c.b.op('mul', c.args[0], c.args[0])))), atOne),
  acos: zeroSafe((c) => c.b.op('neg', c.b.op('div', d(0, c), c.b.op('sqrt', c.b.op('sub', one, c.b.op('mul', c.args[0], c.args[0]))))), atOne),
  atan: (c) => c.b.op('div', d(0, c), c.b.op('add', one, c.b.op('mul', c.args[0], c.args[0]))),
  // (ẏ·x - ẋ·y) / (x² + y²) for atan2(y, x).
  atan2: fromReverse('atan2'),
  sinh: chain((c) => c.b.op('cosh', c.args[0])),
  cosh: chain((c) => c.b.op('sinh', c.args[0])),
  tanh: fromReverse('tanh'),
  exp: chain((c) => c.y),
  log: (c) => c.b.op('div', d(0, c), c.args[0]),
  log1p: (c) => c.b.op('div', d(0, c), c.b.op('add', one, c.args[0])),
  expm1: fromReverse('expm1'),
  log2: (c) => c.b.op('div', d(0, c), c.b.op('mul', c.args[0], constant(Math.LN2))),
  log10: (c) => c.b.op('div', d(0, c), c.b.op('mul', c.args[0], constant(Math.LN10))),
  sqrt: zeroSafe(fromReverse('sqrt'), atZero),
  cbrt: zeroSafe((c) => c.b.op('div', d(0, c), c.b.op('mul', constant(3), c.b.op('mul', c.y, c.y))), atZero),
  abs: chain((c) => c.b.op('sign', c.args[0])),
  hypot: fromReverse('hypot'),
  // The selected argument's tangent; ties to the first, as in reverse mode.
  min: ({ b, args: [p, q], dots }) => (dots[0] || dots[1] ? b.op('select', b.op('le', p, q), dots[0] ?? zero, dots[1] ?? zero) : zero),
  max: ({ b, args: [p, q], dots }) => (dots[0] || dots[1] ? b.op('select', b.op('ge', p, q), dots[0] ?? zero, dots[1] ?? zero) : zero),
  sign: () => zero,
  floor: () => zero,
  ceil: () => zero,
};
