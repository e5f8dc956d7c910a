/**
 * A tiny, independent model of .ad programs: an AST, a printer to .ad source text and an
 * interpreter over plain numbers or dual numbers. Imports nothing from src/.
 */
import { Dual, add, builtinArity, builtins, constant, div, mathBuiltins, mul, neg, pow, sub, variable } from './dual.ts';

export type BinaryOp = '+' | '-' | '*' | '/' | '^';
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** Numeric expressions. `call` is a built-in or a user function; `paren` is explicit parentheses. */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'const'; name: 'pi' | 'e' }
  | { kind: 'unary'; op: '-' | '+'; arg: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'if'; cond: Cond; then: Expr; else: Expr }
  | { kind: 'paren'; arg: Expr };

/** Conditions. `cvar` names a `let` bound to a condition; `cparen` is explicit parentheses. */
export type Cond =
  | { kind: 'cmp'; op: CompareOp; left: Expr; right: Expr }
  | { kind: 'and' | 'or'; left: Cond; right: Cond }
  | { kind: 'not'; arg: Cond }
  | { kind: 'cvar'; name: string }
  | { kind: 'cparen'; arg: Cond };

export interface Param { name: string; isConst: boolean }
export interface Let { name: string; value: Expr | Cond }
/** `block` forces the `{ ... return }` form even without lets; `semicolons` ends lets with ';'. */
export interface FnDef { name: string; params: Param[]; lets: Let[]; body: Expr; block?: boolean; semicolons?: boolean }
export interface Program { functions: FnDef[] }

export const KEYWORDS = ['fn', 'let', 'return', 'if', 'then', 'else', 'and', 'or', 'not', 'const'];
export const CONSTANTS: Record<'pi' | 'e', number> = { pi: Math.PI, e: Math.E };
export const BUILTIN_NAMES = Object.keys(builtins);

const COND_KINDS = new Set(['cmp', 'and', 'or', 'not', 'cvar', 'cparen']);
export const isCond = (node: Expr | Cond): node is Cond => COND_KINDS.has(node.kind);

// ---------------------------------------------------------------------------------------------
// Printer. Precedence levels: 0 or (a whole expression), 1 and, 2 not, 3 comparison, 4 + -,
// 5 * /, 6 unary sign, 7 ^, 8 primary. A child printed where a higher level is required gets
// parentheses; an `if` is only left bare where a whole expression is expected (level 0).

const wrap = (prec: number, ctx: number, s: string) => (prec < ctx ? `(${s})` : s);

function formatNumber(value: number): string {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`cannot print the number ${value}`);
  return String(value);
}

export function printExpr(e: Expr, ctx = 0): string {
  switch (e.kind) {
    case 'num':
      return isNegative(e.value) ? wrap(6, ctx, `-${formatNumber(-e.value)}`) : formatNumber(e.value);
    case 'var':
    case 'const':
      return e.name;
    case 'paren':
      return `(${printExpr(e.arg, 0)})`;
    case 'call':
      return `${e.name}(${e.args.map((a) => printExpr(a, 0)).join(', ')})`;
    case 'unary':
      return wrap(6, ctx, e.op + printExpr(e.arg, 7));
    case 'binary':
      return printBinary(e.op, e.left, e.right, ctx);
    case 'if': {
      const s = `if ${printCond(e.cond, 0)} then ${printExpr(e.then, 0)} else ${printExpr(e.else, 0)}`;
      return ctx === 0 ? s : `(${s})`;
    }
  }
}

function printBinary(op: BinaryOp, left: Expr, right: Expr, ctx: number): string {
  if (op === '^') return wrap(7, ctx, `${printExpr(left, 8)}^${printExponent(right)}`);
  const prec = op === '+' || op === '-' ? 4 : 5;
  return wrap(prec, ctx, `${printExpr(left, prec)} ${op} ${printExpr(right, prec + 1)}`);
}

/** An exponent is a primary, a sign and a primary (`2^-x`), or another power (right-assoc). */
function printExponent(e: Expr): string {
  if (e.kind === 'binary' && e.op === '^') return printExpr(e, 7);
  if (e.kind === 'unary' && isPrimary(e.arg)) return e.op + printExpr(e.arg, 8);
  if (e.kind === 'num' && isNegative(e.value)) return printExpr(e, 6);
  return printExpr(e, 8);
}

const isNegative = (v: number) => v < 0 || Object.is(v, -0);
const isPrimary = (e: Expr) =>
  e.kind === 'var' || e.kind === 'const' || e.kind === 'paren' || e.kind === 'call' || (e.kind === 'num' && !isNegative(e.value));

export function printCond(c: Cond, ctx = 0): string {
  switch (c.kind) {
    case 'or':
      return wrap(0, ctx, `${printCond(c.left, 0)} or ${printCond(c.right, 1)}`);
    case 'and':
      return wrap(1, ctx, `${printCond(c.left, 1)} and ${printCond(c.right, 2)}`);
    case 'not':
      return wrap(2, ctx, `not ${printCond(c.arg, 2)}`);
    case 'cmp':
      return wrap(3, ctx, `${printExpr(c.left, 4)} ${c.op} ${printExpr(c.right, 4)}`);
    case 'cvar':
      return c.name;
    case 'cparen':
      return `(${printCond(c.arg, 0)})`;
  }
}

const printNode = (node: Expr | Cond) => (isCond(node) ? printCond(node) : printExpr(node));

export function printFunction(f: FnDef): string {
  const params = f.params.map((p) => (p.isConst ? `const ${p.name}` : p.name)).join(', ');
  const head = `fn ${f.name}(${params})`;
  if (f.lets.length === 0 && !f.block) return `${head} = ${printExpr(f.body)}`;
  const end = f.semicolons ? ';' : '';
  const lines = f.lets.map((l) => `  let ${l.name} = ${printNode(l.value)}${end}`);
  return [`${head} {`, ...lines, `  return ${printExpr(f.body)}${end}`, '}'].join('\n');
}

export function printProgram(p: Program): string {
  return p.functions.map(printFunction).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Interpreter, generic over the number domain (plain numbers or duals).

export interface Domain<T> {
  num(v: number): T;
  value(t: T): number;
  neg(a: T): T;
  binary(op: BinaryOp, a: T, b: T): T;
  builtin(name: string, args: T[]): T;
}

export const numberDomain: Domain<number> = {
  num: (v) => v,
  value: (t) => t,
  neg: (a) => -a,
  binary: (op, a, b) => (op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : Math.pow(a, b)),
  builtin: (name, args) => mathBuiltins[name](...args),
};

/** The exact built-ins: their results are never rounded, so a nudge of them models no rounding. */
const EXACT_BUILTINS = new Set(['abs', 'sign', 'floor', 'ceil', 'min', 'max']);
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter

/** Whether a·b is exactly p (Dekker's error-free product; false where the split itself overflows). */
function exactProduct(a: number, b: number, p: number): boolean {
  const ca = SPLIT * a;
  const cb = SPLIT * b;
  if (!Number.isFinite(ca) || !Number.isFinite(cb) || !Number.isFinite(p)) return false;
  const ah = ca - (ca - a);
  const al = a - ah;
  const bh = cb - (cb - b);
  const bl = b - bh;
  // Below 2^-969 the low parts' products underflow and the test is not exact: call it rounded.
  if (p !== 0 && Math.abs(p) < 2 ** -969) return false;
  return ah * bh - p + ah * bl + al * bh + al * bl === 0;
}

/** Whether a + b is exactly s (Knuth's error-free sum). */
function exactSum(a: number, b: number, s: number): boolean {
  if (!Number.isFinite(s)) return false;
  const bb = s - a;
  return a - (s - bb) + (b - bb) === 0;
}

const bits = new DataView(new ArrayBuffer(8));
/** A result using at most 26 of the 53 significant bits (2.25, 8, 0.5): taken to be exact. */
function short(v: number): boolean {
  bits.setFloat64(0, v);
  return (bits.getUint32(4) & 0x7ffffff) === 0; // the low 27 of the 52 fraction bits
}

/** Whether the operation that gave `v` rounded (as far as cheaply known). Exact results are not nudged. */
function rounded(op: BinaryOp | string, args: number[], v: number): boolean {
  if (v === 0 || !Number.isFinite(v) || Number.isNaN(v)) return false;
  const [a, b] = args;
  switch (op) {
    case '+': return !exactSum(a, b, v);
    case '-': return !exactSum(a, -b, v);
    case '*': return !exactProduct(a, b, v);
    case '/': return !exactProduct(v, b, a);
    case '^': return b !== 0 && b !== 1 && !short(v);
    default: return !EXACT_BUILTINS.has(op) && !short(v);
  }
}

/**
 * The plain-number domain with every rounded operation's result moved by a relative `eps`, up or
 * down by a fixed pseudo-random pattern (`pattern` picks it; 0: all up): a model of "the same program
 * evaluated in another correct order", which rounds each operation differently by up to an ulp.
 * Exact operations (x − x, 2·0.5, floor, a result of few bits) are left alone, so exact zeros and
 * branch decisions on them stay as they are. Where the result moves by more than the value
 * comparison's tolerance under these nudges, the program is ill-conditioned at that point with
 * respect to rounding, not only to its arguments: `sin(f(2)^(π + 1))` with f(2) = 6.14^4 ≈ 1.4e3
 * and the power ≈ 1e13, where x^4 computed as (x·x)² (the compiler) or by Math.pow (this
 * interpreter) differ by an ulp and sin of the result by 0.0025 (fuzz seed 654188507), although
 * the arguments, all 0, do not reach that call.
 */
export function nudgedDomain(pattern: number, eps = 2 ** -44): Domain<number> {
  let state = (pattern * 2654435761 + 1) >>> 0 || 1;
  const sign = () => {
    // xorshift32: a fixed, reproducible sequence of signs.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return pattern === 0 || state & 1 ? 1 : -1;
  };
  const nudge = (op: string, args: number[], v: number) => (rounded(op, args, v) ? v * (1 + sign() * eps) : v);
  return {
    num: (v) => v,
    value: (t) => t,
    neg: (a) => -a,
    binary: (op, a, b) => nudge(op, [a, b], numberDomain.binary(op, a, b)),
    builtin: (name, args) => nudge(name, args, mathBuiltins[name](...args)),
  };
}

const dualOps = { '+': add, '-': sub, '*': mul, '/': div, '^': pow };
export const dualDomain: Domain<Dual> = {
  num: (v) => constant(v),
  value: (t) => t.v,
  neg,
  binary: (op, a, b) => dualOps[op](a, b),
  builtin: (name, args) => builtins[name](...args),
};

/**
 * How a call passes arguments to a callee's `const` parameters: 'propagate' (default) keeps their
 * derivatives (the exact chain rule); 'stop' cuts them, as if the argument were a constant.
 */
export type ConstCallMode = 'propagate' | 'stop';
export interface EvalOptions {
  constCalls?: ConstCallMode;
  /**
   * Called, in evaluation order, with every discrete choice: each `if` condition's outcome, the
   * results of floor/ceil/sign, the sign of abs's argument and which argument min/max select.
   * Equal traces at nearby points mean no kink or jump between them (for finite differences).
   */
  onChoice?: (choice: boolean | number) => void;
}

interface Scope<T> { nums: Map<string, T>; conds: Map<string, boolean> }

export function findFunction(p: Program, name: string): FnDef {
  const f = p.functions.find((g) => g.name === name);
  if (!f) throw new Error(`no function '${name}'`);
  return f;
}

/** Calls function `name` with already-converted arguments (all parameters, in order). */
export function callFunction<T>(p: Program, dom: Domain<T>, name: string, args: T[], opts: EvalOptions = {}): T {
  const f = findFunction(p, name);
  if (args.length !== f.params.length) throw new Error(`'${name}' takes ${f.params.length} arguments, got ${args.length}`);
  const scope: Scope<T> = { nums: new Map(), conds: new Map() };
  f.params.forEach((param, i) => scope.nums.set(param.name, args[i]));
  for (const l of f.lets) {
    if (isCond(l.value)) scope.conds.set(l.name, evalCond(p, dom, scope, l.value, opts));
    else scope.nums.set(l.name, evalExpr(p, dom, scope, l.value, opts));
  }
  return evalExpr(p, dom, scope, f.body, opts);
}

function evalExpr<T>(p: Program, dom: Domain<T>, s: Scope<T>, e: Expr, opts: EvalOptions): T {
  const ev = (x: Expr) => evalExpr(p, dom, s, x, opts);
  switch (e.kind) {
    case 'num':
      return dom.num(e.value);
    case 'const':
      return dom.num(CONSTANTS[e.name]);
    case 'var': {
      const v = s.nums.get(e.name);
      if (v === undefined) throw new Error(`unbound variable '${e.name}'`);
      return v;
    }
    case 'paren':
      return ev(e.arg);
    case 'unary':
      return e.op === '-' ? dom.neg(ev(e.arg)) : ev(e.arg);
    case 'binary':
      return dom.binary(e.op, ev(e.left), ev(e.right));
    case 'if': {
      const taken = evalCond(p, dom, s, e.cond, opts);
      opts.onChoice?.(taken);
      return taken ? ev(e.then) : ev(e.else);
    }
    case 'call': {
      const args = e.args.map(ev);
      const user = p.functions.find((f) => f.name === e.name);
      if (!user) {
        if (opts.onChoice) traceBuiltin(e.name, args.map(dom.value), opts.onChoice);
        return dom.builtin(e.name, args);
      }
      const passed = opts.constCalls === 'stop' ? args.map((a, i) => (user.params[i].isConst ? dom.num(dom.value(a)) : a)) : args;
      return callFunction(p, dom, e.name, passed, opts);
    }
  }
}

function evalCond<T>(p: Program, dom: Domain<T>, s: Scope<T>, c: Cond, opts: EvalOptions): boolean {
  const num = (x: Expr) => dom.value(evalExpr(p, dom, s, x, opts));
  const ev = (x: Cond) => evalCond(p, dom, s, x, opts);
  switch (c.kind) {
    case 'cmp':
      return compare(c.op, num(c.left), num(c.right));
    case 'and':
      return ev(c.left) && ev(c.right);
    case 'or':
      return ev(c.left) || ev(c.right);
    case 'not':
      return !ev(c.arg);
    case 'cparen':
      return ev(c.arg);
    case 'cvar': {
      const v = s.conds.get(c.name);
      if (v === undefined) throw new Error(`unbound condition '${c.name}'`);
      return v;
    }
  }
}

function traceBuiltin(name: string, xs: number[], onChoice: (choice: boolean | number) => void): void {
  if (name === 'floor' || name === 'ceil' || name === 'sign') onChoice(mathBuiltins[name](xs[0]));
  else if (name === 'abs') onChoice(Math.sign(xs[0]));
  else if (name === 'min') onChoice(xs[0] <= xs[1]);
  else if (name === 'max') onChoice(xs[0] >= xs[1]);
}

function compare(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '==': return a === b;
    case '!=': return a !== b;
  }
}

/** The value of function `name` at `args` (one number per parameter, const ones included). */
export function evaluate(p: Program, name: string, args: number[], opts: EvalOptions = {}): number {
  return callFunction(p, numberDomain, name, args, opts);
}

/**
 * Whether the value at `args` survives the rounding of its operations: evaluated three times with
 * every rounded result nudged (`nudgedDomain`: all up, then two mixed patterns, by 2^-44 each,
 * 512 times the unit roundoff 2^-53), it stays within `rtol` (relative, plus `atol`) of the plain
 * evaluation. Two correct evaluation orders round each operation differently by at most 2^-53, so
 * where these nudges move the result by less than `rtol`, they differ by about `rtol`/512.
 */
export function roundingStable(p: Program, name: string, args: number[], rtol: number, atol: number): boolean {
  const want = evaluate(p, name, args);
  const close = (x: number) =>
    (Number.isNaN(x) && Number.isNaN(want)) || x === want || Math.abs(x - want) <= rtol * Math.max(Math.abs(x), Math.abs(want)) + atol;
  return [0, 1, 2].every((pattern) => close(callFunction(p, nudgedDomain(pattern), name, args)));
}

/**
 * Value and gradient with respect to the non-const parameters, in parameter order, and for each
 * entry the sum of the magnitudes of the chain-rule terms it adds up (`Dual.m`): the size of what
 * cancelled, which two correct evaluation orders' rounding residues are relative to.
 */
export function gradient(p: Program, name: string, args: number[], opts: EvalOptions = {}): { value: number; gradient: number[]; scale: number[] } {
  const f = findFunction(p, name);
  const n = f.params.filter((q) => !q.isConst).length;
  let k = 0;
  const duals = f.params.map((q, i) => (q.isConst ? constant(args[i], n) : variable(args[i], k++, n)));
  const r = callFunction(p, dualDomain, name, duals, opts);
  return { value: r.v, gradient: r.gradient(n), scale: r.scale(n) };
}

/** Names of the parameters the gradient is taken with respect to, in order. */
export const differentiatedParams = (f: FnDef): string[] => f.params.filter((q) => !q.isConst).map((q) => q.name);

// ---------------------------------------------------------------------------------------------
// Validation: the rules a well-formed program follows (used to check the generator).

export function validateProgram(p: Program): string[] {
  const errors: string[] = [];
  const fns = new Map(p.functions.map((f) => [f.name, f]));
  const reserved = (n: string) => KEYWORDS.includes(n) || n in CONSTANTS || BUILTIN_NAMES.includes(n);
  const validName = (n: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !reserved(n);
  if (fns.size !== p.functions.length) errors.push('duplicate function names');
  const calls = new Map<string, Set<string>>();
  for (const f of p.functions) {
    const where = `in ${f.name}:`;
    if (!validName(f.name)) errors.push(`${where} bad function name`);
    if (f.params.every((q) => q.isConst)) errors.push(`${where} no differentiated parameter`);
    const nums = new Set<string>();
    const conds = new Set<string>();
    const called = new Set<string>();
    calls.set(f.name, called);
    const bind = (name: string, set: Set<string>) => {
      if (!validName(name) || nums.has(name) || conds.has(name) || fns.has(name)) errors.push(`${where} bad or duplicate name '${name}'`);
      set.add(name);
    };
    const expr = (e: Expr): void => {
      switch (e.kind) {
        case 'num': if (!Number.isFinite(e.value)) errors.push(`${where} non-finite number`); return;
        case 'const': return;
        case 'var': if (!nums.has(e.name)) errors.push(`${where} '${e.name}' is not a numeric variable`); return;
        case 'paren': case 'unary': return expr(e.arg);
        case 'binary': expr(e.left); expr(e.right); return;
        case 'if': cond(e.cond); expr(e.then); expr(e.else); return;
        case 'call': {
          const arity = fns.get(e.name)?.params.length ?? builtinArity[e.name];
          if (arity === undefined) errors.push(`${where} unknown function '${e.name}'`);
          else if (arity !== e.args.length) errors.push(`${where} '${e.name}' called with ${e.args.length} args`);
          if (fns.has(e.name)) called.add(e.name);
          e.args.forEach(expr);
        }
      }
    };
    const cond = (c: Cond): void => {
      switch (c.kind) {
        case 'cmp': expr(c.left); expr(c.right); return;
        case 'and': case 'or': cond(c.left); cond(c.right); return;
        case 'not': case 'cparen': return cond(c.arg);
        case 'cvar': if (!conds.has(c.name)) errors.push(`${where} '${c.name}' is not a condition`);
      }
    };
    f.params.forEach((q) => bind(q.name, nums));
    for (const l of f.lets) {
      if (isCond(l.value)) { cond(l.value); bind(l.name, conds); } else { expr(l.value); bind(l.name, nums); }
    }
    expr(f.body);
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name)) return;
    if (visiting.has(name)) { errors.push(`recursion through '${name}'`); return; }
    visiting.add(name);
    calls.get(name)?.forEach(visit);
    visiting.delete(name);
    done.add(name);
  };
  p.functions.forEach((f) => visit(f.name));
  return errors;
}
