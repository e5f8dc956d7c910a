/**
 * Where fJacobian's rule switches between reverse rows and forward columns, and what the forward
 * columns gained by sharing the value's computation: for a softmax of A·w (every output depends on
 * every input) and the residuals Xw + b − y (output k reads row k of X only), at several output
 * counts m, the Jacobian forced to reverse rows, forced to forward columns (several per run of the
 * value: f$jacobianColumns), and the previous way, one fJvp per input, all in value evaluations.
 * Interleaved in one process, `rounds` rounds of short batches; the fastest and the median of each.
 * Run alone: `node --import tsx bench/jacobian-crossover.ts [rounds]`. Prints a markdown table.
 */
import { compileSync } from '../src/index.ts';
import { instantiate } from '../test/support/instantiate.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- generated modules
type Module = Record<string, (...args: any[]) => any>;

const source = `
fn sm(w: vec[n], const A: mat[m, n]) {
  let z[i] = sum(k: A[i, k] * w[k])
  let s = logsumexp(i: z[i])
  let p[i] = exp(z[i] - s)
  return p
}
fn res(w: vec[n], b, const X: mat[m, n], const y: vec[m]) {
  let r[k] = b + sum(i: X[k, i] * w[i]) - y[k]
  return r
}`;

function load(mode: 'forward' | 'reverse'): Module {
  const code = compileSync(source, { derivatives: ['jvp', 'jacobian'] }).code!;
  return instantiate(code.replace("const $jacobianMode = 'auto';", `const $jacobianMode = '${mode}';`)) as unknown as Module;
}

const rows = load('reverse');
const columns = load('forward');
let seed = 1;
const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
/** Milliseconds per call, from a batch of at least `ms`. */
function time(f: () => unknown, ms = 3): number {
  for (let reps = 1; ; reps *= 2) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) f();
    const dt = performance.now() - t0;
    if (dt > ms) return dt / reps;
  }
}
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** The previous forward columns: one fJvp per input along its unit tangent. */
function byJvp(jvp: (...args: unknown[]) => { tangent: Float64Array }, w: Float64Array, rest: unknown[], scalars: string[]): number {
  let s = 0;
  const e = new Float64Array(w.length);
  for (let k = 0; k < w.length; k++) {
    e[k] = 1;
    s += jvp({ w: e }, w, ...rest).tangent[0];
    e[k] = 0;
  }
  for (const key of scalars) s += jvp({ [key]: 1 }, w, ...rest).tangent[0];
  return s;
}

export function crossover(rounds = 15): string {
  const lines = ['| function (n inputs) | m | reverse rows | forward columns | one fJvp per column (before) |', '|---|---|---|---|---|'];
  const cases: { name: string; f: string; n: number; ms: number[]; args: (m: number) => unknown[]; scalars: string[] }[] = [
    { name: 'softmax of A·w (n = 40)', f: 'sm', n: 40, ms: [10, 20, 40, 80, 160], scalars: [], args: (m) => [Array.from({ length: m }, () => Float64Array.from({ length: 40 }, next))] },
    { name: 'residuals Xw + b − y (n = 101)', f: 'res', n: 101, ms: [10, 100, 300, 1000], scalars: ['b'], args: (m) => [0.3, Array.from({ length: m }, () => Float64Array.from({ length: 100 }, next)), Float64Array.from({ length: m }, next)] },
  ];
  for (const c of cases) {
    const w = Float64Array.from({ length: c.f === 'res' ? 100 : 40 }, next);
    for (const m of c.ms) {
      const rest = c.args(m);
      const t = { value: [] as number[], rows: [] as number[], columns: [] as number[], jvp: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        t.value.push(time(() => rows[c.f](w, ...rest)));
        t.rows.push(time(() => rows[`${c.f}Jacobian`](w, ...rest)));
        t.columns.push(time(() => columns[`${c.f}Jacobian`](w, ...rest)));
        t.jvp.push(time(() => byJvp(columns[`${c.f}Jvp`] as never, w, rest, c.scalars)));
      }
      const [v0, vm] = [sorted(t.value)[0], sorted(t.value)[rounds >> 1]];
      const cell = (xs: number[]) => `${(sorted(xs)[0] / v0).toFixed(1)}× (${(sorted(xs)[rounds >> 1] / vm).toFixed(1)}×)`;
      lines.push(`| ${c.name} | ${m} | ${cell(t.rows)} | ${cell(t.columns)} | ${cell(t.jvp)} |`);
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(crossover(Number(process.argv[2] ?? 15)));
