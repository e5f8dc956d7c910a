/** The public API of adc. The CLI, the REPL and the plugins are thin wiring over these. */
export { CompileCache } from './compile-cache.ts';
export { compile, compileSync, derivativeKinds, type CompileOptions, type CompileResult, type Derivative, type FunctionInfo } from './compile.ts';
export type { Diagnostic, RelatedNote } from './diagnostics/diagnostic.ts';
export { formatDiagnostic, formatDiagnostics, type FormatOptions } from './diagnostics/format.ts';
export { LineMap, type Position, type Span } from './diagnostics/span.ts';
export type { SourceMap } from './emit/source-map.ts';
export { version } from './version.ts';
