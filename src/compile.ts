import { reverseMode } from './ad/reverse.ts';
import { checkProgram } from './check/check-program.ts';
import { DiagnosticBag, type Diagnostic } from './diagnostics/diagnostic.ts';
import { LineMap } from './diagnostics/span.ts';
import { emitDeclarations } from './emit/emit-dts.ts';
import { emitModule, type EmitFunction, type Section } from './emit/emit-js.ts';
import { forwardMode } from './ad/forward.ts';
import { span } from './diagnostics/span.ts';
import { buildSourceMap, type SourceMap } from './emit/source-map.ts';
import { formatSections, joinSections } from './emit/format.ts';
import { optimize } from './ir/optimize.ts';
import type { IrFunction } from './ir/ir.ts';
import { returnsArray, type FunctionDecl, type Program } from './syntax/ast.ts';
import { checkShapes } from './check/check-shapes.ts';
import { resultShapes } from './check/check-program.ts';
import { lowerFunction } from './ir/lower.ts';
import { parse } from './syntax/parse.ts';
import { version } from './version.ts';

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
   * Which derivatives each function exports: `grad` (fGrad, fGradInto), `jvp` (fJvp), `hvp`
   * (fHvp), `hessian` (fHessian); `vjp` and `jacobian` (for functions returning arrays) are not
   * built yet and are refused. Default: `grad` for functions returning a number (so the output
   * is what it always was), nothing more for functions returning arrays.
   */
  readonly derivatives?: readonly Derivative[];
}

/** The derivative exports `derivatives` may ask for. */
export const derivativeKinds = ['grad', 'jvp', 'vjp', 'jacobian', 'hessian', 'hvp'] as const;
export type Derivative = (typeof derivativeKinds)[number];
/**
 * `grad,jvp,hessian` (the CLI's `--derivatives`, the loader's ADC_DERIVATIVES) as a list, or the
 * message for a word that is not a derivative.
 */
export function parseDerivatives(text: string): Derivative[] | string {
  const words = text.split(',').map((w) => w.trim()).filter((w) => w.length > 0);
  const wrong = words.find((w) => !(derivativeKinds as readonly string[]).includes(w));
  if (wrong !== undefined) return `unknown derivative '${wrong}' (one of ${derivativeKinds.join(', ')})`;
  return words as Derivative[];
}

/** Those this version builds. */
const built: ReadonlySet<Derivative> = new Set(['grad', 'jvp', 'hessian', 'hvp']);

export interface FunctionInfo {
  readonly name: string;
  /** Each parameter; `type` for a vector or matrix (`vec[n]`, `mat[m, n]`). */
  readonly params: readonly { readonly name: string; readonly isConst: boolean; readonly type?: 'vec' | 'mat' }[];
  /** A function returning an array: `vec` (a Float64Array) or `mat` (an array of Float64Array rows). */
  readonly result?: 'vec' | 'mat';
  /** Its derivative exports: fGrad (and fGradInto), fJvp, fHvp, fHessian. */
  readonly exports: Exports;
}

/** Which derivative exports a function has. */
export interface Exports {
  readonly grad: boolean;
  readonly jvp: boolean;
  readonly hvp: boolean;
  readonly hessian: boolean;
}

/**
 * The exports of a function from the derivatives asked for (default: `grad` for one returning a
 * number). Gradients, Hessian-vector products and Hessians are of functions returning numbers;
 * a Hessian is not made for differentiated matrix parameters (its blocks would have four dimensions).
 */
function exportsFor(returnsArray: boolean, matrixParams: boolean, asked: ReadonlySet<Derivative> | undefined): Exports {
  const wants = (d: Derivative) => (asked ? asked.has(d) : d === 'grad' && !returnsArray);
  return {
    grad: wants('grad') && !returnsArray,
    jvp: wants('jvp'),
    hvp: wants('hvp') && !returnsArray,
    hessian: wants('hessian') && !returnsArray && !matrixParams,
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
function check(source: string, diagnostics: DiagnosticBag): { program: Program; table: Map<string, FunctionDecl> } | undefined {
  const program = parse(source, diagnostics);
  if (!program) return undefined;
  const table = checkProgram(program, diagnostics);
  return table && { program, table };
}

/**
 * One checked function → its optimised value IR and the IR of each derivative asked for. Every
 * derivative is derived from the unoptimised primal, so the code keeps every value in the form
 * the derivative rules expect; each is then optimised as a whole.
 */
function compileFunction(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>, asked: ReadonlySet<Derivative> | undefined): EmitFunction {
  const { ir, names } = lowerFunction(decl, table);
  const value = optimize(ir, names);
  const want = exportsFor(ir.result !== undefined, ir.params.some((p) => !p.isConst && p.shape?.kind === 'mat'), asked);
  const reverse = want.grad || want.hvp || want.hessian ? reverseMode(ir, names) : undefined;
  return {
    value,
    ...(reverse && want.grad && { gradient: optimize(reverse, names) }),
    ...(want.jvp && { jvp: optimize(forwardMode(ir, names), names) }),
    ...(reverse && (want.hvp || want.hessian) && { hvp: optimize(forwardMode(reverse, names), names), exportHvp: want.hvp, hessian: want.hessian }),
  };
}

/** Source → checked AST → IR (value and gradient) per function. Never throws on bad input. */
export function compileToIr(source: string, diagnostics: DiagnosticBag): CompiledProgram | undefined {
  const checked = check(source, diagnostics);
  return checked && { functions: checked.program.functions.map((decl) => compileFunction(decl, checked.table, undefined)) };
}

function compileSections(source: string, options: CompileOptions): CompileResult & { sections?: Section[] } {
  const filename = options.filename ?? 'input.ad';
  const diagnostics = new DiagnosticBag();
  const asked = options.derivatives && new Set(options.derivatives);
  for (const d of asked ?? []) {
    if (!built.has(d)) diagnostics.error('derivativeNotBuilt', span(0, 0), String(d));
  }
  const checked = diagnostics.hasErrors ? undefined : check(source, diagnostics);
  // Passes report in their own order; people read a file top to bottom.
  diagnostics.items.sort((a, b) => a.span.start - b.span.start);
  if (!checked) return { code: undefined, diagnostics: diagnostics.items, functions: [] };
  const lines = new LineMap(source);
  // Each function is compiled as it is emitted, so only one function's IR is alive at a time.
  const compiled = (function* () {
    for (const decl of checked.program.functions) yield compileFunction(decl, checked.table, asked);
  })();
  const sections = emitModule({ filename, version, lines, functions: compiled });
  const functions = checked.program.functions.map((decl): FunctionInfo => {
    const result = resultKind(decl, checked.table);
    const matrixParams = decl.params.some((p) => !p.isConst && p.type?.kind === 'mat');
    return {
      name: decl.name,
      params: decl.params.map((p) => ({ name: p.name, isConst: p.isConst, ...(p.type && { type: p.type.kind === 'mat' ? ('mat' as const) : ('vec' as const) }) })),
      ...(result && { result }),
      exports: exportsFor(result !== undefined, matrixParams, asked),
    };
  });
  const map = options.sourceMap ? buildSourceMap(sections, source, lines, filename) : undefined;
  const dts = options.dts ? emitDeclarations(functions, { filename, version }) : undefined;
  return { code: joinSections(sections), diagnostics: diagnostics.items, functions, sections, ...(map && { map }), ...(dts !== undefined && { dts }) };
}

/** Whether a checked function returns a vec or a mat (undefined: a number). */
function resultKind(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>): 'vec' | 'mat' | undefined {
  if (!returnsArray(decl, table)) return undefined;
  return checkShapes(decl, table, new DiagnosticBag(), resultShapes(table))?.dims.length === 2 ? 'mat' : 'vec';
}

/**
 * Compiles without prettier: synchronous, and the fastest path. The code is laid out by our own
 * printer, which differs from `compile`'s only in lines longer than 100 columns.
 */
export function compileSync(source: string, options: Omit<CompileOptions, 'format'> = {}): CompileResult {
  const { sections: _, ...result } = compileSections(source, options);
  return result;
}

/**
 * Compiles one `.ad` source text to an ES module. Resolves with `code` undefined and the
 * diagnostics when the source has errors; it does not reject on bad input.
 */
export async function compile(source: string, options: CompileOptions = {}): Promise<CompileResult> {
  const { sections, ...result } = compileSections(source, options);
  if (!sections || options.format === false || options.sourceMap) return result;
  return { ...result, code: await formatSections(sections) };
}
