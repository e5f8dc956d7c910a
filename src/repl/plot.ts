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

function chart(values: readonly number[], height: number, color: string | undefined): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return `${' '.repeat(labelWidth)}  (not a finite number anywhere in the range)`;
  // asciichart needs finite numbers: a point where the value is not finite is drawn at its nearest finite neighbour.
  const series = values.map((v, i) => (Number.isFinite(v) ? v : nearestFinite(values, i)));
  const text = asciichart.plot(series, { height, colors: color ? [color] : undefined, format: (x) => tick(x).padStart(labelWidth) });
  const missing = values.length - finite.length;
  return missing === 0 ? text : `${text}\n${' '.repeat(labelWidth)}  (not finite at ${missing} of ${values.length} points, drawn flat there)`;
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
