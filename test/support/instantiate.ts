import { compileSync, formatDiagnostics, type CompileOptions } from '../../src/index.ts';
import type { CompiledModule } from './load.ts';

/**
 * Runs generated code without a module loader, for tests that compile thousands of programs: the
 * final `export { a, b as c };` becomes `return { a, c: b };` around the same code.
 */
export function instantiate(code: string): CompiledModule {
  const match = /export \{([^}]*)\};\s*$/.exec(code);
  if (!match) throw new Error('generated code has no export list');
  const entries = match[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec) => {
      const [local, exported = local] = spec.split(/\s+as\s+/);
      return `${JSON.stringify(exported)}: ${local}`;
    });
  const body = `${code.slice(0, match.index)}\nreturn { ${entries.join(', ')} };`;
  return new Function(`"use strict";\n${body}`)() as CompiledModule;
}

export function compileAndInstantiate(source: string, options: CompileOptions = {}): CompiledModule {
  const r = compileSync(source, options);
  if (r.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(r.diagnostics, source, 'input.ad')}\n${source}`);
  return instantiate(r.code);
}
