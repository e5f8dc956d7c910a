/**
 * The names search (test/names.test.ts, bounded; test/fuzz/names.fuzz.ts, long): every global
 * identifier JavaScript defines, used as a function, parameter, `let`, array `let` and size name,
 * must give a module whose values, gradients and errors are right, and whose TypeScript
 * declarations are valid. Each check computes its expected numbers by hand from the formula.
 */
import { expect } from 'vitest';
import { compileSync, type CompileResult } from '../../src/index.ts';
import { builtinArity, constants } from '../../src/ir/builtins.ts';
import { keywords } from '../../src/syntax/lexer.ts';
import { instantiate } from './instantiate.ts';

/** ECMA-262's global object (ES2025: value properties, functions, constructors, other objects). */
const ecmaScriptGlobals =
  'globalThis Infinity NaN undefined eval isFinite isNaN parseFloat parseInt decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape ' +
  'AggregateError Array ArrayBuffer BigInt BigInt64Array BigUint64Array Boolean DataView Date Error EvalError FinalizationRegistry Float16Array Float32Array ' +
  'Float64Array Function Int8Array Int16Array Int32Array Iterator Map Number Object Promise Proxy RangeError ReferenceError RegExp Set SharedArrayBuffer ' +
  'String Symbol SyntaxError TypeError Uint8Array Uint8ClampedArray Uint16Array Uint32Array URIError WeakMap WeakRef WeakSet Atomics JSON Math Reflect Intl ' +
  'WebAssembly console';

/** What browsers, Node and bundlers add, whatever this process has. */
const hostGlobals =
  'window self document navigator location history screen name status length top parent frames opener origin event external performance ' +
  'fetch alert confirm prompt print open close crypto indexedDB localStorage sessionStorage customElements requestAnimationFrame ' +
  'process global Buffer require module exports __dirname __filename setTimeout setInterval queueMicrotask structuredClone importScripts define';

/** Names the language refuses for every role (keywords, built-ins, pi and e). */
const refused = (name: string) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || keywords.has(name) || builtinArity.has(name) || constants.has(name);

/** The names the checks below use for everything else: a global under test is never one of them. */
export const fixedNames: ReadonlySet<string> = new Set('w b m n i j k x y z G1 pm ps pl pa pz pc pt pv pr pf py pe pq pk ph s t'.split(' '));

/** Every global identifier JavaScript defines that the language accepts as a name, sorted. */
export const globalNames: readonly string[] = [
  ...new Set([...Object.getOwnPropertyNames(globalThis), ...ecmaScriptGlobals.split(' '), ...hostGlobals.split(' ')]),
]
  .filter((name) => !refused(name) && !fixedNames.has(name))
  .sort();

/**
 * Names shaped to trip a code generator: JavaScript's reserved words, globals and special
 * properties, and names like the compiler's own temporaries and adjoints.
 */
const tricky = [
  ...'break case catch class continue debugger default delete do enum export extends false finally for function import in instanceof new null super switch this throw true try typeof var void while with yield await async static implements interface package private protected public get set of'.split(' '),
  ...'arguments eval undefined NaN Infinity Math Object Float64Array globalThis Symbol Array Number String JSON console window process require module exports'.split(' '),
  ...'__proto__ constructor prototype toString valueOf hasOwnProperty __defineGetter__'.split(' '),
  ...'t1 t_1 d_x dx x_bar d t value gradient Grad fGrad_ _ __ $ x2 X out'.split(' '),
];

/** Every tricky name and every global the language accepts. */
export const acceptedNames: readonly string[] = [...new Set([...tricky, ...globalNames])].filter((n) => !refused(n));

/**
 * Four distinct names as a function, a parameter, a const parameter and a let, with a caller:
 * values and gradients against the formula, gradient keys as written and own properties.
 */
export function checkNameTuple(fnName: string, p: string, q: string, local: string): void {
  const source = `fn ${fnName}(${p}, const ${q}) {\n  let ${local} = ${p} * ${q}\n  return ${local} * ${p} + sin(${p})\n}\nfn caller(${q}) = ${fnName}(${q}, 2)\n`;
  const result = compileSync(source);
  expect(result.diagnostics, source).toEqual([]);
  const m = instantiate(result.code!) as unknown as Module;
  const x = 1.5;
  const c = 2;
  expect(m[fnName](x, c)).toBeCloseTo(x * c * x + Math.sin(x), 12);
  const g = m[`${fnName}Grad`](x, c) as Grad;
  expect(Object.keys(g.gradient)).toEqual([p]);
  expect(Object.prototype.hasOwnProperty.call(g.gradient, p)).toBe(true);
  expect(g.gradient[p]).toBeCloseTo(2 * x * c + Math.cos(x), 12);
  expect(Object.getPrototypeOf(g.gradient)).toBe(Object.prototype);
  expect((m.callerGrad(x) as Grad).gradient[q]).toBeCloseTo(2 * 2 * x + Math.cos(x), 12);
}

/** A module with `name` in each role, one function per role (so each is checked on its own). */
export function namesProgram(name: string): string {
  return `# ${name} as a function name, calling it, a matrix and a scalar parameter, a let, an array let and a size,
# a var and a loop index, an array variable (also as loop state), an array made in a loop

fn ${name}(w: mat[m, n], b) = b * sum(k: sum(j: w[k, j] * w[k, j]))
fn pc(w: mat[m, n], b) = ${name}(w, b) * 2
fn pm(${name}: mat[m, n], b) = b * sum(k: sum(j: ${name}[k, j] * ${name}[k, j]))
fn ps(w: vec[n], ${name}) = ${name} * sum(i: w[i] * w[i]) + sin(${name})
fn pl(w: vec[n], b) {
  let ${name} = b * b
  let z[i] = ${name} * w[i]
  return sum(i: z[i]) + exp(${name})
}
fn pa(x) {
  let ${name}[i in 0..3] = x * i
  return sum(i: ${name}[i]) + max(i: ${name}[i])
}
fn pz(w: vec[${name}], const y: vec[${name}]) = sum(i: (w[i] - y[i]) ^ 2) / ${name}
fn pr(x) {
  var ${name} = x
  for i in 0..3 {
    ${name} = ${name} * x + i
  }
  return ${name}
}
fn pf(x) {
  var s = x
  for ${name} in 0..3 {
    s = s * x + ${name}
  }
  return s
}
fn py(w: vec[n], b) {
  var ${name}: vec[n] = w
  ${name}[i] = b * ${name}[i] * ${name}[i]
  ${name}[0] = ${name}[0] + b
  return sum(i: ${name}[i])
}
fn pe(w: vec[n], const j) {
  var y: vec[n] = 0
  y[${name}] = w[${name}] * w[${name}]
  y[j] = y[j] * 3
  return sum(i: y[i])
}
fn pq(w: vec[n], b) {
  var ${name}: vec[n] = w
  for t in 0..2 {
    let z[i] = ${name}[i] * b
    ${name}[i] = z[i] + ${name}[i]
    ${name}[0] = ${name}[0] * b
  }
  return sum(i: ${name}[i])
}
fn pk(w: vec[n], b) {
  var s = 0
  for t in 0..2 {
    let ${name}[i] = w[i] * b
    s = s + sum(i: ${name}[i]) * b
  }
  return s
}
fn ph(w: vec[n], b) {
  var ${name}: vec[n] = w
  while [${name}[0], b][0] < 4 max 10 {
    ${name}[i] = ${name}[i] * b
  }
  return sum(i: ${name}[i])
}
`;
}

/** `name` as a function returning an array (a matrix), called, and as a parameter put in a list. */
export function arrayNamesProgram(name: string): string {
  return `fn ${name}(x) = [[x, 2 * x], [3 * x, x * x]]
fn pt(x) = ${name}(x)[1, 1] + ${name}(x)[0, 1]
fn pv(${name}) = [${name}, 2]
`;
}

type Fn = (...args: unknown[]) => unknown;
type Module = Record<string, Fn>;
interface Grad {
  value: number;
  gradient: Record<string, unknown>;
}

const W = [
  [1, 2, 3],
  [0.5, -1, 2],
];
const b = 1.5;
const v = [0.5, -2, 1];
const squares = (rows: number[][]) => rows.flat().reduce((s, a) => s + a * a, 0);

/** Asserts `value` is a matrix gradient (an Array of Float64Array rows) equal to `expected`. */
function expectMatrix(value: unknown, expected: number[][], label: string): void {
  expect(Array.isArray(value), label).toBe(true);
  const rows = value as Float64Array[];
  expect(rows.length, label).toBe(expected.length);
  rows.forEach((row, r) => {
    expect(row, label).toBeInstanceOf(Float64Array);
    expect([...row], label).toEqual(expected[r].map((a) => expect.closeTo(a, 12)));
  });
}

/** Asserts that calling `f` throws an instance of the real `type` (not a user function of that name). */
function expectThrows(f: () => unknown, type: ErrorConstructor, message: RegExp, label: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, label).toBeInstanceOf(type);
  expect((thrown as Error).message, label).toMatch(message);
}

/** Compiles `namesProgram(name)` and checks every function's value, gradient and errors. */
export function checkNames(name: string, checkArgs: boolean): CompileResult {
  const source = namesProgram(name);
  const result = compileSync(source, { checkArgs, dts: true });
  expect(result.diagnostics, source).toEqual([]);
  const m = instantiate(result.code!) as unknown as Module;
  const label = `${name} (checkArgs: ${checkArgs})`;
  const sumSq = squares(W);
  const twiceBW = W.map((row) => row.map((a) => 2 * b * a));
  // As a function name, and called.
  expect(m[name](W, b), label).toBeCloseTo(b * sumSq, 12);
  const g = m[`${name}Grad`](W, b) as Grad;
  expectMatrix(g.gradient.w, twiceBW, label);
  expect(g.gradient.b, label).toBeCloseTo(sumSq, 12);
  const out = { w: W.map((row) => new Float64Array(row.length)), b: 0 };
  expect(m[`${name}GradInto`](out, W, b), label).toBeCloseTo(b * sumSq, 12);
  expect(out.b, label).toBeCloseTo(sumSq, 12);
  expectMatrix(out.w, twiceBW, label);
  expectMatrix((m.pcGrad(W, b) as Grad).gradient.w, twiceBW.map((row) => row.map((a) => 2 * a)), label);
  // Errors are the real RangeError and TypeError.
  expectThrows(() => m[`${name}Grad`]([[1, 2], [3]], b), RangeError, /w\[1\] has 1 elements/, label);
  expectThrows(() => m[name]('not an array', b), TypeError, /must be an array of numbers/, label);
  expectThrows(() => m[`${name}GradInto`]({ w: W, b: 0 }, W, b), TypeError, /the same array as the argument w/, label);
  if (checkArgs) expectThrows(() => m[name](W, 'two'), TypeError, new RegExp(`^${name}: b must be a number, but is the string 'two'$`), label);
  // As a matrix parameter: the gradient key is the name, an own property.
  const gm = m.pmGrad(W, b) as Grad;
  expect(Object.keys(gm.gradient), label).toEqual([name, 'b']);
  expectMatrix(gm.gradient[name], twiceBW, label);
  // As a scalar parameter, also written into fGradInto's out.
  const vv = v.reduce((s, a) => s + a * a, 0);
  const gs = m.psGrad(v, b) as Grad;
  expect(gs.value, label).toBeCloseTo(b * vv + Math.sin(b), 12);
  expect(Object.keys(gs.gradient), label).toEqual(['w', name]);
  expect(gs.gradient[name], label).toBeCloseTo(vv + Math.cos(b), 12);
  const outS: Record<string, unknown> = { w: new Float64Array(3) };
  m.psGradInto(outS, v, b);
  expect(Object.prototype.hasOwnProperty.call(outS, name), label).toBe(true);
  expect(outS[name], label).toBeCloseTo(vv + Math.cos(b), 12);
  if (checkArgs) expectThrows(() => m.ps(v, undefined), TypeError, new RegExp(`^ps: ${name} must be a number, but is undefined$`), label);
  // As a let.
  const sv = v.reduce((s, a) => s + a, 0);
  const gl = m.plGrad(v, b) as Grad;
  expect(gl.value, label).toBeCloseTo(b * b * sv + Math.exp(b * b), 12);
  expect(gl.gradient.b, label).toBeCloseTo(2 * b * sv + 2 * b * Math.exp(b * b), 10);
  // As an array let, in a function with number parameters only.
  expect(m.paGrad(1.5), label).toEqual({ value: 7.5, gradient: { x: 5 } });
  // As a size: bound, divided by, and checked.
  const y = [1, 1, 1];
  const gz = m.pzGrad(v, y) as Grad;
  expect(gz.value, label).toBeCloseTo(v.reduce((s, a) => s + (a - 1) ** 2, 0) / 3, 12);
  expect([...(gz.gradient.w as Float64Array)], label).toEqual(v.map((a) => expect.closeTo((2 * (a - 1)) / 3, 12)));
  expectThrows(() => m.pz(v, [1, 1]), RangeError, new RegExp(`pz: y has 2 elements, but ${name} \\(the length of w\\) is 3`), label);
  // As a var carried by a loop, and as a loop index: x⁴ + x + 2 at x = 1.5, derivative 4x³ + 1.
  for (const f of ['pr', 'pf']) expect(m[`${f}Grad`](1.5), `${label} ${f}`).toEqual({ value: 1.5 ** 4 + 1.5 + 2, gradient: { x: 4 * 1.5 ** 3 + 1 } });
  // As an array variable (updated element-wise and at one element), and as the fresh index of an update.
  const sq = v.reduce((s, a) => s + a * a, 0);
  const gy = m.pyGrad(v, b) as Grad;
  expect(gy.value, label).toBeCloseTo(b * sq + b, 12);
  expect([...(gy.gradient.w as Float64Array)], label).toEqual(v.map((a) => expect.closeTo(2 * b * a, 12)));
  expect(gy.gradient.b, label).toBeCloseTo(sq + 1, 12);
  const ge = m.peGrad(v, 1) as Grad;
  expect(ge.value, label).toBeCloseTo(sq + 2 * v[1] * v[1], 12);
  expect([...(ge.gradient.w as Float64Array)], label).toEqual(v.map((a, k) => expect.closeTo((k === 1 ? 6 : 2) * a, 12)));
  // As array state carried by a loop (updated element-wise and at one element in place), and as an
  // array made in a loop's body: (1+b)²·(w1 + w2 + w0·b²) and 2b²·Σw.
  const rest = v[1] + v[2];
  const gq = m.pqGrad(v, b) as Grad;
  expect(gq.value, label).toBeCloseTo((1 + b) ** 2 * (rest + v[0] * b * b), 12);
  expect([...(gq.gradient.w as Float64Array)], label).toEqual([(1 + b) ** 2 * b * b, (1 + b) ** 2, (1 + b) ** 2].map((a) => expect.closeTo(a, 12)));
  expect(gq.gradient.b, label).toBeCloseTo(2 * (1 + b) * (rest + v[0] * b * b) + (1 + b) ** 2 * 2 * v[0] * b, 12);
  const gk = m.pkGrad(v, b) as Grad;
  expect(gk.value, label).toBeCloseTo(2 * b * b * sv, 12);
  expect([...(gk.gradient.w as Float64Array)], label).toEqual(v.map(() => expect.closeTo(2 * b * b, 12)));
  expect(gk.gradient.b, label).toBeCloseTo(4 * b * sv, 12);
  // As array state read by a list in a while condition (made again per test): w0·b^k < 4 until
  // k = 6 (0.5·1.5⁶ ≈ 5.7), so b⁶·Σw.
  const gh = m.phGrad(v, b) as Grad;
  expect(gh.value, label).toBeCloseTo(b ** 6 * sv, 12);
  expect([...(gh.gradient.w as Float64Array)], label).toEqual(v.map(() => expect.closeTo(b ** 6, 12)));
  expect(gh.gradient.b, label).toBeCloseTo(6 * b ** 5 * sv, 12);
  // As a function returning an array, and a parameter in a list.
  const arrays = compileSync(arrayNamesProgram(name), { checkArgs });
  expect(arrays.diagnostics, label).toEqual([]);
  const a = instantiate(arrays.code!) as unknown as Module;
  expectMatrix(a[name](2), [[2, 4], [6, 4]], label);
  expect(a.ptGrad(2), label).toEqual({ value: 8, gradient: { x: 6 } });
  expect([...(a.pv(3) as Float64Array)], label).toEqual([3, 2]);
  if (checkArgs) expectThrows(() => a[name]('2'), TypeError, new RegExp(`^${name}: x must be a number, but is the string '2'$`), label);
  return result;
}
