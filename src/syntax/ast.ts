import type { Span } from '../diagnostics/span.ts';

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'and' | 'or';
export type UnaryOp = '-' | '+' | 'not';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'logsumexp';
export const reduceOps: ReadonlySet<string> = new Set<ReduceOp>(['sum', 'prod', 'max', 'min', 'logsumexp']);

/** An index variable: `i`, or with an explicit half-open range `i in from..to`. */
export interface Binder {
  readonly name: string;
  readonly span: Span;
  readonly range?: { readonly from: Expr; readonly to: Expr };
}

/** A dimension of an array type: a size name bound from the argument, or a fixed length. */
export type Size = { readonly kind: 'name'; readonly name: string; readonly span: Span } | { readonly kind: 'number'; readonly value: number; readonly span: Span };

export interface ArrayType {
  /** As written: `vec` and `mat` are the kinds the checker accepts. */
  readonly kind: string;
  readonly kindSpan: Span;
  readonly sizes: readonly Size[];
  readonly span: Span;
}

export type Expr =
  | { readonly kind: 'number'; readonly value: number; readonly span: Span }
  /** `x[i]`, `A[i, j]`: an element of an array. */
  | { readonly kind: 'index'; readonly array: string; readonly arraySpan: Span; readonly indices: readonly Expr[]; readonly span: Span }
  /** `g(x)[i]`, `[a, b][k]`: an element of an array that is not a name (a call's result, a list). */
  | { readonly kind: 'element'; readonly base: Expr; readonly indices: readonly Expr[]; readonly span: Span }
  /** `[e1, e2, e3]`, `[[a, b], [c, d]]`: an array literal (a vec, or a mat when its items are lists). */
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  /** `sum(i: body)`, `max(i in 0..n: body)`... */
  | { readonly kind: 'reduce'; readonly op: ReduceOp; readonly opSpan: Span; readonly binder: Binder; readonly body: Expr; readonly span: Span }
  | { readonly kind: 'name'; readonly name: string; readonly span: Span }
  | { readonly kind: 'call'; readonly callee: string; readonly calleeSpan: Span; readonly args: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly span: Span; readonly opSpan: Span }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly span: Span; readonly opSpan: Span }
  | { readonly kind: 'if'; readonly condition: Expr; readonly then: Expr; readonly else: Expr; readonly span: Span }
  /**
   * `grad(f, x)(a, b)`, `jvp(f, x)(a, b, v)`, `jacobian(f, x)(a, b)`: a derivative of the user
   * function `f` (with respect to its parameter `x`; `grad(f)` for f's only differentiated
   * parameter) applied to arguments (for `jvp`, f's arguments and then the direction). `transform`
   * and `of` are as written (`grad`; `f, x`): the checker says what they may be. Only `args` are
   * evaluated.
   */
  | { readonly kind: 'derivative'; readonly transform: string; readonly transformSpan: Span; readonly of: readonly Expr[]; readonly ofSpan: Span; readonly args: readonly Expr[]; readonly span: Span };

/** The derivatives the language has: `grad(f, x)(args)`, `jvp(f, x)(args, v)`, `jacobian(f, x)(args)`. */
export const derivativeTransforms: ReadonlySet<string> = new Set(['grad', 'jvp', 'jacobian']);

/**
 * Whether a derivative's value is an array: grad's for an array parameter x, jvp's for a function
 * returning an array (the tangent has the value's shape), jacobian's unless f and x are both numbers.
 */
export function isArrayDerivative(e: Extract<Expr, { kind: 'derivative' }>, functions: ReadonlyMap<string, FunctionDecl>, seen = new Set<string>()): boolean {
  const decided = derivativeResult(e, functions);
  // (`seen`: returnsArray's walk, finite before the checker refuses recursion.)
  return typeof decided === 'boolean' ? decided : returnsArray(decided, functions, seen);
}

/**
 * Whether a derivative's value is an array, where its form decides (a grad: its parameter is an
 * array; a vjp or jacobian of an array parameter: yes); otherwise the function whose result
 * decides (a jvp, or an array result of a number parameter), for returnsArray to follow.
 */
function derivativeResult(e: Extract<Expr, { kind: 'derivative' }>, functions: ReadonlyMap<string, FunctionDecl>): boolean | FunctionDecl {
  const target = derivativeTarget(e, functions);
  if (target === undefined) return false;
  const arrayParam = target.fn.params[target.param].type !== undefined;
  if (e.transform === 'grad') return arrayParam;
  if (e.transform !== 'jvp' && arrayParam) return true;
  return target.fn;
}

/** The function a derivative differentiates, as written (`f` in `grad(f, x)`), if it is a name. */
export function differentiatedName(e: Extract<Expr, { kind: 'derivative' }>): string | undefined {
  return e.of[0]?.kind === 'name' ? e.of[0].name : undefined;
}

/** How many arguments a derivative of f takes: f's, and for `jvp` the direction after them. */
export function derivativeArity(transform: string, fn: FunctionDecl): number {
  return fn.params.length + (transform === 'jvp' ? 1 : 0);
}

/** What `grad(f, x)` (`jvp`, `jacobian`) names once checked: the function and the parameter differentiated. */
export function derivativeTarget(e: Extract<Expr, { kind: 'derivative' }>, functions: ReadonlyMap<string, FunctionDecl>): { readonly fn: FunctionDecl; readonly param: number } | undefined {
  const [f, x] = e.of;
  const fn = f?.kind === 'name' ? functions.get(f.name) : undefined;
  if (!fn || !derivativeTransforms.has(e.transform) || e.of.length > 2) return undefined;
  if (x === undefined) {
    const differentiated = fn.params.flatMap((p, k) => (p.isConst ? [] : [k]));
    return differentiated.length === 1 ? { fn, param: differentiated[0] } : undefined;
  }
  const param = x.kind === 'name' ? fn.params.findIndex((p) => p.name === x.name) : -1;
  return param >= 0 ? { fn, param } : undefined;
}

export type Statement =
  /** `let x = e`; with `indices`, an array defined by index notation: `let z[k, j] = e`. */
  | { readonly kind: 'let'; readonly name: string; readonly nameSpan: Span; readonly indices?: readonly Binder[]; readonly value: Expr; readonly span: Span }
  | { readonly kind: 'return'; readonly value: Expr; readonly span: Span }
  /** `var x = e`: a variable that later statements may assign; with `type`, an array variable. */
  | { readonly kind: 'var'; readonly name: string; readonly nameSpan: Span; readonly type?: ArrayType; readonly value: Expr; readonly span: Span }
  /** `x = e`; with `indices`, an update of array elements: `y[i] = e`, `y[j] = e`. */
  | { readonly kind: 'assign'; readonly name: string; readonly nameSpan: Span; readonly indices?: readonly Expr[]; readonly value: Expr; readonly span: Span }
  /** `for i in a..b { body }`: i = a, a + 1, ..., b - 1 (the parser accepts a missing range; the checker refuses it). */
  | { readonly kind: 'for'; readonly binder: Binder; readonly body: readonly Statement[]; readonly span: Span }
  /** `while cond max N { body }`: `limit` is N (absent when the user left it out: an error). */
  | { readonly kind: 'while'; readonly condition: Expr; readonly limit?: Expr; readonly keywordSpan: Span; readonly body: readonly Statement[]; readonly span: Span }
  /** `if cond { then } else { else }` as a statement (an `else if` is an `if` alone in `else`). */
  | { readonly kind: 'if'; readonly condition: Expr; readonly then: readonly Statement[]; readonly else: readonly Statement[]; readonly span: Span };

/**
 * The indices of an element update `y[i, j] = e` that bind a fresh index variable: a plain name
 * not yet defined (`isDefined` is the caller's scope, constants included), at its first
 * occurrence. The update runs over all values of those; the other indices are fixed positions.
 */
export function freshIndices(indices: readonly Expr[], isDefined: (name: string) => boolean): (Binder | undefined)[] {
  const seen = new Set<string>();
  return indices.map((x) => {
    if (x.kind !== 'name' || isDefined(x.name) || seen.has(x.name)) return undefined;
    seen.add(x.name);
    return { name: x.name, span: x.span };
  });
}

/** The expressions a statement evaluates itself (not those of the statements nested in it). */
export function statementExprs(s: Statement): readonly Expr[] {
  switch (s.kind) {
    case 'let':
      return [...(s.indices ?? []).flatMap((b) => (b.range ? [b.range.from, b.range.to] : [])), s.value];
    case 'return':
    case 'var':
      return [s.value];
    case 'assign':
      return [...(s.indices ?? []), s.value];
    case 'for':
      return s.binder.range ? [s.binder.range.from, s.binder.range.to] : [];
    case 'while':
      return s.limit ? [s.condition, s.limit] : [s.condition];
    case 'if':
      return [s.condition];
    default:
      return assertNever(s);
  }
}

/** The blocks nested in a statement (a loop's body, an if's branches). */
export function nestedBlocks(s: Statement): readonly (readonly Statement[])[] {
  switch (s.kind) {
    case 'for':
    case 'while':
      return [s.body];
    case 'if':
      return [s.then, s.else];
    default:
      return [];
  }
}

/** Every statement of a block, nested ones included, in source order (without recursion). */
export function allStatements(body: readonly Statement[]): Statement[] {
  const out: Statement[] = [];
  const stack: Statement[] = [...body].reverse();
  while (stack.length > 0) {
    const s = stack.pop()!;
    out.push(s);
    const blocks = nestedBlocks(s);
    for (let k = blocks.length - 1; k >= 0; k--) for (let i = blocks[k].length - 1; i >= 0; i--) stack.push(blocks[k][i]);
  }
  return out;
}

/** Whether a function uses statements with state: `var`, assignment, loops or `if` blocks. */
export function hasStatefulCode(fn: FunctionDecl): boolean {
  return fn.body.some((s) => s.kind !== 'let' && s.kind !== 'return');
}

export interface Param {
  readonly name: string;
  readonly span: Span;
  readonly isConst: boolean;
  /** `vec[n]` or `mat[m, n]`; a scalar has none. */
  readonly type?: ArrayType;
}

export interface FunctionDecl {
  readonly kind: 'function';
  readonly name: string;
  readonly nameSpan: Span;
  readonly params: readonly Param[];
  /** An expression-bodied `fn f(x) = e` is stored as the block `{ return e }`. */
  readonly body: readonly Statement[];
  /** The closing brace of a block, or the end of the expression: where a missing `return` is reported. */
  readonly endSpan: Span;
  readonly span: Span;
}

export interface Program {
  readonly functions: readonly FunctionDecl[];
}


export type BinaryExpr = Extract<Expr, { kind: 'binary' }>;

/**
 * A left-leaning chain `((a + b) - c) * d` as its innermost left operand and its binary nodes from
 * the inside out. Passes walk chains with this loop, so a sum of any length costs no stack; only
 * right operands (and other children) are visited recursively.
 */
export function leftSpine(e: BinaryExpr): { readonly base: Expr; readonly chain: readonly BinaryExpr[] } {
  const chain: BinaryExpr[] = [];
  let current: Expr = e;
  while (current.kind === 'binary') {
    chain.push(current);
    current = current.left;
  }
  return { base: current, chain: chain.reverse() };
}

/** The direct subexpressions of an expression, for walks that must not recurse. */
export function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'number':
    case 'name':
      return [];
    case 'call':
      return e.args;
    case 'index':
      return e.indices;
    case 'element':
      return [e.base, ...e.indices];
    case 'list':
      return e.items;
    case 'reduce':
      return e.binder.range ? [e.binder.range.from, e.binder.range.to, e.body] : [e.body];
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'if':
      return [e.condition, e.then, e.else];
    case 'derivative':
      return e.args;
    default:
      return assertNever(e);
  }
}

/** A fully parenthesised rendering for tests and debugging: `1+2*3` → `(1 + (2 * 3))`. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'name':
      return e.name;
    case 'call':
      return `${e.callee}(${e.args.map(printExpr).join(', ')})`;
    case 'index':
      return `${e.array}[${e.indices.map(printExpr).join(', ')}]`;
    case 'element':
      return `${printExpr(e.base)}[${e.indices.map(printExpr).join(', ')}]`;
    case 'list':
      return `[${e.items.map(printExpr).join(', ')}]`;
    case 'reduce': {
      const r = e.binder.range;
      return `${e.op}(${e.binder.name}${r ? ` in ${printExpr(r.from)}..${printExpr(r.to)}` : ''}: ${printExpr(e.body)})`;
    }
    case 'unary':
      return e.op === 'not' ? `(not ${printExpr(e.operand)})` : `(${e.op}${printExpr(e.operand)})`;
    case 'binary':
      return `(${printExpr(e.left)} ${e.op} ${printExpr(e.right)})`;
    case 'if':
      return `(if ${printExpr(e.condition)} then ${printExpr(e.then)} else ${printExpr(e.else)})`;
    case 'derivative':
      return `${e.transform}(${e.of.map(printExpr).join(', ')})(${e.args.map(printExpr).join(', ')})`;
    default:
      return assertNever(e);
  }
}


export function assertNever(x: never): never {
  throw new Error(`unexpected node ${JSON.stringify(x)}`);
}

/**
 * Whether a function or any function it calls (directly or not) satisfies `test`, which sees each
 * function once along with every expression of its body (statement values, not the ranges of array lets).
 */
export function anyReachable(
  fn: FunctionDecl,
  functions: ReadonlyMap<string, FunctionDecl>,
  test: (fn: FunctionDecl) => boolean,
  testExpr: (e: Expr) => boolean = () => false,
  seen = new Set<string>(),
): boolean {
  // Depth first, each callee entered where its call is met, with a stack of our own (a chain of
  // 10,000 functions each calling the last is 10,000 frames here, not JavaScript's).
  const frames: { statements: readonly Statement[]; next: number; exprs: Expr[] }[] = [];
  const enter = (f: FunctionDecl): boolean => {
    seen.add(f.name);
    if (test(f)) return true;
    frames.push({ statements: allStatements(f.body), next: 0, exprs: [] });
    return false;
  };
  if (seen.has(fn.name)) return false;
  if (enter(fn)) return true;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1];
    if (frame.exprs.length === 0) {
      if (frame.next === frame.statements.length) {
        frames.pop();
        continue;
      }
      const s = frame.statements[frame.next++];
      frame.exprs = s.kind === 'let' ? [s.value] : [...statementExprs(s)];
      continue;
    }
    const e = frame.exprs.pop()!;
    if (testExpr(e)) return true;
    frame.exprs.push(...childrenOf(e));
    const name = e.kind === 'call' ? e.callee : e.kind === 'derivative' ? differentiatedName(e) : undefined;
    const callee = name === undefined ? undefined : functions.get(name);
    if (callee && !seen.has(callee.name) && enter(callee)) return true;
  }
  return false;
}

/** The names a function calls (user functions or built-ins), from every expression of its body. */
export function calledNames(fn: FunctionDecl): Set<string> {
  const names = new Set<string>();
  for (const s of allStatements(fn.body)) {
    for (const stack: Expr[] = [...statementExprs(s)]; stack.length > 0; ) {
      const e = stack.pop()!;
      if (e.kind === 'call') names.add(e.callee);
      const differentiated = e.kind === 'derivative' ? differentiatedName(e) : undefined;
      if (differentiated !== undefined) names.add(differentiated);
      stack.push(...childrenOf(e));
    }
  }
  return names;
}

/**
 * Whether a function returns an array: its `return` names an array parameter or array `let`, is a
 * list, or calls a function that returns an array. (Recursion is an error found by the checker;
 * `seen` keeps this walk finite before it.)
 */
export function returnsArray(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>, seen = new Set<string>()): boolean {
  // Asked at every call of a function (call-graph.ts, lower.ts), so each answer is kept per table
  // (checked tables are not changed afterwards): every function on the walk has the answer of
  // its end. The walk is a loop, not recursion: `return g(x)` follows g, and such chains may be long.
  const memo = seen.size === 0 ? returnsArrayMemo(functions) : undefined;
  const path: FunctionDecl[] = [];
  const answer = (a: boolean) => {
    if (memo) for (const f of path) memo.set(f, a);
    return a;
  };
  for (let f: FunctionDecl | undefined = fn; f !== undefined; ) {
    const known = memo?.get(f);
    if (known !== undefined) return answer(known);
    const last: Statement | undefined = f.body[f.body.length - 1];
    if (last?.kind !== 'return' || seen.has(f.name)) return answer(false);
    seen.add(f.name);
    path.push(f);
    const e: Expr = last.value;
    if (e.kind === 'list') return answer(true);
    // (A name: an array parameter, array let or array variable; those declared in blocks end with
    // them, so the function's own statements are the ones to look at.)
    if (e.kind === 'name') return answer(f.params.some((p) => p.name === e.name && p.type) || f.body.some((s) => (s.kind === 'let' && s.name === e.name && s.indices) || (s.kind === 'var' && s.name === e.name && s.type)));
    if (e.kind === 'derivative') {
      // (isArrayDerivative, its returnsArray followed here.)
      const decided = derivativeResult(e, functions);
      if (typeof decided === 'boolean') return answer(decided);
      f = decided;
      continue;
    }
    f = e.kind === 'call' ? functions.get(e.callee) : undefined;
  }
  return answer(false);
}

const returnsArrayMemos = new WeakMap<ReadonlyMap<string, FunctionDecl>, Map<FunctionDecl, boolean>>();
function returnsArrayMemo(functions: ReadonlyMap<string, FunctionDecl>): Map<FunctionDecl, boolean> {
  let memo = returnsArrayMemos.get(functions);
  if (!memo) returnsArrayMemos.set(functions, (memo = new Map()));
  return memo;
}

/**
 * Where an index variable is itself an index of an array (`x[i]`, `A[k, i]`, `g(x)[i]`), in source
 * order: what gives it its range when none is written (the checker and lowering both read it).
 * `array` is the array's name, or the expression whose value is indexed (a call, a list).
 */
export function directIndexUses(name: string, body: Expr): { readonly array: string | Expr; readonly dimension: number; readonly index: Expr }[] {
  const uses: { array: string | Expr; dimension: number; index: Expr }[] = [];
  for (const stack: Expr[] = [body]; stack.length > 0; ) {
    const e = stack.pop()!;
    if (e.kind === 'index' || e.kind === 'element') {
      const array = e.kind === 'index' ? e.array : e.base;
      e.indices.forEach((index, dimension) => {
        if (index.kind === 'name' && index.name === name) uses.push({ array, dimension, index });
      });
    }
    stack.push(...childrenOf(e));
  }
  return uses.sort((a, b) => a.index.span.start - b.index.span.start);
}
