import { reverseMode } from './ad/reverse.ts';
import type { CompileCache } from './compile-cache.ts';
import { checkProgram } from './check/check-program.ts';
import { DiagnosticBag, type Diagnostic } from './diagnostics/diagnostic.ts';
import { LineMap } from './diagnostics/span.ts';
import { emitDeclarations } from './emit/emit-dts.ts';
import { emitModule, type Section } from './emit/emit-js.ts';
import { buildSourceMap, type SourceMap } from './emit/source-map.ts';
import { formatSections, joinSections } from './emit/format.ts';
import { optimize } from './ir/optimize.ts';
import type { IrFunction } from './ir/ir.ts';
import type { FunctionDecl, Program } from './syntax/ast.ts';
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
   * Reuse what an earlier compile of the same file made (and keep this one's for the next):
   * functions whose code and callees did not change are not compiled again. For watch mode and
   * bundler plugins; the output is the same as without it. One cache per file.
   */
  readonly cache?: CompileCache;
}

export interface FunctionInfo {
  readonly name: string;
  /** Each parameter; `type` for a vector or matrix (`vec[n]`, `mat[m, n]`). */
  readonly params: readonly { readonly name: string; readonly isConst: boolean; readonly type?: 'vec' | 'mat' }[];
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
  readonly functions: readonly { readonly value: IrFunction; readonly gradient: IrFunction }[];
}

/** Source → checked AST, or undefined with diagnostics. */
function check(source: string, diagnostics: DiagnosticBag): { program: Program; table: Map<string, FunctionDecl> } | undefined {
  const program = parse(source, diagnostics);
  if (!program) return undefined;
  const table = checkProgram(program, diagnostics);
  return table && { program, table };
}

/** One checked function → its optimised value IR and gradient IR. */
function compileFunction(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>): { value: IrFunction; gradient: IrFunction } {
  const { ir, names } = lowerFunction(decl, table);
  const value = optimize(ir, names);
  // The gradient is derived from the unoptimised primal, so the forward sweep keeps every value
  // in the form the derivative rules expect; it is then optimised as a whole.
  const gradient = optimize(reverseMode(ir, names), names);
  return { value, gradient };
}

/** Source → checked AST → IR (value and gradient) per function. Never throws on bad input. */
export function compileToIr(source: string, diagnostics: DiagnosticBag): CompiledProgram | undefined {
  const checked = check(source, diagnostics);
  return checked && { functions: checked.program.functions.map((decl) => compileFunction(decl, checked.table)) };
}

function compileSections(source: string, options: CompileOptions): CompileResult & { sections?: Section[] } {
  const filename = options.filename ?? 'input.ad';
  const diagnostics = new DiagnosticBag();
  const checked = check(source, diagnostics);
  // Passes report in their own order; people read a file top to bottom.
  diagnostics.items.sort((a, b) => a.span.start - b.span.start);
  if (!checked) return { code: undefined, diagnostics: diagnostics.items, functions: [] };
  const lines = new LineMap(source);
  const cache = options.cache;
  const keys = new Map<string, string>();
  // Each function is compiled as it is emitted, so only one function's IR is alive at a time.
  const compiled = (function* () {
    for (const decl of checked.program.functions) {
      const key = cache?.key(decl, checked.table, source, lines);
      const reused = key === undefined ? undefined : cache!.reuse(key, decl.name, decl.span.start, lines.position(decl.span.start).line);
      if (reused) {
        yield { reuse: reused };
        continue;
      }
      if (key !== undefined) keys.set(decl.name, key);
      yield compileFunction(decl, checked.table);
    }
  })();
  const emitted = (name: string, made: readonly Section[], reusable: boolean) => {
    const decl = checked.table.get(name)!;
    if (reusable && keys.has(name)) cache!.keep(keys.get(name)!, made, decl.span.start, lines.position(decl.span.start).line);
  };
  const sections = emitModule({ filename, version, lines, functions: compiled, emitted });
  cache?.finish();
  const functions = checked.program.functions.map((decl) => ({
    name: decl.name,
    params: decl.params.map((p) => ({ name: p.name, isConst: p.isConst, ...(p.type && { type: p.type.kind === 'mat' ? ('mat' as const) : ('vec' as const) }) })),
  }));
  const map = options.sourceMap ? buildSourceMap(sections, source, lines, filename) : undefined;
  const dts = options.dts ? emitDeclarations(functions, { filename, version }) : undefined;
  return { code: joinSections(sections), diagnostics: diagnostics.items, functions, sections, ...(map && { map }), ...(dts !== undefined && { dts }) };
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
