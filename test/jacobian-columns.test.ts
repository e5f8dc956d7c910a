import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics, type CompileOptions } from '../src/index.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * fJacobian's forward columns, several per run of the value's computation (forward mode with K
 * directions, ad/forward.ts; printed by emitJacobianColumns): each column must be fJvp along the
 * unit tangent of its input (an independent sweep per column), the Jacobian must equal the
 * reverse rows (fVjp along unit cotangents) and central differences of the value, for every
 * column count (0, 1, fewer than K, a multiple of K and not), through loops with state (scalar and
 * array state, `while`), kept calls and matrix parameters and values.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules take and return arrays and objects
type Module = Record<string, (...args: any[]) => any>;
type Arg = number | number[] | number[][];

function load(source: string, mode: 'auto' | 'forward' | 'reverse', options: CompileOptions = {}): Module {
  const r = compileSync(source, { derivatives: ['jvp', 'vjp', 'jacobian'], ...options });
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}\n${source}`);
  const marker = "const $jacobianMode = 'auto';";
  expect(r.code).toContain(marker);
  return instantiate(r.code.replace(marker, `const $jacobianMode = '${mode}';`)) as unknown as Module;
}

const flatten = (v: unknown): number[] => (typeof v === 'number' ? [v] : v instanceof Float64Array ? [...v] : (v as unknown[]).flatMap(flatten));
const copy = (a: Arg): Arg => (typeof a === 'number' ? a : (a as unknown[]).map((x) => copy(x as Arg)) as Arg);
/** The argument list with element `k` (flat, row by row) of argument `p` moved by d. */
function nudged(args: readonly Arg[], p: number, k: number, d: number): Arg[] {
  const out = args.map(copy);
  const a = out[p];
  if (typeof a === 'number') out[p] = a + d;
  else if (typeof a[0] === 'number') (a as number[])[k] += d;
  else {
    const c = (a as number[][])[0].length;
    (a as number[][])[Math.floor(k / c)][k % c] += d;
  }
  return out;
}
/** A unit tangent shaped like argument p, 1 at flat element k. */
function unit(arg: Arg, k: number): Arg {
  if (typeof arg === 'number') return 1;
  if (typeof arg[0] === 'number') return (arg as number[]).map((_, i) => (i === k ? 1 : 0));
  const c = (arg as number[][])[0].length;
  return (arg as number[][]).map((row, r) => row.map((_, j) => (r * c + j === k ? 1 : 0)));
}

/**
 * Checks fJacobian (forced forward columns, forced reverse rows, and the automatic choice) of
 * `name` at `args` against fJvp per input element, and against central differences of the value.
 * `wrt` maps each differentiated parameter to its position in args.
 */
function checkJacobian(source: string, name: string, args: Arg[], wrt: Record<string, number>, options: CompileOptions = {}): number {
  const [fwd, rev, auto] = (['forward', 'reverse', 'auto'] as const).map((mode) => load(source, mode, options));
  const value = flatten(fwd[name](...args));
  const byColumns = fwd[`${name}Jacobian`](...args);
  const byRows = rev[`${name}Jacobian`](...args);
  const chosen = auto[`${name}Jacobian`](...args);
  expect(flatten(byColumns.value)).toEqual(value);
  expect(flatten(byRows.value)).toEqual(value);
  expect(flatten(chosen.value)).toEqual(value);
  expect(Object.keys(byColumns.jacobian)).toEqual(Object.keys(wrt));
  let columns = 0;
  const scale = 1 + Math.max(0, ...value.map(Math.abs));
  for (const [key, p] of Object.entries(wrt)) {
    const arg = args[p];
    const size = flatten(arg).length;
    // J[key] flattened value-major: entry (i, k) at i * size + k.
    const [J, R, C] = [byColumns, byRows, chosen].map((r) => flatten(r.jacobian[key]));
    expect(J.length).toBe(value.length * size);
    for (let k = 0; k < size; k++, columns++) {
      const tangent = flatten(fwd[`${name}Jvp`]({ [key]: unit(arg, k) }, ...args).tangent);
      const h = 1e-6;
      const [up, down] = [flatten(fwd[name](...nudged(args, p, k, h))), flatten(fwd[name](...nudged(args, p, k, -h)))];
      value.forEach((_, i) => {
        const at = `${name}: ∂value[${i}]/∂${key}[${k}]`;
        const e = J[i * size + k];
        // fJvp along the unit tangent: the same derivative by an independent sweep.
        expect(Math.abs(e - tangent[i]), at).toBeLessThanOrEqual(1e-12 * (scale + Math.abs(e)));
        expect(Math.abs(e - R[i * size + k]), `${at} (reverse rows)`).toBeLessThanOrEqual(1e-12 * (scale + Math.abs(e)));
        expect(Math.abs(e - C[i * size + k]), `${at} (auto)`).toBeLessThanOrEqual(1e-12 * (scale + Math.abs(e)));
        expect(Math.abs(e - (up[i] - down[i]) / (2 * h)), `${at} (central differences)`).toBeLessThanOrEqual(1e-5 * (scale + Math.abs(e)));
      });
    }
  }
  return columns;
}

const softmax = `
fn sm(w: vec[n], const A: mat[m, n]) {
  let z[i] = sum(k: A[i, k] * w[k])
  let s = logsumexp(i: z[i])
  let p[i] = exp(z[i] - s)
  return p
}`;
const matrix = (m: number, n: number, at: number) => Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, k) => Math.sin(at + 3 * i + 7 * k)));
const vector = (n: number, at: number) => Array.from({ length: n }, (_, k) => Math.cos(at + 2 * k) / 2);

describe('fJacobian by forward columns, several per run of the value', () => {
  it('every column count: 0, 1, fewer than 4, 4, and past a multiple of 4 (a softmax of A·w)', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 8, 9, 13]) {
      const m = 6;
      expect(checkJacobian(softmax, 'sm', [vector(n, n), matrix(m, n, n)], { w: 0 })).toBe(n);
    }
  });

  it('a function of no differentiated input has an empty Jacobian, and its value', () => {
    const source = `fn twice(const a: vec[n]) {
  let r[i] = 2 * a[i]
  return r
}
fn one(x) = [x, x * x, sin(x)]`;
    const m = load(source, 'forward');
    const r = m.twiceJacobian([1, 2, 3]);
    expect([...r.value]).toEqual([2, 4, 6]);
    expect(r.jacobian).toEqual({});
    // One scalar input: one column (one direction).
    expect(checkJacobian(source, 'one', [0.7], { x: 0 })).toBe(1);
    expect([...m.oneJacobian(0.7).jacobian.x]).toEqual([1, 1.4, Math.cos(0.7)]);
    expect(compileSync(source, { derivatives: ['jacobian'] }).code).toContain('fJacobian by forward columns, 1 at a time');
  });

  it('scalars and arrays together, each with its own columns (a reprojection residual)', () => {
    const source = `fn reproject(f, c: vec[k], X: vec[k], const u, const v) {
  let P[i] = X[i] + c[i]
  return [f * P[0] / P[2] - u, f * P[1] / P[2] - v]
}`;
    expect(checkJacobian(source, 'reproject', [800, [0.1, -0.2, 4], [0.5, 0.3, 1], 90, 70], { f: 0, c: 1, X: 2 })).toBe(7);
  });

  it('through loops with state: numbers, a while, and an array updated in place', () => {
    const source = `
fn osc(k, x0, v0, const dt, const steps) {
  var x = x0
  var v = v0
  for t in 0..steps {
    x = x + dt * v
    let a = -k * x
    v = v + dt * a
  }
  return [x, v, x * v]
}
fn roots(a: vec[n]) {
  let r[i] = newton(a[i])
  return r
}
fn newton(a) {
  var x = a
  while abs(x * x - a) > 1e-12 * a max 100 {
    x = 0.5 * (x + a / x)
  }
  return x
}
fn rhs(p: vec[m], y: vec[n]) {
  let f[i] = p[0] * y[i] * (1 - y[i]) - p[1] * y[i] * sum(j: y[j]) / n
  return f
}
fn rk4(const h, p: vec[m], y0: vec[n], const steps) {
  var y: vec[n] = y0
  for s in 0..steps {
    let k1[i] = rhs(p, y)[i]
    let y2[i] = y[i] + h / 2 * k1[i]
    let k2[i] = rhs(p, y2)[i]
    let y3[i] = y[i] + h / 2 * k2[i]
    let k3[i] = rhs(p, y3)[i]
    let y4[i] = y[i] + h * k3[i]
    let k4[i] = rhs(p, y4)[i]
    y[i] = y[i] + h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])
  }
  return y
}`;
    // Their reverse sweeps write what the forward sweep made: each row is a call of fVjp (both
    // sweeps), so rows win only below half as many outputs as inputs.
    // (The return goes on the next line when the `if` is longer than the print width, as prettier puts it.)
    expect(compileSync(source, { derivatives: ['jacobian'] }).code).toMatch(/!\(2 \* \$m < \$n\)\)\)\s+return rk4\$jacobianColumns\(/);
    expect(checkJacobian(source, 'osc', [1.3, 0.5, -0.2, 0.01, 50], { k: 0, x0: 1, v0: 2 })).toBe(3);
    expect(checkJacobian(source, 'roots', [[2.5, 0.3, 7, 1.1, 4]], { a: 0 })).toBe(5);
    for (const memory of [undefined, 0]) {
      const options = memory === undefined ? {} : { checkpointMemory: memory };
      expect(checkJacobian(source, 'rk4', [0.05, [1.2, 0.4], [0.1, 0.3, 0.5, 0.2, 0.6], 20], { p: 1, y0: 2 }, options)).toBe(7);
    }
  });

  it('through kept calls (compiled once and called) as through inlined ones', () => {
    const source = `
fn g(a, b) = a * exp(-b) + sin(a * b)
fn h(x: vec[n]) {
  let t[i] = x[i] * x[n - 1 - i]
  return t
}
fn f(x: vec[n], s) {
  let y[i] = g(x[i], s) + h(x)[i]
  return y
}`;
    const args: Arg[] = [[0.3, -0.2, 0.9, 0.5, 1.1, -0.7], 0.4];
    for (const calls of ['keep', 'inline'] as const) expect(checkJacobian(source, 'f', args, { x: 0, s: 1 }, { calls })).toBe(7);
    const kept = load(source, 'forward', { calls: 'keep' }).fJacobian(...args).jacobian;
    const inlined = load(source, 'forward', { calls: 'inline' }).fJacobian(...args).jacobian;
    flatten(kept.x).forEach((e, i) => expect(e).toBeCloseTo(flatten(inlined.x)[i], 13));
  });

  it('a matrix parameter and a matrix value', () => {
    const source = `fn outer(W: mat[r, c], v: vec[c]) {
  let P[i, j] = tanh(W[i, j] * v[j]) + v[c - 1 - j] * W[i, 0]
  return P
}`;
    expect(checkJacobian(source, 'outer', [matrix(2, 3, 0.5), [0.2, -0.4, 0.9]], { W: 0, v: 1 })).toBe(9);
  });
});
