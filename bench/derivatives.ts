/**
 * The derivative exports against the value function and hand-written JavaScript: fJvp (target
 * ≤ 2× the value) and fHvp (target ≤ 5× the value) on the least-squares objective of
 * examples/arrays.ad (n = 100 weights, m = 1000 rows) and on the Rosenbrock function, and
 * fHessian of Rosenbrock. Run by `npm run bench` (bench/run.ts) or alone:
 * `node --import tsx bench/derivatives.ts`. Returns a markdown table.
 */
import { compileSync } from '../src/index.ts';
import { addToSink, timeBatch, type Timing } from './measure.ts';
import { fmtNs, fmtRatio, markdownTable, ratio, textTable } from './format.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules
type Module = Record<string, (...args: any[]) => any>;

function load(source: string): Module {
  const code = compileSync(source, { derivatives: ['grad', 'jvp', 'hvp', 'hessian'] }).code!;
  const body = code.replace(/export \{([^}]*)\};\s*$/, (_all, list: string) => {
    const entries = list.split(',').map((s) => s.trim()).filter(Boolean).map((spec) => {
      const [local, exported = local] = spec.split(/\s+as\s+/);
      return `${JSON.stringify(exported)}: ${local}`;
    });
    return `return { ${entries.join(', ')} };`;
  });
  return new Function(body)() as Module;
}

/** Hand-written references: lsq's JVP along (vw, vb) and its Hessian-vector product. */
function lsqJvpByHand(vw: Float64Array, vb: number, w: Float64Array, b: number, X: Float64Array[], y: Float64Array): { value: number; tangent: number } {
  const m = X.length;
  let value = 0;
  let tangent = 0;
  for (let k = 0; k < m; k++) {
    const row = X[k];
    let r = b - y[k];
    let dr = vb;
    for (let i = 0; i < row.length; i++) {
      r += row[i] * w[i];
      dr += row[i] * vw[i];
    }
    value += r * r;
    tangent += 2 * r * dr;
  }
  return { value: value / m, tangent: tangent / m };
}
function lsqHvpByHand(vw: Float64Array, vb: number, w: Float64Array, b: number, X: Float64Array[], y: Float64Array) {
  const m = X.length;
  const n = w.length;
  const gw = new Float64Array(n);
  const hw = new Float64Array(n);
  let value = 0;
  let gb = 0;
  let hb = 0;
  for (let k = 0; k < m; k++) {
    const row = X[k];
    let r = b - y[k];
    let dr = vb;
    for (let i = 0; i < n; i++) {
      r += row[i] * w[i];
      dr += row[i] * vw[i];
    }
    value += r * r;
    for (let i = 0; i < n; i++) {
      gw[i] += (2 * r * row[i]) / m;
      hw[i] += (2 * dr * row[i]) / m;
    }
    gb += (2 * r) / m;
    hb += (2 * dr) / m;
  }
  return { value: value / m, gradient: { w: gw, b: gb }, hvp: { w: hw, b: hb } };
}

export interface DerivativeRow {
  readonly name: string;
  readonly value: Timing;
  readonly derivative: Timing;
  readonly handwritten?: Timing;
  readonly target: number;
}

export async function benchDerivatives(log: (line?: string) => void = console.log): Promise<{ rows: DerivativeRow[]; markdown: string }> {
  const m = load(`
fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) = sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2) / m
fn rosen(x, y) = (1 - x)^2 + 100 * (y - x^2)^2
`);
  let seed = 1;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const n = 100;
  const rows = 1000;
  const w = Float64Array.from({ length: n }, next);
  const vw = Float64Array.from({ length: n }, next);
  const X = Array.from({ length: rows }, () => Float64Array.from({ length: n }, next));
  const y = Float64Array.from({ length: rows }, next);
  const b = 0.3;
  const tangent = { w: vw, b: 0.7 };
  const slow = { callsPerRep: 1, time: 300 };
  const fast = { callsPerRep: 1000, time: 300 };
  const many = (f: () => number) => (reps: number) => {
    let s = 0;
    for (let r = 0; r < reps; r++) for (let i = 0; i < 1000; i++) s += f();
    return s;
  };
  const once = (f: () => number) => (reps: number) => {
    let s = 0;
    for (let r = 0; r < reps; r++) s += f();
    return s;
  };
  const xs = [-1.2, 0.5, 1.3, 2];
  let at = 0;
  const pick = () => xs[at++ & 3];
  const result: DerivativeRow[] = [];
  const lsqValue = await timeBatch('lsq', once(() => m.lsq(w, b, X, y)), slow);
  result.push({
    name: 'lsq (n = 100, m = 1000): fJvp',
    value: lsqValue,
    derivative: await timeBatch('lsqJvp', once(() => m.lsqJvp(tangent, w, b, X, y).tangent), slow),
    handwritten: await timeBatch('lsq jvp by hand', once(() => lsqJvpByHand(vw, 0.7, w, b, X, y).tangent), slow),
    target: 2,
  });
  result.push({
    name: 'lsq (n = 100, m = 1000): fHvp',
    value: lsqValue,
    derivative: await timeBatch('lsqHvp', once(() => m.lsqHvp(tangent, w, b, X, y).hvp.b), slow),
    handwritten: await timeBatch('lsq hvp by hand', once(() => lsqHvpByHand(vw, 0.7, w, b, X, y).hvp.b), slow),
    target: 5,
  });
  const rosenValue = await timeBatch('rosen', many(() => m.rosen(pick(), pick())), fast);
  result.push({ name: 'Rosenbrock: fJvp', value: rosenValue, derivative: await timeBatch('rosenJvp', many(() => m.rosenJvp({ x: 1, y: 0.5 }, pick(), pick()).tangent), fast), target: 2 });
  result.push({ name: 'Rosenbrock: fHvp', value: rosenValue, derivative: await timeBatch('rosenHvp', many(() => m.rosenHvp({ x: 1, y: 0.5 }, pick(), pick()).hvp.x), fast), target: 5 });
  result.push({ name: 'Rosenbrock: fHessian (2 fHvp)', value: rosenValue, derivative: await timeBatch('rosenHessian', many(() => m.rosenHessian(pick(), pick()).hessian.x.y), fast), target: 10 });
  addToSink(0);
  const head = ['case', 'value', 'derivative', 'hand-written', 'derivative / value', 'target'];
  const body = result.map((r) => [r.name, fmtNs(r.value), fmtNs(r.derivative), r.handwritten ? fmtNs(r.handwritten) : '—', fmtRatio(ratio(r.derivative, r.value)), `≤ ${r.target}×`]);
  log(textTable(head, body));
  return { rows: result, markdown: ['## Derivatives (forward mode, Hessian-vector products, Hessians)', '', markdownTable(head, body)].join('\n') };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDerivatives();
