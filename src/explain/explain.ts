import { checkProgram } from '../check/check-program.ts';
import { compileToIr } from '../compile.ts';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { LineMap } from '../diagnostics/span.ts';
import { anyReachable, hasStatefulCode, type FunctionDecl } from '../syntax/ast.ts';
import { parse } from '../syntax/parse.ts';
import { buildCollapsed } from './collapsed.ts';
import { buildExpanded } from './expanded.ts';
import { Graph } from './graph.ts';
import { run } from './interpret.ts';
import type { ExplainOptions, ExplainResult } from './types.ts';

/** Thrown for a source with errors (see `diagnostics`), an unknown function, or a point that does not fit it. */
export class ExplainError extends Error {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[] = [],
    /** A mistake in how explain was asked (the function's name, the point), not in the source: the CLI exits 2. */
    readonly usage = false,
  ) {
    super(message);
    this.name = 'ExplainError';
  }
}

export const defaultMaxPaths = 20;

/**
 * The expression graph of `fnName` at `point` (values by parameter name, or in parameter order):
 * values, edge partials, adjoints, the paths from the output to each input, and the first value or
 * adjoint that is not finite. Synchronous; throws `ExplainError` on bad input.
 */
export function explain(source: string, fnName: string, point: Readonly<Record<string, number>> | readonly number[], options: ExplainOptions = {}): ExplainResult {
  const diagnostics = new DiagnosticBag();
  const program = parse(source, diagnostics);
  const table = program && checkProgram(program, diagnostics, 'inline');
  const compiled = table && compileToIr(source, new DiagnosticBag());
  if (!program || !table || !compiled) throw new ExplainError('the source has errors', diagnostics.items);
  const fn = table.get(fnName);
  if (!fn) {
    const names = [...table.keys()].map((n) => `'${n}'`).join(', ');
    throw new ExplainError(`there is no function '${fnName}'; the file defines ${names}`, [], true);
  }
  if (usesArrays(fn, table)) {
    // Issue 17, item 14 is not done: the graph builders and the interpreter of the gradient are
    // scalar. The REPL computes an array function's value and gradient with the generated code.
    const call = `${fnName}(${fn.params.map((p) => p.name).join(', ')})`;
    throw new ExplainError(
      `'${fnName}' uses arrays, which adc explain does not show yet (it draws the graph of scalar functions); ` +
        `for its gradient at a point, load the file in the REPL (adc repl --load FILE.ad), bind the arguments (such as x = [1, 2, 3]) and type grad ${call}`,
    );
  }
  if (anyReachable(fn, table, hasStatefulCode)) {
    throw new ExplainError(`'${fnName}' uses 'var', loops or 'if' blocks, which adc explain does not show yet (it draws the graph of expressions)`);
  }
  const values = pointValues(fn.params, point, fnName);
  const maxPaths = options.maxPaths ?? defaultMaxPaths;
  if (!Number.isInteger(maxPaths) || maxPaths < 0) throw new ExplainError(`the number of paths to list must be a whole number ≥ 0, not ${maxPaths}`, [], true);

  const g = new Graph(source, new LineMap(source), program.functions);
  const { output, inputs } = (options.expand ? buildExpanded : buildCollapsed)(g, fn, table, values);
  const done = g.finish(output, inputs, maxPaths);

  const gradientIr = compiled.functions.find((f) => f.value.name === fnName)!.gradient!;
  const generated = run(gradientIr, values);
  const gradient = Object.fromEntries(generated.gradient);

  return {
    function: fnName,
    point: fn.params.map((p, i) => ({ name: p.name, value: values[i], isConst: p.isConst })),
    view: options.expand ? 'expanded' : 'collapsed',
    nodes: done.nodes,
    edges: done.edges,
    output,
    value: done.value,
    adjoints: done.adjoints,
    inputs: done.paths.map((p) => ({ ...p, compiled: gradient[p.input] })),
    compiled: { value: generated.value, gradient },
    nonFinite: done.nonFinite,
    nonFiniteAdjoint: done.nonFiniteAdjoint,
  };
}

function pointValues(params: readonly { name: string }[], point: Readonly<Record<string, number>> | readonly number[], fnName: string): number[] {
  const signature = `${fnName}(${params.map((p) => p.name).join(', ')})`;
  // How to give the point, for every message about it: `--at x=…,y=…`.
  const how = `pass --at ${params.map((p) => `${p.name}=…`).join(',')}`;
  const mistake = (message: string) => new ExplainError(message, [], true);
  if (Array.isArray(point)) {
    if (point.length === 0 && params.length > 0) throw mistake(`${signature} needs a value for each parameter: ${how}`);
    if (point.length !== params.length) throw mistake(`${signature} takes ${params.length} value${params.length === 1 ? '' : 's'}, not ${point.length}: ${how}`);
    return [...point];
  }
  const byName = point as Readonly<Record<string, number>>;
  const known = new Set(params.map((p) => p.name));
  const unknown = Object.keys(byName).filter((k) => !known.has(k));
  if (unknown.length > 0) throw mistake(`${signature} has no parameter ${unknown.map((k) => `'${k}'`).join(', ')}: ${how}`);
  const missing = params.filter((p) => !Object.prototype.hasOwnProperty.call(byName, p.name));
  if (missing.length > 0) throw mistake(`no value given for ${missing.map((p) => `'${p.name}'`).join(', ')} of ${signature}: ${how}`);
  return params.map((p) => byName[p.name]);
}

/** The result as JSON, with NaN and ±Infinity written as the strings "NaN", "Infinity", "-Infinity", and a missing adjoint as null. */
export function explainToJson(result: ExplainResult, indent = 2): string {
  return JSON.stringify(result, (_key, v: unknown) => (v === undefined ? null : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** Whether a function, or one it calls, has array parameters, array lets or reductions. */
function usesArrays(fn: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>): boolean {
  return anyReachable(
    fn,
    table,
    (f) => f.params.some((p) => p.type) || f.body.some((s) => s.kind === 'let' && s.indices !== undefined),
    (e) => e.kind === 'index' || e.kind === 'element' || e.kind === 'list' || e.kind === 'reduce' || (e.kind === 'call' && (e.callee === 'dot' || e.callee === 'norm')),
  );
}
