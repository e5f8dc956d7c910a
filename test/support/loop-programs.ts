import fc from 'fast-check';
import { expect } from 'vitest';
import { compileSync, formatDiagnostics } from '../../src/index.ts';
import { instantiate } from './instantiate.ts';

/**
 * Random programs with loops that carry state, for the property test of loops
 * (test/loops-properties.test.ts, and test/fuzz/loops.fuzz.ts for `npm run fuzz`):
 *
 *   fn f(p, q, const n) {
 *     var s0 = <e>; var s1 = <e>              (1–3 state variables)
 *     for t in 0..n {   or   while <c> max n {
 *       let a = <e>                          (reads the state, the parameters, t)
 *       s0 = <e>                             (updates in order: later ones see earlier ones)
 *       if <c> { s1 = <e> } else { s1 = <e> }
 *       for u in 0..2 { s2 = <e> }           (sometimes a nested loop)
 *       y[i] = <e>   y[t - 3 * floor(t / 3)] = <e>   let z[i] = <e>   (array state, sometimes:
 *                                            element-wise, one element, an array made in the body;
 *                                            in an if, in a nested loop)
 *       y = rr(y, <e>)                       (the whole array, from a call returning an array)
 *       for u in 0..tanh(<e>) + 2 { ... }    (a range computed from the state, arrays in it too)
 *     }
 *     return <e>
 *   }
 *
 * where <e> may also read `rr(y, <e>)[k]` (a function with a loop of its own returning an array:
 * in statements, element-wise ones too, and in the headers of the `while` and the `if`s, where the
 * array is made again per test), a list's element `[<e>, <e>][k]`, `grad(gg, u)(<e>, <e>)` (a
 * gradient inside the loop), and, where there is array state, `grad(ga, y)(y, <e>)[k]` (the
 * gradient of an array parameter, an array made by a sweep of its own once per iteration, in
 * element-wise statements too) and `grad(ga, a)(y, <e>)` (a number, by a sweep over arrays), with
 *
 *   fn rr(y: vec[3], a) { var z: vec[3] = y; for k in 0..2 { z[i] = tanh(z[i] * a + z[2 - i]) }; return z }
 *   fn gg(u, v) = sin(u) * v                 (∂/∂u = cos(u) · v)
 *   fn ga(y: vec[3], a) = sum(i: sin(y[i] * a))   (∂/∂y_k = cos(y_k·a)·a, ∂/∂a = Σ cos(y_i·a)·y_i)
 *
 * written before f when the program uses them.
 *
 * Every update is squashed (tanh, sin, atan) so values stay bounded whatever the trip count, and
 * finite differences mean something. Each program comes with an independent evaluator of the same
 * tree (plain JavaScript loops), the value oracle.
 */

type Expr =
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*'; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'fn'; readonly f: 'sin' | 'cos' | 'tanh' | 'atan'; readonly a: Expr }
  /** An element of the array state y: y[0..2], y[i] and y[2 - i] (element-wise), or the index i itself. */
  | { readonly k: 'elem'; readonly at: 0 | 1 | 2 | 'i' | 'rev' | 'index' }
  /** `rr(y, arg)[at]`: an element of the array a call returns (computed once, before its statement or test). */
  | { readonly k: 'call'; readonly arg: Expr; readonly at: 0 | 1 | 2 | 'i' | 'rev' }
  /** `[a, b][at]`: an element of a list. */
  | { readonly k: 'list'; readonly items: readonly [Expr, Expr]; readonly at: 0 | 1 }
  /** `grad(gg, u)(a, b)`, which is cos(a) · b. */
  | { readonly k: 'grad'; readonly a: Expr; readonly b: Expr }
  /** `grad(ga, y)(y, arg)[at]`, or with no `at` `grad(ga, a)(y, arg)` (see ga above). */
  | { readonly k: 'agrad'; readonly arg: Expr; readonly at?: 0 | 1 | 2 | 'i' | 'rev' };
interface Cond {
  readonly op: '<' | '>';
  readonly a: Expr;
  readonly b: Expr;
}
type Stmt =
  | { readonly k: 'let'; readonly name: string; readonly value: Expr }
  | { readonly k: 'set'; readonly name: string; readonly value: Expr }
  | { readonly k: 'if'; readonly c: Cond; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] }
  /** `for index in 0..count`, or `0..tanh(bound) + 2` (2 or 3 iterations, from the state) when there is a bound. */
  | { readonly k: 'for'; readonly index: string; readonly count: number; readonly bound?: Expr; readonly body: readonly Stmt[] }
  /** `y = rr(y, value)`: the whole array state, from a call returning an array. */
  | { readonly k: 'whole'; readonly value: Expr }
  /** `y[i] = value`: every element at once. */
  | { readonly k: 'all'; readonly value: Expr }
  /** `y[j] = value`, j = index mod 3 (an index variable or t): one element, in place. */
  | { readonly k: 'one'; readonly index: string; readonly value: Expr }
  /** `let z[i] = value` then `y[i] = tanh(y[i] + z[2 - i])`: an array made in the loop body. */
  | { readonly k: 'made'; readonly value: Expr };

export interface LoopProgram {
  readonly state: readonly { readonly name: string; readonly init: Expr }[];
  /** Array state `var y: vec[3] = init` (every element), if the program has one. */
  readonly array?: Expr;
  readonly loop: { readonly kind: 'for' } | { readonly kind: 'while'; readonly c: Cond };
  readonly body: readonly Stmt[];
  readonly result: Expr;
}

export interface LoopCase {
  readonly program: LoopProgram;
  readonly p: number;
  readonly q: number;
  readonly n: number;
}

const squash = ['tanh', 'sin', 'atan'] as const;

type At = Extract<Expr, { k: 'elem' }>['at'];

/**
 * What an expression may read besides names and numbers: lists and gradients (in the loop and
 * after it), calls of rr (where the array state y exists).
 */
interface Reads {
  readonly lists?: boolean;
  readonly gradients?: boolean;
  readonly calls?: boolean;
  /** grad(ga, y)(y, …)[k] and grad(ga, a)(y, …), where there is array state. */
  readonly arrayGradients?: boolean;
  /** Inside an element-wise statement (a list's items there too, computed before it). */
  readonly perIndex?: boolean;
}

function exprArb(names: readonly string[], depth: number, elems: readonly At[] = [], reads: Reads = {}): fc.Arbitrary<Expr> {
  const leaf: fc.Arbitrary<Expr> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...names).map((name): Expr => ({ k: 'var', name })) },
    { weight: 1, arbitrary: fc.integer({ min: -20, max: 20 }).map((v): Expr => ({ k: 'num', v: v / 10 })) },
    ...(elems.length > 0 ? [{ weight: 2, arbitrary: fc.constantFrom(...elems).map((at): Expr => ({ k: 'elem', at })) }] : []),
  );
  if (depth <= 0) return leaf;
  const perIndex = reads.perIndex === true || elems.includes('i');
  if (perIndex) reads = { ...reads, perIndex };
  const sub = exprArb(names, depth - 1, elems, reads);
  // A list's items and a call's argument are computed before their statement: never the index i
  // of an element-wise statement (AD6044); the element they pick may be.
  const fixed = elems.filter((at): at is 0 | 1 | 2 => typeof at === 'number');
  const before = exprArb(names, depth - 1, fixed, reads);
  const picks = elems.filter((at): at is 0 | 1 | 2 | 'i' | 'rev' => at !== 'index');
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('bin' as const), op: fc.constantFrom('+' as const, '-' as const, '*' as const), a: sub, b: sub }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('fn' as const), f: fc.constantFrom('sin' as const, 'cos' as const, 'tanh' as const, 'atan' as const), a: sub }) },
    ...(reads.lists ? [{ weight: 1, arbitrary: fc.record({ k: fc.constant('list' as const), items: fc.tuple(before, before), at: fc.constantFrom(0 as const, 1 as const) }) }] : []),
    ...(reads.gradients ? [{ weight: 1, arbitrary: fc.record({ k: fc.constant('grad' as const), a: sub, b: sub }) }] : []),
    ...(reads.calls && picks.length > 0 ? [{ weight: 1, arbitrary: fc.record({ k: fc.constant('call' as const), arg: before, at: fc.constantFrom(...picks) }) }] : []),
    ...(reads.arrayGradients && picks.length > 0 ? [{ weight: 1, arbitrary: fc.record({ k: fc.constant('agrad' as const), arg: before, at: fc.constantFrom(...picks) }) }] : []),
    // (A number by a sweep over arrays runs once per element in an element-wise statement: AD8007 there.)
    ...(reads.arrayGradients && picks.length > 0 && !perIndex ? [{ weight: 1, arbitrary: fc.record({ k: fc.constant('agrad' as const), arg: before }) }] : []),
  );
}

const squashed = (e: fc.Arbitrary<Expr>) => fc.tuple(fc.constantFrom(...squash), e).map(([f, a]): Expr => ({ k: 'fn', f, a }));
const condArb = (names: readonly string[], elems: readonly At[] = [], reads: Reads = {}) =>
  fc.record({ op: fc.constantFrom('<' as const, '>' as const), a: exprArb(names, 1, elems, reads), b: exprArb(names, 1, elems, reads) });

/** `gradients: false` leaves out grad(gg, u)(…), which `adc explain` does not show (test/support/explain-programs.ts). */
export function loopCaseArb(options: { readonly gradients?: boolean } = {}): fc.Arbitrary<LoopCase> {
  return fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean()).chain(([count, hasArray]) => {
    const stateNames = ['s0', 's1', 's2'].slice(0, count);
    const outer = ['p', 'q'];
    const inLoop = [...outer, ...stateNames, 't', 'a'];
    const fixedElems: At[] = hasArray ? [0, 1, 2] : [];
    // Inside the loop and after it: lists, gradients, and calls of rr when there is array state.
    const reads: Reads = { lists: true, gradients: options.gradients !== false, calls: hasArray, arrayGradients: hasArray && options.gradients !== false };
    // The array state's updates: squashed, each reading the old element and more.
    const elementValue = (names: readonly string[], elems: readonly At[], old: Expr) =>
      fc
        .tuple(fc.constantFrom(...squash), fc.constantFrom('+' as const, '*' as const, '-' as const), exprArb(names, 2, elems, reads))
        .map(([f, op, b]): Expr => ({ k: 'fn', f, a: { k: 'bin', op, a: old, b } }));
    // A nested loop's count: fixed, or 2 or 3 iterations from the state (its range reads arrays too).
    const countArb = (names: readonly string[]) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((count) => ({ count })) },
        { weight: 1, arbitrary: exprArb(names, 1, fixedElems, reads).map((bound) => ({ count: 0, bound })) },
      );
    const arrayStmt = (names: readonly string[], index: string): fc.Arbitrary<Stmt> =>
      fc.oneof(
        { weight: 4, arbitrary: elementValue(names, [0, 1, 2, 'i', 'rev', 'index'], { k: 'elem', at: 'i' }).map((value): Stmt => ({ k: 'all', value })) },
        { weight: 4, arbitrary: elementValue(names, [0, 1, 2], { k: 'elem', at: 0 }).map((value): Stmt => ({ k: 'one', index, value })) },
        { weight: 2, arbitrary: squashed(exprArb(names, 2, [0, 1, 2, 'i', 'rev', 'index'], reads)).map((value): Stmt => ({ k: 'made', value })) },
        { weight: 1, arbitrary: exprArb(names, 1, [0, 1, 2], reads).map((value): Stmt => ({ k: 'whole', value })) },
      );
    const arrayStmts: fc.Arbitrary<Stmt[]> = !hasArray
      ? fc.constant([])
      : fc.array(
          fc.oneof(
            { weight: 3, arbitrary: arrayStmt(inLoop, 't') },
            { weight: 1, arbitrary: fc.record({ c: condArb(inLoop, fixedElems, reads), then: arrayStmt(inLoop, 't').map((x) => [x]), else: fc.array(arrayStmt(inLoop, 't'), { maxLength: 1 }) }).map((r): Stmt => ({ k: 'if', ...r })) },
            { weight: 1, arbitrary: fc.tuple(countArb(inLoop), arrayStmt([...inLoop, 'u'], 'u')).map(([n, x]): Stmt => ({ k: 'for', index: 'u', ...n, body: [x] })) },
          ),
          { minLength: 1, maxLength: 2 },
        );
    // The new value reads the old one (the state feeds itself), and more.
    const update = (name: string, names: readonly string[]) =>
      fc
        .tuple(fc.constantFrom(...squash), fc.constantFrom('+' as const, '*' as const, '-' as const), exprArb(names, 2, fixedElems, reads))
        .map(([f, op, b]): Stmt => ({ k: 'set', name, value: { k: 'fn', f, a: { k: 'bin', op, a: { k: 'var', name }, b } } }));
    const stmtArb = (name: string): fc.Arbitrary<Stmt> =>
      fc.oneof(
        { weight: 3, arbitrary: update(name, inLoop) },
        {
          weight: 1,
          arbitrary: fc.record({ c: condArb(inLoop, fixedElems, reads), then: update(name, inLoop).map((s) => [s]), else: update(name, inLoop).map((s) => [s]) }).map((r): Stmt => ({ k: 'if', ...r })),
        },
        {
          weight: 1,
          arbitrary: fc.tuple(countArb(inLoop), update(name, [...inLoop, 'u'])).map(([n, s]): Stmt => ({ k: 'for', index: 'u', ...n, body: [s] })),
        },
      );
    return fc.record({
      program: fc.record({
        state: fc.tuple(...stateNames.map((name) => squashed(exprArb(outer, 2)).map((init) => ({ name, init })))),
        ...(hasArray && { array: squashed(exprArb(outer, 2)) }),
        loop: fc.oneof(fc.constant({ kind: 'for' as const }), condArb([...outer, ...stateNames], fixedElems, reads).map((c) => ({ kind: 'while' as const, c }))),
        body: fc
          .tuple(squashed(exprArb([...outer, ...stateNames, 't'], 2, fixedElems, reads)), fc.tuple(...stateNames.map(stmtArb)), arrayStmts)
          .map(([a, updates, arrayUpdates]): Stmt[] => [{ k: 'let', name: 'a', value: a }, ...updates, ...arrayUpdates]),
        result: exprArb([...outer, ...stateNames], 2, fixedElems, reads),
      }),
      p: fc.integer({ min: -15, max: 15 }).map((v) => v / 10 + 0.05),
      q: fc.integer({ min: -15, max: 15 }).map((v) => v / 10 + 0.03),
      n: fc.constantFrom(0, 1, 2, 3, 7, 40),
    });
  });
}

// ---- printing and evaluating ----------------------------------------------------------------

function print(e: Expr): string {
  switch (e.k) {
    case 'num':
      return e.v < 0 ? `(${e.v})` : String(e.v);
    case 'var':
      return e.name;
    case 'bin':
      return `(${print(e.a)} ${e.op} ${print(e.b)})`;
    case 'fn':
      return `${e.f}(${print(e.a)})`;
    case 'elem':
      return e.at === 'index' ? 'i' : `y[${e.at === 'i' ? 'i' : e.at === 'rev' ? '2 - i' : e.at}]`;
    case 'call':
      return `rr(y, ${print(e.arg)})[${e.at === 'rev' ? '2 - i' : e.at}]`;
    case 'list':
      return `[${print(e.items[0])}, ${print(e.items[1])}][${e.at}]`;
    case 'grad':
      return `grad(gg, u)(${print(e.a)}, ${print(e.b)})`;
    case 'agrad':
      return e.at === undefined ? `grad(ga, a)(y, ${print(e.arg)})` : `grad(ga, y)(y, ${print(e.arg)})[${e.at === 'rev' ? '2 - i' : e.at}]`;
  }
}

const printCond = (c: Cond) => `${print(c.a)} ${c.op} ${print(c.b)}`;

function printStmts(body: readonly Stmt[], indent: string): string {
  return body
    .map((s) => {
      switch (s.k) {
        case 'let':
          return `${indent}let ${s.name} = ${print(s.value)}\n`;
        case 'set':
          return `${indent}${s.name} = ${print(s.value)}\n`;
        case 'if':
          return `${indent}if ${printCond(s.c)} {\n${printStmts(s.then, indent + '  ')}${indent}} else {\n${printStmts(s.else, indent + '  ')}${indent}}\n`;
        case 'for':
          return `${indent}for ${s.index} in 0..${s.bound ? `tanh(${print(s.bound)}) + 2` : s.count} {\n${printStmts(s.body, indent + '  ')}${indent}}\n`;
        case 'whole':
          return `${indent}y = rr(y, ${print(s.value)})\n`;
        case 'all':
          return `${indent}y[i] = ${print(s.value)}\n`;
        case 'one':
          return `${indent}y[${s.index} - 3 * floor(${s.index} / 3)] = ${print(s.value)}\n`;
        case 'made': {
          // Each array made gets a name of its own (a let's name is not reused in the function).
          const z = `z${made++}`;
          return `${indent}let ${z}[i in 0..3] = ${print(s.value)}\n${indent}y[i] = tanh(y[i] + ${z}[2 - i])\n`;
        }
      }
    })
    .join('');
}

let made = 0;

/** The helpers a program may call: written before f when it does. */
const helpers = {
  rr: 'fn rr(y: vec[3], a) {\n  var z: vec[3] = y\n  for k in 0..2 {\n    z[i] = tanh(z[i] * a + z[2 - i])\n  }\n  return z\n}\n',
  gg: 'fn gg(u, v) = sin(u) * v\n',
  ga: 'fn ga(y: vec[3], a) = sum(i: sin(y[i] * a))\n',
};

/**
 * With `perturbed` (the number of iterations n), f takes a weight per state variable and
 * iteration (w0, w1, w2: vec[n], and wy: mat[n, 3] for the array) added to the state as iteration
 * t begins: at 0 the same values, and the gradient of w0[t] is the adjoint of s0 entering
 * iteration t (see reverseRounding below).
 */
export function printLoopProgram(p: LoopProgram, perturbed?: number): string {
  made = 0;
  const head = p.loop.kind === 'for' ? 'for t in 0..n {' : `while ${printCond(p.loop.c)} max n {`;
  const weights =
    perturbed !== undefined ? p.state.map((_, k) => `, w${k}: vec[${perturbed}]`).join('') + (p.array ? `, wy: mat[${perturbed}, 3]` : '') : '';
  const perturb =
    perturbed !== undefined
      ? p.state.map((s, k) => `    ${s.name} = ${s.name} + w${k}[t]\n`).join('') + (p.array ? '    y[i] = y[i] + wy[t, i]\n' : '')
      : '';
  const state = p.state.map((s) => `  var ${s.name} = ${print(s.init)}\n`).join('') + (p.array ? `  var y: vec[3] = ${print(p.array)}\n` : '');
  // A while has no index: t is a var it counts with.
  const counter = p.loop.kind === 'while' ? '  var t = 0\n' : '';
  const step = p.loop.kind === 'while' ? '    t = t + 1\n' : '';
  const f = `fn f(p, q, const n${weights}) {\n${state}${counter}  ${head}\n${perturb}${printStmts(p.body, '    ')}${step}  }\n  return ${print(p.result)}\n}\n`;
  const used = (name: string) => new RegExp(`\\b${name}\\b`).test(f);
  return (used('rr') ? helpers.rr : '') + (used('gg') ? helpers.gg : '') + (used('ga') ? helpers.ga : '') + f;
}

const fns = { sin: Math.sin, cos: Math.cos, tanh: Math.tanh, atan: Math.atan };

/** The numbers in scope, and the array state y (with the element `i` of an element-wise statement). */
interface Env {
  readonly numbers: Map<string, number>;
  y: number[];
}

function evaluate(e: Expr, env: Env, i = -1): number {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'var':
      return env.numbers.get(e.name)!;
    case 'bin': {
      const a = evaluate(e.a, env, i);
      const b = evaluate(e.b, env, i);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : a * b;
    }
    case 'fn':
      return fns[e.f](evaluate(e.a, env, i));
    case 'elem':
      return e.at === 'index' ? i : env.y[e.at === 'i' ? i : e.at === 'rev' ? 2 - i : e.at];
    case 'call':
      return rr(env.y, evaluate(e.arg, env))[e.at === 'i' ? i : e.at === 'rev' ? 2 - i : e.at];
    case 'list':
      return evaluate(e.items[e.at], env, i);
    case 'grad':
      return Math.cos(evaluate(e.a, env, i)) * evaluate(e.b, env, i);
    case 'agrad': {
      // ga's derivatives, written out (see ga above), as its reverse sweep adds them: ∂/∂a from 0
      // and the last term first, ∂/∂y_k into an array of zeros (README: fGrad adds each adjoint
      // into a 0 it starts from). The values are compared bit for bit, −0 included: 0 + −0 is +0,
      // so ∂/∂y_k at a = −0 is +0, not the bare term's −0 (seed 1596269426).
      const a = evaluate(e.arg, env);
      const y = env.y;
      if (e.at === undefined) return 0 + Math.cos(y[2] * a) * y[2] + Math.cos(y[1] * a) * y[1] + Math.cos(y[0] * a) * y[0];
      const k = e.at === 'i' ? i : e.at === 'rev' ? 2 - i : e.at;
      return 0 + Math.cos(y[k] * a) * a;
    }
  }
}

/** The helper rr: two element-wise steps, each reading z from before it. */
function rr(y: readonly number[], a: number): number[] {
  let z = [...y];
  for (let k = 0; k < 2; k++) z = z.map((v, i) => Math.tanh(v * a + z[2 - i]));
  return z;
}

const holds = (c: Cond, env: Env) => (c.op === '<' ? evaluate(c.a, env) < evaluate(c.b, env) : evaluate(c.a, env) > evaluate(c.b, env));

function run(body: readonly Stmt[], env: Env): void {
  for (const s of body) {
    switch (s.k) {
      case 'let':
      case 'set':
        env.numbers.set(s.name, evaluate(s.value, env));
        break;
      case 'if':
        run(holds(s.c, env) ? s.then : s.else, env);
        break;
      case 'whole':
        env.y = rr(env.y, evaluate(s.value, env));
        break;
      case 'for': {
        const count = s.bound ? Math.ceil(Math.tanh(evaluate(s.bound, env)) + 2) : s.count;
        for (let u = 0; u < count; u++) {
          env.numbers.set(s.index, u);
          run(s.body, env);
        }
        env.numbers.delete(s.index);
        break;
      }
      case 'all':
        // Every element from the array before the statement.
        env.y = env.y.map((_, i) => evaluate(s.value, env, i));
        break;
      case 'one': {
        const value = evaluate(s.value, env);
        env.y[env.numbers.get(s.index)! % 3] = value;
        break;
      }
      case 'made': {
        const z = env.y.map((_, i) => evaluate(s.value, env, i));
        env.y = env.y.map((v, i) => Math.tanh(v + z[2 - i]));
        break;
      }
    }
  }
}

/** The value oracle: the program run as plain JavaScript loops. */
export function evaluateLoopProgram(p: LoopProgram, args: { p: number; q: number; n: number }): number {
  const env: Env = {
    numbers: new Map<string, number>([
      ['p', args.p],
      ['q', args.q],
    ]),
    y: [],
  };
  for (const s of p.state) env.numbers.set(s.name, evaluate(s.init, env));
  if (p.array) env.y = [0, 1, 2].map(() => evaluate(p.array!, env));
  const numbers = env.numbers;
  if (p.loop.kind === 'for') {
    for (let t = 0; t < args.n; t++) {
      numbers.set('t', t);
      run(p.body, env);
    }
  } else {
    numbers.set('t', 0);
    for (let i = 0; i < args.n && holds(p.loop.c, env); i++) {
      run(p.body, env);
      numbers.set('t', numbers.get('t')! + 1);
    }
  }
  return evaluate(p.result, env);
}

// ---- the check -----------------------------------------------------------------------------

export interface LoopStats {
  programs: number;
  compared: number;
  nonsmooth: number;
  /** Gradient entries whose reverse sweep cancels beyond double precision: fJvp compared instead. */
  illConditioned: number;
}

export const newLoopStats = (): LoopStats => ({ programs: 0, compared: 0, nonsmooth: 0, illConditioned: 0 });

type Grad = { value: number; gradient: Record<string, number> };

/**
 * Compiles a random program and checks: the value against the oracle; fGrad's value against f; the
 * gradient against central differences (where f is smooth around the point: differences at two
 * steps agree; where the reverse sweep's own terms cancel beyond double precision, fJvp's tangent
 * against them instead, to the same tolerance); and the checkpointed gradient (checkpointMemory 0), and the one with the states
 * stored but not the iteration's arrays, against the fully stored one, bit for bit.
 */
export function checkLoopCase(c: LoopCase, stats: LoopStats = newLoopStats()): void {
  const source = printLoopProgram(c.program);
  const full = compileSync(source);
  if (full.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(full.diagnostics, source, 'random.ad')}\n${source}`);
  const checkpointed = compileSync(source, { checkpointMemory: 0 });
  // A budget of exactly n·(S + 1) numbers (a snapshot slot holds a state and its iteration
  // number): every state stored, the arrays each iteration makes not kept (src/ad/value-tape.ts),
  // so the reverse sweep recomputes them: the third way, bit for bit too.
  const stateSize = c.program.state.length + (c.program.array ? 3 : 0);
  const statesOnly = compileSync(source, { checkpointMemory: (c.n * (stateSize + 1) * 8) / 2 ** 20 });
  const m = instantiate(full.code);
  const mc = instantiate(checkpointed.code!);
  const ms = instantiate(statesOnly.code!);
  stats.programs++;
  const f = (p: number, q: number) => m.f(p, q, c.n) as number;
  const expected = evaluateLoopProgram(c.program, c);
  // The sign of a zero derivative is not specified (README "Derivatives": fGrad adds into a 0 or
  // assigns, and skips a zero adjoint, the 0·∞ convention): grad(gg, u)(p, 0·(−0.1)) is −0 by the
  // chain rule, and +0 once the compiler knows the adjoint −0 is zero and skips it (seed
  // -1241360018). So where the program takes an in-language gradient, zeros compare unsigned;
  // everywhere else, and between the compiled exports below, bit for bit.
  const unsignedZeros = /\bgrad\(/.test(source);
  const sameValue = (a: number, b: number) => Object.is(a, b) || (unsignedZeros && a === 0 && b === 0);
  expect(sameValue(f(c.p, c.q), expected), `${f(c.p, c.q)} vs ${expected}\n${source}`).toBe(true);
  const g = m.fGrad(c.p, c.q, c.n) as Grad;
  expect(Object.is(g.value, f(c.p, c.q)), `fGrad's value ${g.value} vs f's\n${source}`).toBe(true);
  expect(sameValue(g.value, expected), `${g.value} vs ${expected}\n${source}`).toBe(true);
  expect(mc.fGrad(c.p, c.q, c.n), source).toEqual(g);
  expect(ms.fGrad(c.p, c.q, c.n), source).toEqual(g);
  const central = (h: number, which: 'p' | 'q') =>
    which === 'p' ? (f(c.p + h, c.q) - f(c.p - h, c.q)) / (2 * h) : (f(c.p, c.q + h) - f(c.p, c.q - h)) / (2 * h);
  let rounding: Record<'p' | 'q', number> | undefined;
  for (const which of ['p', 'q'] as const) {
    const d1 = central(1e-6, which);
    const d2 = central(5e-7, which);
    const scale = Math.max(1, Math.abs(d1));
    if (!Number.isFinite(d1) || Math.abs(d1 - d2) > 1e-5 * scale) {
      stats.nonsmooth++;
      continue;
    }
    stats.compared++;
    // Richardson's extrapolation of the two differences cancels their h² error: a recurrence run
    // for many steps can have a third derivative large enough that d1 alone is 1e-5 off (fuzz seed
    // 672563226: ∂/∂q = −7.1077994, d1 = −7.1077067, extrapolated −7.1077993).
    const reference = (4 * d2 - d1) / 3;
    const error = Math.abs(g.gradient[which] - reference) / scale;
    if (error < 1e-5) continue;
    // Before calling the gradient wrong: can a reverse sweep in doubles get it at all? Where its
    // terms cancel beyond double precision (fuzz seed -1459118426), the forward sweep must agree
    // instead, to the same tolerance.
    rounding ??= reverseRounding(c, source);
    if (rounding[which] > 1e-6 * scale) {
      stats.illConditioned++;
      const jvp = compileSync(source, { derivatives: ['grad', 'jvp'] });
      const fJvp = instantiate(jvp.code!).fJvp as unknown as (tangent: Record<string, number>, p: number, q: number, n: number) => { tangent: number };
      const tangent = fJvp({ [which]: 1 }, c.p, c.q, c.n).tangent;
      expect(Math.abs(tangent - reference) / scale, `${source}\n∂/∂${which} by fJvp: ${tangent} vs ${reference} (fGrad ${g.gradient[which]}, ill-conditioned)`).toBeLessThan(1e-5);
      continue;
    }
    expect(error, `${source}\n∂/∂${which}: ${g.gradient[which]} vs ${reference}`).toBeLessThan(1e-5);
  }
}

/**
 * How far rounding alone can move a reverse sweep's ∂/∂p and ∂/∂q: ε·Σ |λ·∂x/∂p| over the terms
 * the sweep sums. λₜ is the adjoint of the state entering iteration t (the program printed
 * `perturbed`: the gradient of the weight added to the state as iteration t begins); the terms are
 * λ₀ times the initial value's derivative, and λₜ₊₁ times iteration t's own derivative with the
 * state entering it held fixed (central differences of the value oracle's evaluation, both). The
 * reverse sweep sums these terms; when they are 1e36 and cancel to 3e-4, no order of double
 * arithmetic keeps a digit of the sum.
 *
 * Seed -1459118426 reduced: `y = rr(y, cos(y[0]) * (-1.9))` 40 times from three equal elements.
 * The values stay equal (the steps are symmetric, bit for bit), along a direction where rr
 * contracts (×0.81 an iteration); the adjoint of sin(y[0]) has a part along y[0] − y[2], where
 * rr's transpose grows ×8.4 an iteration: λ = [4.6e36, 0, −4.6e36] at the start, whose sum (times
 * ∂y/∂p) is the gradient 3.4756e-4 that forward mode (fJvp) and the differences give; fGrad gives 0.
 *
 * Seed 1774766439: the same growth, with q entering only inside the loop (`y = rr(y, sin(q))`):
 * nothing of the initial state depends on q, so the terms that cancel are the iterations' own
 * (λₜ₊₁ ≈ [L, 0, −L] against rr's symmetric ∂/∂a), and fGrad's ∂/∂q is 0 where fJvp and the
 * differences give −5.6136e-4.
 */
function reverseRounding(c: LoopCase, source: string): Record<'p' | 'q', number> {
  const perturbed = printLoopProgram(c.program, c.n);
  const r = compileSync(perturbed);
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, perturbed, 'random.ad')}\n${source}`);
  // (A mat argument is an array of rows; its gradient too.)
  const rows = () => Array.from({ length: c.n }, () => new Float64Array(3));
  const weights = [...c.program.state.map(() => new Float64Array(c.n)), ...(c.program.array ? [rows()] : [])];
  type Weight = Float64Array | Float64Array[];
  const fGrad = instantiate(r.code).fGrad as unknown as (...args: (number | Weight)[]) => { gradient: Record<string, Weight> };
  const g = fGrad(c.p, c.q, c.n, ...weights);
  // λₜ as one vector: the state variables', then y's three elements.
  const adjoint = (t: number) => [
    ...c.program.state.map((_, k) => (g.gradient[`w${k}`] as Float64Array)[t]),
    ...(c.program.array ? (g.gradient.wy as Float64Array[])[t] : []),
  ];
  const steps = iterationDerivatives(c);
  const bound = (which: 'p' | 'q') => {
    let sum = 0;
    const lambda0 = adjoint(0);
    steps.initial[which].forEach((d, k) => (sum += Math.abs(lambda0[k] * d)));
    // The last iteration's terms meet the result's adjoint, which the weights do not see: those
    // are the ordinary terms of the result's own derivative.
    for (let t = 0; t + 1 < steps.iterations.length; t++) {
      const lambda = adjoint(t + 1);
      steps.iterations[t][which].forEach((d, k) => (sum += Math.abs(lambda[k] * d)));
    }
    return sum * Number.EPSILON;
  };
  return { p: bound('p'), q: bound('q') };
}

type StateDerivatives = Record<'p' | 'q', number[]>;

/**
 * The value oracle's loop run once more, with central differences (h = 1e-6) of the initial state
 * and of each iteration's state leaving it, the state entering it held fixed: ∂x₀/∂p, ∂Bₜ/∂p.
 */
function iterationDerivatives(c: LoopCase): { initial: StateDerivatives; iterations: StateDerivatives[] } {
  const p = c.program;
  const h = 1e-6;
  const stateOf = (env: Env) => [...p.state.map((s) => env.numbers.get(s.name)!), ...(p.array ? env.y : [])];
  const copy = (env: Env): Env => ({ numbers: new Map(env.numbers), y: [...env.y] });
  const shifted = (env: Env, which: 'p' | 'q', by: number) => {
    const moved = copy(env);
    moved.numbers.set(which, env.numbers.get(which)! + by);
    return moved;
  };
  const difference = (step: (env: Env) => void, env: Env): StateDerivatives => {
    const of = (which: 'p' | 'q') => {
      const [up, down] = [shifted(env, which, h), shifted(env, which, -h)];
      step(up);
      step(down);
      const [a, b] = [stateOf(up), stateOf(down)];
      return a.map((v, k) => (v - b[k]) / (2 * h));
    };
    return { p: of('p'), q: of('q') };
  };
  const start = (env: Env) => {
    for (const s of p.state) env.numbers.set(s.name, evaluate(s.init, env));
    if (p.array) env.y = [0, 1, 2].map(() => evaluate(p.array!, env));
  };
  const env: Env = { numbers: new Map([['p', c.p], ['q', c.q]]), y: [] };
  const initial = difference(start, env);
  start(env);
  const iterations: StateDerivatives[] = [];
  const step = (e: Env) => run(p.body, e);
  if (p.loop.kind === 'for') {
    for (let t = 0; t < c.n; t++) {
      env.numbers.set('t', t);
      iterations.push(difference(step, env));
      run(p.body, env);
    }
  } else {
    env.numbers.set('t', 0);
    for (let i = 0; i < c.n && holds(p.loop.c, env); i++) {
      iterations.push(difference(step, env));
      run(p.body, env);
      env.numbers.set('t', env.numbers.get('t')! + 1);
    }
  }
  return { initial, iterations };
}

/**
 * The same random loop program called from another function (three calls, so f stays a call with
 * `calls: 'keep'`): w's gradient through f's adjoint against w compiled with every call inlined,
 * and its checkpointed form against the stored one, bit for bit.
 */
export function checkLoopCaseThroughCalls(c: LoopCase): void {
  const source = `${printLoopProgram(c.program)}fn w(p, q, const n) = f(p, q, n) * f(q, p, n) + f(0.5 * p, q, n)\n`;
  const load = (options: Parameters<typeof compileSync>[1]) => {
    const r = compileSync(source, options);
    if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'random.ad')}\n${source}`);
    return { code: r.code, m: instantiate(r.code) };
  };
  const kept = load({ calls: 'keep' });
  // (The gradient form for every parameter, or for those not constant at the call site: f$gradient$0$1.)
  expect(kept.code, source).toMatch(/f\$gradient(\$\d)*\(/);
  const inlined = load({ calls: 'inline' });
  const g = kept.m.wGrad(c.p, c.q, c.n) as Grad;
  const want = inlined.m.wGrad(c.p, c.q, c.n) as Grad;
  expect(Object.is(g.value, kept.m.w(c.p, c.q, c.n)), source).toBe(true);
  expect(load({ calls: 'keep', checkpointMemory: 0 }).m.wGrad(c.p, c.q, c.n), source).toEqual(g);
  // Where the gradient moves by more than the tolerance when the point moves by a few ulps, the
  // recurrence is chaotic there (`y = sin(y − (t + y)·t)` multiplies rounding by ~t per step: fuzz
  // seed 1740079162 at n = 38, where w itself moves 4% under that nudge) and two correct orders of
  // evaluation disagree: the kept and inlined gradients are then not compared.
  const nudge = 1 + 2 ** -44;
  const moved = inlined.m.wGrad(c.p * nudge, c.q * nudge, c.n) as Grad;
  // Where f's reverse sweep cancels (reverseRounding), the kept and inlined sweeps sum the same
  // terms in different orders and may differ by up to the rounding those terms allow: w's share of
  // each call's bound, by the chain rule through w = f(p, q)·f(q, p) + f(p/2, q) (seed 1774766439:
  // 7e-8 on −4.6e-4). A well-conditioned program's bound is ~1e-16, below the tolerance.
  let rounding: Record<'p' | 'q', number> | undefined;
  const wRounding = () => {
    const at = (p: number, q: number) => reverseRounding({ ...c, p, q }, source);
    const [b1, b2, b3] = [at(c.p, c.q), at(c.q, c.p), at(0.5 * c.p, c.q)];
    const [f1, f2] = [Math.abs(kept.m.f(c.p, c.q, c.n) as number), Math.abs(kept.m.f(c.q, c.p, c.n) as number)];
    return { p: f2 * b1.p + f1 * b2.q + 0.5 * b3.p, q: f2 * b1.q + f1 * b2.p + b3.q };
  };
  for (const which of ['p', 'q'] as const) {
    const [a, b] = [g.gradient[which], want.gradient[which]];
    if (!Number.isFinite(b)) continue;
    if (!(Math.abs(moved.gradient[which] - b) <= 1e-10 * Math.max(1, Math.abs(b)))) continue;
    const tolerance = 1e-9 * Math.max(1, Math.abs(b));
    if (Math.abs(a - b) > tolerance) rounding ??= wRounding();
    const allowed = Math.max(tolerance, 2 * (rounding?.[which] ?? 0));
    expect(Math.abs(a - b), `${source}\n∂w/∂${which}: kept ${a}, inlined ${b} (rounding bound ${rounding?.[which]})`).toBeLessThanOrEqual(allowed);
  }
}
