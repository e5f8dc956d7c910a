import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { describeFileError as reason } from '../cli/file-errors.ts';
import { readAllStdin, stdinName, stdio } from '../cli/stdio.ts';
import { isSameFile, writeFileAtomic } from '../cli/write-file.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { messages } from '../diagnostics/messages.ts';
import { printable } from '../diagnostics/printable.ts';
import { svgTooLarge, toDot, toSvg } from './dot.ts';
import { explain, ExplainError, explainToJson } from './explain.ts';
import { formatExplain } from './text.ts';
import type { PointValue } from './types.ts';

export interface ExplainCommandOptions {
  readonly at?: string;
  readonly maxPaths?: string;
  readonly expand?: boolean;
  readonly graph?: string;
  readonly json?: boolean;
  readonly color?: boolean;
  /** `--forward x1`: forward-mode tangents along the graph with respect to this input. */
  readonly forward?: string;
}

export interface Reporter {
  out(line: string): void;
  err(line: string): void;
  /** All of standard input, for the file `-` (default: process.stdin, read to its end). */
  readStdin?(): Promise<string>;
}

/**
 * `adc explain <file> <function> --at x1=2,x2=3`: prints the report (or `--json`), and writes the
 * drawing with `--graph out.svg|out.dot`. Returns the exit code: 0; 1 for a source that does not
 * compile, cannot be read or cannot be explained; 2 for a usage mistake (a malformed option, a
 * function the file does not define, a point that does not fit the parameters).
 */
export async function explainCommand(file: string, fnName: string, opts: ExplainCommandOptions, report: Reporter): Promise<number> {
  let point: Record<string, PointValue> | PointValue[];
  try {
    point = parsePoint(opts.at ?? '');
  } catch (error) {
    report.err(`adc: error: --at: ${(error as Error).message}`);
    return 2;
  }
  const maxPaths = opts.maxPaths === undefined ? undefined : Number(opts.maxPaths);
  if (maxPaths !== undefined && (!Number.isInteger(maxPaths) || maxPaths < 0 || opts.maxPaths!.trim() === '')) {
    report.err(`adc: error: --max-paths takes a whole number ≥ 0, not '${opts.maxPaths}'`);
    return 2;
  }
  const graphFormat = opts.graph === undefined ? undefined : extname(opts.graph).toLowerCase();
  if (opts.graph === stdio) {
    // The report is on standard output already; the drawing needs a file of its own.
    report.err(`adc: error: --graph writes a .svg or .dot file, not standard output (the report is there); give a file name such as graph.svg`);
    return 2;
  }
  if (graphFormat !== undefined && graphFormat !== '.svg' && graphFormat !== '.dot' && graphFormat !== '.gv') {
    report.err(`adc: error: --graph writes .svg or .dot files, not '${opts.graph}'`);
    return 2;
  }

  if (opts.graph !== undefined && file !== stdio && isSameFile(file, opts.graph)) {
    report.err(`adc: error: ${messages.outputIsInput.text(file, opts.graph)}`);
    return 1;
  }
  let source: string;
  try {
    source = file === stdio ? await (report.readStdin ?? readAllStdin)() : new TextDecoder('utf-8').decode(readFileSync(file));
  } catch (error) {
    report.err(`adc: error: ${messages.cannotRead.text(file, reason(error))}`);
    return 1;
  }
  const shown = file === stdio ? stdinName : file;

  let result;
  try {
    result = explain(source, fnName, point, { expand: opts.expand, maxPaths, forward: opts.forward });
  } catch (error) {
    if (!(error instanceof ExplainError)) throw error;
    if (error.diagnostics.length > 0) report.err(formatDiagnostics(error.diagnostics, source, shown, { color: opts.color }));
    else report.err(`adc: error: ${error.message}`);
    // One rule for the whole CLI: a usage mistake (the function's name, the point) exits 2.
    return error.usage ? 2 : 1;
  }

  if (opts.graph !== undefined) {
    // Graphviz's layout time grows much faster than the graph: refuse early, nothing written.
    const tooLarge = graphFormat === '.svg' ? svgTooLarge(result) : undefined;
    if (tooLarge) {
      const dot = printable(opts.graph.slice(0, -'.svg'.length) + '.dot');
      const svg = printable(opts.graph);
      report.err(`adc: error: ${tooLarge}; write it as DOT with --graph ${dot} and lay it out with Graphviz (dot -Tsvg ${dot} -o ${svg}), or explain a smaller function`);
      return 1;
    }
    try {
      writeFileAtomic(opts.graph, graphFormat === '.svg' ? await toSvg(result) : toDot(result));
    } catch (error) {
      // The CLI's one-line file errors: never the temporary file's name or a system message.
      report.err(`adc: error: ${messages.cannotWrite.text(opts.graph, reason(error))}`);
      return 1;
    }
  }
  report.out(opts.json ? explainToJson(result) : formatExplain(result, shown));
  if (opts.graph !== undefined && !opts.json) report.out(`\nGraph written to ${printable(opts.graph)}.`);
  return 0;
}

/**
 * `x1=2,x2=3` (by name) or `2,3` (in parameter order); empty for a function without parameters.
 * Arrays are written as in the REPL: `x=[1,2],b=3`, a matrix as rows `A=[[1,2],[3,4]]`.
 */
export function parsePoint(text: string): Record<string, PointValue> | PointValue[] {
  const parts = splitTopLevel(text).map((s) => s.trim());
  if (parts.length === 1 && parts[0] === '') return [];
  const named = parts.map((p) => /^[^[]*=/.test(p));
  if (named.some((n) => n !== named[0])) throw new Error(`give every value by name (x1=2,x2=3) or none (2,3), not a mix: '${text}'`);
  if (!named[0]) return parts.map((p, i) => value(p, `value ${i + 1}`));
  const point: Record<string, PointValue> = Object.create(null) as Record<string, PointValue>;
  for (const p of parts) {
    const eq = p.indexOf('=');
    const name = p.slice(0, eq).trim();
    if (name === '') throw new Error(`a name is missing before '=' in '${p}'`);
    if (Object.prototype.hasOwnProperty.call(point, name)) throw new Error(`'${name}' is given twice`);
    point[name] = value(p.slice(eq + 1).trim(), name);
  }
  return point;
}

/** Splits at the commas outside brackets; a bracket left open or closed twice is a mistake. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']' && --depth < 0) throw new Error(`a ']' without its '[' in '${text}'`);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) throw new Error(`a '[' without its ']' in '${text}'`);
  parts.push(text.slice(start));
  return parts;
}

/** A number, a vector `[1, 2]` or a matrix `[[1, 2], [3, 4]]` (what: the name, for messages). */
function value(s: string, what: string): PointValue {
  const number = (t: string) => {
    const v = Number(t);
    if (t === '' || Number.isNaN(v) !== (t === 'NaN')) throw new Error(`'${t}' is not a number (${what})`);
    return v;
  };
  if (!s.startsWith('[')) return number(s);
  const items = (t: string) => {
    if (!t.endsWith(']')) throw new Error(`'${t}' is not an array (${what}): write it as [1, 2, 3]`);
    const inner = t.slice(1, -1).trim();
    return inner === '' ? [] : splitTopLevel(inner).map((x) => x.trim());
  };
  const top = items(s);
  if (!top.some((x) => x.startsWith('['))) return top.map(number);
  if (!top.every((x) => x.startsWith('['))) throw new Error(`'${s}' mixes numbers and rows (${what}): a matrix is rows, [[1, 2], [3, 4]]`);
  return top.map((row) => {
    const cells = items(row);
    if (cells.some((x) => x.startsWith('['))) throw new Error(`'${s}' nests arrays deeper than a matrix (${what})`);
    return cells.map(number);
  });
}
