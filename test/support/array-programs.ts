import fc from 'fast-check';
import { expect } from 'vitest';
import { compileSync, formatDiagnostics, type CompileOptions } from '../../src/index.ts';
import { instantiate } from './instantiate.ts';
import type { GradValue } from '../oracle/arrays.ts';

/**
 * Random, well-typed array programs for the property test of the array compiler
 * (test/arrays-properties.test.ts, and test/fuzz/arrays.fuzz.ts for `npm run fuzz`).
 *
 * A program is `fn f(...)` over 1–3 parameters among `x: vec[n]`, `y: vec[n]`, `A: mat[n, n]`,
 * `B: mat[m, n]` and a scalar `s` (at least one an array, maybe one `const`), sometimes with a
 * helper `fn g(v: vec[q], ...)` that takes an array (and may define one), and a body of array lets
 * (`let z[i] = …`, `let Z[i, j] = …`, ranges inferred or given), sometimes an array variable (a copy
 * `var V: vec[n] = x` updated element-wise, `V[i] = …` reading the V before, sometimes repeated by a
 * `for rep in 0..k` loop whose state V is), scalar and condition lets and a
 * return built from reductions (sum, prod, max, min, logsumexp, nested up to three deep, over full,
 * offset `1..n` / `0..n-1`, triangular `0..i` / `0..i+1` and tail `i..n` / `i+1..n` ranges, with
 * `x[i-1]` / `x[i+1]` reads where they are in range), dot, norm, arithmetic, smooth built-ins,
 * `if … then … else …` and calls of g.
 *
 * Well-typed by construction: every read is provably in range for every size, and an index
 * variable's range is left to inference only where it indexes some array directly (all such uses
 * having the same length). Values stay bounded, so finite differences mean something: every
 * expression carries a static bound on its magnitude, and anything that would grow too large
 * (a product, a square, exp, a sum of sums) is squashed through tanh, sin, cos or atan first;
 * divisions are by `1 + t^2` or `2 + cos(t)`; prod's factors are at most 2; max, min and
 * logsumexp over a range that may be empty are guarded (`if n > 0 then max(i: …) else …`).
 *
 * The generator decodes a stream of natural numbers (Hypothesis-style choices): choice 0 is always
 * the simplest option and an exhausted stream reads as 0s, so whatever fast-check shrinks the
 * stream to still decodes to a valid, smaller program. Each program also comes with an
 * independent evaluator of its value (a direct interpretation of the same tree), the value oracle.
 *
 * The end of the file is the check itself (checkArrayCase): compiled value against that oracle,
 * fGrad against f, fGradInto against fGrad, and gradients against finite differences of f.
 */

// ---- the program tree ------------------------------------------------------------------------

export type ParamShape =
  | { readonly name: string; readonly kind: 'scalar'; readonly isConst: boolean }
  | { readonly name: string; readonly kind: 'vec'; readonly dims: readonly [string]; readonly isConst: boolean }
  | { readonly name: string; readonly kind: 'mat'; readonly dims: readonly [string, string]; readonly isConst: boolean };

/** `base + off`, where base is a size or an index variable (or nothing: a constant). */
interface Lin {
  readonly base: string | null;
  readonly off: number;
}
interface Ix {
  readonly v: string;
  readonly off: number;
}
type RedOp = 'sum' | 'prod' | 'max' | 'min' | 'logsumexp';
interface Binder {
  readonly name: string;
  readonly from: Lin;
  readonly to: Lin;
  readonly explicit: boolean;
}
type Expr =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'idx'; readonly array: string; readonly ix: readonly Ix[] }
  | { readonly k: 'neg'; readonly a: Expr }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly a: Expr; readonly b: Expr }
  /** `a^p`: p a whole number, or the name of an index variable (`t^j`, a running power in a loop over j). */
  | { readonly k: 'pow'; readonly a: Expr; readonly p: number | string }
  | { readonly k: 'call'; readonly f: string; readonly args: readonly Expr[] }
  | { readonly k: 'red'; readonly op: RedOp; readonly binder: Binder; readonly body: Expr }
  | { readonly k: 'if'; readonly c: Cond; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'dot'; readonly a: string; readonly b: string }
  | { readonly k: 'norm'; readonly a: string }
  | { readonly k: 'user'; readonly f: string; readonly args: readonly ({ readonly array: string } | { readonly expr: Expr })[] }
  /** `[a, b, c][at]`: an element of a list (computed before its statement, so never inside a loop). */
  | { readonly k: 'lst'; readonly items: readonly Expr[]; readonly at: number };
type Cond =
  | { readonly k: 'cmp'; readonly op: '<' | '<=' | '>' | '>=' | '==' | '!='; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'and' | 'or'; readonly a: Cond; readonly b: Cond }
  | { readonly k: 'not'; readonly a: Cond }
  | { readonly k: 'cvar'; readonly name: string };
type Stmt =
  | { readonly k: 'let'; readonly name: string; readonly value: Expr }
  | { readonly k: 'clet'; readonly name: string; readonly cond: Cond }
  | { readonly k: 'alet'; readonly name: string; readonly binders: readonly Binder[]; readonly value: Expr }
  /** `var V: vec[n] = a`: an array variable, a copy of the array a. */
  | { readonly k: 'avar'; readonly name: string; readonly dims: readonly string[]; readonly from: string }
  /** `V[i] = value` / `V[i, j] = value`: every element at once (fresh binders), reading V from before. */
  | { readonly k: 'aupd'; readonly name: string; readonly binders: readonly string[]; readonly dims: readonly string[]; readonly value: Expr }
  /** `for rep in 0..count { V[i] = value }`: the update repeated, V the loop's array state (count a number or a size). */
  | { readonly k: 'aloop'; readonly name: string; readonly count: number | string; readonly binders: readonly string[]; readonly dims: readonly string[]; readonly value: Expr };
interface Fn {
  readonly name: string;
  readonly params: readonly ParamShape[];
  readonly stmts: readonly Stmt[];
  readonly ret: Expr;
  readonly block: boolean;
  /** A function returning an array: the array let it returns (`return w`); `ret` is then unused. */
  readonly returns?: string;
  /** Calls of array-returning functions this function indexes like arrays (`r(x)[i]`), by their text. */
  readonly arrayCalls?: readonly ArrayCall[];
}
/** `r(x)`: a call of an array-returning function with an array argument, used where an array name may be. */
interface ArrayCall {
  readonly text: string;
  readonly f: string;
  readonly arg: string;
}

// ---- printing --------------------------------------------------------------------------------

const printLin = (l: Lin): string =>
  l.base === null ? String(l.off) : l.off === 0 ? l.base : `${l.base}${l.off > 0 ? '+' : '-'}${Math.abs(l.off)}`;
const printIx = (i: Ix): string => (i.off === 0 ? i.v : `${i.v}${i.off > 0 ? ' + ' : ' - '}${Math.abs(i.off)}`);
const printBinder = (b: Binder): string => (b.explicit ? `${b.name} in ${printLin(b.from)}..${printLin(b.to)}` : b.name);

/** Every compound expression is printed in parentheses, so any printed expression is an operand. */
function printExpr(e: Expr): string {
  switch (e.k) {
    case 'num':
      return String(e.v);
    case 'var':
      return e.name;
    case 'idx':
      return `${e.array}[${e.ix.map(printIx).join(', ')}]`;
    case 'neg':
      return `(-${printExpr(e.a)})`;
    case 'bin':
      return `(${printExpr(e.a)} ${e.op} ${printExpr(e.b)})`;
    case 'pow':
      return `(${printExpr(e.a)}^${e.p})`;
    case 'call':
      return `${e.f}(${e.args.map(top).join(', ')})`;
    case 'red':
      return `${e.op}(${printBinder(e.binder)}: ${top(e.body)})`;
    case 'if':
      return `(if ${printCond(e.c)} then ${top(e.a)} else ${top(e.b)})`;
    case 'dot':
      return `dot(${e.a}, ${e.b})`;
    case 'norm':
      return `norm(${e.a})`;
    case 'user':
      return `${e.f}(${e.args.map((a) => ('array' in a ? a.array : top(a.expr))).join(', ')})`;
    case 'lst':
      return `[${e.items.map(top).join(', ')}][${e.at}]`;
  }
}
/** An expression in a position needing no parentheses (an argument, a body, a statement). */
const top = (e: Expr): string => printExpr(e).replace(/^\((.*)\)$/s, (all, inner: string) => (balanced(inner) ? inner : all));
function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function printCond(c: Cond): string {
  switch (c.k) {
    case 'cmp':
      return `${printExpr(c.a)} ${c.op} ${printExpr(c.b)}`;
    case 'and':
    case 'or':
      return `(${printCond(c.a)}) ${c.k} (${printCond(c.b)})`;
    case 'not':
      return `not (${printCond(c.a)})`;
    case 'cvar':
      return c.name;
  }
}

function printParam(p: ParamShape): string {
  const type = p.kind === 'scalar' ? '' : `: ${p.kind}[${p.dims.join(', ')}]`;
  return `${p.isConst ? 'const ' : ''}${p.name}${type}`;
}

function printFn(f: Fn): string {
  const head = `fn ${f.name}(${f.params.map(printParam).join(', ')})`;
  if (!f.block) return `${head} = ${top(f.ret)}\n`;
  const lines = f.stmts.map((s) => {
    switch (s.k) {
      case 'let':
        return `  let ${s.name} = ${top(s.value)}`;
      case 'clet':
        return `  let ${s.name} = ${printCond(s.cond)}`;
      case 'alet':
        return `  let ${s.name}[${s.binders.map(printBinder).join(', ')}] = ${top(s.value)}`;
      case 'avar':
        return `  var ${s.name}: ${s.dims.length === 1 ? 'vec' : 'mat'}[${s.dims.join(', ')}] = ${s.from}`;
      case 'aupd':
        return `  ${s.name}[${s.binders.join(', ')}] = ${top(s.value)}`;
      case 'aloop':
        return `  for rep in 0..${s.count} {\n    ${s.name}[${s.binders.join(', ')}] = ${top(s.value)}\n  }`;
    }
  });
  return `${head} {\n${lines.join('\n')}${lines.length ? '\n' : ''}  return ${f.returns ?? top(f.ret)}\n}\n`;
}

// ---- the value oracle: a direct interpretation of the tree -----------------------------------

type Value = number | boolean | ArrayLike<number> | readonly ArrayLike<number>[];
type Env = Map<string, Value>;

/**
 * Set when an evaluation passes through a point where a building block is not differentiable, and
 * where finite differences cannot tell: gradients are not compared there. These are
 * - a tie (to within rounding) for the extreme of max(i: …) or min(i: …), between the arguments of
 *   max(a, b) or min(a, b), or between the sides of a comparison (`if x[i] > s`). adc's adjoint goes
 *   to the first extreme (or the branch taken), which need not be the slope of f along a
 *   coordinate: max(i: min(j: A[j, i])) at A = 0 is flat along A[0, 0], but its adjoint is 1.
 *   (Ties of data-free terms, such as the indices in `if i < j`, are exact and do not count.)
 * - the norm of a zero vector: its derivative (x / norm(x)) is NaN even where the whole function is
 *   smooth (dot(x, x) * norm(x) at 0), as with sqrt at 0 for numbers.
 * Kinks and jumps away from the point itself are found by the finite differences (checkAt).
 */
let singular = false;

/** Whether e depends on no data: only on numbers, sizes and index variables. */
function dataFree(e: Expr): boolean {
  switch (e.k) {
    case 'num':
      return true;
    case 'var':
      return SIZES.includes(e.name) || BINDERS.includes(e.name);
    case 'neg':
    case 'pow':
      return dataFree(e.a);
    case 'bin':
      return dataFree(e.a) && dataFree(e.b);
    case 'call':
      return e.args.every(dataFree);
    default:
      return false;
  }
}
const tie = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b));

const num = (env: Env, name: string): number => {
  const v = env.get(name);
  if (typeof v !== 'number') throw new Error(`oracle: ${name} is not a number`);
  return v;
};
const linValue = (env: Env, l: Lin) => (l.base === null ? 0 : num(env, l.base)) + l.off;

function evalExpr(e: Expr, env: Env, fns: ReadonlyMap<string, Fn>): number {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'var':
      return num(env, e.name);
    case 'idx': {
      let a = env.get(e.array) as unknown;
      for (const i of e.ix) {
        const k = num(env, i.v) + i.off;
        const arr = a as ArrayLike<unknown>;
        if (!(k >= 0 && k < arr.length)) throw new Error(`oracle: ${e.array} read out of range`);
        a = arr[k];
      }
      return a as number;
    }
    case 'neg':
      return -evalExpr(e.a, env, fns);
    case 'bin': {
      const a = evalExpr(e.a, env, fns);
      const b = evalExpr(e.b, env, fns);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
    }
    case 'pow':
      return evalExpr(e.a, env, fns) ** (typeof e.p === 'string' ? num(env, e.p) : e.p);
    case 'call': {
      const args = e.args.map((a) => evalExpr(a, env, fns));
      if ((e.f === 'max' || e.f === 'min') && tie(args[0], args[1]) && !e.args.every(dataFree)) singular = true;
      const f = { sin: Math.sin, cos: Math.cos, tanh: Math.tanh, atan: Math.atan, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, max: Math.max, min: Math.min }[e.f];
      if (!f) throw new Error(`oracle: unknown built-in ${e.f}`);
      return (f as (...a: number[]) => number)(...args);
    }
    case 'red': {
      const from = linValue(env, e.binder.from);
      const to = linValue(env, e.binder.to);
      const terms: number[] = [];
      for (let i = from; i < to; i++) {
        env.set(e.binder.name, i);
        terms.push(evalExpr(e.body, env, fns));
      }
      env.delete(e.binder.name);
      // A range that runs zero times: the compiled code still computes, once before the loop, a
      // `norm` of an array defined outside it (a value the loop does not change), and an unguarded
      // nested sweep meets its 0/0 there (README, "Derivatives inside the language"; seed -478728105).
      if (from >= to && hoistedZeroNorm(e.body, env)) singular = true;
      if ((e.op === 'max' || e.op === 'min') && terms.length > 1 && !dataFree(e.body)) {
        const sorted = [...terms].sort((a, b) => (e.op === 'max' ? b - a : a - b));
        if (tie(sorted[0], sorted[1])) singular = true;
      }
      switch (e.op) {
        case 'sum':
          return terms.reduce((a, b) => a + b, 0);
        case 'prod':
          return terms.reduce((a, b) => a * b, 1);
        case 'max':
          return terms.reduce((a, b) => Math.max(a, b), -Infinity);
        case 'min':
          return terms.reduce((a, b) => Math.min(a, b), Infinity);
        case 'logsumexp': {
          const top = terms.reduce((a, b) => Math.max(a, b), -Infinity);
          if (top === Infinity || top === -Infinity) return top;
          return top + Math.log(terms.reduce((a, b) => a + Math.exp(b - top), 0));
        }
      }
      throw new Error('unreachable');
    }
    case 'if':
      return evalCond(e.c, env, fns) ? evalExpr(e.a, env, fns) : evalExpr(e.b, env, fns);
    case 'dot': {
      const a = env.get(e.a) as ArrayLike<number>;
      const b = env.get(e.b) as ArrayLike<number>;
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return s;
    }
    case 'norm': {
      const a = env.get(e.a) as ArrayLike<number>;
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * a[i];
      if (a.length > 0 && s === 0) singular = true;
      return Math.sqrt(s);
    }
    case 'user': {
      const callee = fns.get(e.f)!;
      const args = e.args.map((a) => ('array' in a ? env.get(a.array)! : evalExpr(a.expr, env, fns)));
      return evalFn(callee, args, fns) as number;
    }
    case 'lst':
      // Every item is computed (as the compiled code does); the one taken is the value.
      return e.items.map((x) => evalExpr(x, env, fns))[e.at];
  }
}

function evalCond(c: Cond, env: Env, fns: ReadonlyMap<string, Fn>): boolean {
  switch (c.k) {
    case 'cmp': {
      const a = evalExpr(c.a, env, fns);
      const b = evalExpr(c.b, env, fns);
      if (tie(a, b) && !(dataFree(c.a) && dataFree(c.b))) singular = true;
      return c.op === '<' ? a < b : c.op === '<=' ? a <= b : c.op === '>' ? a > b : c.op === '>=' ? a >= b : c.op === '==' ? a === b : a !== b;
    }
    case 'and':
      return evalCond(c.a, env, fns) && evalCond(c.b, env, fns);
    case 'or':
      return evalCond(c.a, env, fns) || evalCond(c.b, env, fns);
    case 'not':
      return !evalCond(c.a, env, fns);
    case 'cvar':
      return env.get(c.name) as boolean;
  }
}

/** Whether `e` contains a `norm` of an array already defined (in `env`) that is a nonempty zero vector. */
function hoistedZeroNorm(e: unknown, env: Env): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const node = e as { k?: string; a?: string };
  if (node.k === 'norm' && typeof node.a === 'string') {
    const a = env.get(node.a) as ArrayLike<number> | undefined;
    if (a && typeof a === 'object' && a.length > 0 && Array.prototype.every.call(a, (x: number) => x === 0)) return true;
  }
  return Object.values(e).some((v) => hoistedZeroNorm(v, env));
}

function evalFn(f: Fn, args: readonly Value[], fns: ReadonlyMap<string, Fn>): Value {
  const env: Env = new Map();
  f.params.forEach((p, k) => {
    const a = args[k];
    env.set(p.name, a);
    if (p.kind === 'vec') env.set(p.dims[0], (a as ArrayLike<number>).length);
    if (p.kind === 'mat') {
      const rows = a as readonly ArrayLike<number>[];
      if (!env.has(p.dims[0])) env.set(p.dims[0], rows.length);
      if (!env.has(p.dims[1]) || rows.length > 0) env.set(p.dims[1], rows.length > 0 ? rows[0].length : 0);
    }
  });
  // An array call's value, under its text, as if it were an array of the function.
  for (const a of f.arrayCalls ?? []) env.set(a.text, evalFn(fns.get(a.f)!, [env.get(a.arg)!], fns));
  for (const s of f.stmts) {
    if (s.k === 'let') env.set(s.name, evalExpr(s.value, env, fns));
    else if (s.k === 'clet') env.set(s.name, evalCond(s.cond, env, fns));
    else if (s.k === 'avar') env.set(s.name, env.get(s.from)!);
    else if (s.k === 'aupd' || s.k === 'aloop') {
      // Every right-hand side reads the variable from before the statement: fill a new array.
      const fill = (k: number): Value => {
        const out: Value[] = [];
        for (let i = 0; i < (env.get(s.dims[k]) as number); i++) {
          env.set(s.binders[k], i);
          out.push(k + 1 === s.binders.length ? evalExpr(s.value, env, fns) : fill(k + 1));
        }
        env.delete(s.binders[k]);
        return out as Value;
      };
      const count = s.k === 'aupd' ? 1 : typeof s.count === 'number' ? s.count : (env.get(s.count) as number);
      for (let rep = 0; rep < count; rep++) env.set(s.name, fill(0));
    } else {
      const fill = (k: number): Value => {
        const b = s.binders[k];
        const from = linValue(env, b.from);
        const to = linValue(env, b.to);
        const out: Value[] = [];
        for (let i = from; i < to; i++) {
          env.set(b.name, i);
          out.push(k + 1 === s.binders.length ? evalExpr(s.value, env, fns) : fill(k + 1));
        }
        env.delete(b.name);
        return out as Value;
      };
      env.set(s.name, fill(0));
    }
  }
  return f.returns !== undefined ? env.get(f.returns)! : evalExpr(f.ret, env, fns);
}

// ---- the generator ---------------------------------------------------------------------------

/** A stream of choices; 0 (also what an exhausted stream reads) is always the simplest option. */
class Choices {
  private at = 0;
  /** The largest bound of anything squashed: intermediate values may be this large. */
  peak = 0;
  constructor(private readonly xs: readonly number[]) {}
  int(n: number): number {
    if (n <= 1) return 0;
    return (this.xs[this.at++] ?? 0) % n;
  }
  pick<T>(options: readonly T[]): T {
    return options[this.int(options.length)];
  }
  /** True with about the given percentage; false on a 0 choice. */
  chance(percent: number): boolean {
    return this.int(100) >= 100 - percent;
  }
}

interface ArrayVar {
  readonly name: string;
  readonly dims: readonly string[];
  /** A bound on the magnitude of its elements. */
  readonly bound: number;
}
/** An index variable whose values lie in [lo, size - 1 - slack] whenever it is bound. */
interface IndexVar {
  readonly name: string;
  readonly size: string;
  readonly lo: number;
  readonly slack: number;
}
interface Helper {
  readonly fn: Fn;
  readonly vecs: number;
  /** Its array parameters are vectors `vec[q]` (1) or square matrices `mat[q, q]` (2). */
  readonly rank: 1 | 2;
  readonly scalar: boolean;
  readonly definesArrays: boolean;
  readonly bound: number;
}
interface Ctx {
  readonly scalars: readonly { readonly name: string; readonly bound: number }[];
  readonly conds: readonly string[];
  readonly arrays: readonly ArrayVar[];
  readonly sizes: readonly string[];
  readonly ixs: readonly IndexVar[];
  /** Inside a reduction or an array let: a helper that defines arrays may not be called (AD6016). */
  readonly inLoop: boolean;
  /** How many more reductions may nest. */
  readonly reductions: number;
  readonly helper?: Helper;
  /** Lists (`[a, b][k]`) may be written: in f's statements outside loops (a helper called in a loop may not allocate). */
  readonly lists?: boolean;
}
type Gen = readonly [Expr, number];

const BINDERS = ['i', 'j', 'k', 'l', 'p', 'i1', 'j1', 'k1', 'l1', 'p1'];
const SIZES = ['n', 'm', 'q'];
/** Elements of helper arguments are at most this large (a helper is generated for that bound). */
const HELPER_INPUT = 10;
/** Anything that may grow past this is squashed first. */
const LIMIT = 300;
const CONSTANTS = [1, 2, 0.5, 3, 1.5, 0.25, 0.1];

const v = (name: string): Expr => ({ k: 'var', name });
const n = (value: number): Expr => ({ k: 'num', v: value });
const call = (f: string, ...args: Expr[]): Expr => ({ k: 'call', f, args });
const bin = (op: '+' | '-' | '*' | '/', a: Expr, b: Expr): Expr => ({ k: 'bin', op, a, b });

function squash(c: Choices, [e, b]: Gen): Gen {
  if (b <= 1) return [e, b];
  c.peak = Math.max(c.peak, b);
  const f = c.pick(['tanh', 'sin', 'cos', 'atan']);
  return [call(f, e), f === 'atan' ? 1.6 : 1];
}
const fit = (c: Choices, g: Gen, limit = LIMIT): Gen => (g[1] > limit ? squash(c, g) : g);

function freshBinder(ctx: Ctx, taken: readonly string[] = []): string {
  return BINDERS.find((b) => !ctx.ixs.some((ix) => ix.name === b) && !taken.includes(b))!;
}

function leaf(c: Choices, ctx: Ctx): Gen {
  const options: (() => Gen | undefined)[] = [
    () => [n(c.pick(CONSTANTS)), 3],
    () => read(c, ctx),
    () => (ctx.scalars.length ? ((s) => [v(s.name), s.bound] as const)(c.pick(ctx.scalars)) : undefined),
    () => (ctx.ixs.length ? [v(c.pick(ctx.ixs).name), 5] : undefined),
    () => [v(c.pick(ctx.sizes)), 5],
  ];
  return c.pick(options)() ?? [n(c.pick(CONSTANTS)), 3];
}

/** An element read, if some array can be indexed by the index variables in scope; `use` must be one of its indices. */
function read(c: Choices, ctx: Ctx, use?: IndexVar): Gen | undefined {
  const candidates = ctx.arrays.filter((a) => a.dims.every((d) => ctx.ixs.some((ix) => ix.size === d)) && (!use || a.dims.includes(use.size)));
  if (candidates.length === 0) return undefined;
  const a = c.pick(candidates);
  const useAt = use ? c.pick(a.dims.flatMap((d, k) => (d === use.size ? [k] : []))) : -1;
  const ix = a.dims.map((d, k): Ix => {
    const iv = k === useAt ? use! : c.pick(ctx.ixs.filter((x) => x.size === d));
    const offs = [0];
    if (iv.lo >= 1) offs.push(-1);
    if (iv.slack >= 1) offs.push(1);
    return { v: iv.name, off: c.pick(offs) };
  });
  return [{ k: 'idx', array: a.name, ix }, a.bound];
}

interface RangeOption {
  readonly from: Lin;
  readonly to: Lin;
  readonly size: string;
  readonly lo: number;
  readonly slack: number;
  /** When the range may be empty: the condition under which it is not. */
  readonly nonEmpty?: Cond;
  readonly full: boolean;
}

function rangeOptions(ctx: Ctx): RangeOption[] {
  const out: RangeOption[] = [];
  const cmp = (op: '>' | '<', a: Expr, b: Expr): Cond => ({ k: 'cmp', op, a, b });
  for (const S of ctx.sizes) {
    out.push({ from: { base: null, off: 0 }, to: { base: S, off: 0 }, size: S, lo: 0, slack: 0, nonEmpty: cmp('>', v(S), n(0)), full: true });
  }
  for (const S of ctx.sizes) {
    out.push({ from: { base: null, off: 1 }, to: { base: S, off: 0 }, size: S, lo: 1, slack: 0, nonEmpty: cmp('>', v(S), n(1)), full: false });
    out.push({ from: { base: null, off: 0 }, to: { base: S, off: -1 }, size: S, lo: 0, slack: 1, nonEmpty: cmp('>', v(S), n(1)), full: false });
  }
  for (const o of ctx.ixs) {
    const S = o.size;
    out.push({ from: { base: null, off: 0 }, to: { base: o.name, off: 0 }, size: S, lo: 0, slack: o.slack + 1, nonEmpty: cmp('>', v(o.name), n(0)), full: false });
    out.push({ from: { base: null, off: 0 }, to: { base: o.name, off: 1 }, size: S, lo: 0, slack: o.slack, full: false });
    out.push({ from: { base: o.name, off: 0 }, to: { base: S, off: 0 }, size: S, lo: o.lo, slack: 0, full: false });
    out.push({ from: { base: o.name, off: 1 }, to: { base: S, off: 0 }, size: S, lo: o.lo + 1, slack: 0, nonEmpty: cmp('<', v(o.name), bin('-', v(S), n(1))), full: false });
  }
  return out;
}

/** Whether `name` is itself an index of some read in e (what lets the checker infer its range). */
function usedDirectly(e: Expr, name: string): boolean {
  switch (e.k) {
    case 'idx':
      return e.ix.some((i) => i.v === name && i.off === 0);
    case 'neg':
    case 'pow':
      return usedDirectly(e.a, name);
    case 'bin':
      return usedDirectly(e.a, name) || usedDirectly(e.b, name);
    case 'call':
      return e.args.some((a) => usedDirectly(a, name));
    case 'red':
      return usedDirectly(e.body, name);
    case 'if':
      return condUses(e.c, name) || usedDirectly(e.a, name) || usedDirectly(e.b, name);
    case 'user':
      return e.args.some((a) => 'expr' in a && usedDirectly(a.expr, name));
    default:
      return false;
  }
}
function condUses(c: Cond, name: string): boolean {
  switch (c.k) {
    case 'cmp':
      return usedDirectly(c.a, name) || usedDirectly(c.b, name);
    case 'and':
    case 'or':
      return condUses(c.a, name) || condUses(c.b, name);
    case 'not':
      return condUses(c.a, name);
    case 'cvar':
      return false;
  }
}

function reduction(c: Choices, ctx: Ctx, depth: number): Gen {
  const op = c.pick<RedOp>(['sum', 'prod', 'max', 'min', 'logsumexp', 'sum']);
  const range = c.pick(rangeOptions(ctx));
  const iv: IndexVar = { name: freshBinder(ctx), size: range.size, lo: range.lo, slack: range.slack };
  const inner: Ctx = { ...ctx, ixs: [...ctx.ixs, iv], inLoop: true, reductions: ctx.reductions - 1 };
  let body = loopBody(c, inner, iv, depth);
  if (op === 'prod') body = fit(c, body, 2);
  if (op === 'logsumexp') body = fit(c, body, 20);
  if (op === 'sum') body = fit(c, body, LIMIT / 5);
  const explicit = !range.full || !usedDirectly(body[0], iv.name) || c.chance(25);
  const red: Expr = { k: 'red', op, binder: { name: iv.name, from: range.from, to: range.to, explicit }, body: body[0] };
  const B = body[1];
  const bound = op === 'sum' ? 5 * B : op === 'prod' ? Math.max(1, B) ** 5 : op === 'logsumexp' ? B + 2 : B;
  if ((op === 'max' || op === 'min' || op === 'logsumexp') && range.nonEmpty) {
    // Over an empty range these are ∓∞: guard them, as a program would.
    const [alt, altBound] = leaf(c, ctx);
    return [{ k: 'if', c: range.nonEmpty, a: red, b: alt }, Math.max(bound, altBound)];
  }
  return [red, bound];
}

/** The body of a reduction or array let over `iv`: usually reads an array at iv. */
function loopBody(c: Choices, ctx: Ctx, iv: IndexVar, depth: number): Gen {
  const anchor: Gen = read(c, ctx, iv) ?? [bin('*', n(0.5), v(iv.name)), 2.5];
  const form = c.int(7);
  if (form === 0) return anchor;
  const rest = expr(c, ctx, depth - 1);
  switch (form) {
    case 1:
      return [bin('+', anchor[0], rest[0]), anchor[1] + rest[1]];
    case 2:
      return mul(c, anchor, rest);
    case 3:
      // A power of the loop's index, |base| ≤ 1 (reduce-strength.ts makes it a running product when the base does not change in the loop).
      if (c.chance(30)) return [bin('+', anchor[0], { k: 'pow', a: call('tanh', rest[0]), p: iv.name }), anchor[1] + 1];
      return fit(c, [{ k: 'pow', a: bin('-', anchor[0], rest[0]), p: 2 }, (anchor[1] + rest[1]) ** 2]);
    case 4:
      return [{ k: 'if', c: cond(c, ctx, depth - 1), a: anchor[0], b: rest[0] }, Math.max(anchor[1], rest[1])];
    case 5:
      return builtin(c, ctx, anchor);
    default:
      return rest;
  }
}

function mul(c: Choices, a: Gen, b: Gen): Gen {
  if (a[1] * b[1] > 40) a = squash(c, a);
  if (a[1] * b[1] > 40) b = squash(c, b);
  return [bin('*', a[0], b[0]), a[1] * b[1]];
}

function builtin(c: Choices, ctx: Ctx, arg: Gen): Gen {
  const [e, b] = arg;
  switch (c.int(10)) {
    case 0:
      return [call('sin', e), 1];
    case 1:
      return [call('cos', e), 1];
    case 2:
      return [call('tanh', e), 1];
    case 3: {
      const [a, ab] = fit(c, arg, 3);
      return [call('exp', a), Math.exp(ab)];
    }
    case 4:
      return [call('log', bin('+', n(1), { k: 'pow', a: e, p: 2 })), Math.log(1 + b * b)];
    case 5:
      return [call('sqrt', bin('+', n(1), { k: 'pow', a: e, p: 2 })), Math.sqrt(1 + b * b)];
    case 6:
      return [call('atan', e), 1.6];
    case 7:
    case 8: {
      const [o, ob] = leaf(c, ctx);
      return [call(c.pick(['max', 'min']), e, o), Math.max(b, ob)];
    }
    default: {
      // exp of something bounded, the usual way: exp(-t^2) or exp(sin(t)).
      const [a] = squash(c, arg);
      return [call('exp', c.chance(50) ? { k: 'neg', a: { k: 'pow', a: e, p: 2 } } : a), Math.E];
    }
  }
}

function cond(c: Choices, ctx: Ctx, depth: number): Cond {
  switch (c.int(depth > 0 ? 6 : 4)) {
    case 0:
    case 1:
    case 2:
      return { k: 'cmp', op: c.pick(['>', '<', '>=', '<='] as const), a: expr(c, ctx, Math.min(depth, 1))[0], b: expr(c, ctx, Math.min(depth, 1))[0] };
    case 3:
      if (ctx.ixs.length >= 1) {
        const a = c.pick(ctx.ixs);
        const b = c.pick<Expr>([...ctx.ixs.map((x) => v(x.name)), n(1), n(2), v(a.size)]);
        return { k: 'cmp', op: c.pick(['==', '!=', '<', '>', '<=', '>='] as const), a: v(a.name), b };
      }
      return { k: 'cmp', op: '>', a: expr(c, ctx, 0)[0], b: n(c.pick([0, 0.5, -0.5])) };
    case 4:
      if (ctx.conds.length) return { k: 'cvar', name: c.pick(ctx.conds) };
      return { k: 'not', a: cond(c, ctx, 0) };
    default:
      return { k: c.pick(['and', 'or'] as const), a: cond(c, ctx, depth - 1), b: cond(c, ctx, depth - 1) };
  }
}

/** Array-level expressions: a reduction, dot, norm or a helper call (what can read arrays outside loops). */
function entry(c: Choices, ctx: Ctx, depth: number): Gen {
  const options: (() => Gen | undefined)[] = [
    () => (ctx.reductions > 0 ? reduction(c, ctx, depth) : undefined),
    () => dotOrNorm(c, ctx),
    () => helperCall(c, ctx, depth),
    () => list(c, ctx, depth),
  ];
  return c.pick(options)() ?? options[0]() ?? dotOrNorm(c, ctx) ?? leaf(c, ctx);
}

/** `[a, b, c][k]`, outside loops only: a list is computed once, before its statement. */
function list(c: Choices, ctx: Ctx, depth: number): Gen | undefined {
  if (!ctx.lists || ctx.inLoop || ctx.ixs.length > 0) return undefined;
  const items = Array.from({ length: 1 + c.int(3) }, () => fit(c, expr(c, ctx, depth - 1)));
  const at = c.int(items.length);
  return [{ k: 'lst', items: items.map((x) => x[0]), at }, items[at][1]];
}

function dotOrNorm(c: Choices, ctx: Ctx): Gen | undefined {
  const vecs = ctx.arrays.filter((a) => a.dims.length === 1);
  if (vecs.length === 0) return undefined;
  const a = c.pick(vecs);
  if (c.chance(50)) return fit(c, [{ k: 'norm', a: a.name }, Math.sqrt(5) * a.bound]);
  const b = c.pick(vecs.filter((x) => x.dims[0] === a.dims[0]));
  return fit(c, [{ k: 'dot', a: a.name, b: b.name }, 5 * a.bound * b.bound]);
}

function helperCall(c: Choices, ctx: Ctx, depth: number): Gen | undefined {
  const h = ctx.helper;
  if (!h || (ctx.inLoop && h.definesArrays)) return undefined;
  // (A square matrix for a helper taking matrices: a parameter, rows, or an array let, flat.)
  const vecs = ctx.arrays.filter((a) => a.dims.length === h.rank && a.dims.every((d) => d === a.dims[0]) && a.bound <= HELPER_INPUT);
  if (vecs.length === 0) return undefined;
  const first = c.pick(vecs);
  const args: ({ array: string } | { expr: Expr })[] = [{ array: first.name }];
  if (h.vecs === 2) args.push({ array: c.pick(vecs.filter((x) => x.dims[0] === first.dims[0])).name });
  if (h.scalar) args.push({ expr: fit(c, expr(c, ctx, depth - 1), HELPER_INPUT)[0] });
  return [{ k: 'user', f: h.fn.name, args }, h.bound];
}

function expr(c: Choices, ctx: Ctx, depth: number): Gen {
  if (depth <= 0) return leaf(c, ctx);
  switch (c.int(12)) {
    case 0:
    case 1:
      return leaf(c, ctx);
    case 2:
      return read(c, ctx) ?? leaf(c, ctx);
    case 3:
    case 4:
      return ctx.reductions > 0 ? reduction(c, ctx, depth) : leaf(c, ctx);
    case 5: {
      const op = c.pick(['+', '-'] as const);
      const a = expr(c, ctx, depth - 1);
      const b = expr(c, ctx, depth - 1);
      return fit(c, [bin(op, a[0], b[0]), a[1] + b[1]]);
    }
    case 6:
      return fit(c, mul(c, expr(c, ctx, depth - 1), expr(c, ctx, depth - 1)));
    case 7: {
      // Division only by things far from 0.
      const a = expr(c, ctx, depth - 1);
      const [d] = expr(c, ctx, depth - 1);
      const den = c.pick<Expr>([bin('+', n(1), { k: 'pow', a: d, p: 2 }), bin('+', n(2), call('cos', d)), call('sqrt', bin('+', n(1), { k: 'pow', a: d, p: 2 }))]);
      return [bin('/', a[0], den), a[1]];
    }
    case 8: {
      const p = c.pick([2, 3]);
      const a = fit(c, expr(c, ctx, depth - 1), p === 2 ? 6 : 3);
      return [{ k: 'pow', a: a[0], p }, a[1] ** p];
    }
    case 9:
      return builtin(c, ctx, expr(c, ctx, depth - 1));
    case 10: {
      const a = expr(c, ctx, depth - 1);
      const b = expr(c, ctx, depth - 1);
      return [{ k: 'if', c: cond(c, ctx, depth - 1), a: a[0], b: b[0] }, Math.max(a[1], b[1])];
    }
    default: {
      if (c.chance(20)) {
        const a = expr(c, ctx, depth - 1);
        return [{ k: 'neg', a: a[0] }, a[1]];
      }
      return entry(c, ctx, depth - 1);
    }
  }
}

/** Combines an array-level term with more: the shape of a return or a scalar let. */
function objective(c: Choices, ctx: Ctx, depth: number): Gen {
  const first = entry(c, ctx, depth);
  if (!c.chance(60)) return first;
  const rest = expr(c, ctx, depth - 1);
  return c.chance(50) ? fit(c, [bin(c.pick(['+', '-'] as const), first[0], rest[0]), first[1] + rest[1]]) : fit(c, mul(c, first, rest));
}

function arrayLet(c: Choices, ctx: Ctx, name: string, rank: 1 | 2, depth: number): [Stmt, ArrayVar] {
  const taken: string[] = [];
  const ivs: IndexVar[] = [];
  for (let d = 0; d < rank; d++) {
    const iv: IndexVar = { name: freshBinder(ctx, taken), size: c.pick(ctx.sizes), lo: 0, slack: 0 };
    taken.push(iv.name);
    ivs.push(iv);
  }
  const inner: Ctx = { ...ctx, ixs: ivs, inLoop: true, reductions: Math.min(ctx.reductions, 2) };
  const body = fit(c, loopBody(c, inner, c.pick(ivs), depth), 50);
  const binders = ivs.map(
    (iv): Binder => ({ name: iv.name, from: { base: null, off: 0 }, to: { base: iv.size, off: 0 }, explicit: !usedDirectly(body[0], iv.name) || c.chance(25) }),
  );
  return [{ k: 'alet', name, binders, value: body[0] }, { name, dims: ivs.map((iv) => iv.size), bound: body[1] }];
}

function genHelper(c: Choices): Helper {
  const vecs = c.chance(30) ? 2 : 1;
  const scalar = c.chance(50);
  // Matrices (issue #15): a kept call passes them flat, the caller's rows copied first.
  const rank = c.chance(25) ? 2 : 1;
  const array = (name: string): ParamShape => (rank === 1 ? { name, kind: 'vec', dims: ['q'], isConst: false } : { name, kind: 'mat', dims: ['q', 'q'], isConst: false });
  const params: ParamShape[] = [array('v')];
  if (vecs === 2) params.push(array('u'));
  if (scalar) params.push({ name: 't', kind: 'scalar', isConst: c.chance(30) });
  let ctx: Ctx = {
    scalars: scalar ? [{ name: 't', bound: HELPER_INPUT }, { name: 'q', bound: 5 }] : [{ name: 'q', bound: 5 }],
    conds: [],
    arrays: params.filter((p) => p.kind !== 'scalar').map((p) => ({ name: p.name, dims: rank === 1 ? ['q'] : ['q', 'q'], bound: HELPER_INPUT })),
    sizes: ['q'],
    ixs: [],
    inLoop: false,
    reductions: 2,
  };
  const stmts: Stmt[] = [];
  const definesArrays = c.chance(30);
  if (definesArrays) {
    const [s, a] = arrayLet(c, ctx, 'w', 1, 2);
    stmts.push(s);
    ctx = { ...ctx, arrays: [...ctx.arrays, a] };
  }
  const [ret, bound] = fit(c, objective(c, ctx, 3), 50);
  return { fn: { name: 'g', params, stmts, ret, block: stmts.length > 0 }, vecs, rank, scalar, definesArrays, bound };
}

/**
 * `fn r(v: vec[q]) { let w[i] = …; return w }`: a function returning an array, which f indexes,
 * reduces over and passes on like an array of its own (`r(x)[i]`, `dot(r(x), y)`, `g(r(x))`).
 */
function genArrayHelper(c: Choices): { fn: Fn; bound: number } {
  const ctx: Ctx = {
    scalars: [{ name: 'q', bound: 5 }],
    conds: [],
    arrays: [{ name: 'v', dims: ['q'], bound: HELPER_INPUT }],
    sizes: ['q'],
    ixs: [],
    inLoop: false,
    reductions: 2,
  };
  const [stmt, w] = arrayLet(c, ctx, 'w', 1, 2);
  const params: ParamShape[] = [{ name: 'v', kind: 'vec', dims: ['q'], isConst: false }];
  return { fn: { name: 'r', params, stmts: [stmt], ret: n(0), block: true, returns: 'w' }, bound: w.bound };
}

function genMain(c: Choices, helper: Helper | undefined, arrayHelper?: { fn: Fn; bound: number }): [Fn, number] {
  const pool: ParamShape[] = [
    { name: 'x', kind: 'vec', dims: ['n'], isConst: false },
    { name: 'A', kind: 'mat', dims: ['n', 'n'], isConst: false },
    { name: 'B', kind: 'mat', dims: ['m', 'n'], isConst: false },
    { name: 'y', kind: 'vec', dims: ['n'], isConst: false },
    { name: 's', kind: 'scalar', isConst: false },
  ];
  const count = 1 + c.int(3);
  const chosen: ParamShape[] = [pool.splice(c.int(4), 1)[0]];
  while (chosen.length < count) chosen.splice(c.int(chosen.length + 1), 0, pool.splice(c.int(pool.length), 1)[0]);
  // Maybe one const parameter (never the only one differentiated).
  if (chosen.length > 1 && c.chance(30)) {
    const k = c.int(chosen.length);
    chosen[k] = { ...chosen[k], isConst: true };
  }
  const sizes = ['n', ...(chosen.some((p) => p.name === 'B') ? ['m'] : [])];
  let ctx: Ctx = {
    scalars: [...chosen.filter((p) => p.kind === 'scalar').map((p) => ({ name: p.name, bound: 1.5 })), ...sizes.map((s) => ({ name: s, bound: 5 }))],
    conds: [],
    arrays: chosen.flatMap((p) => (p.kind === 'scalar' ? [] : [{ name: p.name, dims: p.dims, bound: 1.5 }])),
    sizes,
    ixs: [],
    inLoop: false,
    reductions: 3,
    helper,
    lists: true,
  };
  // r(x) for an array parameter x: an array of r's bound and x's length.
  const arrayCalls: ArrayCall[] = [];
  const vecParams = chosen.filter((p) => p.kind === 'vec');
  if (arrayHelper && vecParams.length > 0) {
    const x = c.pick(vecParams);
    const call: ArrayCall = { text: `r(${x.name})`, f: 'r', arg: x.name };
    arrayCalls.push(call);
    ctx = { ...ctx, arrays: [...ctx.arrays, { name: call.text, dims: x.dims, bound: arrayHelper.bound }] };
  }
  const stmts: Stmt[] = [];
  const letCount = c.int(5);
  let arrayLets = 0;
  for (let k = 0; k < letCount; k++) {
    const kind = c.int(5);
    if ((kind === 1 || kind === 2) && arrayLets < 2) {
      const name = kind === 1 ? ['z', 'w'][arrayLets] : ['Z', 'W'][arrayLets];
      const [s, a] = arrayLet(c, ctx, name, kind, 3);
      arrayLets++;
      stmts.push(s);
      ctx = { ...ctx, arrays: [...ctx.arrays, a] };
    } else if (kind === 3) {
      const name = `c${stmts.length + 1}`;
      stmts.push({ k: 'clet', name, cond: cond(c, ctx, 2) });
      ctx = { ...ctx, conds: [...ctx.conds, name] };
    } else {
      const name = `t${stmts.length + 1}`;
      const [value, bound] = fit(c, objective(c, ctx, 3), 50);
      stmts.push({ k: 'let', name, value });
      ctx = { ...ctx, scalars: [...ctx.scalars, { name, bound }] };
    }
  }
  // Sometimes an array variable: a copy of an array in scope, updated element-wise (issue 13).
  if (c.chance(25)) {
    const source = c.pick(ctx.arrays);
    const name = source.dims.length === 1 ? 'V' : 'M';
    stmts.push({ k: 'avar', name, dims: source.dims, from: source.name });
    const old: ArrayVar = { name, dims: source.dims, bound: source.bound };
    const taken: string[] = [];
    const ivs = source.dims.map((size): IndexVar => {
      const iv = { name: freshBinder(ctx, taken), size, lo: 0, slack: 0 };
      taken.push(iv.name);
      return iv;
    });
    // Sometimes the update repeated by a loop (V its state): squashed to at most 1, so that V stays
    // within the bound its reads assume, max(its source's, 1), whatever the count.
    const repeated = c.chance(50);
    const assumed = repeated ? Math.max(source.bound, 1) : source.bound;
    const inner: Ctx = { ...ctx, arrays: [...ctx.arrays, { ...old, bound: assumed }], ixs: ivs, inLoop: true, reductions: 2 };
    const body = fit(c, loopBody(c, inner, c.pick(ivs), 3), 50);
    const binders = ivs.map((iv) => iv.name);
    if (repeated) {
      const count = c.pick<number | string>([0, 1, 2, 3, source.dims[0]]);
      stmts.push({ k: 'aloop', name, count, binders, dims: source.dims, value: call('tanh', body[0]) });
      ctx = { ...ctx, arrays: [...ctx.arrays, { name, dims: source.dims, bound: assumed }] };
    } else {
      stmts.push({ k: 'aupd', name, binders, dims: source.dims, value: body[0] });
      ctx = { ...ctx, arrays: [...ctx.arrays, { name, dims: source.dims, bound: body[1] }] };
    }
  }
  let [ret, bound] = objective(c, ctx, 4);
  const extra = helper && c.chance(40) ? helperCall(c, ctx, 2) : undefined;
  if (extra) [ret, bound] = [bin('+', ret, extra[0]), bound + extra[1]];
  return [{ name: 'f', params: chosen, stmts, ret, block: stmts.length > 0 || c.chance(30), arrayCalls }, bound];
}

// ---- the arbitrary ---------------------------------------------------------------------------

export interface ArrayProgram {
  /** The .ad source: `fn f(...)`, maybe after a helper `fn g(...)`. */
  readonly source: string;
  /** f's parameters, in order. */
  readonly params: readonly ParamShape[];
  /** A loose static bound on |f| and on the intermediate values it is computed from. */
  readonly bound: number;
  /**
   * The reference value of f at these arguments (a direct interpretation of the program tree), and
   * whether the evaluation went through a point where a building block is not differentiable.
   */
  evaluate(args: readonly Value[]): { value: number; singular: boolean };
  /** With an array-returning helper `fn r(v: vec[q])`: its reference value at a vector. */
  evaluateR?(v: ArrayLike<number>): readonly number[];
}

export function decodeArrayProgram(choices: readonly number[]): ArrayProgram {
  const c = new Choices(choices);
  const helper = c.chance(60) ? genHelper(c) : undefined;
  const arrayHelper = c.chance(40) ? genArrayHelper(c) : undefined;
  const [main, bound] = genMain(c, helper, arrayHelper);
  const fns = new Map<string, Fn>([[main.name, main]]);
  if (helper) fns.set(helper.fn.name, helper.fn);
  if (arrayHelper) fns.set('r', arrayHelper.fn);
  const source = `${helper ? printFn(helper.fn) : ''}${arrayHelper ? printFn(arrayHelper.fn) : ''}${printFn(main)}`;
  return {
    source,
    params: main.params,
    bound: Math.max(bound, c.peak),
    evaluate: (args) => {
      singular = false;
      const value = evalFn(main, args, fns) as number;
      return { value, singular };
    },
    ...(arrayHelper && { evaluateR: (v: ArrayLike<number>) => evalFn(arrayHelper.fn, [v], fns) as number[] }),
    [fc.toStringMethod]: () => `\n${source}`,
  } as ArrayProgram;
}

/** Random well-typed array programs (see the top of this file). */
export function arrayProgramArb(): fc.Arbitrary<ArrayProgram> {
  return fc.array(fc.noBias(fc.nat({ max: 0xffff })), { maxLength: 300, size: 'max' }).map(decodeArrayProgram);
}

// ---- arguments -------------------------------------------------------------------------------

export interface Sizes {
  readonly n: number;
  readonly m: number;
  /** Pass arrays as Float64Array (rows too) rather than number[]. */
  readonly typed: boolean;
}

export type Arg = number | ArrayLike<number> | ArrayLike<number>[];

/**
 * Data below 1e-6 in magnitude is read as 0, as test/support/differential.ts compares gradients
 * only at ordinary points: with subnormal data, products underflow and two correct evaluation
 * orders disagree (prod(i: x[i]) at x = [1e-7, 5e-324] underflows to 0, and its derivative for
 * x[1], computed from the product, with it).
 */
const ordinary = (d: number) => (Math.abs(d) < 1e-6 ? 0 : d);

/**
 * f's arguments at the given sizes, filled in order from `data` (cycled). With `B: mat[m, n]` the
 * only carrier of n and m = 0, n is 0 (what an empty matrix says).
 */
export function buildArgs(params: readonly ParamShape[], sizes: Sizes, data: readonly number[]): Arg[] {
  let at = 0;
  const next = () => ordinary(data.length ? data[at++ % data.length] : 0.5);
  const carriesN = params.some((p) => p.name === 'x' || p.name === 'y' || p.name === 'A');
  const n = !carriesN && sizes.m === 0 ? 0 : sizes.n;
  const dim = (d: string) => (d === 'n' ? n : sizes.m);
  const vec = (len: number) => {
    const a = Array.from({ length: len }, next);
    return sizes.typed ? Float64Array.from(a) : a;
  };
  return params.map((p) => (p.kind === 'scalar' ? next() : p.kind === 'vec' ? vec(dim(p.dims[0])) : Array.from({ length: dim(p.dims[0]) }, () => vec(dim(p.dims[1])))));
}

/** Deep copies of arguments (number[] rows, whatever the input was), for perturbing one entry. */
export function copyArgs(args: readonly Arg[]): (number | number[] | number[][])[] {
  return args.map((a) => (typeof a === 'number' ? a : Array.from(a as ArrayLike<unknown>, (r) => (typeof r === 'number' ? r : Array.from(r as ArrayLike<number>)))) as number[] | number[][]);
}

// ---- the check -------------------------------------------------------------------------------

export interface ArrayCase {
  readonly program: ArrayProgram;
  /** The compiled module is called at these sizes in turn (the second finds the work arrays warm). */
  readonly configs: readonly Sizes[];
  /** The elements of the arguments, in [-1.5, 1.5] (cycled if more are needed). */
  readonly data: readonly number[];
}

/**
 * One element of the data, in [-1.5, 1.5]: mostly a 4-digit decimal, sometimes any double or a
 * round number (ties for max and min). fc.double alone would not do: 90% of its draws in this
 * range are below 1e-6 in magnitude (it favours small and subnormal numbers), which buildArgs
 * reads as 0, so vectors would be mostly zeros and every max a tie.
 */
const datum = fc.oneof(
  { arbitrary: fc.integer({ min: -15000, max: 15000 }).map((i) => i / 10000), weight: 6 },
  { arbitrary: fc.double({ min: -1.5, max: 1.5, noNaN: true }), weight: 1 },
  { arbitrary: fc.constantFrom(0, 1, -1, 0.5, -0.5, 1.5, -1.5), weight: 1 },
);

const sizesArb = fc.record({ n: fc.integer({ min: 0, max: 5 }), m: fc.integer({ min: 0, max: 5 }), typed: fc.boolean() });

export function arrayCaseArb(): fc.Arbitrary<ArrayCase> {
  return fc.record({
    program: arrayProgramArb(),
    configs: fc.tuple(sizesArb, sizesArb),
    data: fc.array(datum, { minLength: 61, maxLength: 61 }),
  });
}

/** What the finite-difference comparisons did, over a run. */
export interface ArrayStats {
  programs: number;
  /** Gradient entries compared with finite differences. */
  compared: number;
  /** Skipped: f is not smooth there (a max/min tie, an `if` boundary, norm at 0). */
  nonsmooth: number;
  /** Skipped: f or a neighbouring value is not finite. */
  nonfinite: number;
}
export const newStats = (): ArrayStats => ({ programs: 0, compared: 0, nonsmooth: 0, nonfinite: 0 });

const show = (args: readonly Arg[]) => JSON.stringify(copyArgs(args));
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** Finite differences: the step, and the rounding error of one evaluation of f (relative to its bound). */
const H = 1e-4;
const ROUNDING = 2e-14;

/**
 * The property, for one program: it compiles without diagnostics (a throw is a compiler crash);
 * at each configuration `f` equals the reference evaluator, `fGrad` returns `f`'s value bit for bit,
 * `fGradInto` (into arrays full of garbage) the same value and gradient as `fGrad`, no argument is
 * modified, and every gradient entry matches a central finite difference of `f` wherever `f` is
 * smooth there.
 *
 * Smoothness is tested, not assumed: with steps h and h/4, the central differences must agree, and
 * the second differences (f(x+h) − 2f(x) + f(x−h)) / h must shrink about fourfold, as they do where
 * f is twice differentiable; at a kink within reach of the steps (max/min terms close together)
 * they stay the size of the jump in slope, and across a jump (an `if` boundary) the central
 * differences disagree. What finite differences cannot see, an exact tie at the point itself or the
 * norm of a zero vector, the reference evaluator reports (`singular`), and the point is skipped.
 */
export function checkArrayCase({ program, configs, data }: ArrayCase, stats: ArrayStats = newStats(), options: CompileOptions = {}): void {
  const mod = compileChecked(program.source, 'generated program has diagnostics (a generator bug if the checker is right)', options);
  stats.programs++;
  for (const sizes of configs) {
    const args = buildArgs(program.params, sizes, data);
    checkAt(mod, program, args, stats);
    // The array-returning helper's own export: a new Float64Array equal to the reference.
    const v = args.find((a, k) => program.params[k].kind === 'vec') as ArrayLike<number> | undefined;
    if (program.evaluateR && v) {
      const want = program.evaluateR(v);
      const got = mod.r(v) as Float64Array;
      expect(got instanceof Float64Array && got.length === want.length, `r returned ${String(got)}\n${program.source}`).toBe(true);
      expect(mod.r(v), 'r returns a new array per call').not.toBe(got);
      got.forEach((x, i) => expect(same(x, want[i]) || Math.abs(x - want[i]) <= 1e-12 * (1 + Math.abs(want[i]) + program.bound), `r(v)[${i}] = ${x}, reference ${want[i]}\n${program.source}`).toBe(true));
    }
  }
}

/**
 * The property for grad inside the language (issue #14): the random program's `f` becomes
 * `inner`, and a new `f` with the same parameters returns the squared norm of `grad(inner, p)(…)`
 * for its first differentiated parameter p, so that `fGrad` differentiates through the nested
 * gradient (second derivatives of inner). Then the same checks as checkArrayCase: the value
 * against `innerGrad` (the exported gradient, computed apart from the nested one), and `fGrad`
 * against finite differences of `f` wherever f is smooth. Programs with array variables (`var`)
 * are skipped: grad of stateful code is refused (AD8006).
 * Returns whether the program was checked.
 */
export function checkNestedCase({ program, configs, data }: ArrayCase, stats: ArrayStats = newStats()): boolean {
  const p = program.params.find((q) => !q.isConst);
  if (!p || /\bvar\b/.test(program.source)) return false;
  const header = /fn f\(([^)]*)\)/.exec(program.source)![1];
  const args = program.params.map((q) => q.name).join(', ');
  const g = `grad(inner, ${p.name})(${args})`;
  const body = p.kind === 'scalar' ? `${g}^2` : p.kind === 'vec' ? `sum(i: ${g}[i]^2)` : `sum(i: sum(j: ${g}[i, j]^2))`;
  const source = `${program.source.replace('fn f(', 'fn inner(')}\nfn f(${header}) = ${body}\n`;
  const mod = compileChecked(source, 'a nested gradient of a generated program has diagnostics');
  stats.programs++;
  const squares = (v: unknown): number =>
    typeof v === 'number' ? v * v : v instanceof Float64Array ? v.reduce((t, x) => t + x * x, 0) : (v as Float64Array[]).reduce((t, r) => t + squares(r), 0);
  // At a point where inner is not differentiable (a tie, the norm of a zero vector) nothing is
  // compared: the exported gradient guards 0·∞ there, the nested one does not (README), and
  // finite differences mean nothing.
  const evaluate = (a: readonly Value[]) => {
    const { singular } = program.evaluate(a);
    if (singular) return { value: mod.f(...a) as number, singular };
    const gradient = (mod.innerGrad(...a) as { gradient: Record<string, unknown> }).gradient[p.name];
    return { value: squares(gradient), singular };
  };
  for (const sizes of configs) checkAt(mod, { source, params: program.params, bound: (1 + program.bound) ** 2, evaluate }, buildArgs(program.params, sizes, data), stats);
  return true;
}

/**
 * The property for jvp inside the language (issue #14): as checkNestedCase, with the new `f`
 * returning the square of `jvp(inner, p)(…, p)` (the derivative along the point's own p, so that
 * `fGrad` goes through both the point and the direction: second derivatives of inner). The value
 * is checked against `innerJvp` (the exported forward mode, computed apart from the nested one),
 * and `fGrad` against finite differences of `f`. Returns whether the program was checked.
 */
export function checkNestedJvpCase({ program, configs, data }: ArrayCase, stats: ArrayStats = newStats()): boolean {
  const k = program.params.findIndex((q) => !q.isConst);
  const p = program.params[k];
  if (!p || /\bvar\b/.test(program.source)) return false;
  const header = /fn f\(([^)]*)\)/.exec(program.source)![1];
  const args = program.params.map((q) => q.name).join(', ');
  const source = `${program.source.replace('fn f(', 'fn inner(')}\nfn f(${header}) = jvp(inner, ${p.name})(${args}, ${p.name})^2\n`;
  const mod = compileChecked(source, 'a nested jvp of a generated program has diagnostics', { derivatives: ['grad', 'jvp'] });
  stats.programs++;
  const evaluate = (a: readonly Value[]) => {
    const { singular } = program.evaluate(a);
    if (singular) return { value: mod.f(...a) as number, singular };
    const tangent = (mod.innerJvp({ [p.name]: a[k] }, ...a) as { tangent: number }).tangent;
    return { value: tangent * tangent, singular };
  };
  for (const sizes of configs) checkAt(mod, { source, params: program.params, bound: (1 + program.bound) ** 2, evaluate }, buildArgs(program.params, sizes, data), stats);
  return true;
}

/**
 * The property for jacobian inside the language: a program with the array helper `r` (vec → vec)
 * and a vec parameter x gets `fn f(…) = sum(i: sum(j: jacobian(r, v)(x)[i, j]^2)) + <the old f>`,
 * the squared Frobenius norm of r's Jacobian (by columns, in a loop) plus the program's own value;
 * the value is checked against `rJacobian` (the export, by fJvp/fVjp sweeps) and `fGrad` against
 * finite differences of `f` (second derivatives of r through the loop of columns). Returns whether
 * the program was checked (it needs r and a vec parameter).
 */
/** The cases checkNestedJacobianCase can check: a program with the vec → vec helper `r` and a vec parameter. */
export const jacobianCaseArb = () => arrayCaseArb().filter((c) => c.program.evaluateR !== undefined && c.program.params.some((q) => q.kind === 'vec'));

export function checkNestedJacobianCase({ program, configs, data }: ArrayCase, stats: ArrayStats = newStats()): boolean {
  const k = program.params.findIndex((q) => q.kind === 'vec');
  if (!program.evaluateR || k < 0 || /\bvar\b/.test(program.source)) return false;
  const x = program.params[k].name;
  const header = /fn f\(([^)]*)\)/.exec(program.source)![1];
  const args = program.params.map((q) => q.name).join(', ');
  const source = `${program.source.replace('fn f(', 'fn old(')}\nfn f(${header}) = sum(i: sum(j: jacobian(r, v)(${x})[i, j]^2)) + old(${args})\n`;
  const mod = compileChecked(source, 'a nested jacobian of a generated program has diagnostics', { derivatives: ['grad', 'jacobian'] });
  stats.programs++;
  const evaluate = (a: readonly Value[]) => {
    const { value: old, singular } = program.evaluate(a);
    if (singular) return { value: mod.f(...a) as number, singular };
    const rows = (mod.rJacobian(a[k]) as { jacobian: { v: Float64Array[] } }).jacobian.v;
    return { value: rows.reduce((t, row) => row.reduce((u, e) => u + e * e, t), 0) + old, singular };
  };
  for (const sizes of configs) checkAt(mod, { source, params: program.params, bound: (1 + program.bound) ** 2, evaluate }, buildArgs(program.params, sizes, data), stats);
  return true;
}

/**
 * The same checks for a program written by hand (a reduced counter-example), calling `f` with each
 * argument list in turn: everything but the reference value (no evaluator for hand-written text).
 * The parameters are read from `fn f(...)`.
 */
export function checkArraySource(source: string, calls: readonly (readonly Arg[])[], stats: ArrayStats = newStats(), options: CompileOptions = {}): void {
  const header = /fn f\(([^)]*)\)/.exec(source);
  if (!header) throw new Error(`no 'fn f(...)' in:\n${source}`);
  const params = header[1].split(/,(?![^[]*\])/).map((text): ParamShape => {
    const m = /^\s*(const\s+)?(\w+)\s*(?::\s*(vec|mat)\[([^\]]*)\])?\s*$/.exec(text);
    if (!m) throw new Error(`cannot read parameter '${text}'`);
    const dims = m[4]?.split(',').map((d) => d.trim());
    const isConst = Boolean(m[1]);
    if (m[3] === 'vec') return { name: m[2], kind: 'vec', dims: [dims![0]], isConst };
    if (m[3] === 'mat') return { name: m[2], kind: 'mat', dims: [dims![0], dims![1]], isConst };
    return { name: m[2], kind: 'scalar', isConst };
  });
  const mod = compileChecked(source, 'does not compile', options);
  stats.programs++;
  for (const args of calls) checkAt(mod, { source, params, bound: 10 }, args, stats);
}

function compileChecked(source: string, problem: string, options: CompileOptions = {}): Record<string, Fn_> {
  let result: ReturnType<typeof compileSync>;
  try {
    result = compileSync(source, options);
  } catch (error) {
    throw new Error(`compiler crash: compileSync threw ${(error as Error)?.stack ?? String(error)}\non:\n${source}`);
  }
  if (result.code === undefined || result.diagnostics.length > 0) {
    throw new Error(`${problem}:\n${formatDiagnostics(result.diagnostics, source, 'f.ad')}\n${source}`);
  }
  const mod = instantiate(result.code) as unknown as Record<string, Fn_>;
  // The wasm target: f must be the WebAssembly glue, not the JS fallback.
  const arrays = result.functions.find((f) => f.name === 'f')?.params.some((p) => p.type);
  if (options.target === 'wasm' && arrays) expect(mod.f.name, `f is not WebAssembly:\n${source}`).toBe('f$wasm');
  return mod;
}

type Fn_ = (...args: unknown[]) => unknown;

/** What checkAt needs of a program; without `evaluate`, the value is not compared with a reference. */
type Checked = Pick<ArrayProgram, 'source' | 'params' | 'bound'> & { readonly evaluate?: ArrayProgram['evaluate'] };

function checkAt(mod: Record<string, Fn_>, program: Checked, args: readonly Arg[], stats: ArrayStats): void {
  const { source, params } = program;
  const where = () => `\nat ${show(args)}\n${source}`;
  const run = <T>(what: string, thunk: () => T): T => {
    try {
      return thunk();
    } catch (error) {
      throw new Error(`${what} threw ${String(error)}${where()}`);
    }
  };
  const before = show(args);
  const value = run('f', () => mod.f(...args) as number);
  let notDifferentiable = false;
  if (program.evaluate) {
    const reference = program.evaluate(args);
    const want = reference.value;
    notDifferentiable = reference.singular;
    const scale = 1 + Math.abs(want) + program.bound;
    expect(same(value, want) || Math.abs(value - want) <= 1e-12 * scale, `f = ${value}, reference ${want}${where()}`).toBe(true);
  }

  const grad = run('fGrad', () => mod.fGrad(...args) as { value: number; gradient: Record<string, number | Float64Array | Float64Array[]> });
  expect(same(grad.value, value), `fGrad value ${grad.value}, f ${value}${where()}`).toBe(true);
  const active = params.filter((p) => !p.isConst);
  expect(Object.keys(grad.gradient), `gradient keys${where()}`).toEqual(active.map((p) => p.name));

  // fGradInto, into arrays full of garbage: it must zero them first.
  const out: Record<string, number | Float64Array | Float64Array[]> = {};
  for (const p of active) {
    const a = args[params.indexOf(p)];
    out[p.name] = p.kind === 'scalar' ? 777 : p.kind === 'vec' ? new Float64Array((a as ArrayLike<number>).length).fill(777) : (a as ArrayLike<number>[]).map((r) => new Float64Array(r.length).fill(777));
  }
  const into = run('fGradInto', () => mod.fGradInto(out, ...args) as number);
  expect(same(into, value), `fGradInto returned ${into}, f ${value}${where()}`).toBe(true);
  expect(show(args), `the arguments were modified${where()}`).toBe(before);

  for (const p of active) {
    const k = params.indexOf(p);
    const g = grad.gradient[p.name];
    const o = out[p.name];
    // Each entry: [path, the fGrad entry, the fGradInto entry, a view of the argument's entry in a copy].
    type Copy = ReturnType<typeof copyArgs>;
    const entries: [string, number, number, (a: Copy) => { get: () => number; set: (x: number) => void }][] = [];
    if (p.kind === 'scalar') entries.push([p.name, g as number, o as number, (a) => ({ get: () => a[k] as number, set: (x) => (a[k] = x) })]);
    else if (p.kind === 'vec') {
      const len = (args[k] as ArrayLike<number>).length;
      expect(g instanceof Float64Array && g.length === len, `∂f/∂${p.name} is not a Float64Array of length ${len}${where()}`).toBe(true);
      for (let i = 0; i < len; i++) {
        entries.push([`${p.name}[${i}]`, (g as Float64Array)[i], (o as Float64Array)[i], (a) => ({ get: () => (a[k] as number[])[i], set: (x) => ((a[k] as number[])[i] = x) })]);
      }
    } else {
      const rows = args[k] as ArrayLike<number>[];
      const gm = g as Float64Array[];
      expect(Array.isArray(gm) && gm.length === rows.length, `∂f/∂${p.name} has ${gm?.length} rows, not ${rows.length}${where()}`).toBe(true);
      rows.forEach((r, i) => {
        expect(gm[i] instanceof Float64Array && gm[i].length === r.length, `∂f/∂${p.name}[${i}] is not a Float64Array of length ${r.length}${where()}`).toBe(true);
        for (let j = 0; j < r.length; j++) {
          entries.push([`${p.name}[${i}, ${j}]`, gm[i][j], (o as Float64Array[])[i][j], (a) => ({ get: () => (a[k] as number[][])[i][j], set: (x) => ((a[k] as number[][])[i][j] = x) })]);
        }
      });
    }
    for (const [path, ad, adInto, view] of entries) {
      expect(same(ad, adInto), `∂f/∂${path}: fGrad ${ad}, fGradInto ${adInto}${where()}`).toBe(true);
      if (notDifferentiable) {
        stats.nonsmooth++;
        continue;
      }
      const at = (delta: number) => {
        const copy = copyArgs(args);
        const entry = view(copy);
        entry.set(entry.get() + delta);
        return run('f', () => mod.f(...copy) as number);
      };
      const f0 = value;
      const [fp1, fm1, fp4, fm4] = [at(H), at(-H), at(H / 4), at(-H / 4)];
      if (![f0, fp1, fm1, fp4, fm4].every(Number.isFinite)) {
        stats.nonfinite++;
        continue;
      }
      const nu = ROUNDING * (1 + Math.abs(f0) + program.bound);
      const centralH = (fp1 - fm1) / (2 * H);
      const centralQ = (fp4 - fm4) / (H / 2);
      const secondH = (fp1 - 2 * f0 + fm1) / H;
      const secondQ = (fp4 - 2 * f0 + fm4) / (H / 4);
      const kink = Math.abs(secondQ) > 0.5 * Math.abs(secondH) + (64 * nu) / H;
      const jump = Math.abs(centralH - centralQ) > 1e-3 * Math.abs(centralQ) + 1e-6 + (16 * nu) / H;
      if (kink || jump) {
        stats.nonsmooth++;
        continue;
      }
      stats.compared++;
      // The truncation error of the h/4 difference is at most a third of its distance from the h
      // one (a ninth where f is twice differentiable, a third where it is only once: max(…)^2).
      const tol = 1e-5 * Math.abs(centralQ) + 1e-7 + (8 * nu) / H + Math.abs(centralH - centralQ);
      expect(Math.abs(ad - centralQ) <= tol, `∂f/∂${path} = ${ad}, finite differences ${centralQ} (step ${H / 4}; ${centralH} with step ${H})${where()}`).toBe(true);
    }
  }
}

// ---- loop nests for unroll-and-jam ------------------------------------------------------------

/**
 * Programs whose reverse sweep is a loop nest src/ad/unroll-and-jam.ts takes or must refuse: a sum
 * over i of a weight times (or plus) an inner sum over j whose terms read x[j], A[i, j], A[j, i],
 * y[j] (const), s or s^j (a running power carried by the inner loop), so that the reversed inner
 * loop adds into d$x[j], a row of d$A or both (two names for one matrix). Outer ranges `0..n`,
 * `1..n`, `0..n-1`, `2..n` (with n = 0..5: 0, 1, odd and even trip counts); inner ranges `0..n`,
 * the triangular `0..i` and `1..i` (taken, the higher row's extra term run alone), and `0..i+1`,
 * `i..n` (their bounds move with i otherwise: refused). Forms: `w_i · inner`, `(w_i + inner/10)^2`
 * (GMM's shape: the square's adjoint computed per i before the inner loop) and an array let
 * `z[i] = inner` read by the return. Each comes with its own evaluator (plain JavaScript loops).
 */
export interface JamShape {
  readonly outer: 0 | 1 | 2 | 3;
  readonly inner: 0 | 1 | 2 | 3 | 4;
  readonly factors: readonly (0 | 1 | 2 | 3 | 4 | 5 | 6 | 7)[];
  readonly weight: 0 | 1 | 2 | 3;
  readonly form: 0 | 1 | 2;
}

const JAM_OUTER = [
  { text: 'i in 0..n', from: () => 0, to: (n: number) => n },
  { text: 'i in 1..n', from: () => 1, to: (n: number) => n },
  { text: 'i in 0..n-1', from: () => 0, to: (n: number) => n - 1 },
  { text: 'i in 2..n', from: () => 2, to: (n: number) => n },
];
const JAM_INNER = [
  { text: 'j in 0..n', from: () => 0, to: (_i: number, n: number) => n },
  { text: 'j in 0..i', from: () => 0, to: (i: number) => i },
  { text: 'j in 1..i', from: () => 1, to: (i: number) => i },
  { text: 'j in 0..i+1', from: () => 0, to: (i: number) => i + 1 },
  { text: 'j in i..n', from: (i: number) => i, to: (_i: number, n: number) => n },
];
type JamEnv = { x: ArrayLike<number>; A: readonly ArrayLike<number>[]; s: number; y: ArrayLike<number>; i: number; j: number };
const JAM_FACTORS: readonly { text: string; value: (e: JamEnv) => number }[] = [
  { text: 'A[i, j]', value: (e) => e.A[e.i][e.j] },
  { text: 'x[j]', value: (e) => e.x[e.j] },
  { text: 'A[j, i]', value: (e) => e.A[e.j][e.i] },
  { text: 'y[j]', value: (e) => e.y[e.j] },
  { text: 's', value: (e) => e.s },
  { text: 'sin(x[j])', value: (e) => Math.sin(e.x[e.j]) },
  { text: 's^j', value: (e) => e.s ** e.j },
  { text: 'x[i]', value: (e) => e.x[e.i] },
];
const JAM_WEIGHTS: readonly { text: string; value: (e: JamEnv) => number }[] = [
  { text: 'x[i]', value: (e) => e.x[e.i] },
  { text: 's', value: (e) => e.s },
  { text: 'sin(x[i])', value: (e) => Math.sin(e.x[e.i]) },
  { text: 'A[i, i]', value: (e) => e.A[e.i][e.i] },
];

export function jamProgram(shape: JamShape): ArrayProgram {
  const outer = JAM_OUTER[shape.outer];
  // (The array let's range is the whole of 0..n: z is read at every i of the return's sum.)
  const outerRange = shape.form === 2 ? JAM_OUTER[0] : outer;
  const inner = JAM_INNER[shape.inner];
  const factors = shape.factors.length ? shape.factors.map((f) => JAM_FACTORS[f]) : [JAM_FACTORS[0]];
  const weight = JAM_WEIGHTS[shape.weight];
  const term = factors.map((f) => f.text).join(' * ');
  const innerSum = `sum(${inner.text}: ${term})`;
  const params: ParamShape[] = [
    { name: 'x', kind: 'vec', dims: ['n'], isConst: false },
    { name: 'A', kind: 'mat', dims: ['n', 'n'], isConst: false },
    { name: 's', kind: 'scalar', isConst: false },
    { name: 'y', kind: 'vec', dims: ['n'], isConst: true },
  ];
  const header = 'fn f(x: vec[n], A: mat[n, n], s, const y: vec[n])';
  const source =
    shape.form === 0
      ? `${header} = sum(${outerRange.text}: ${weight.text} * ${innerSum})\n`
      : shape.form === 1
        ? `${header} = sum(${outerRange.text}: (${weight.text} + 0.1 * ${innerSum})^2)\n`
        : `${header} {\n  let z[${outerRange.text}] = ${innerSum}\n  return sum(i: ${weight.text} * z[i])\n}\n`;
  const evaluate = (args: readonly Value[]) => {
    const [x, A, s, y] = args as [ArrayLike<number>, readonly ArrayLike<number>[], number, ArrayLike<number>];
    const n = x.length;
    let total = 0;
    for (let i = outerRange.from(); i < outerRange.to(n); i++) {
      let sum = 0;
      for (let j = inner.from(i); j < inner.to(i, n); j++) {
        const env = { x, A, s, y, i, j };
        sum += factors.reduce((p, f) => p * f.value(env), 1);
      }
      const w = weight.value({ x, A, s, y, i, j: 0 });
      total += shape.form === 1 ? (w + 0.1 * sum) ** 2 : w * sum;
    }
    return { value: total, singular: false };
  };
  // |factor| ≤ 1.5^5 (s^j), three factors, five terms, a weight ≤ 1.5, five rows; the square's is smaller.
  return { source, params, bound: 2e4, evaluate, [fc.toStringMethod]: () => `\n${source}` } as ArrayProgram;
}

const jamShapeArb: fc.Arbitrary<JamShape> = fc.record({
  outer: fc.constantFrom(0, 1, 2, 3),
  inner: fc.constantFrom(0, 1, 1, 2, 2, 3, 4),
  // (Mostly led by x[j] or sin(x[j]): the inner loop then adds into d$x at its own index, what the pass merges.)
  factors: fc.tuple(fc.constantFrom(1, 1, 1, 1, 1, 5, 5, 5, 0, 2, 3, 4, 6, 7), fc.array(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7), { maxLength: 2 })).map(([first, rest]) => [first, ...rest]),
  weight: fc.constantFrom(0, 1, 2, 3),
  form: fc.constantFrom(0, 0, 1, 1, 2),
}) as fc.Arbitrary<JamShape>;

/** A loop-nest program (jamProgram), its sizes (n = 0..5) and data, for checkArrayCase and checkJamCase. */
export function jamCaseArb(): fc.Arbitrary<ArrayCase & { readonly shape: JamShape }> {
  return fc.record({
    shape: jamShapeArb,
    configs: fc.tuple(sizesArb, sizesArb),
    data: fc.array(datum, { minLength: 61, maxLength: 61 }),
  }).map((c) => ({ ...c, program: jamProgram(c.shape) }));
}

/**
 * A loop nest inside a loop over points p (src/ad/jam-pairs.ts's shape: GMM's point loop around its
 * rows and their terms): `sum(p: pw * <jamProgram's nest, its term times a point factor> + extra)`, the
 * nest's own forms 0 and 1 (a weighted sum, a square per row). Where the term reads `A[i, j]` (or
 * `x[j]`, ...) the reverse sweep adds into an element every p adds into, which the pass fuses.
 */
export interface PairShape extends JamShape {
  readonly points: 0 | 1 | 2;
  readonly pointWeight: 0 | 1 | 2;
  readonly pointFactor: 0 | 1 | 2 | 3;
  /** A term added per point beside the nest (PAIR_EXTRAS): none, a loop whose bounds are the point's, one the point does not enter. */
  readonly pointExtra: 0 | 1 | 2;
}
const PAIR_POINTS = [
  { text: 'p in 0..n', from: () => 0, to: (n: number) => n },
  { text: 'p in 1..n', from: () => 1, to: (n: number) => n },
  { text: 'p in 0..n-1', from: () => 0, to: (n: number) => n - 1 },
];
type PairEnv = { x: ArrayLike<number>; A: readonly ArrayLike<number>[]; y: ArrayLike<number>; p: number; j: number };
const PAIR_WEIGHTS: readonly { text: string; value: (e: PairEnv) => number }[] = [
  { text: 'y[p]', value: (e) => e.y[e.p] },
  { text: 'x[p]', value: (e) => e.x[e.p] },
  { text: 'sin(x[p])', value: (e) => Math.sin(e.x[e.p]) },
];
const PAIR_FACTORS: readonly { text: string; value: (e: PairEnv) => number }[] = [
  { text: 'x[p]', value: (e) => e.x[e.p] },
  { text: 'y[p]', value: (e) => e.y[e.p] },
  { text: 'A[p, j]', value: (e) => e.A[e.p][e.j] },
  { text: 'sin(y[p] + x[j])', value: (e) => Math.sin(e.y[e.p] + e.x[e.j]) },
];

// (The reverse sweep of `sum(k in 0..p: x[p] * s)` adds a 1 into x[p]'s adjoint p times: a loop whose
// bounds depend on the point, each copy's own; `s * s` adds 2s into s's adjoint, the same for every
// point, once per copy.)
const PAIR_EXTRAS: readonly { text: string; value: (p: number, x: ArrayLike<number>, s: number) => number }[] = [
  { text: '', value: () => 0 },
  { text: ' + sum(k in 0..p: x[p] * s)', value: (p, x, s) => p * x[p] * s },
  { text: ' + s * s', value: (_, __, s) => s * s },
];

export function pairProgram(shape: PairShape): ArrayProgram {
  const points = PAIR_POINTS[shape.points];
  const outer = JAM_OUTER[shape.outer];
  const inner = JAM_INNER[shape.inner];
  const factors = shape.factors.length ? shape.factors.map((f) => JAM_FACTORS[f]) : [JAM_FACTORS[0]];
  const weight = JAM_WEIGHTS[shape.weight];
  const pw = PAIR_WEIGHTS[shape.pointWeight];
  const pf = PAIR_FACTORS[shape.pointFactor];
  const extra = PAIR_EXTRAS[shape.pointExtra];
  const term = [...factors.map((f) => f.text), pf.text].join(' * ');
  const innerSum = `sum(${inner.text}: ${term})`;
  const params: ParamShape[] = [
    { name: 'x', kind: 'vec', dims: ['n'], isConst: false },
    { name: 'A', kind: 'mat', dims: ['n', 'n'], isConst: false },
    { name: 's', kind: 'scalar', isConst: false },
    { name: 'y', kind: 'vec', dims: ['n'], isConst: true },
  ];
  const rowTerm = shape.form === 1 ? `(${weight.text} + 0.1 * ${innerSum})^2` : `${weight.text} * ${innerSum}`;
  const source = `fn f(x: vec[n], A: mat[n, n], s, const y: vec[n]) = sum(${points.text}: ${pw.text} * sum(${outer.text}: ${rowTerm})${extra.text})\n`;
  const evaluate = (args: readonly Value[]) => {
    const [x, A, s, y] = args as [ArrayLike<number>, readonly ArrayLike<number>[], number, ArrayLike<number>];
    const n = x.length;
    let total = 0;
    for (let p = points.from(); p < points.to(n); p++) {
      let rows = 0;
      for (let i = outer.from(); i < outer.to(n); i++) {
        let sum = 0;
        for (let j = inner.from(i); j < inner.to(i, n); j++) {
          const env = { x, A, s, y, i, j };
          sum += factors.reduce((q, f) => q * f.value(env), 1) * pf.value({ x, A, y, p, j });
        }
        const w = weight.value({ x, A, s, y, i, j: 0 });
        rows += shape.form === 1 ? (w + 0.1 * sum) ** 2 : w * sum;
      }
      total += pw.value({ x, A, y, p, j: 0 }) * rows + extra.value(p, x, s);
    }
    return { value: total, singular: false };
  };
  // The nest's bound (jamProgram's 2e4) times five points and a point weight and factor ≤ 1.5 each.
  return { source, params, bound: 2e5, evaluate, [fc.toStringMethod]: () => `\n${source}` } as ArrayProgram;
}

const pairShapeArb: fc.Arbitrary<PairShape> = fc.record({
  outer: fc.constantFrom(0, 1, 2, 3),
  inner: fc.constantFrom(0, 1, 1, 2, 2, 3, 4),
  factors: fc.tuple(fc.constantFrom(0, 0, 1, 1, 5, 2, 3, 4, 6, 7), fc.array(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7), { maxLength: 1 })).map(([first, rest]) => [first, ...rest]),
  weight: fc.constantFrom(0, 1, 2, 3),
  form: fc.constantFrom(0, 1),
  points: fc.constantFrom(0, 1, 2),
  pointWeight: fc.constantFrom(0, 1, 2),
  pointFactor: fc.constantFrom(0, 1, 2, 3),
  pointExtra: fc.constantFrom(0, 0, 1, 2),
}) as fc.Arbitrary<PairShape>;

/** A loop nest in a loop over points (pairProgram), its sizes (n = 0..5) and data, for checkJamCase. */
export function pairCaseArb(): fc.Arbitrary<ArrayCase & { readonly shape: PairShape }> {
  return fc.record({
    shape: pairShapeArb,
    configs: fc.tuple(sizesArb, sizesArb),
    data: fc.array(datum, { minLength: 61, maxLength: 61 }),
  }).map((c) => ({ ...c, program: pairProgram(c.shape) }));
}

/**
 * checkArrayCase (value against the evaluator, fGrad and fGradInto against f and finite
 * differences), then fGrad against the gradient of the same program compiled with fHvp beside
 * it, whose sweep is never unrolled (only the order of the additions may differ: 1e-12 of the
 * largest entry). Returns whether the gradient's reverse sweep was unrolled and jammed (its code has
 * `note`: the row jam's comment, or jam-pairs.ts's).
 */
export function checkJamCase(c: ArrayCase, stats: ArrayStats = newStats(), note = 'Unrolled and jammed by '): boolean {
  checkArrayCase(c, stats);
  const jammed = compileSync(c.program.source, {});
  const plain = compileSync(c.program.source, { derivatives: ['grad', 'hvp'] });
  const fired = jammed.code!.includes(note);
  expect(plain.code!.includes(note), `unrolled beside fHvp\n${c.program.source}`).toBe(false);
  const [mj, mp] = [instantiate(jammed.code!), instantiate(plain.code!)] as Record<string, Fn_>[];
  for (const sizes of c.configs) {
    const args = buildArgs(c.program.params, sizes, c.data);
    const gj = (mj.fGrad(...args) as { gradient: Record<string, unknown> }).gradient;
    const gp = (mp.fGrad(...args) as { gradient: Record<string, unknown> }).gradient;
    const flat = (g: Record<string, unknown>) => Object.values(g).flatMap((v) => (typeof v === 'number' ? [v] : Array.from(v as ArrayLike<unknown>).flatMap((r) => (typeof r === 'number' ? [r] : Array.from(r as ArrayLike<number>)))));
    const [a, b] = [flat(gj), flat(gp)];
    const scale = Math.max(1, ...b.map(Math.abs));
    a.forEach((v, k) => expect(Math.abs(v - b[k]) <= 1e-12 * scale, `entry ${k}: ${v} unrolled, ${b[k]} not\nat ${show(args)}\n${c.program.source}`).toBe(true));
  }
  return fired;
}

/**
 * Arguments (x: vec[n], A: mat[n, n], s) of the reduced loop nests that test/unroll-and-jam.test.ts
 * and test/jam-pairs.test.ts compile, at size n ≤ 5: distinct values, A's rows scaled, negated,
 * shifted and squared copies of x, so no two gradient entries agree by accident.
 */
export function nestArguments(n: number): [number[], number[][], number] {
  const x = [0.5, -0.2, 0.9, 1.3, -0.7];
  const A = [x, x.map((v) => v * 0.5), x.map((v) => -v), x.map((v) => v + 0.25), x.map((v) => v * v)];
  return [x.slice(0, n), A.slice(0, n).map((r) => r.slice(0, n)), 0.7];
}

export const flatGradient = (g: Record<string, GradValue>) =>
  Object.values(g).flatMap((v) => (typeof v === 'number' ? [v] : v instanceof Float64Array ? Array.from(v) : v.flatMap((r) => Array.from(r))));

/** Every entry of a gradient within tol of the largest expected entry (or of 1), the same names in the same order. */
export function expectNear(actual: Record<string, GradValue>, expected: Record<string, GradValue>, tol: number): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  const [a, e] = [flatGradient(actual), flatGradient(expected)];
  expect(a.length).toBe(e.length);
  const scale = Math.max(1, ...e.map(Math.abs));
  e.forEach((v, k) => {
    if (!(Math.abs(a[k] - v) <= tol * scale)) expect.fail(`entry ${k}: ${a[k]}, expected ${v}`);
  });
}
