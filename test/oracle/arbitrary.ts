/**
 * fast-check arbitraries for random valid .ad programs (see program.ts) and input points.
 * Arbitraries are built level by level (one per depth), so construction stays linear in depth.
 */
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { builtinArity } from './dual.ts';
import type { BinaryOp, CompareOp, Cond, Expr, FnDef, Program } from './program.ts';

export interface GenOptions {
  /** Maximum number of functions (1..3 by default). */
  maxFunctions?: number;
  /** Maximum parameters per function (1..4 by default). */
  maxParams?: number;
  /** Maximum `let`s per function (0..3 by default). */
  maxLets?: number;
  /** Maximum expression nesting depth (3 by default). */
  maxDepth?: number;
}

/** What an expression may refer to: numeric names, condition names, callable user functions. */
export interface GenScope { nums: string[]; conds: string[]; fns: { name: string; arity: number }[] }

export const FUNCTION_NAMES = ['f', 'g', 'h', 'k', 'm'];
export const PARAM_NAMES = ['x', 'y', 'z', 'w', 'u', 'v'];
const UNARY_BUILTINS = Object.keys(builtinArity).filter((n) => builtinArity[n] === 1);
const BINARY_BUILTINS = Object.keys(builtinArity).filter((n) => builtinArity[n] === 2);
const BINARY_OPS: BinaryOp[] = ['+', '-', '*', '/', '^'];
const COMPARE_OPS: CompareOp[] = ['<', '<=', '>', '>=', '==', '!='];
const NICE_NUMBERS = [1, 2, 0.5, 3, 0, 1.5, 0.25, 10, 0.1, 4, 100];

const numArb: Arbitrary<Expr> = fc
  .oneof(fc.constantFrom(...NICE_NUMBERS), fc.integer({ min: 0, max: 9 }))
  .map((value) => ({ kind: 'num', value }));

export function leafArb(scope: GenScope): Arbitrary<Expr> {
  const vars = fc.constantFrom(...scope.nums).map((name): Expr => ({ kind: 'var', name }));
  const consts = fc.constantFrom('pi' as const, 'e' as const).map((name): Expr => ({ kind: 'const', name }));
  return fc.oneof({ arbitrary: vars, weight: 4 }, { arbitrary: numArb, weight: 3 }, { arbitrary: consts, weight: 1 });
}

/** Expression and condition arbitraries of nesting depth at most `depth`. */
export function exprArbs(scope: GenScope, depth: number): { expr: Arbitrary<Expr>; cond: Arbitrary<Cond> } {
  if (scope.nums.length === 0) throw new Error('a scope needs at least one numeric name');
  const leaf = leafArb(scope);
  const cvar = scope.conds.length ? [fc.constantFrom(...scope.conds).map((name): Cond => ({ kind: 'cvar', name }))] : [];
  const cmp = (e: Arbitrary<Expr>) =>
    fc.tuple(fc.constantFrom(...COMPARE_OPS), e, e).map(([op, left, right]): Cond => ({ kind: 'cmp', op, left, right }));
  let expr = leaf;
  let cond: Arbitrary<Cond> = fc.oneof(cmp(leaf), ...cvar);
  for (let d = 1; d <= depth; d++) {
    const e = expr;
    const c = cond;
    const calls = scope.fns.map((f) =>
      fc.array(e, { minLength: f.arity, maxLength: f.arity }).map((args): Expr => ({ kind: 'call', name: f.name, args })),
    );
    const options: fc.WeightedArbitrary<Expr>[] = [
      { arbitrary: leaf, weight: 3 },
      { arbitrary: fc.tuple(fc.constantFrom(...BINARY_OPS), e, e).map(([op, left, right]): Expr => ({ kind: 'binary', op, left, right })), weight: 5 },
      { arbitrary: fc.tuple(fc.constantFrom('-' as const, '-' as const, '+' as const), e).map(([op, arg]): Expr => ({ kind: 'unary', op, arg })), weight: 1 },
      { arbitrary: fc.tuple(fc.constantFrom(...UNARY_BUILTINS), e).map(([name, a]): Expr => ({ kind: 'call', name, args: [a] })), weight: 3 },
      { arbitrary: fc.tuple(fc.constantFrom(...BINARY_BUILTINS), e, e).map(([name, a, b]): Expr => ({ kind: 'call', name, args: [a, b] })), weight: 1 },
      { arbitrary: fc.tuple(c, e, e).map(([cd, t, f]): Expr => ({ kind: 'if', cond: cd, then: t, else: f })), weight: 1 },
      { arbitrary: e.map((arg): Expr => ({ kind: 'paren', arg })), weight: 1 },
      ...calls.map((arbitrary) => ({ arbitrary, weight: 2 })),
    ];
    expr = fc.oneof(...options);
    cond = fc.oneof(
      { arbitrary: cmp(e), weight: 4 },
      ...cvar.map((arbitrary) => ({ arbitrary, weight: 1 })),
      { arbitrary: fc.tuple(fc.constantFrom('and' as const, 'or' as const), c, c).map(([kind, left, right]): Cond => ({ kind, left, right })), weight: 1 },
      { arbitrary: c.map((arg): Cond => ({ kind: 'not', arg })), weight: 1 },
      { arbitrary: c.map((arg): Cond => ({ kind: 'cparen', arg })), weight: 1 },
    );
  }
  return { expr, cond };
}

interface FnShape { consts: boolean[]; lets: ('num' | 'cond')[]; block: boolean; semicolons: boolean }

function shapeArb(o: Required<GenOptions>): Arbitrary<FnShape> {
  return fc.record({
    // About one parameter in four is const; at least one is always differentiated.
    consts: fc
      .array(fc.integer({ min: 0, max: 3 }).map((i) => i === 3), { minLength: 1, maxLength: o.maxParams })
      .map((cs) => (cs.every(Boolean) ? cs.map((c, i) => c && i !== 0) : cs)),
    lets: fc.array(fc.constantFrom('num' as const, 'num' as const, 'cond' as const), { maxLength: o.maxLets }),
    block: fc.boolean(),
    semicolons: fc.boolean(),
  });
}

function functionArb(name: string, shape: FnShape, callable: GenScope['fns'], depth: number): Arbitrary<FnDef> {
  const params = shape.consts.map((isConst, i) => ({ name: PARAM_NAMES[i], isConst }));
  const scope: GenScope = { nums: params.map((p) => p.name), conds: [], fns: callable };
  // Numeric lets are listed twice so that later expressions are likely to use them.
  const withLets = () => ({ ...scope, nums: [...scope.nums, ...scope.nums.filter((n) => n.startsWith('t'))], conds: [...scope.conds] });
  const lets = shape.lets.map((kind, j) => {
    const arbs = exprArbs(withLets(), depth);
    const letName = kind === 'num' ? `t${j}` : `c${j}`;
    (kind === 'num' ? scope.nums : scope.conds).push(letName);
    return (kind === 'num' ? arbs.expr : arbs.cond).map((value) => ({ name: letName, value }));
  });
  const body = exprArbs(withLets(), depth).expr;
  return fc.tuple(fc.tuple(...lets), body).map(([ls, b]): FnDef => ({
    name, params, lets: ls, body: b, block: shape.block, semicolons: shape.semicolons,
  }));
}

/** Random valid programs; function i may call functions 0..i-1, printed in either order. */
export function programArb(options: GenOptions = {}): Arbitrary<Program> {
  const o: Required<GenOptions> = { maxFunctions: 3, maxParams: 4, maxLets: 3, maxDepth: 3, ...options };
  return fc
    .array(shapeArb(o), { minLength: 1, maxLength: Math.min(o.maxFunctions, FUNCTION_NAMES.length) })
    .chain((shapes) => {
      const sigs = shapes.map((s, i) => ({ name: FUNCTION_NAMES[i], arity: s.consts.length }));
      const fns = shapes.map((s, i) => functionArb(sigs[i].name, s, sigs.slice(0, i), o.maxDepth));
      return fc.tuple(fc.tuple(...fns), fc.boolean());
    })
    .map(([fns, reversed]) => ({ functions: reversed ? [...fns].reverse() : fns }));
}

/** One input coordinate in [-3, 3]: a short decimal, any double, exactly 0, or a small integer. */
export const coordinateArb: Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: -3000, max: 3000 }).map((i) => i / 1000), weight: 4 },
  { arbitrary: fc.double({ min: -3, max: 3, noNaN: true }).map((x) => (x === 0 ? 0 : x)), weight: 1 },
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: -3, max: 3 }), weight: 2 },
);

/** An input point with n coordinates (for every parameter, const ones included). */
export const pointArb = (n: number): Arbitrary<number[]> => fc.array(coordinateArb, { minLength: n, maxLength: n });

export interface ProgramCase { program: Program; fn: string; args: number[] }

/** A program, one of its functions (usually the last-generated, which calls the others) and a point. */
export function caseArb(options: GenOptions = {}): Arbitrary<ProgramCase> {
  return programArb(options).chain((program) => {
    const byIndex = [...program.functions].sort((a, b) => FUNCTION_NAMES.indexOf(a.name) - FUNCTION_NAMES.indexOf(b.name));
    const last = byIndex[byIndex.length - 1];
    return fc
      .oneof({ arbitrary: fc.constant(last), weight: 3 }, { arbitrary: fc.constantFrom(...byIndex), weight: 1 })
      .chain((f) => pointArb(f.params.length).map((args) => ({ program, fn: f.name, args })));
  });
}
