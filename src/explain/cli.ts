import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { describeFileError as reason } from '../cli/file-errors.ts';
import { isSameFile, writeFileAtomic } from '../cli/write-file.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { messages } from '../diagnostics/messages.ts';
import { printable } from '../diagnostics/printable.ts';
import { svgTooLarge, toDot, toSvg } from './dot.ts';
import { explain, ExplainError, explainToJson } from './explain.ts';
import { formatExplain } from './text.ts';

export interface ExplainCommandOptions {
  readonly at?: string;
  readonly maxPaths?: string;
  readonly expand?: boolean;
  readonly graph?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

export interface Reporter {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `adc explain <file> <function> --at x1=2,x2=3`: prints the report (or `--json`), and writes the
 * drawing with `--graph out.svg|out.dot`. Returns the exit code: 0; 1 for a source that does not
 * compile, cannot be read or cannot be explained; 2 for a usage mistake (a malformed option, a
 * function the file does not define, a point that does not fit the parameters).
 */
export async function explainCommand(file: string, fnName: string, opts: ExplainCommandOptions, report: Reporter): Promise<number> {
  let point: Record<string, number> | number[];
  // `--at x=[1,2]`: array values, which explain does not take yet. Said after reading the file: an
  // array function gets explain's refusal (exit 1, as without --at), a scalar one this usage mistake.
  let arrayValues: string | undefined;
  try {
    point = parsePoint(opts.at ?? '');
  } catch (error) {
    if (!(error instanceof ArrayValuesError)) {
      report.err(`adc: error: --at: ${(error as Error).message}`);
      return 2;
    }
    arrayValues = error.message;
    point = [];
  }
  const maxPaths = opts.maxPaths === undefined ? undefined : Number(opts.maxPaths);
  if (maxPaths !== undefined && (!Number.isInteger(maxPaths) || maxPaths < 0 || opts.maxPaths!.trim() === '')) {
    report.err(`adc: error: --max-paths takes a whole number ≥ 0, not '${opts.maxPaths}'`);
    return 2;
  }
  const graphFormat = opts.graph === undefined ? undefined : extname(opts.graph).toLowerCase();
  if (graphFormat !== undefined && graphFormat !== '.svg' && graphFormat !== '.dot' && graphFormat !== '.gv') {
    report.err(`adc: error: --graph writes .svg or .dot files, not '${opts.graph}'`);
    return 2;
  }

  let source: string;
  try {
    source = new TextDecoder('utf-8').decode(readFileSync(file));
  } catch (error) {
    report.err(`adc: error: ${messages.cannotRead.text(file, reason(error))}`);
    return 1;
  }

  let result;
  try {
    result = explain(source, fnName, point, { expand: opts.expand, maxPaths });
    if (arrayValues !== undefined) {
      report.err(`adc: error: --at: ${arrayValues}`);
      return 2;
    }
  } catch (error) {
    if (!(error instanceof ExplainError)) throw error;
    // A scalar function given an array value: its count of values is beside the point.
    if (arrayValues !== undefined && error.usage && error.diagnostics.length === 0 && !error.message.startsWith('there is no function')) {
      report.err(`adc: error: --at: ${arrayValues}`);
      return 2;
    }
    if (error.diagnostics.length > 0) report.err(formatDiagnostics(error.diagnostics, source, file, { color: opts.color }));
    else report.err(`adc: error: ${error.message}`);
    // One rule for the whole CLI: a usage mistake (the function's name, the point) exits 2.
    return error.usage ? 2 : 1;
  }

  if (opts.graph !== undefined) {
    if (isSameFile(file, opts.graph)) {
      report.err(`adc: error: ${messages.outputIsInput.text(file, opts.graph)}`);
      return 1;
    }
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
  report.out(opts.json ? explainToJson(result) : formatExplain(result, file));
  if (opts.graph !== undefined && !opts.json) report.out(`\nGraph written to ${printable(opts.graph)}.`);
  return 0;
}

/** `--at` gave an array value (`x=[1,2]`), which explain does not take yet (issue 17, item 14). */
export class ArrayValuesError extends Error {}

/** `x1=2,x2=3` (by name) or `2,3` (in parameter order); empty for a function without parameters. */
export function parsePoint(text: string): Record<string, number> | number[] {
  const open = text.indexOf('[');
  if (open >= 0) {
    // The array as written, to its matching bracket (or the end).
    let end = open;
    for (let depth = 0; end < text.length; end++) {
      depth += text[end] === '[' ? 1 : text[end] === ']' ? -1 : 0;
      if (depth === 0) break;
    }
    throw new ArrayValuesError(`'${text.slice(open, end + 1)}' is an array value, but adc explain draws the graphs of scalar functions only and takes numbers`);
  }
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 1 && parts[0] === '') return [];
  const named = parts.map((p) => p.includes('='));
  if (named.some((n) => n !== named[0])) throw new Error(`give every value by name (x1=2,x2=3) or none (2,3), not a mix: '${text}'`);
  const number = (s: string, what: string) => {
    const v = Number(s);
    if (s === '' || Number.isNaN(v) !== (s === 'NaN')) throw new Error(`'${s}' is not a number (${what})`);
    return v;
  };
  if (!named[0]) return parts.map((p, i) => number(p, `value ${i + 1}`));
  const point: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const p of parts) {
    const eq = p.indexOf('=');
    const name = p.slice(0, eq).trim();
    if (name === '') throw new Error(`a name is missing before '=' in '${p}'`);
    if (Object.prototype.hasOwnProperty.call(point, name)) throw new Error(`'${name}' is given twice`);
    point[name] = number(p.slice(eq + 1).trim(), name);
  }
  return point;
}
