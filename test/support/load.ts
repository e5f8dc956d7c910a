import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, formatDiagnostics, type CompileOptions } from '../../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'adc-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

export type CompiledModule = Record<string, (...args: number[]) => unknown>;

/** Imports generated code as the real ES module it is (written to a temporary .mjs file). */
export async function importCode(code: string): Promise<CompiledModule> {
  const file = join(dir, `m${++counter}.mjs`);
  writeFileSync(file, code);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as CompiledModule;
}

/** Compiles .ad source and imports the module; fails the test with the diagnostics if it does not compile. */
export async function compileAndLoad(source: string, options: CompileOptions = {}): Promise<CompiledModule> {
  const result = await compile(source, options);
  if (result.code === undefined) throw new Error(`did not compile:\n${formatDiagnostics(result.diagnostics, source, 'input.ad')}`);
  return importCode(result.code);
}

export interface Gradient {
  value: number;
  gradient: Record<string, number>;
}
