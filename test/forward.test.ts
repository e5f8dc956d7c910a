import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSync, formatDiagnostics } from '../src/index.ts';
import { arrayProgramArb, buildArgs, type Arg } from './support/array-programs.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * Forward mode (fJvp), Hessian-vector products (fHvp: forward over reverse) and Hessians
 * (fHessian), checked against exact numbers from independent sources (the seed document §1, the
 * Rosenbrock Hessian by hand), against reverse mode (⟨∇f, v⟩ must equal the JVP along v), against
 * central finite differences of fGrad, and for symmetry, on hand-written and random programs.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules take and return arrays and objects
type Module = Record<string, (...args: any[]) => any>;

function load(source: string, derivatives = ['grad', 'jvp', 'hvp', 'hessian'], checkpointMemory?: number): Module {
  const r = compileSync(source, { derivatives: derivatives as never, ...(checkpointMemory !== undefined && { checkpointMemory }) });
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}\n${source}`);
  return instantiate(r.code) as unknown as Module;
}

type Value = number | Float64Array | Float64Array[];
/** The entries of a gradient-shaped object, flattened in parameter order. */
const flat = (o: Record<string, Value>, keys: readonly string[]): number[] =>
  keys.flatMap((k) => {
    const v = o[k];
    return typeof v === 'number' ? [v] : v instanceof Float64Array ? [...v] : v.flatMap((r) => [...r]);
  });
/** A gradient-shaped object from flat entries, shaped like `like`. */
function shaped(like: Record<string, Value>, keys: readonly string[], entries: readonly number[]): Record<string, Value> {
  let at = 0;
  const out: Record<string, Value> = {};
  for (const k of keys) {
    const v = like[k];
    if (typeof v === 'number') out[k] = entries[at++];
    else if (v instanceof Float64Array) out[k] = Float64Array.from(v, () => entries[at++]);
    else out[k] = v.map((r) => Float64Array.from(r, () => entries[at++]));
  }
  return out;
}
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('fJvp: forward mode', () => {
  it("gives the seed document's §1 derivative, f'(1) = 122.045158140265", () => {
    const m = load(readFileSync(new URL('../examples/seed.ad', import.meta.url), 'utf8'), ['jvp']);
    const r = m.forwardJvp({ x: 1 }, 1);
    expect(r.tangent).toBeCloseTo(122.045158140265, 11);
    expect(r.value).toBe(m.forward(1));
    // The §2.3 example along each axis: the seed's partial derivatives.
    expect(m.graphJvp({ x1: 1 }, 2, 3).tangent).toBeCloseTo(18260.7627311899, 7);
    expect(m.graphJvp({ x2: 1 }, 2, 3).tangent).toBeCloseTo(6689.544469, 5);
    expect(m.appendixJvp({ x1: 1, x2: 0 }, 2, 3).tangent).toBeCloseTo(0.29958076032382, 13);
    // A missing key is 0; an empty tangent gives 0.
    expect(m.graphJvp({}, 2, 3).tangent).toBe(0);
  });

  it('agrees with reverse mode (⟨∇f, v⟩) and finite differences, through arrays, branches and every reduction', () => {
    const source = `
fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) = sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2) / m
fn red(x: vec[n], s) = prod(i: x[i] + s) + max(i: x[i]^2) - min(i: sin(x[i])) + logsumexp(i: s * x[i]) + norm(x)
fn branchy(a, b) = if a > b then a^b + atan2(a, b) else hypot(a, b) * exp(-a)
fn powers(x, y) = x^y + y^3 - cbrt(x) + abs(x - y) + max(x, y) * min(x, 2 * y)
`;
    const m = load(source);
    const cases: [string, string[], Arg[], Record<string, Value>][] = [
      ['lsq', ['w', 'b'], [[0.3, -0.2, 0.5], 0.1, [[1, 2, 3], [0.5, -1, 2]], [1, 2]], { w: Float64Array.of(0.7, -1, 0.2), b: 0.4 }],
      ['red', ['x', 's'], [[0.5, -0.3, 1.2], 0.25], { x: Float64Array.of(1, 0.5, -2), s: 0.3 }],
      ['branchy', ['a', 'b'], [1.5, 0.7], { a: 0.3, b: -1.1 }],
      ['branchy', ['a', 'b'], [0.5, 0.7], { a: 0.3, b: -1.1 }],
      ['powers', ['x', 'y'], [1.3, 0.8], { x: -0.4, y: 1.7 }],
    ];
    for (const [name, keys, args, v] of cases) {
      const jvp = m[`${name}Jvp`](v, ...args);
      const grad = m[`${name}Grad`](...args);
      expect(jvp.value).toBe(grad.value);
      expect(jvp.tangent).toBeCloseTo(dot(flat(grad.gradient, keys), flat(v, keys)), 12);
      // Central differences of f along v.
      const h = 1e-6;
      const along = (t: number) =>
        m[name](
          ...args.map((a, k) => {
            const key = keys[k];
            const d = key === undefined ? undefined : v[key];
            if (d === undefined) return a;
            return typeof a === 'number' ? a + t * (d as number) : Array.from(a as number[], (x, i) => x + t * (d as Float64Array)[i]);
          }),
        );
      expect(jvp.tangent).toBeCloseTo((along(h) - along(-h)) / (2 * h), 6);
    }
  });

  it('differentiates functions returning arrays: the tangent has the value shape', () => {
    const m = load(
      `fn rotate(t, p: vec[n]) = [cos(t) * p[0] - sin(t) * p[1], sin(t) * p[0] + cos(t) * p[1]]
fn outer(u: vec[n], v: vec[m]) {
  let M[i, j] = u[i] * v[j]
  return M
}`,
      ['jvp'],
    );
    const r = m.rotateJvp({ t: 1 }, 0.3, [1, 2]);
    expect([...r.tangent]).toEqual([-Math.sin(0.3) * 1 - Math.cos(0.3) * 2, Math.cos(0.3) * 1 - Math.sin(0.3) * 2].map((x) => expect.closeTo(x, 15)));
    expect([...m.rotateJvp({}, 0.3, [1, 2]).tangent]).toEqual([0, 0]);
    const o = m.outerJvp({ u: [1, 0], v: [0, 0, 1] }, [2, 3], [4, 5, 6]);
    // d(u vᵀ) = du vᵀ + u dvᵀ
    expect(o.tangent.map((row: Float64Array) => [...row])).toEqual([
      [4, 5, 6 + 2],
      [0, 0, 3],
    ]);
    expect(o.value.map((row: Float64Array) => [...row])).toEqual([
      [8, 10, 12],
      [12, 15, 18],
    ]);
  });

  it('checks the tangent argument', () => {
    const m = load('fn f(x: vec[n]) = sum(i: x[i]^2)', ['jvp']);
    expect(() => m.fJvp({ x: [1] }, [1, 2])).toThrow(RangeError);
    expect(m.fJvp({ x: [1, 1] }, [1, 2]).tangent).toBe(6);
  });
});

/**
 * A module whose fJacobian always takes one path: the generated `$jacobianMode` constant, 'auto'
 * (reverse rows when m < 2n, or m < n where each row runs both sweeps; else forward columns),
 * replaced by 'forward' or 'reverse'.
 */
function loadForced(source: string, mode: 'auto' | 'forward' | 'reverse'): Module {
  const r = compileSync(source, { derivatives: ['jvp', 'vjp', 'jacobian'] });
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}\n${source}`);
  const marker = "const $jacobianMode = 'auto';";
  expect(r.code).toContain(marker);
  return instantiate(r.code.replace(marker, `const $jacobianMode = '${mode}';`)) as unknown as Module;
}

const jacobianSource = `fn rotate(t, p: vec[n]) = [cos(t) * p[0] - sin(t) * p[1], sin(t) * p[0] + cos(t) * p[1]]
# A bundle-adjustment reprojection residual: a pinhole camera (focal length f, translation c) sees
# the point X at pixel (u, v).
fn reproject(f, c: vec[k], X: vec[k], const u, const v) {
  let P[i] = X[i] + c[i]
  return [f * P[0] / P[2] - u, f * P[1] / P[2] - v]
}
fn resid(a, b, const x: vec[m], const y: vec[m]) {
  let r[k] = a * exp(b * x[k]) - y[k]
  return r
}`;

describe('fVjp and the Jacobian by reverse rows', () => {
  const byMode = { forward: loadForced(jacobianSource, 'forward'), reverse: loadForced(jacobianSource, 'reverse'), auto: loadForced(jacobianSource, 'auto') };
  const rows = (J: Record<string, Value>) => Object.fromEntries(Object.entries(J).map(([k, v]) => [k, v instanceof Float64Array ? [...v] : (v as Float64Array[]).map((r) => [...r])]));
  const cases: [string, unknown[]][] = [
    ['rotate', [0.3, [1, 2]]],
    ['reproject', [800, [0.1, -0.2, 4], [0.5, 0.3, 1], 90, 70]],
    ['resid', [2, -0.7, [0, 0.5, 1, 1.5], [1, 1, 1, 1]]],
    ['resid', [2, -0.7, [0, 0.5], [1, 1]]],
  ];

  it('gives the same Jacobian both ways (forced), equal to central differences of the value', () => {
    for (const [name, args] of cases) {
      const fwd = byMode.forward[`${name}Jacobian`](...args);
      const rev = byMode.reverse[`${name}Jacobian`](...args);
      expect([...rev.value]).toEqual([...fwd.value]);
      const [a, b] = [rows(fwd.jacobian), rows(rev.jacobian)];
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) {
        const [x, y] = [a[k].flat(), b[k].flat()];
        x.forEach((e, i) => expect(y[i], `${name} ∂/∂${k} entry ${i}`).toBeCloseTo(e, 12));
      }
      // Central differences, each differentiated input in turn.
      const h = 1e-6;
      const value = (xs: unknown[]) => [...(byMode.auto[name](...xs) as Float64Array)];
      const keys = Object.keys(a);
      keys.forEach((k, p) => {
        const at = (j: number, d: number) => args.map((x, q) => (q !== p ? x : Array.isArray(x) ? x.map((e, i) => (i === j ? e + d : e)) : (x as number) + d));
        const n = Array.isArray(args[p]) ? (args[p] as number[]).length : 1;
        for (let j = 0; j < n; j++) {
          const [up, down] = [value(at(j, h)), value(at(j, -h))];
          up.forEach((u, r) => {
            const exact = Array.isArray(args[p]) ? (b[k] as number[][])[r][j] : (b[k] as number[])[r];
            expect(exact, `${name} ∂row ${r}/∂${k}[${j}]`).toBeCloseTo((u - down[r]) / (2 * h), 3);
          });
        }
      });
    }
  });

  it('chooses reverse rows when m < n and forward columns otherwise, and says so in the code', () => {
    const code = compileSync(jacobianSource, { derivatives: ['jacobian'] }).code!;
    expect(code).toContain('reverse rows (m reverse sweeps) when there are fewer outputs than inputs (m < n');
    expect(code).toContain('else forward columns (several');
    // Count the sweeps: reproject has m = 2 outputs < n = 7 (2 reverse sweeps); resid at 4
    // points has m = 4 ≥ n = 2 (forward columns: both in one run, 2 directions). The value (and m)
    // come from one forward sweep, which runs once whichever way is taken: the reverse rows all
    // start from it.
    const calls: string[] = [];
    (globalThis as { __adcCalls?: string[] }).__adcCalls = calls;
    const forward = '  // Forward sweep, once: the value, and what every reverse sweep reads';
    expect(code.split(forward).length - 1).toBe(3);
    const chunk = /(for \(let \$b = 0; \$b === 0 \|\| \$b < \$n; \$b \+= (\d+)\) \{)/g;
    expect([...code.matchAll(chunk)].map((c) => Number(c[2]))).toEqual([4, 4, 2]); // directions per run: 4 with an array input, else the number of inputs (resid's 2)
    const counting = code
      .replace(chunk, "$1 $count('columns');")
      .replaceAll('$cotangent[$i] = 1;', "$cotangent[$i] = 1; $count('reverse');")
      .replaceAll(forward, `  $count('forward');\n${forward}`);
    const m = instantiate(`const $count = (k, x) => (globalThis.__adcCalls.push(k), x);\n${counting}`) as unknown as Module;
    m.reprojectJacobian(800, [0.1, -0.2, 4], [0.5, 0.3, 1], 90, 70);
    expect(calls.splice(0)).toEqual(['forward', 'reverse', 'reverse']);
    m.residJacobian(2, -0.7, [0, 0.5, 1, 1.5], [1, 1, 1, 1]);
    expect(calls.splice(0)).toEqual(['forward', 'columns']);
    m.rotateJacobian(0.3, [1, 2]); // m = 2 < n = 3
    expect(calls.splice(0)).toEqual(['forward', 'reverse', 'reverse']);
    m.rotateJacobian(0.3, [1, 2, 3, 4, 5]); // m = 2 < n = 6
    expect(calls.splice(0)).toEqual(['forward', 'reverse', 'reverse']);
    m.residJacobian(2, -0.7, [0, 0.5], [1, 1]); // m = 2 = n
    expect(calls.splice(0)).toEqual(['forward', 'columns']);
    m.residJacobian(2, -0.7, [0], [1]); // m = 1 < n = 2
    expect(calls.splice(0)).toEqual(['forward', 'reverse']);
  });

  it('fVjp is uᵀJ for a unit and a general cotangent, and checks the cotangent', () => {
    const m = byMode.auto;
    const t = 0.3;
    const [c, s] = [Math.cos(t), Math.sin(t)];
    const r = m.rotateVjp([1, 10], t, [1, 2]);
    expect([...r.value]).toEqual([...(m.rotate(t, [1, 2]) as Float64Array)]);
    // J_p = [[c, -s], [s, c]], so (1, 10)·J_p = (c + 10 s, -s + 10 c); J_t = (-s - 2c, c - 2s).
    expect([...r.gradient.p]).toEqual([c + 10 * s, -s + 10 * c].map((x) => expect.closeTo(x, 14)));
    expect(r.gradient.t).toBeCloseTo(-s - 2 * c + 10 * (c - 2 * s), 14);
    expect(() => m.rotateVjp([1, 2, 3], t, [1, 2])).toThrow(new RangeError("rotateVjp: cotangent has 3 elements, but the value's length is 2"));
    expect(() => m.rotateVjp(undefined, t, [1, 2])).toThrow(new TypeError('rotateVjp: cotangent must be an array of numbers'));
    const cot = [1, 10];
    m.rotateVjp(cot, t, [1, 2]);
    expect(cot).toEqual([1, 10]); // the caller's cotangent is never written
  });
});

describe('fJacobian: forward columns', () => {
  const m = load(jacobianSource, ['jacobian']);

  it('is the rotation matrix for a rotation (∂/∂p) and its derivative (∂/∂t)', () => {
    const t = 0.3;
    const J = m.rotateJacobian(t, [1, 2]).jacobian;
    const [c, s] = [Math.cos(t), Math.sin(t)];
    expect(J.p.map((r: Float64Array) => [...r])).toEqual([
      [c, -s],
      [s, c],
    ]);
    expect([...J.t]).toEqual([-s * 1 - c * 2, c * 1 - s * 2].map((x) => expect.closeTo(x, 15)));
  });

  it('matches central differences for a reprojection residual, and hand-derived least-squares residuals', () => {
    const args = [800, [0.1, -0.2, 4], [0.5, 0.3, 1], 90, 70] as const;
    const J = m.reprojectJacobian(...args).jacobian;
    const h = 1e-6;
    const column = (k: number, i: number) => {
      const at = (d: number) => {
        const a = args.map((x) => (Array.isArray(x) ? [...x] : x)) as unknown as [number, number[], number[], number, number];
        if (k === 0) a[0] += d;
        else (a[k] as number[])[i] += d;
        return m.reprojectJacobian(...a).value as Float64Array;
      };
      const [p, q] = [at(h), at(-h)];
      return [0, 1].map((r) => (p[r] - q[r]) / (2 * h));
    };
    column(0, 0).forEach((d, r) => expect(J.f[r]).toBeCloseTo(d, 5));
    for (const key of ['c', 'X'] as const) {
      for (let i = 0; i < 3; i++) column(key === 'c' ? 1 : 2, i).forEach((d, r) => expect(J[key][r][i], `${key}[${i}] row ${r}`).toBeCloseTo(d, 3));
    }
    const x = [0, 0.5, 1, 1.5];
    const R = m.residJacobian(2, -0.7, x, [1, 1, 1, 1]).jacobian;
    x.forEach((t, k) => {
      expect(R.a[k]).toBeCloseTo(Math.exp(-0.7 * t), 15);
      expect(R.b[k]).toBeCloseTo(2 * t * Math.exp(-0.7 * t), 15);
    });
  });
});

describe('fHessian and fHvp: forward over reverse', () => {
  it('gives the Rosenbrock Hessian at (−1.2, 1): [[1330, 480], [480, 200]]', () => {
    const m = load('fn rosen(x, y) = (1 - x)^2 + 100 * (y - x^2)^2');
    const r = m.rosenHessian(-1.2, 1);
    expect(r.hessian.x.x).toBeCloseTo(1330, 9);
    expect(r.hessian.x.y).toBeCloseTo(480, 9);
    expect(r.hessian.y.x).toBeCloseTo(480, 9);
    expect(r.hessian.y.y).toBeCloseTo(200, 12);
    expect(r.value).toBe(m.rosen(-1.2, 1));
    expect(r.gradient).toEqual(m.rosenGrad(-1.2, 1).gradient);
    const v = m.rosenHvp({ x: 0.5, y: -2 }, -1.2, 1);
    expect(v.hvp.x).toBeCloseTo(1330 * 0.5 + 480 * -2, 9);
    expect(v.hvp.y).toBeCloseTo(480 * 0.5 + 200 * -2, 9);
  });

  it('matches finite differences of fGrad, is symmetric, and fHvp(v) = fHessian · v', () => {
    const source = `
fn red(x: vec[n], s) = prod(i: x[i] + s) + max(i: x[i]^2) - min(i: sin(x[i])) + logsumexp(i: s * x[i]) + norm(x)
fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) = sum(k: tanh(b + sum(i: X[k, i] * w[i]) - y[k])^2) / m
fn mixed(a, v: vec[n]) {
  let z[i] = exp(a * v[i]) / (1 + v[i]^2)
  return sum(i: z[i] * v[i]) + a^3 * dot(v, v) + (if a > 0 then log(1 + a) else a)
}
`;
    const m = load(source);
    const cases: [string, string[], Arg[]][] = [
      ['red', ['x', 's'], [[0.5, -0.3, 1.2], 0.25]],
      ['lsq', ['w', 'b'], [[0.3, -0.2, 0.5], 0.1, [[1, 2, 3], [0.5, -1, 2]], [1, 2]]],
      ['mixed', ['a', 'v'], [0.7, [0.4, -1.1, 0.9, 2]]],
    ];
    for (const [name, keys, args] of cases) {
      const H = m[`${name}Hessian`](...args);
      const g0 = m[`${name}Grad`](...args).gradient;
      const n = flat(g0, keys).length;
      // Rows of the Hessian, flattened: H[p][q] has p's shape then q's.
      const dense: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      let row = 0;
      for (const p of keys) {
        const rowsOfP = typeof g0[p] === 'number' ? 1 : (g0[p] as Float64Array).length;
        for (let i = 0; i < rowsOfP; i++) {
          let col = 0;
          for (const q of keys) {
            const block = H.hessian[p][q];
            const colsOfQ = typeof g0[q] === 'number' ? 1 : (g0[q] as Float64Array).length;
            for (let j = 0; j < colsOfQ; j++) {
              const value = typeof g0[p] === 'number' ? (typeof g0[q] === 'number' ? block : block[j]) : typeof g0[q] === 'number' ? block[i] : block[i][j];
              dense[row + i][col + j] = value;
            }
            col += colsOfQ;
          }
        }
        row += rowsOfP;
      }
      const x0 = flat(Object.fromEntries(keys.map((k, i) => [k, typeof args[i] === 'number' ? (args[i] as number) : Float64Array.from(args[i] as number[])])), keys);
      const argsAt = (x: readonly number[]) => {
        const obj = shaped(g0, keys, x);
        return args.map((a, i) => (i < keys.length ? (typeof obj[keys[i]] === 'number' ? obj[keys[i]] : [...(obj[keys[i]] as Float64Array)]) : a));
      };
      const h = 1e-5;
      for (let j = 0; j < n; j++) {
        const plus = x0.slice();
        const minus = x0.slice();
        plus[j] += h;
        minus[j] -= h;
        const gp = flat(m[`${name}Grad`](...argsAt(plus)).gradient, keys);
        const gm = flat(m[`${name}Grad`](...argsAt(minus)).gradient, keys);
        for (let i = 0; i < n; i++) {
          expect(dense[i][j], `${name} H[${i}][${j}] vs finite differences`).toBeCloseTo((gp[i] - gm[i]) / (2 * h), 5);
          expect(dense[i][j], `${name} symmetry at ${i}, ${j}`).toBeCloseTo(dense[j][i], 10);
        }
      }
      const v = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const hv = m[`${name}Hvp`](shaped(g0, keys, v), ...args);
      const want = dense.map((r) => dot(r, v));
      flat(hv.hvp, keys).forEach((x, i) => expect(x).toBeCloseTo(want[i], 10));
      expect(hv.value).toBe(H.value);
    }
  });
});

describe('loops with state (examples/loops.ad)', () => {
  const source = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');
  const cases: [string, Arg[], string[]][] = [
    ['oscillate', [1.3, 0.5, -0.2, 0.01, 50], ['k', 'x0', 'v0']],
    ['predators', [1.1, 0.4, 0.9, 0.3, 2, 1, 0.01, 40], ['a', 'b', 'c', 'd', 'u0', 'w0']],
    ['newton_sqrt', [2.5], ['a']],
    ['bounce', [0.3, 1.7, 12], ['x0', 'r']],
    ['lstm', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, -0.1, -0.2, -0.3, 0.5, [0.1, 0.5, -0.3, 0.8]], ['wf', 'uf', 'bf', 'wi', 'ui', 'bi', 'wo', 'uo', 'bo', 'wc', 'uc', 'bc', 'v']],
  ];
  // Stored states, and checkpointed ones (no tape memory: every loop recomputes from checkpoints).
  for (const memory of [undefined, 0]) {
    it(`fJvp equals fGrad's entries and fHvp finite differences of fGrad${memory === 0 ? ', checkpointed' : ''}`, () => {
      const m = load(source, ['grad', 'jvp', 'hvp'], memory);
      for (const [name, args, keys] of cases) {
        const g = m[`${name}Grad`](...args).gradient;
        keys.forEach((k, i) => {
          const jvp = m[`${name}Jvp`]({ [k]: 1 }, ...args).tangent;
          expect(Math.abs(jvp - g[k]), `${name} ∂/∂${k}: ${jvp} vs ${g[k]}`).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(g[k])));
          const hv = m[`${name}Hvp`]({ [k]: 1 }, ...args).hvp;
          const h = 1e-5;
          const at = (d: number) => m[`${name}Grad`](...args.map((a, j) => (j === i ? (a as number) + d : a))).gradient;
          const [gp, gm] = [at(h), at(-h)];
          for (const q of keys) {
            const fd = (gp[q] - gm[q]) / (2 * h);
            expect(Math.abs(hv[q] - fd), `${name} ∂²/∂${q}∂${k}: ${hv[q]} vs ${fd}`).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(fd)));
          }
        });
      }
    });
  }
});

describe('a Hessian where an adjoint is exactly 0 but its tangent is not', () => {
  it('tanh(Σx)·trace(A) at Σx = 0: ∂²f/∂A_ii∂x_k = sech²(0) = 1 (the gradient sweep skips the zero adjoint; the Hessian must not)', () => {
    // Found by the symmetry property below (seed 726074811): the Hessian's reverse sweep guarded
    // d$A_ii = tanh(Σx)·ḡ = 0 away, and forward mode over it lost its tangent sech²(Σx)·ẋ.
    const m = load('fn f(A: mat[n, n], x: vec[n]) = [tanh(sum(i: x[i])) * sum(i: A[i, i])][0]\n', ['grad', 'hessian', 'hvp']);
    const A = [[0, 0, 0], [0, 0, 0], [0, 0, -1]];
    const x = [0, -1, 1];
    const h = m.fHessian(A, x).hessian;
    for (let i = 0; i < 3; i++) {
      expect([...h.A.x[i][i]]).toEqual([1, 1, 1]);
      expect([...h.x.A[i]].map((row) => [...row])).toEqual([0, 1, 2].map((r) => [0, 1, 2].map((c) => (r === c ? 1 : 0))));
    }
    const hv = m.fHvp({ x: [1, 0, 0] }, A, x).hvp;
    expect(hv.A.map((row: ArrayLike<number>) => Array.from(row))).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });
});

describe('random array programs', () => {
  it('fJvp · v equals ⟨fGrad, v⟩, and Hessians are symmetric (⟨u, H v⟩ = ⟨v, H u⟩)', () => {
    let checked = 0;
    fc.assert(
      fc.property(arrayProgramArb(), fc.array(fc.integer({ min: -1500, max: 1500 }), { minLength: 40, maxLength: 40 }), (program, ints) => {
        const data = ints.map((i) => i / 1000);
        const m = load(program.source, ['grad', 'jvp', 'hvp']);
        const args = buildArgs(program.params, { n: 3, m: 2, typed: false }, data);
        const keys = program.params.filter((p) => !p.isConst).map((p) => p.name);
        const grad = m.fGrad(...args);
        if (!flat(grad.gradient, keys).every(Number.isFinite) || program.evaluate(args).singular) return;
        const n = flat(grad.gradient, keys).length;
        const u = Array.from({ length: n }, (_, i) => Math.cos(3 * i + 1));
        const v = Array.from({ length: n }, (_, i) => Math.sin(2 * i + 1));
        const jvp = m.fJvp(shaped(grad.gradient, keys, v), ...args);
        const scale = 1 + Math.abs(jvp.tangent) + program.bound;
        expect(Object.is(jvp.value, grad.value), program.source).toBe(true);
        expect(Math.abs(jvp.tangent - dot(flat(grad.gradient, keys), v)), `JVP vs ⟨∇f, v⟩\n${program.source}`).toBeLessThan(1e-10 * scale);
        const hv = flat(m.fHvp(shaped(grad.gradient, keys, v), ...args).hvp, keys);
        const hu = flat(m.fHvp(shaped(grad.gradient, keys, u), ...args).hvp, keys);
        if (!hv.every(Number.isFinite) || !hu.every(Number.isFinite)) return;
        const a = dot(u, hv);
        const b = dot(v, hu);
        expect(Math.abs(a - b), `⟨u, Hv⟩ = ${a}, ⟨v, Hu⟩ = ${b}\n${program.source}`).toBeLessThan(1e-8 * (1 + Math.abs(a) + Math.abs(b) + program.bound));
        checked++;
      }),
      { numRuns: Number(process.env.ADC_ARRAY_PROPERTY_RUNS ?? 80) },
    );
    expect(checked).toBeGreaterThan(20);
  });

  // prod's reverse sweep takes the product of the other terms from prefix and suffix products
  // (no count of zero factors), so its second derivatives are exact where factors are exactly 0:
  // ∂²/∂x_i∂x_j prod(x) = the product of the terms other than i and j, 0 on the diagonal.
  it('the Hessian of prod at one and at two exactly zero factors, by hand and by differences of gradients', () => {
    const m = load('fn f(x: vec[n]) = prod(i: x[i])\n', ['grad', 'hvp', 'hessian']);
    const byHand = (x: number[]) => x.map((_, i) => x.map((_, j) => (i === j ? 0 : x.reduce((p, t, k) => (k === i || k === j ? p : p * t), 1) + 0)));
    for (const x of [
      [0, -0.001, -0.001],
      [1.5, 0, -2, 0.25],
      [0, 2, 0, 3],
      [3, 0, 0],
      [0, 0, 0, 1.5],
    ]) {
      const h = (m.fHessian(x).hessian.x.x as Float64Array[]).map((r) => [...r].map((e) => e + 0));
      expect(h, `at ${x}`).toEqual(byHand(x));
      // Against central differences of the gradient (exact for a product, up to rounding).
      x.forEach((_, j) => {
        const step = 1e-4;
        const at = (d: number) => [...(m.fGrad(x.map((t, k) => (k === j ? t + d : t))).gradient.x as Float64Array)];
        const column = at(step).map((g, i) => (g - at(-step)[i]) / (2 * step));
        column.forEach((c, i) => expect(Math.abs(c - h[i][j]), `∂²/∂x${i}∂x${j} at ${x}`).toBeLessThan(1e-9));
      });
      // fHvp along a direction equals the Hessian times it.
      const v = x.map((_, i) => Math.sin(i + 1));
      const hv = [...(m.fHvp({ x: v }, x).hvp.x as Float64Array)];
      hv.forEach((e, i) => expect(e).toBeCloseTo(h[i].reduce((s, hij, j) => s + hij * v[j], 0), 14));
    }
  });

  it('forward mode through a product is exact at zero factors and differentiable again (a nested gradient of a JVP-like sum)', () => {
    // d/dx_i (∂prod/∂x · v) is the Hessian times v: reverse over the product's gradient, with zeros.
    const m = load('fn p(x: vec[n]) = prod(i: x[i])\nfn f(x: vec[n], const v: vec[n]) = sum(i: grad(p)(x)[i] * v[i])\n', ['grad', 'jvp']);
    const x = [1.5, 0, -2, 0];
    const v = [0.5, -1, 2, 3];
    const byHand = x.map((_, i) => x.reduce((s, _t, j) => (i === j ? s : s + v[j] * x.reduce((p, t, k) => (k === i || k === j ? p : p * t), 1)), 0));
    expect([...(m.fGrad(x, v).gradient.x as Float64Array)]).toEqual(byHand);
    const jvp = m.pJvp({ x: v }, x);
    expect(jvp.tangent).toBe(m.f(x, v));
  });

  it('fHessian of 1 / (1 + s²) through a list, at s = 0: gradient 0 (either sign), second derivative −2 (property seed 1878401064)', () => {
    const m = load('fn f(s, A: mat[n, n], x: vec[n]) = [1 / (1 + (s^2))][0]\n', ['grad', 'hvp', 'hessian']);
    const A = [[1]];
    const x = [2];
    const h = m.fHessian(0, A, x);
    expect(h.gradient.s + 0).toBe(0);
    expect(m.fGrad(0, A, x).gradient.s + 0).toBe(0);
    expect(h.hessian.s.s).toBe(-2);
    // d²/ds² = (6s² − 2)/(1 + s²)³: at s = 0.5, −0.5 · 0.512 = −0.256.
    expect(m.fHessian(0.5, A, x).hessian.s.s).toBeCloseTo(-0.256, 12);
  });

  it('fHessian, matrix parameters included, is symmetric and fHessian · v equals fHvp(v)', () => {
    let checked = 0;
    let matrices = 0;
    fc.assert(
      fc.property(arrayProgramArb(), fc.array(fc.integer({ min: -1500, max: 1500 }), { minLength: 40, maxLength: 40 }), (program, ints) => {
        const data = ints.map((i) => i / 1000);
        const m = load(program.source, ['grad', 'hvp', 'hessian']);
        const args = buildArgs(program.params, { n: 3, m: 2, typed: false }, data);
        const keys = program.params.filter((p) => !p.isConst).map((p) => p.name);
        const grad = m.fGrad(...args);
        if (!flat(grad.gradient, keys).every(Number.isFinite) || program.evaluate(args).singular) return;
        const { value, gradient, hessian } = m.fHessian(...args);
        expect(Object.is(value, grad.value), program.source).toBe(true);
        // Equal up to the sign of a zero (README, "Derivatives"): fGrad's guarded sweep adds into a
        // 0 (0 + −0 is +0) where fHvp's assigns −0 (seed 1878401064: d/ds 1/(1 + s²) at s = 0).
        const unsigned = (xs: number[]) => xs.map((x) => x + 0);
        expect(unsigned(flat(gradient, keys))).toEqual(unsigned(flat(grad.gradient, keys)));
        // The blocks flattened into one n × n matrix: hessian[p][q] is (p's shape) × (q's shape),
        // nested in that order, so its elements row by row are p's index then q's.
        const size = (k: string) => flat(grad.gradient, [k]).length;
        const n = flat(grad.gradient, keys).length;
        const H = Array.from({ length: n }, () => new Array<number>(n).fill(NaN));
        const leaves = (b: unknown): number[] => (typeof b === 'number' ? [b] : b instanceof Float64Array ? [...b] : (b as unknown[]).flatMap(leaves));
        let row = 0;
        for (const p of keys) {
          let column = 0;
          for (const q of keys) {
            const block = leaves(hessian[p][q]);
            expect(block.length, `hessian.${p}.${q}`).toBe(size(p) * size(q));
            block.forEach((e, k) => (H[row + Math.floor(k / size(q))][column + (k % size(q))] = e));
            column += size(q);
          }
          row += size(p);
        }
        if (!H.flat().every(Number.isFinite)) return;
        const scale = 1 + program.bound + Math.max(...H.flat().map(Math.abs));
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(H[i][j] - H[j][i]), `H[${i}][${j}] vs H[${j}][${i}]\n${program.source}`).toBeLessThan(1e-8 * scale);
        const v = Array.from({ length: n }, (_, i) => Math.sin(2 * i + 1));
        const hv = flat(m.fHvp(shaped(grad.gradient, keys, v), ...args).hvp, keys);
        H.forEach((r, i) => expect(Math.abs(dot(r, v) - hv[i]), `(H v)[${i}]\n${program.source}`).toBeLessThan(1e-8 * scale * (1 + n)));
        if (program.params.some((p) => p.kind === 'mat' && !p.isConst)) matrices++;
        checked++;
      }),
      { numRuns: Number(process.env.ADC_ARRAY_PROPERTY_RUNS ?? 80) },
    );
    expect(checked).toBeGreaterThan(20);
    expect(matrices).toBeGreaterThan(5);
  });

  it('⟨u, J v⟩ = ⟨Jᵀu, v⟩ by fJvp and fVjp for array-returning functions, and both Jacobian paths agree', () => {
    let checked = 0;
    fc.assert(
      fc.property(arrayProgramArb(), fc.array(fc.integer({ min: -1500, max: 1500 }), { minLength: 8, maxLength: 8 }), (program, ints) => {
        if (!program.evaluateR) return;
        const forced = { forward: loadForced(program.source, 'forward'), reverse: loadForced(program.source, 'reverse') };
        const m = forced.forward;
        const x = ints.slice(0, 3).map((i) => i / 1000);
        const value = m.r(x) as Float64Array | Float64Array[];
        // A matrix value (rows) is compared flattened row by row; its cotangent is rows like it.
        const rows = Array.isArray(value);
        const flatValue = rows ? value.flatMap((r) => [...r]) : [...value];
        if (!flatValue.every(Number.isFinite)) return;
        // The value against the generator's reference interpreter.
        const want = (program.evaluateR(x) as readonly (number | readonly number[])[]).flat();
        want.forEach((e, i) => expect(flatValue[i]).toBeCloseTo(e, 9));
        const v = Array.from({ length: x.length }, (_, i) => Math.sin(2 * i + 1));
        const u = Array.from({ length: flatValue.length }, (_, i) => Math.cos(3 * i + 1) + ints[3 + (i % 5)] / 1000);
        const columns = rows ? (value.length > 0 ? value[0].length : 0) : 0;
        const cotangent = rows ? value.map((_, i) => u.slice(i * columns, (i + 1) * columns)) : u;
        const jv = m.rJvp({ v }, x);
        const uj = m.rVjp(cotangent, x);
        const flatten = (a: Float64Array | Float64Array[]) => (Array.isArray(a) ? a.flatMap((r) => [...r]) : [...a]);
        expect(flatten(uj.value)).toEqual(flatValue);
        const jvFlat = flatten(jv.tangent);
        const jtu = [...(uj.gradient.v as Float64Array)];
        if (![...jvFlat, ...jtu].every(Number.isFinite)) return;
        const a = dot(u, jvFlat);
        const b = dot(jtu, v);
        expect(Math.abs(a - b), `⟨u, Jv⟩ = ${a}, ⟨Jᵀu, v⟩ = ${b}\n${program.source}`).toBeLessThan(1e-9 * (1 + Math.abs(a) + Math.abs(b) + program.bound));
        // J[i] (J[i][c] for a matrix value) has v's shape: flattened, one row of ∂/∂v per value element.
        const jrows = (j: unknown) => (rows ? (j as Float64Array[][]).flat() : (j as Float64Array[]));
        const [jf, jr] = [jrows(forced.forward.rJacobian(x).jacobian.v), jrows(forced.reverse.rJacobian(x).jacobian.v)];
        expect(jf.length).toBe(flatValue.length);
        jf.forEach((row, i) => row.forEach((e, j) => expect(Math.abs(jr[i][j] - e), `J[${i}][${j}]\n${program.source}`).toBeLessThan(1e-9 * (1 + Math.abs(e) + program.bound))));
        // J · v is fJvp's tangent, element by element.
        jf.forEach((row, i) => expect(Math.abs(dot([...row], v) - jvFlat[i]), `(J v)[${i}]\n${program.source}`).toBeLessThan(1e-9 * (1 + Math.abs(jvFlat[i]) + program.bound)));
        // Reverse row i (every row's reverse sweep run after one shared forward sweep, where the
        // reverse sweep only reads the forward sweep's values) is fVjp along e_i, bit for bit: the
        // same instructions, fVjp running its own forward sweep.
        for (const i of new Set([0, flatValue.length - 1].filter((i) => i >= 0))) {
          const e = flatValue.map((_, k) => (k === i ? 1 : 0));
          const unit = rows ? value.map((_, r) => e.slice(r * columns, (r + 1) * columns)) : e;
          expect([...jr[i]], `row ${i}\n${program.source}`).toEqual([...(m.rVjp(unit, x).gradient.v as Float64Array)]);
        }
        checked++;
      }),
      { numRuns: Number(process.env.ADC_ARRAY_PROPERTY_RUNS ?? 80) },
    );
    expect(checked).toBeGreaterThan(10);
  });
});
