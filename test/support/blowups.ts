/**
 * Hostile inputs of the "crashes, hangs and blow-ups" class (issue 12, items 13–15), shared by
 * test/robustness.test.ts (a fixed number of seeded cases in `npm test`) and
 * test/fuzz/blowups.fuzz.ts (`npm run fuzz`, for as long as asked): huge and many misspelt names,
 * plots of extreme values and ranges, and explain graphs of random sizes. Each check returns a
 * problem (a string) or undefined, and bounds the work it allows.
 */
import { builtinArity } from '../../src/ir/builtins.ts';
import { explain, maxSvgSize, svgTooLarge } from '../../src/explain/index.ts';
import { renderPlot } from '../../src/repl/index.ts';
import { examine, int, pick, prng } from './hostile.ts';

const builtinNames = [...builtinArity.keys()];

const names = (rand: () => number, n: number, length: number, letters = 'abcxyz_') =>
  Array.from({ length: n }, (_, i) => {
    let s = 'v';
    while (s.length < length) s += letters[int(rand, 0, letters.length - 1)];
    return `${s}${i}`;
  });

/** A typo of `name`: one or two of a deletion, an insertion, a substitution or a swap. */
function misspell(rand: () => number, name: string): string {
  let s = name;
  for (let k = int(rand, 1, 2); k > 0; k--) {
    const i = int(rand, 0, s.length - 1);
    const op = int(rand, 0, 3);
    if (op === 0 && s.length > 1) s = s.slice(0, i) + s.slice(i + 1);
    else if (op === 1) s = `${s.slice(0, i)}q${s.slice(i)}`;
    else if (op === 2) s = `${s.slice(0, i)}${s[i] === 'w' ? 'k' : 'w'}${s.slice(i + 1)}`;
    else if (i + 1 < s.length) s = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
  }
  return /^[A-Za-z_]/.test(s) ? s : `w${s}`;
}

/** Programs full of misspelt names: long names (up to 30,000 characters), many names, many typos, calls to misspelt functions. */
export function* typoCases(count: number, seed: number) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const long = rand() < 0.2;
    const n = long ? int(rand, 1, 3) : int(rand, 1, 400);
    const length = long ? int(rand, 1000, 30_000) : int(rand, 1, 12);
    const declared = names(rand, n, length);
    const typos = Array.from({ length: long ? int(rand, 1, 3) : int(rand, 1, 400) }, () => misspell(rand, pick(rand, declared)));
    const source = rand() < 0.5
      ? `fn f(x) {\n${declared.map((d) => `  let ${d} = x`).join('\n')}\n  return ${typos.join(' + ')}\n}`
      : `${declared.map((d) => `fn ${d}(x) = x`).join('\n')}\nfn main(x) = ${typos.map((t) => `${t}(x)`).join(' + ')}`;
    yield { label: `typos #${i} (seed ${seed}, ${n} names of ${length} characters, ${typos.length} typos)`, source, declared };
  }
}

/**
 * Chains of derivatives of derivatives, `fK(x) = f(K-1)(x) + grad(f(K-1))(x)` and variations with
 * jvp: a derivative inlines every call and expands every derivative of what it differentiates, so
 * each level multiplies the code (AD3009 stops it). Depths from 1 to 400 levels.
 */
export function* derivativeChainCases(count: number, seed: number) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const depth = rand() < 0.3 ? int(rand, 1, 6) : int(rand, 7, 400);
    const term = (k: number) => (rand() < 0.5 ? `grad(f${k})(x)` : `jvp(f${k})(x, ${int(rand, 1, 3)})`);
    const body = (k: number) => (rand() < 0.5 ? `f${k}(x) + ${term(k)}` : `${term(k)} * 0.5 - cos(f${k}(x))`);
    const source = ['fn f0(x) = sin(x) * x + exp(-x * x)', ...Array.from({ length: depth }, (_, k) => `fn f${k + 1}(x) = ${body(k)}`)].join('\n') + '\n';
    yield { label: `derivative chain #${i} (seed ${seed}, ${depth} levels)`, source };
  }
}

/** A derivative chain compiles, or stops at AD3009 on one of its derivatives, within 30 s. */
export function checkDerivativeChain(source: string): string | undefined {
  const t0 = performance.now();
  const { result, problem } = examine(source, { format: false });
  const ms = performance.now() - t0;
  if (problem) return problem;
  if (ms > 30_000) return `took ${ms.toFixed(0)} ms`;
  if (result!.code !== undefined) return undefined;
  const [first, ...rest] = result!.diagnostics;
  if (first?.code !== 'AD3009' || rest.length > 0) return `expected AD3009 alone, got ${result!.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`;
  const at = source.slice(first.span.start, first.span.end);
  if (!/^(grad|jvp)\(f\d+\)\(x(, \d)?\)$/.test(at)) return `AD3009 at '${at}', not at a derivative`;
  return undefined;
}

/** The textbook optimal-string-alignment distance (a full table), for short names. */
export function referenceDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Compiles a typo case: the compile contract, bounded time, and every suggestion names a declared
 * name (or a built-in) within distance 2 of the typo (checked with the full table for short names).
 */
export function checkTypoCase(source: string, declared: readonly string[]): string | undefined {
  const t0 = performance.now();
  const { result, problem } = examine(source, { format: false });
  const ms = performance.now() - t0;
  if (problem) return problem;
  if (ms > 30_000) return `took ${ms.toFixed(0)} ms`;
  const known = new Set([...declared, ...builtinNames, 'pi', 'e']);
  for (const d of result!.diagnostics) {
    const m = /^unknown (?:variable|function) '([^']*)' \(did you mean '([^']*)'\?\)$/.exec(d.message);
    if (!m) continue;
    const [, typo, suggested] = m;
    if (typo.includes('…') || suggested.includes('…')) continue; // long names are shortened in messages
    if (!known.has(suggested)) return `suggested '${suggested}', which is not defined`;
    if (typo.length < 40 && referenceDistance(typo.toLowerCase(), suggested.toLowerCase()) > 2) return `suggested '${suggested}' for '${typo}', more than 2 edits away`;
  }
  return undefined;
}

/** Numbers at the edges of the doubles: the largest, subnormals, ±0, and ordinary ones. */
const extremes = [0, -0, 1, -1, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -5e-324, 1e-320, 2.2e-308, 1e-300, 1e300, 0.5, 3, 1e16, 1e16 + 2];

/** Series of values for renderPlot: extreme magnitudes, NaN and ±Infinity in runs, constants, tiny and huge spans. */
export function* plotSeriesCases(count: number, seed: number) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const n = int(rand, 2, 120);
    const base = pick(rand, extremes);
    const step = pick(rand, extremes);
    const values = Array.from({ length: n }, (_, k) => {
      const r = rand();
      if (r < 0.1) return pick(rand, [NaN, Infinity, -Infinity]);
      if (r < 0.3) return pick(rand, extremes);
      return base + step * Math.sin(k);
    });
    const slopes = values.map((v, k) => (rand() < 0.5 ? v : pick(rand, extremes) * (k % 3)));
    const from = pick(rand, extremes);
    const xs = values.map((_, k) => from + k);
    yield { label: `plot series #${i} (seed ${seed})`, samples: { xs, values, slopes }, height: int(rand, 1, 30) };
  }
}

/** renderPlot's contract: bounded time and size, a label per row, one ^ per point that is not finite. */
export function checkPlotSeries(samples: { xs: number[]; values: number[]; slopes: number[] }, height: number): string | undefined {
  const t0 = performance.now();
  let text: string;
  try {
    text = renderPlot('e', 'x', samples, { height });
  } catch (e) {
    return `renderPlot threw: ${String(e)}`;
  }
  const ms = performance.now() - t0;
  if (ms > 2_000) return `took ${ms.toFixed(0)} ms`;
  const lines = text.split('\n');
  if (lines.length > 2 * (height + 6)) return `${lines.length} lines for height ${height}`;
  const width = Math.max(...lines.map((l) => [...l].length));
  // The chart is one column per point; headings and notes take up to about 80 columns.
  if (width > 80 + samples.xs.length + String(samples.xs[0]).length + String(samples.xs.at(-1)).length) return `a line of ${width} characters`;
  for (const series of [samples.values, samples.slopes]) {
    const bad = series.filter((v) => !Number.isFinite(v)).length;
    if (bad > 0 && bad < series.length && !text.includes(`(not finite at ${bad} of ${series.length} points, marked ^ and left blank)`)) return `no note for ${bad} points that are not finite`;
  }
  if (/NaN|Infinity/.test(lines.filter((l) => /[┼┤]/.test(l)).join('\n'))) return 'a label is not finite';
  return undefined;
}

/** :plot entries over extreme ranges, for the Interpreter. */
export function* plotEntryCases(count: number, seed: number) {
  const rand = prng(seed);
  const exprs = ['x', '1e308 * x', 'x * x', '1 / x', 'log(x)', 'exp(x)', 'sqrt(x)', 'x ^ x', 'sin(x) * 1e300', '1e-320 * x', 'tan(x)'];
  const ends = ['-1e308', '1e308', '0', '1e-320', '-1e-320', '5e-324', '1', '-1', '1e16', '1e16 + 2', '1.7976931348623157e308'];
  for (let i = 0; i < count; i++) {
    const [a, b] = [pick(rand, ends), pick(rand, ends)];
    yield { label: `plot entry #${i} (seed ${seed})`, entry: `:plot ${pick(rand, exprs)} for x in ${a}..${b}` };
  }
}

/** A random chain of `n` lets drawing on earlier lets and the parameters, for explain. */
export function* explainCases(count: number, seed: number, maxLets = 400) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const n = int(rand, 1, maxLets);
    const lets = Array.from({ length: n }, (_, k) => {
      const a = k === 0 ? 'x' : `v${int(rand, Math.max(0, k - 5), k - 1)}`;
      const b = pick(rand, ['x', 'y', k === 0 ? 'y' : `v${int(rand, 0, k - 1)}`]);
      return `  let v${k} = ${pick(rand, ['sin', 'exp', 'log1p', 'tanh'])}(${a}) ${pick(rand, ['+', '*', '-'])} ${b}`;
    });
    yield { label: `explain #${i} (seed ${seed}, ${n} lets)`, source: `fn f(x, y) {\n${lets.join('\n')}\n  return v${n - 1}\n}\n` };
  }
}

/** explain at a point in bounded time; an SVG only below the size limit (its layout is timed by the caller). */
export function checkExplainCase(source: string): string | undefined {
  const t0 = performance.now();
  const r = explain(source, 'f', [0.3, 0.4], { expand: source.length % 2 === 0 });
  const ms = performance.now() - t0;
  if (ms > 20_000) return `explain took ${ms.toFixed(0)} ms`;
  const size = r.nodes.length + r.edges.length;
  if ((svgTooLarge(r) === undefined) !== size <= maxSvgSize) return `svgTooLarge disagrees with the size ${size}`;
  return undefined;
}
