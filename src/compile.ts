import { reverseMode } from './ad/reverse.ts';
import { CompileCache } from './compile-cache.ts';
import { checkProgram } from './check/check-program.ts';
import { DiagnosticBag, type Diagnostic } from './diagnostics/diagnostic.ts';
import { messages } from './diagnostics/messages.ts';
import { LineMap } from './diagnostics/span.ts';
import { emitDeclarations } from './emit/emit-dts.ts';
import { cotangentParameterName } from './emit/names.ts';
import { emitWasmModule } from './emit/wasm/emit-wasm.ts';
import { emitModule, type EmitFunction, type EmittedFunction, type Section } from './emit/js/emit-js.ts';
import { forwardMode } from './ad/forward.ts';
import { span } from './diagnostics/span.ts';
import { derivativeKinds, parseDerivatives, type Derivative } from './derivatives.ts';

export { derivativeKinds, parseDerivatives, type Derivative };
import { buildSourceMap, type SourceMap } from './emit/source-map.ts';
import { formatSections, joinSections } from './emit/format.ts';
import { optimize } from './ir/optimize.ts';
import type { Callee, IrFunction } from './ir/ir.ts';
import { returnsArray, type FunctionDecl, type Program } from './syntax/ast.ts';
import { checkShapes, type ArrayInfo } from './check/check-shapes.ts';
import { lowerFunction } from './ir/lower.ts';
import { nestedDerivative } from './ad/nested.ts';
import { reverseSweepRepeatable } from './ad/repeat-reverse.ts';
import { unrollAndJam } from './ad/unroll-and-jam.ts';
import { parse } from './syntax/parse.ts';
import { parseApart } from './syntax/parse-apart.ts';
import { version } from './version.ts';
import { buildCallGraph, keptOnWasm, resultShapeOf, type CallPolicy } from './ir/call-graph.ts';
import { CallForms } from './ad/calls.ts';

const callPolicies: readonly CallPolicy[] = ['auto', 'inline', 'keep'];

export interface CompileOptions {
  /** The name used in messages and in the generated header. Default: `input.ad`. */
  readonly filename?: string;
  /** Format the output with prettier (the default). */
  readonly format?: boolean;
  /**
   * Also return a source map from the generated code to the `.ad` source. The code is then laid
   * out by adc's own printer only (prettier cannot carry a map); it differs from the formatted
   * output only in lines over 100 columns.
   */
  readonly sourceMap?: boolean;
  /** Also return TypeScript declarations (`model.d.ts`) for the module. */
  readonly dts?: boolean;
  /**
   * Which derivatives each function exports: `grad` (fGrad, fGradInto), `jvp` (fJvp), `vjp`
   * (fVjp; its cotangent has the value's shape), `jacobian` (fJacobian, for functions returning
   * an array), `hvp` (fHvp), `hessian` (fHessian). Default: `grad` for functions returning a number (so the output
   * is what it always was), `jacobian` for those returning a vector, nothing for those returning a matrix.
   */
  readonly derivatives?: readonly Derivative[];
  /**
   * Check at run time that every number argument is a number: otherwise a string is converted
   * and undefined becomes NaN, silently. A bad argument throws a TypeError naming the function,
   * the parameter and what was passed. Array arguments are always checked. Default: false.
   */
  readonly checkArgs?: boolean;
  /**
   * The most memory, in MB, a gradient may use to store the state of one loop (`for`/`while` with
   * `var`s) per iteration; past it, it stores every ⌈√T⌉-th state and recomputes the others
   * (two-level checkpointing). Default: 64.
   */
  readonly checkpointMemory?: number;
  /**
   * Reuse what an earlier compile of the same file made (and keep this one's for the next):
   * functions whose code and callees did not change are not compiled again. For watch mode and
   * bundler plugins; the output is the same as without it. One cache per file.
   */
  readonly cache?: CompileCache;
  /**
   * `js` (the default): JavaScript only. `wasm`: the value, fGrad and fGradInto of each function
   * with array parameters also run as WebAssembly (f64x2 SIMD) embedded in the same module, with
   * the same signatures and results; the module falls back to its JavaScript where WebAssembly
   * cannot run. See README, "WebAssembly target".
   */
  readonly target?: 'js' | 'wasm';
  /**
   * How calls of user functions are compiled: `auto` (the default) lets the compiler choose, by
   * size × call sites, which functions are compiled once and called (src/ir/call-graph.ts);
   * `inline` inlines every call; `keep` keeps every call of a function of numbers. For tests and
   * measurements: both forced ways compute the same derivatives.
   */
  readonly calls?: CallPolicy;
}

/** Those this version builds (every one today; a kind left out is refused with AD5040). */
const built: ReadonlySet<Derivative> = new Set(['grad', 'jvp', 'vjp', 'jacobian', 'hessian', 'hvp']);

export interface FunctionInfo {
  readonly name: string;
  /** Each parameter; `type` for a vector or matrix (`vec[n]`, `mat[m, n]`). */
  readonly params: readonly { readonly name: string; readonly isConst: boolean; readonly type?: 'vec' | 'mat' }[];
  /** A function returning an array: `vec` (a Float64Array) or `mat` (an array of Float64Array rows). */
  readonly result?: 'vec' | 'mat';
  /** Its derivative exports: fGrad (and fGradInto), fJvp, fVjp, fJacobian, fHvp, fHessian. */
  readonly exports: Exports;
}

/** Which derivative exports a function has. */
export interface Exports {
  readonly grad: boolean;
  readonly jvp: boolean;
  readonly vjp: boolean;
  readonly jacobian: boolean;
  readonly hvp: boolean;
  readonly hessian: boolean;
}

/**
 * The exports of a function from the derivatives asked for (default: `grad` for one returning a
 * number). Gradients, Hessian-vector products and Hessians are of functions returning numbers;
 * Jacobians of functions returning arrays. Every parameter type and result type has them: a
 * block's dimensions are the output's then the parameter's (up to four, for a mat of a mat).
 */
function exportsFor(returns: 'vec' | 'mat' | undefined, asked: ReadonlySet<Derivative> | undefined): Exports {
  const returnsArray = returns !== undefined;
  // Without a list: fGrad for a number, fJacobian for a vec; a mat's Jacobian (three or four
  // dimensions) only when asked for, so the default output stays what it was.
  const wants = (d: Derivative) => (asked ? asked.has(d) : returns === 'mat' ? false : d === (returnsArray ? 'jacobian' : 'grad'));
  return {
    grad: wants('grad') && !returnsArray,
    jvp: wants('jvp'),
    vjp: wants('vjp'),
    jacobian: wants('jacobian') && returnsArray,
    hvp: wants('hvp') && !returnsArray,
    hessian: wants('hessian') && !returnsArray,
  };
}

export interface CompileResult {
  /** The ES module, or undefined when there were errors. */
  readonly code: string | undefined;
  /** Every problem found, each with a span; use `formatDiagnostics` to print them. */
  readonly diagnostics: readonly Diagnostic[];
  /** The functions the module exports (each with its `Grad` twin), in source order. */
  readonly functions: readonly FunctionInfo[];
  /** With `sourceMap: true`: the source map (v3) of `code`, its source named `filename`. */
  readonly map?: SourceMap;
  /** With `dts: true`: the module's TypeScript declarations, for a `model.d.ts` beside `model.js`. */
  readonly dts?: string;
}

/** The compiled IR of one file, before it is written as JavaScript. */
export interface CompiledProgram {
  readonly functions: readonly EmitFunction[];
}

/** Source → checked AST, or undefined with diagnostics. */
function check(source: string, diagnostics: DiagnosticBag, policy: CallPolicy = 'auto'): { program: Program; table: Map<string, FunctionDecl> } | undefined {
  const program = parse(source, diagnostics);
  if (!program) {
    checkApart(source, diagnostics);
    return undefined;
  }
  const table = checkProgram(program, diagnostics, policy);
  return table && { program, table };
}

/**
 * After syntax errors, the checks of the functions that parsed on their own (src/syntax/parse-apart.ts),
 * so one run reports every independent problem. Not after a nesting limit (AD1003, AD1006): those
 * pieces would be too deep for the checks to walk.
 */
function checkApart(source: string, diagnostics: DiagnosticBag): void {
  if (diagnostics.items.some((d) => d.code === messages.nestingTooDeep.code || d.code === messages.expressionTooDeep.code)) return;
  const { program, broken } = parseApart(source, diagnostics.items);
  if (program.functions.length === 0) return;
  const bag = new DiagnosticBag();
  checkProgram(program, bag);
  for (const d of bag.items) {
    // A name of a function that could not be read is not unknown; its problem is already reported.
    const unknown = d.code === messages.unknownFunction.code || d.code === messages.unknownVariable.code;
    if (unknown && broken.has(source.slice(d.span.start, d.span.end))) continue;
    diagnostics.items.push(d);
  }
}

/**
 * How many Jacobian columns one run of forward mode computes (its directions: ad/forward.ts): the
 * value and its intermediates once per K columns, the tangents of K columns beside them. K = 4
 * (measured: README "Derivatives"), or the number of inputs when all are numbers and fewer.
 */
function columnsPerSweep(ir: IrFunction): number {
  const wrt = ir.params.filter((p) => !p.isConst);
  return Math.max(1, wrt.some((p) => p.shape) ? 4 : Math.min(4, wrt.length));
}

/**
 * One checked function → its optimised value IR and the IR of each derivative asked for. Every
 * derivative is derived from the unoptimised primal, so the code keeps every value in the form
 * the derivative rules expect; each is then optimised as a whole.
 */
function compileFunction(
  decl: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  asked: ReadonlySet<Derivative> | undefined,
  options: Pick<CompileOptions, 'checkpointMemory' | 'target'> = {},
  kept: ReadonlySet<string> = new Set(),
): EmitFunction {
  const { ir, names } = lowerFunction(decl, table, nestedDerivative, kept);
  const value = optimize(ir, names);
  const want = exportsFor(ir.result?.kind, asked);
  const reverseOptions = { checkpointMemory: options.checkpointMemory };
  // Differentiated again by forward mode (Hessians): without the guards that skip an adjoint of
  // exactly 0, whose tangent need not be 0 (as for nested gradients, ad/nested.ts). Kept calls stay
  // calls there, those returning arrays too (their adjoint form has a tangent form: calls.ts).
  const reverse = want.hvp || want.hessian ? reverseMode(ir, names, { ...reverseOptions, guardZeros: false }) : undefined;
  // The gradient alone may keep logsumexp tapes (written by the JS emitter's loops: forward mode
  // over the gradient, for fHvp, uses the reverse sweep above instead; the wasm target has none).
  const onJs = (options.target ?? 'js') === 'js';
  const gradientAlone = !(want.hvp || want.hessian);
  const gradient = want.grad ? reverseMode(ir, names, { ...reverseOptions, logsumexpTapes: onJs, regroup: gradientAlone }) : undefined;
  // fJacobian takes reverse rows (fVjp's reverse sweep per output, from one forward sweep where it
  // can: ad/repeat-reverse.ts) when there are fewer outputs than inputs (2m < n where each row runs
  // both sweeps), else forward columns, several per run of the value (columnsPerSweep).
  const vjp = want.vjp || want.jacobian ? optimize(reverseMode(ir, names, { ...options, cotangent: cotangentParameterName }), names) : undefined;
  return {
    value,
    // Four outer iterations per pass of a reversed loop nest whose inner loop adds into elements at
    // its own index (ad/unroll-and-jam.ts): fGrad's own sweep only (regrouped, as above), both targets;
    // before that, two iterations of a loop around such nests fused (ad/jam-pairs.ts), both targets too
    // (the same order of additions on both: a test asserts their bits agree where no sum is vectorised).
    ...(gradient && { gradient: gradientAlone ? unrollAndJam(optimize(gradient, names), names, { pairs: true }) : optimize(gradient, names) }),
    ...(vjp && { vjp, exportVjp: want.vjp, rowsFromOneForwardSweep: want.jacobian && reverseSweepRepeatable(vjp) }),
    ...(want.jvp && { jvp: optimize(forwardMode(ir, names), names), exportJvp: true }),
    ...(want.jacobian && { jacobian: true, jacobianColumns: optimize(forwardMode(ir, names, undefined, columnsPerSweep(ir)), names) }),
    ...(reverse && (want.hvp || want.hessian) && { hvp: optimize(forwardMode(reverse, names), names), exportHvp: want.hvp, hessian: want.hessian }),
  };
}

/** Source → checked AST → IR (value and gradient) per function. Never throws on bad input. */
export function compileToIr(source: string, diagnostics: DiagnosticBag): CompiledProgram | undefined {
  // Every call inlined: adc explain draws one function's whole graph.
  const checked = check(source, diagnostics, 'inline');
  return checked && { functions: checked.program.functions.map((decl) => compileFunction(decl, checked.table, undefined)) };
}

/**
 * The type each option must have; an option left out or `undefined` takes its default. Every
 * option is listed (a new one is a type error here until it is).
 */
const optionTypes: { readonly [K in keyof CompileOptions]-?: 'string' | 'boolean' | 'number' | 'object' | 'list of strings' } = {
  filename: 'string',
  format: 'boolean',
  sourceMap: 'boolean',
  dts: 'boolean',
  checkArgs: 'boolean',
  checkpointMemory: 'number', // its range is checked where it is used
  cache: 'object', // a CompileCache: checked below
  calls: 'string', // one of callPolicies: checked below
  derivatives: 'list of strings', // each a derivative: an unknown one is the diagnostic AD5040
  target: 'string', // 'js' or 'wasm': another is the diagnostic AD5041
};

/** What a value is, in a message: `a Buffer`, `undefined`, `a number (42)`. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return value instanceof Uint8Array ? `a ${value.constructor.name} (decode it first: new TextDecoder().decode(bytes))` : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return `a ${typeof value}`;
}

/**
 * The API's arguments, checked before anything reads them: the source must be a string and each
 * known option of its type. Bad `.ad` text is never an exception (it gives diagnostics); a wrong
 * argument type is a programming error and a `TypeError` that says what was passed.
 */
function validateArguments(name: string, source: unknown, options: unknown): void {
  if (typeof source !== 'string') throw new TypeError(`adc: ${name}(source, options) takes the .ad source text as a string, not ${describe(source)}`);
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`adc: ${name}(source, options): options must be an object, not ${describe(options)}`);
  for (const [key, type] of Object.entries(optionTypes)) {
    const value = (options as Record<string, unknown>)[key];
    const ok = type === 'list of strings' ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === type;
    if (value !== undefined && !ok) throw new TypeError(`adc: ${name}(source, options): options.${key} must be a ${type}, not ${describe(value)}`);
  }
  const calls = (options as Record<string, unknown>).calls;
  if (calls !== undefined && !callPolicies.includes(calls as CallPolicy)) throw new TypeError(`adc: ${name}(source, options): options.calls must be one of ${callPolicies.map((p) => `'${p}'`).join(', ')}, not ${JSON.stringify(calls)}`);
  const cache = (options as Record<string, unknown>).cache;
  if (cache !== undefined && !(cache instanceof CompileCache)) throw new TypeError(`adc: ${name}(source, options): options.cache must be a CompileCache (new CompileCache()), not ${describe(cache)}`);
}

function compileSections(source: string, options: CompileOptions): CompileResult & { sections?: Section[] } {
  const filename = options.filename ?? 'input.ad';
  const diagnostics = new DiagnosticBag();
  const asked = options.derivatives && new Set(options.derivatives);
  for (const d of asked ?? []) {
    if (!built.has(d)) diagnostics.error('derivativeNotBuilt', span(0, 0), String(d));
  }
  const target = options.target ?? 'js';
  if (target !== 'js' && target !== 'wasm') diagnostics.error('unknownTarget', span(0, 0), String(target));
  const policy = options.calls ?? 'auto';
  const checked = diagnostics.hasErrors ? undefined : check(source, diagnostics, policy);
  const memory = options.checkpointMemory;
  if (memory !== undefined && !(Number.isFinite(memory) && memory >= 0)) throw new RangeError(`checkpointMemory must be a number of MB ≥ 0, not ${memory}`);
  // Passes report in their own order; people read a file top to bottom.
  diagnostics.items.sort((a, b) => a.span.start - b.span.start);
  if (!checked) return { code: undefined, diagnostics: diagnostics.items, functions: [] };
  const lines = new LineMap(source);
  const graph = buildCallGraph(checked.table, policy);
  // The wasm target inlines functions returning arrays that the size × call-site rule would keep,
  // while what that adds stays bounded (keptOnWasm), so that their callers compile to WebAssembly.
  const kept = target === 'wasm' ? keptOnWasm(checked.table, graph, policy) : new Set(graph.kept.keys());
  const calls = new CallForms(checked.table, graph, policy, options);
  const cache = options.cache;
  // A function's code also depends on which of its callees are kept, decided over the whole file:
  // the kept set is part of every key, and each entry remembers the kept forms its code calls.
  const keptKey = [...kept].sort().join(',');
  const callsOf = new Map<string, readonly Callee[]>();
  const keys = new Map<string, string>();
  // Every function's key, callees first, in one walk of the file; options that change the code
  // of every function are part of each key.
  const cacheKeys = cache?.keys(checked.program.functions, checked.table, source, lines, `${options.checkArgs === true}/${options.checkpointMemory ?? ''}/${target}/${asked ? [...asked].sort().join(',') : 'default'}/${policy}/${keptKey}`);
  // Each function is compiled as it is emitted, so only one function's IR is alive at a time.
  const compiled = (function* () {
    for (const decl of checked.program.functions) {
      const key = cacheKeys?.get(decl.name);
      const reused = key === undefined ? undefined : cache!.reuse(key, decl.span.start, lines.position(decl.span.start).line);
      if (reused) {
        calls.noteCalls(reused.calls ?? []);
        yield { reuse: reused };
        continue;
      }
      if (key !== undefined) keys.set(decl.name, key);
      const compiled = compileFunction(decl, checked.table, asked, options, kept);
      // A function calling itself (its value function is its primal form) may be running when called again.
      const made = graph.kept.get(decl.name)?.recursive ? { ...compiled, reentrant: true } : compiled;
      callsOf.set(decl.name, calls.note([made.value, made.gradient, made.vjp, made.jvp, made.jacobianColumns, made.hvp]));
      yield made;
    }
  })();
  const emitted = (made: EmittedFunction, reusable: boolean) => {
    const decl = checked.table.get(made.name)!;
    if (reusable && keys.has(made.name)) cache!.keep(keys.get(made.name)!, { ...made, calls: callsOf.get(made.name) }, decl.span.start, lines.position(decl.span.start).line);
  };
  const emitInput = { filename, version, lines, functions: compiled, checkArgs: options.checkArgs, emitted, calls: () => calls.forms(), ...(asked && !(asked.size === 1 && asked.has('grad')) && { derivatives: [...asked] }) };
  const sections = target === 'wasm' ? emitWasmModule(emitInput, diagnostics) : emitModule(emitInput);
  cache?.finish();
  // The wasm target refuses what it cannot compile (AD5042).
  if (diagnostics.hasErrors) return { code: undefined, diagnostics: diagnostics.items, functions: [] };
  // (One table of result shapes for the file, the call graph's: each function's is found once.)
  const resultOf = resultShapeOf(checked.table);
  const functions = checked.program.functions.map((decl): FunctionInfo => {
    const result = resultKind(decl, checked.table, resultOf);
    return {
      name: decl.name,
      params: decl.params.map((p) => ({ name: p.name, isConst: p.isConst, ...(p.type && { type: p.type.kind === 'mat' ? ('mat' as const) : ('vec' as const) }) })),
      ...(result && { result }),
      exports: exportsFor(result, asked),
    };
  });
  const map = options.sourceMap ? buildSourceMap(sections, source, lines, filename) : undefined;
  const dts = options.dts ? emitDeclarations(functions, { filename, version }) : undefined;
  return { code: joinSections(sections), diagnostics: diagnostics.items, functions, sections, ...(map && { map }), ...(dts !== undefined && { dts }) };
}

/** Whether a checked function returns a vec or a mat (undefined: a number). */
function resultKind(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>, resultOf: (name: string) => ArrayInfo | undefined): 'vec' | 'mat' | undefined {
  if (!returnsArray(decl, table)) return undefined;
  return checkShapes(decl, table, new DiagnosticBag(), resultOf)?.dims.length === 2 ? 'mat' : 'vec';
}

/**
 * Compiles without prettier: synchronous, and the fastest path. The code is laid out by our own
 * printer, which differs from `compile`'s only in lines longer than 100 columns.
 */
export function compileSync(source: string, options: Omit<CompileOptions, 'format'> = {}): CompileResult {
  validateArguments('compileSync', source, options);
  const { sections: _, ...result } = compileSections(source, options);
  return result;
}

/**
 * Compiles one `.ad` source text to an ES module. Resolves with `code` undefined and the
 * diagnostics when the source has errors; it does not reject on bad input. It rejects with a
 * `TypeError` only when called with a source that is not a string or a wrongly typed option.
 */
export async function compile(source: string, options: CompileOptions = {}): Promise<CompileResult> {
  validateArguments('compile', source, options);
  const { sections, ...result } = compileSections(source, options);
  if (!sections || options.format === false || options.sourceMap) return result;
  return { ...result, code: await formatSections(sections) };
}
