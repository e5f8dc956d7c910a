import { checkProgram } from '../check/check-program.ts';
import { compileToIr } from '../compile.ts';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { LineMap } from '../diagnostics/span.ts';
import { anyReachable, hasStatefulCode, type FunctionDecl, type Param } from '../syntax/ast.ts';
import { parse } from '../syntax/parse.ts';
import { buildCollapsed } from './collapsed.ts';
import { buildExpanded } from './expanded.ts';
import { Graph } from './graph.ts';
import { generatedModule, type Argument } from './generated.ts';
import { run } from './interpret.ts';
import type { ControlStep, ExplainOptions, ExplainResult, PointValue } from './types.ts';
import { buildUnrolled, SizeMismatch, Stopped, TooLarge } from './unrolled.ts';

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

/** A point: values by parameter name, or in parameter order; an array parameter's value is an array (a `mat`: rows). */
export type Point = Readonly<Record<string, PointValue>> | readonly PointValue[];

/**
 * The expression graph of `fnName` at `point`: values, edge partials, adjoints, the paths from the
 * output to each input, and the first value or adjoint that is not finite; with `forward`, each
 * node's tangent. Functions with arrays or statements get the unrolled view (one node per
 * operation run and per array element). Synchronous; throws `ExplainError` on bad input.
 */
export function explain(source: string, fnName: string, point: Point, options: ExplainOptions = {}): ExplainResult {
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
  const ir = compiled.functions.find((f) => f.value.name === fnName)!;
  if (ir.value.result) {
    throw new ExplainError(
      `'${fnName}' returns ${ir.value.result.kind === 'vec' ? 'a vector' : 'a matrix'}, and adc explain shows the graph of one number; ` +
        `explain a function returning one of its elements or a sum of them (fn g(…) = ${fnName}(…)[${ir.value.result.kind === 'vec' ? '0' : '0, 0'}])`,
    );
  }
  if (anyReachable(fn, table, () => false, (e) => e.kind === 'derivative')) {
    throw new ExplainError(`'${fnName}' takes a derivative inside the language (grad(f, x)(…)), which adc explain does not show yet`);
  }
  const unrolled = usesArrays(fn, table) || anyReachable(fn, table, hasStatefulCode);
  const values = pointValues(fn.params, point, fnName);
  const maxPaths = options.maxPaths ?? defaultMaxPaths;
  if (!Number.isInteger(maxPaths) || maxPaths < 0) throw new ExplainError(`the number of paths to list must be a whole number ≥ 0, not ${maxPaths}`, [], true);

  const lines = new LineMap(source);
  const g = new Graph(source, lines, program.functions);
  let built: { output: string; inputs: string[]; control?: ControlStep[] };
  try {
    built = unrolled
      ? buildUnrolled(g, fn, table, values, lines)
      : (options.expand ? buildExpanded : buildCollapsed)(g, fn, table, values as number[]);
  } catch (error) {
    if (error instanceof TooLarge || error instanceof SizeMismatch) throw new ExplainError(error.message, [], true);
    if (error instanceof Stopped) throw new ExplainError(`'${fnName}' throws a RangeError at this point (${error.message})`);
    throw error;
  }
  const { output, inputs, control } = built;
  const forward = options.forward === undefined ? undefined : forwardInput(options.forward, fn, inputs, values);
  const done = g.finish(output, inputs, maxPaths, forward);

  // The value and gradient the generated code computes: interpreted for scalar functions (the
  // gradient IR, exactly as emitted); the generated JavaScript itself for the others, and for fJvp.
  const args = values.map(argument);
  let generated: { value: number; gradient: Record<string, number> };
  const module = unrolled || forward !== undefined ? generatedModule(source) : undefined;
  if (unrolled) {
    let r;
    try {
      r = module!.grad(fnName, args);
    } catch (error) {
      if (error instanceof RangeError) throw new ExplainError(`'${fnName}' throws a RangeError at this point (${error.message})`);
      throw error;
    }
    generated = { value: r.value, gradient: flatten(fn.params, r.gradient) };
  } else {
    const r = run(ir.gradient!, values as number[]);
    generated = { value: r.value, gradient: Object.fromEntries(r.gradient) };
  }

  return {
    function: fnName,
    point: fn.params.map((p, i) => ({ name: p.name, value: values[i], isConst: p.isConst })),
    view: unrolled ? 'unrolled' : options.expand ? 'expanded' : 'collapsed',
    nodes: done.nodes,
    edges: done.edges,
    output,
    value: done.value,
    adjoints: done.adjoints,
    inputs: done.paths.map((p) => ({ ...p, compiled: generated.gradient[p.input] })),
    compiled: generated,
    nonFinite: done.nonFinite,
    nonFiniteAdjoint: done.nonFiniteAdjoint,
    ...(forward !== undefined ? { forward: { input: forward, tangent: done.tangent, compiled: module!.jvp(fnName, seed(fn.params, forward, values), args).tangent } } : {}),
    ...(control ? { control } : {}),
  };
}

/** `--forward x1`: the input to seed, by its node id (a parameter, or an element `x[1]`, `A[0,1]`, spaces allowed). */
function forwardInput(text: string, fn: FunctionDecl, inputs: readonly string[], values: readonly PointValue[]): string {
  const id = text.replace(/\s+/g, '');
  if (inputs.includes(id)) return id;
  const how = `--forward takes a differentiated input of '${fn.name}'`;
  const param = fn.params.find((p) => p.name === id.replace(/\[.*$/, ''));
  if (param?.isConst) throw new ExplainError(`${how}: '${param.name}' is const, not differentiated`, [], true);
  if (param?.type && !id.includes('[')) {
    const first = param.type.kind === 'vec' ? `${param.name}[0]` : `${param.name}[0,0]`;
    throw new ExplainError(`${how}: '${param.name}' is an array; name one element, such as ${first}`, [], true);
  }
  if (param?.type) {
    const v = values[fn.params.indexOf(param)];
    const size = param.type.kind === 'vec' ? `0..${(v as readonly number[]).length - 1}` : `0..${(v as readonly unknown[]).length - 1} and columns 0..${((v as readonly (readonly number[])[])[0]?.length ?? 0) - 1}`;
    throw new ExplainError(`${how}: '${text}' is not an element of '${param.name}' (indices ${size}${param.type.kind === 'mat' ? ', written A[i,j]' : ''})`, [], true);
  }
  const names = fn.params.filter((p) => !p.isConst).map((p) => p.name);
  throw new ExplainError(`${how}, not '${text}'${names.length > 0 ? ` (one of ${names.join(', ')})` : ' (it has none)'}`, [], true);
}

/** The tangent object of `fJvp` seeding one input (a parameter or one element) with 1. */
function seed(params: readonly Param[], input: string, values: readonly PointValue[]): Record<string, Argument> {
  const tangent: Record<string, Argument> = {};
  params.forEach((p, k) => {
    if (p.isConst) return;
    const v = values[k];
    if (!p.type) tangent[p.name] = p.name === input ? 1 : 0;
    else if (p.type.kind === 'vec') tangent[p.name] = Float64Array.from(v as readonly number[], (_, i) => (`${p.name}[${i}]` === input ? 1 : 0));
    else tangent[p.name] = (v as readonly (readonly number[])[]).map((row, i) => Float64Array.from(row, (_, j) => (`${p.name}[${i},${j}]` === input ? 1 : 0)));
  });
  return tangent;
}

/** A value as the generated code takes it. */
function argument(v: PointValue): Argument {
  if (typeof v === 'number') return v;
  if (v.length > 0 && typeof v[0] !== 'number') return (v as readonly (readonly number[])[]).map((r) => Float64Array.from(r));
  return Float64Array.from(v as readonly number[]);
}

/** The generated gradient by input node id: `x`, `x[1]`, `A[0,1]`. */
function flatten(params: readonly Param[], gradient: Record<string, Argument>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of params) {
    const g = gradient[p.name];
    if (g === undefined) continue;
    if (typeof g === 'number') out[p.name] = g;
    else if (g instanceof Float64Array) g.forEach((x, i) => (out[`${p.name}[${i}]`] = x));
    else g.forEach((row, i) => row.forEach((x, j) => (out[`${p.name}[${i},${j}]`] = x)));
  }
  return out;
}

function pointValues(params: readonly Param[], point: Point, fnName: string): PointValue[] {
  const signature = `${fnName}(${params.map((p) => p.name).join(', ')})`;
  // How to give the point, for every message about it: `--at x=…,y=…`, arrays as in the REPL.
  const example = (p: Param) => (!p.type ? '…' : p.type.kind === 'vec' ? '[…]' : '[[…], […]]');
  const how = `pass --at ${params.map((p) => `${p.name}=${example(p)}`).join(',')}`;
  const mistake = (message: string) => new ExplainError(message, [], true);
  let values: PointValue[];
  if (Array.isArray(point)) {
    if (point.length === 0 && params.length > 0) throw mistake(`${signature} needs a value for each parameter: ${how}`);
    if (point.length !== params.length) throw mistake(`${signature} takes ${params.length} value${params.length === 1 ? '' : 's'}, not ${point.length}: ${how}`);
    values = [...(point as readonly PointValue[])];
  } else {
    const byName = point as Readonly<Record<string, PointValue>>;
    const known = new Set(params.map((p) => p.name));
    const unknown = Object.keys(byName).filter((k) => !known.has(k));
    if (unknown.length > 0) throw mistake(`${signature} has no parameter ${unknown.map((k) => `'${k}'`).join(', ')}: ${how}`);
    const missing = params.filter((p) => !Object.prototype.hasOwnProperty.call(byName, p.name));
    if (missing.length > 0) throw mistake(`no value given for ${missing.map((p) => `'${p.name}'`).join(', ')} of ${signature}: ${how}`);
    values = params.map((p) => byName[p.name]);
  }
  // Each value's shape against its parameter's type.
  params.forEach((p, k) => {
    const v = values[k];
    const isNumber = (x: unknown) => typeof x === 'number';
    const isVector = (x: unknown): x is readonly number[] => Array.isArray(x) && x.every(isNumber);
    const ok = !p.type ? isNumber(v) : p.type.kind === 'vec' ? isVector(v) : Array.isArray(v) && v.every(isVector);
    if (ok) return;
    const wanted = !p.type ? 'a number' : p.type.kind === 'vec' ? 'a vector ([1, 2, 3])' : 'a matrix, as rows ([[1, 2], [3, 4]])';
    throw mistake(`'${p.name}' of ${signature} takes ${wanted}: ${how}`);
  });
  return values;
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
