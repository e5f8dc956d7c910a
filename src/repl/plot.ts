import * as asciichart from 'asciichart';
import type { Samples } from './session.ts';

export interface PlotOptions {
  readonly color?: boolean;
  /** Rows of each chart. */
  readonly height?: number;
}

const labelWidth = 10;

/**
 * Two terminal charts over the same x range: the expression, then its derivative with respect to
 * the variable (each with its own scale, as they often differ by orders of magnitude).
 */
export function renderPlot(title: string, variable: string, samples: Samples, options: PlotOptions = {}): string {
  const color = options.color ?? false;
  const height = options.height ?? 10;
  const from = samples.xs[0];
  const to = samples.xs[samples.xs.length - 1];
  const axis = xAxis(variable, from, to, samples.xs.length);
  // Colour is applied per line of the drawn curve here (not by asciichart, whose escapes would break the gaps).
  return [
    heading(`${title}, ${variable} from ${from} to ${to}`, color ? asciichart.cyan : undefined),
    chart(samples.values, height, color ? asciichart.cyan : undefined),
    axis,
    heading(`∂/∂${variable} ${title}`, color ? asciichart.magenta : undefined),
    chart(samples.slopes, height, color ? asciichart.magenta : undefined),
    axis,
  ].join('\n');
}

function heading(text: string, color: string | undefined): string {
  return color ? `${color}${text}${asciichart.reset}` : text;
}

/**
 * One chart. asciichart steps through its rows with `y++` from the scaled minimum to the scaled
 * maximum, so values beyond 2^53 after scaling never finish (`1e308 * x` hung the REPL) and a span
 * below the smallest double divides into Infinity ("Invalid array length"). So the values are
 * scaled here first, overflow-free, to whole rows 0..height, and asciichart draws only those; the
 * labels are mapped back. Points where the value is not finite are left blank (a gap, not a line).
 */
function chart(values: readonly number[], height: number, color: string | undefined): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return `${' '.repeat(labelWidth)}  (not a finite number anywhere in the range)`;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const rows = lo === hi ? 0 : Math.max(1, Math.round(height));
  const row = (v: number) => (rows === 0 ? 0 : Math.round(fraction(v, lo, hi) * rows));
  // asciichart needs a number at every point: a gap gets its nearest finite neighbour's row, then is blanked.
  const series = values.map((v, i) => row(Number.isFinite(v) ? v : nearestFinite(values, i)));
  const label = (y: number) => tick(rows === 0 ? lo : between(lo, hi, y / rows)).padStart(labelWidth);
  const text = asciichart.plot(series, { min: 0, max: rows, height: rows, format: label });
  const gaps = values.flatMap((v, i) => (Number.isFinite(v) ? [] : [i]));
  const lines = text.split('\n').map((line) => {
    // Each line: the label, a space, the axis, then one cell per step between neighbouring points.
    const axis = labelWidth + 1;
    const cells = [...line.slice(axis + 1)];
    for (const i of gaps) {
      if (i > 0) cells[i - 1] = ' ';
      if (i < cells.length) cells[i] = ' ';
    }
    const drawn = cells.join('').trimEnd();
    return `${line.slice(0, axis + 1)}${color && drawn !== '' ? `${color}${drawn}${asciichart.reset}` : drawn}`;
  });
  if (gaps.length === 0) return lines.join('\n');
  const marks = Array.from({ length: values.length }, (_, i) => (Number.isFinite(values[i]) ? ' ' : '^')).join('').trimEnd();
  return [...lines, `${' '.repeat(labelWidth + 1)}${marks}`, `${' '.repeat(labelWidth)}  (not finite at ${gaps.length} of ${values.length} points, marked ^ and left blank)`].join('\n');
}

/**
 * (v − lo) / (hi − lo), in [0, 1]. When hi − lo overflows (it can reach 2 × the largest double),
 * the three are halved first: exact at such magnitudes. (A difference of distinct doubles is never 0,
 * thanks to subnormal numbers, so a tiny span divides safely.)
 */
function fraction(v: number, lo: number, hi: number): number {
  const span = hi - lo;
  const f = Number.isFinite(span) ? (v - lo) / span : (v / 2 - lo / 2) / (hi / 2 - lo / 2);
  return Math.min(1, Math.max(0, f));
}

/** lo + t·(hi − lo) as a weighted mean, which cannot overflow. */
export function between(lo: number, hi: number, t: number): number {
  return t <= 0 ? lo : t >= 1 ? hi : lo * (1 - t) + hi * t;
}

function nearestFinite(values: readonly number[], i: number): number {
  for (let d = 1; d < values.length; d++) {
    if (Number.isFinite(values[i - d])) return values[i - d];
    if (Number.isFinite(values[i + d])) return values[i + d];
  }
  return 0;
}

/** The x range under a chart: the first label under the axis, the last under the last point. */
function xAxis(variable: string, from: number, to: number, points: number): string {
  const left = String(from);
  const right = String(to);
  const gap = Math.max(1, points - left.length - right.length);
  return `${' '.repeat(labelWidth + 1)}${left}${' '.repeat(gap)}${right}  ${variable}`;
}

/** A y-axis label: four significant digits, exponent form when very large or small. */
export function tick(v: number): string {
  if (v === 0 || Object.is(v, -0)) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
