import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import type { CompileCache } from '../compile-cache.ts';
import { compile } from '../compile.ts';
import type { Derivative } from '../derivatives.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { messages } from '../diagnostics/messages.ts';
import { printable } from '../diagnostics/printable.ts';
import { describeFileError as reason } from './file-errors.ts';
import { readAllStdin, stdinName, stdio } from './stdio.ts';
import { fileIdentity, isSameFile, sameIdentity, writeFilesTogether } from './write-file.ts';

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
  /** The derivative exports of each function (`--derivatives grad,jvp`); default as in compile(). */
  readonly derivatives?: readonly Derivative[];
  /** Generated code checks that number arguments are numbers (`--check-args`). */
  readonly checkArgs?: boolean;
  /** The tape budget of a loop with state, in MB (`--checkpoint-memory`). */
  readonly checkpointMemory?: number;
  /** `js` or `wasm` (`--target`); default as in compile(). */
  readonly target?: 'js' | 'wasm';
  /** The compile cache of a file, for watch mode: functions an edit did not change are reused. */
  readonly cacheOf?: (file: string) => CompileCache;
}

export interface Reporter {
  out(line: string): void;
  err(line: string): void;
  /** All of standard input, for the input `-` (default: process.stdin, read to its end). */
  readStdin?(): Promise<string>;
}

/**
 * Compiles each file on its own. A file with errors gets its diagnostics printed and nothing
 * written (an existing output is left as it was); the other files are still compiled and written.
 * Returns the exit code: 0 when every file compiled, 1 otherwise.
 */
export async function compileFiles(files: readonly string[], options: CompileFilesOptions, report: Reporter): Promise<number> {
  let failed = 0;
  for (const file of files) {
    const ok = file === stdio ? await compileFile(file, options, report, await (report.readStdin ?? readAllStdin)()) : await compileFile(file, options, report);
    if (!ok) failed++;
  }
  if (files.length > 1 && failed > 0) report.err(`${failed} of ${files.length} files failed; nothing was written for ${failed === 1 ? 'it' : 'them'}.`);
  // --check writes nothing, so without this line a success would print nothing at all.
  if (options.check && failed === 0) report.out(`no problems in ${files.length} ${files.length === 1 ? 'file' : 'files'}`);
  return failed === 0 ? 0 : 1;
}

export function outputPath(file: string, options: CompileFilesOptions): string {
  if (options.output) return options.output;
  // Standard input has no name to write beside: its module goes to standard output.
  if (file === stdio) return stdio;
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
  const fromStdin = file === stdio;
  const shown = fromStdin ? stdinName : file;
  // The map names the source relative to where the map is written.
  const filename = fromStdin ? stdinName : options.sourceMap ? relative(dirname(resolve(out)), resolve(file)).split(sep).join('/') : basename(file);
  const result = await compile(source, {
    filename,
    format: options.format,
    sourceMap: options.sourceMap,
    dts: options.dts,
    checkArgs: options.checkArgs,
    checkpointMemory: options.checkpointMemory,
    derivatives: options.derivatives,
    target: options.target,
    cache: options.cacheOf?.(file),
  });
  if (result.diagnostics.length > 0) report.err(formatDiagnostics(result.diagnostics, source, shown, { color: options.color }));
  if (result.code === undefined) return false;
  if (options.check) return true;
  if (out === stdio) {
    // The module alone on standard output (checkOutputs refused a map or declarations with it);
    // the line naming what was written would be mixed into the module, so there is none.
    report.out(result.code.replace(/\n$/, ''));
    return true;
  }
  const outputs = [
    ...(result.dts !== undefined ? [{ path: declarationPath(out), text: result.dts }] : []),
    ...(result.map ? [{ path: `${out}.map`, text: JSON.stringify({ ...result.map, file: basename(out) }) + '\n' }] : []),
    // The map's URL is percent-encoded: a file name is never code, whatever characters it holds.
    { path: out, text: result.map ? `${result.code}//# sourceMappingURL=${encodeURIComponent(basename(out))}.map\n` : result.code },
  ];
  // Never overwrite the input, whatever name it is reached by (a link, `..`, a hard link).
  const clash = fromStdin ? undefined : outputs.find((o) => isSameFile(file, o.path));
  if (clash) {
    report.err(`adc: error: ${messages.outputIsInput.text(file, clash.path)}`);
    return false;
  }
  const folder = outputs.find((o) => isFolder(o.path));
  if (folder) {
    report.err(`adc: error: ${folder.path === out ? messages.outputIsFolder.text(out) : messages.cannotWrite.text(folder.path, 'it is a directory')}`);
    return false;
  }
  try {
    mkdirSync(dirname(out), { recursive: true });
    // The output, its map and its declarations are written together or not at all.
    writeFilesTogether(outputs);
  } catch (error) {
    report.err(`adc: error: ${messages.cannotWrite.text(out, reason(error))}`);
    return false;
  }
  // Every file written is named: the module, then its map and declarations.
  const alongside = [...(result.map ? [`${basename(out)}.map`] : []), ...(result.dts !== undefined ? [basename(declarationPath(out))] : [])];
  report.out(printable(`${shown} → ${out}${alongside.length > 0 ? ` (+ ${alongside.join(', ')})` : ''}`));
  const commonJs = extname(out) === '.js' ? commonJsPackageOf(out) : undefined;
  if (commonJs !== undefined) report.err(`adc: warning: ${messages.commonJsPackage.text(out, commonJs)}`);
  return true;
}

/**
 * The package.json that makes Node read `file` (a .js file) as CommonJS, if one does: the nearest
 * package.json above it, when it says `"type": "commonjs"` (as `npm init -y` writes since npm 11).
 * Without a "type", Node 20.19 and later see the module's `export` and load it as one.
 */
export function commonJsPackageOf(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    let text: string | undefined;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch {
      text = undefined; // none here (or unreadable, which Node would skip too): look further up
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === 'commonjs' ? candidate : undefined;
      } catch {
        return undefined; // not ours to judge: Node reports a broken package.json itself
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether `path` names a folder: an existing one, or a path ending with a separator. */
export function isFolder(path: string): boolean {
  if (path.endsWith('/') || path.endsWith(sep)) return true;
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Problems with where a whole batch would be written, found before anything is compiled: `-o`
 * naming a folder or a `.cjs` file, two inputs written to one output (`--out-dir out a/m.ad b/m.ad`),
 * or one input's output overwriting another input; standard input (`-`) with other inputs or
 * `--out-dir`, and standard output with several inputs or files written beside it (a map,
 * declarations). Returns one message, or undefined.
 */
export function checkOutputs(files: readonly string[], options: CompileFilesOptions & { readonly watch?: boolean }): string | undefined {
  if (options.watch && (files.includes(stdio) || options.output === stdio)) return messages.stdioWatch.text();
  if (options.outDir === stdio) return messages.stdoutOutDir.text();
  if (files.includes(stdio) && files.length > 1) return messages.stdinNotAlone.text();
  if (files.includes(stdio) && options.outDir !== undefined && !options.check) return messages.stdinOutDir.text();
  if (options.output === stdio || (files.includes(stdio) && options.output === undefined && options.outDir === undefined)) {
    if (files.length > 1) return messages.stdoutOneInput.text();
    const beside = options.sourceMap ? '--source-map' : options.dts ? '--dts' : undefined;
    if (beside !== undefined && !options.check) return messages.stdoutBeside.text(beside);
    return undefined; // one input, one output on standard output: nothing can clash
  }
  if (options.check) return undefined;
  if (options.output !== undefined && isFolder(options.output)) return messages.outputIsFolder.text(options.output);
  if (options.output !== undefined && extname(options.output).toLowerCase() === '.cjs') return messages.commonJsOutput.text(options.output);
  if (files.includes(stdio)) return undefined; // one input (-o names its output, checked above): nothing else can clash
  const inputs = files.map((file) => ({ file, id: fileIdentity(file) }));
  const writers = new Map<string, string>();
  for (const file of files) {
    const out = outputPath(file, options);
    const paths = [out, ...(options.dts ? [declarationPath(out)] : []), ...(options.sourceMap ? [`${out}.map`] : [])];
    for (const path of paths) {
      const id = fileIdentity(path);
      const other = writers.get(id.real);
      if (other !== undefined && !isSameFile(other, file)) return messages.sameOutput.text(other, file, path);
      writers.set(id.real, file);
      const input = inputs.find((i) => sameIdentity(i.id, id));
      if (input !== undefined) return messages.outputIsInput.text(input.file, path);
    }
  }
  return undefined;
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

