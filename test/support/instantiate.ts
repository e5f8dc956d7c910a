import { compileSync, formatDiagnostics, type CompileOptions } from '../../src/index.ts';
import { loadSync } from '../../src/explain/generated.ts';
import type { CompiledModule } from './load.ts';

/**
 * Runs generated code without a module loader, for tests that compile thousands of programs: the
 * final `export { a, b as c };` becomes `return { a, c: b };` around the same code.
 */
export function instantiate(code: string): CompiledModule {
  return loadSync(code) as CompiledModule;
}

export function compileAndInstantiate(source: string, options: CompileOptions = {}): CompiledModule {
  const r = compileSync(source, options);
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}\n${source}`);
  return instantiate(r.code);
}
