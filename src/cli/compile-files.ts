import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { CompileCache } from '../compile-cache.ts';
import { compile } from '../compile.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { messages } from '../diagnostics/messages.ts';
import { describeFileError as reason } from './file-errors.ts';
import { writeFileAtomic } from './write-file.ts';

export interface CompileFilesOptions {
  readonly output?: string;
  readonly outDir?: string;
  readonly check?: boolean;
  readonly format?: boolean;
  readonly color?: boolean;
  /** Write `out.js.map` beside the output and point the output at it. */
  readonly sourceMap?: boolean;
  /** Write TypeScript declarations beside the output: `model.d.ts` for `model.js`. */
  readonly dts?: boolean;
  /** The compile cache of a file, for watch mode: functions an edit did not change are reused. */
  readonly cacheOf?: (file: string) => CompileCache;
}

export interface Reporter {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Compiles each file on its own. A file with errors gets its diagnostics printed and nothing
 * written (an existing output is left as it was); the other files are still compiled and written.
 * Returns the exit code: 0 when every file compiled, 1 otherwise.
 */
export async function compileFiles(files: readonly string[], options: CompileFilesOptions, report: Reporter): Promise<number> {
  let failed = 0;
  for (const file of files) {
    const ok = await compileFile(file, options, report);
    if (!ok) failed++;
  }
  if (files.length > 1 && failed > 0) report.err(`${failed} of ${files.length} files failed; nothing was written for ${failed === 1 ? 'it' : 'them'}.`);
  return failed === 0 ? 0 : 1;
}

export function outputPath(file: string, options: CompileFilesOptions): string {
  if (options.output) return options.output;
  const name = `${basename(file, extname(file))}.js`;
  return options.outDir ? join(options.outDir, name) : join(dirname(file), name);
}

/** Where the declarations of an output go: `model.d.ts` for `model.js`, `model.d.mts` for `model.mjs`. */
export function declarationPath(out: string): string {
  const ext = extname(out);
  const base = out.slice(0, out.length - ext.length);
  if (ext === '.mjs') return `${base}.d.mts`;
  if (ext === '.cjs') return `${base}.d.cts`;
  return ext === '.js' ? `${base}.d.ts` : `${out}.d.ts`;
}

/** Compiles one file and writes its output (and map, declarations); false when it failed. */
export async function compileFile(file: string, options: CompileFilesOptions, report: Reporter, source = readSource(file, report)): Promise<boolean> {
  if (source === undefined) return false;
  const out = outputPath(file, options);
  // The map names the source relative to where the map is written.
  const filename = options.sourceMap ? relative(dirname(resolve(out)), resolve(file)).split(sep).join('/') : basename(file);
  const result = await compile(source, { filename, format: options.format, sourceMap: options.sourceMap, dts: options.dts, cache: options.cacheOf?.(file) });
  if (result.diagnostics.length > 0) report.err(formatDiagnostics(result.diagnostics, source, file, { color: options.color }));
  if (result.code === undefined) return false;
  if (options.check) return true;
  if (resolve(out) === resolve(file)) {
    report.err(`adc: error: refusing to overwrite the input '${file}' with its output`);
    return false;
  }
  try {
    if (options.outDir && !existsSync(options.outDir)) mkdirSync(options.outDir, { recursive: true });
    if (result.dts !== undefined) writeFileAtomic(declarationPath(out), result.dts);
    if (result.map) {
      writeFileAtomic(`${out}.map`, JSON.stringify({ ...result.map, file: basename(out) }) + '\n');
      writeFileAtomic(out, `${result.code}//# sourceMappingURL=${basename(out)}.map\n`);
    } else {
      writeFileAtomic(out, result.code);
    }
  } catch (error) {
    report.err(`adc: error: ${messages.cannotWrite.text(out, reason(error))}`);
    return false;
  }
  report.out(`${file} → ${out}${result.dts !== undefined ? ` (+ ${basename(declarationPath(out))})` : ''}`);
  return true;
}

export function readSource(file: string, report: Reporter): string | undefined {
  try {
    if (statSync(file).isDirectory()) {
      report.err(`adc: error: ${messages.cannotRead.text(file, 'it is a directory')}`);
      return undefined;
    }
    // Invalid UTF-8 becomes U+FFFD, which the lexer reports with its location.
    return new TextDecoder('utf-8').decode(readFileSync(file));
  } catch (error) {
    report.err(`adc: error: ${messages.cannotRead.text(file, reason(error))}`);
    return undefined;
  }
}

