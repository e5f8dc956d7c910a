/** Table and number formatting shared by bench/run.ts and bench/arrays.ts. */
import type { Timing } from './measure.ts';

/** A time per call, from its fastest sample: ns, µs, ms or s. */
export const fmtNs = (t: Timing | undefined): string => {
  if (!t) return '—';
  const ns = t.ns;
  if (ns >= 1e10) return `${(ns / 1e9).toFixed(1)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 1)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1)} µs`;
  return `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
};

export const ratio = (a: Timing | undefined, b: Timing | undefined): number | undefined => (a && b ? a.ns / b.ns : undefined);

export const fmtRatio = (r: number | undefined): string =>
  r === undefined ? '—' : r >= 100 ? `${Math.round(r).toLocaleString('en-US')}×` : `${r.toFixed(2)}×`;

export function textTable(head: string[], body: string[][]): string {
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((row) => row[j]!.length)));
  const line = (cells: string[]) => cells.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(head: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, j) => (j === 0 ? '---' : '---:'))), ...body.map(line)].join('\n');
}
