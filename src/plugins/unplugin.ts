/**
 * The bundler plugin, written once with unplugin: `.ad` files become ES modules exporting `f` and
 * `fGrad` for each `fn f`, with a source map back to the `.ad` text. The per-bundler entry files
 * beside this one (`adc-compiler/vite`, `adc-compiler/rollup`, `adc-compiler/esbuild`, `adc-compiler/webpack`) export its adapters.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createUnplugin, type SourceMapCompact, type UnpluginContextMeta, type UnpluginMessage } from 'unplugin';
import { CompileCache } from '../compile-cache.ts';
import { compileSync } from '../compile.ts';
import { formatDiagnostic, formatDiagnostics } from '../diagnostics/format.ts';
import { LineMap } from '../diagnostics/span.ts';
import { writeIfChanged } from './write-if-changed.ts';

export interface AdcPluginOptions {
  /**
   * Also write TypeScript declarations beside each imported `.ad` file (`model.d.ad.ts` for
   * `model.ad`), so that `import { f } from './model.ad'` type-checks with the tsconfig option
   * `"allowArbitraryExtensions": true`. Default: false.
   */
  readonly dts?: boolean;
}

/** `/src/model.ad`, also with a query (`/src/model.ad?import`, `?v=123`) as some bundlers add. */
const adFile = /\.ad(?:\?.*)?$/;

/** The declarations file TypeScript looks for when resolving `import … from './model.ad'`. */
export function declarationFileFor(file: string): string {
  return file.replace(/\.ad$/, '.d.ad.ts');
}

/** The ES module (and its source map) for one `.ad` file, or the diagnostics that prevent it. */
export async function loadAdModule(file: string, options: AdcPluginOptions = {}, cache?: CompileCache) {
  // Invalid UTF-8 becomes U+FFFD, which the lexer reports with its location (as in the CLI).
  const source = new TextDecoder('utf-8').decode(await readFile(file));
  const result = compileSync(source, { filename: basename(file), sourceMap: true, dts: options.dts, cache });
  if (result.dts !== undefined) writeIfChanged(declarationFileFor(file), result.dts);
  return { source, result };
}

export const unplugin = createUnplugin<AdcPluginOptions | undefined, false>((options = {}, meta: UnpluginContextMeta) => {
  // One cache per file for the life of the plugin: a dev server's rebuild after an edit compiles
  // only the functions the edit could change (compile-cache.ts).
  const caches = new Map<string, CompileCache>();
  const cacheOf = (file: string) => caches.get(file) ?? caches.set(file, new CompileCache()).get(file)!;
  return {
    name: 'adc',
    enforce: 'pre',
    esbuild: { onLoadFilter: /\.ad$/, loader: 'js' },
    load: {
      filter: { id: adFile },
      async handler(id) {
        const file = id.replace(/\?.*$/, '');
        this.addWatchFile(file);
        const { source, result } = await loadAdModule(file, options, cacheOf(file));
        const lines = new LineMap(source);
        const errors = result.diagnostics.filter((d) => d.severity === 'error');
        const problems = errors.length > 0 ? errors : result.diagnostics;
        for (const d of result.diagnostics) {
          if (d.severity === 'warning') this.warn({ message: formatDiagnostics([d], source, file), id: file, loc: { file, ...at(lines, d.span.start) } });
        }
        if (result.code === undefined || errors.length > 0) {
          const first = problems[0];
          const loc = { file, ...at(lines, first.span.start) };
          if (meta.framework === 'esbuild') {
            // esbuild collects errors and prints each with its own location.
            for (const d of problems) this.error({ message: `${d.message} [${d.code}]`, id: file, loc: { file, ...at(lines, d.span.start) } });
          } else if (meta.framework === 'webpack' || meta.framework === 'rspack' || meta.framework === 'farm') {
            // These print the message as it is: every diagnostic as the CLI prints it (path:line:column, caret).
            this.error({ message: formatDiagnostics(problems, source, file), id: file, loc });
          } else {
            // Rollup and Vite stop at the first error and print its location and frame themselves: it
            // carries the first diagnostic, its source line and caret as the frame, and any others in full.
            const frame = formatDiagnostic(first, source, file, {}, lines).split('\n').slice(1).join('\n');
            const more = problems.length > 1 ? `\n${formatDiagnostics(problems.slice(1), source, file)}` : '';
            this.error({ message: `${first.message} [${first.code}]${more}`, id: file, loc, frame } as UnpluginMessage);
          }
          // Reached only where errors are collected (esbuild, webpack): they fail the build. (The
          // code is not empty because esbuild's adapter takes empty contents for "not handled".)
          return { code: `throw new Error(${JSON.stringify(`${basename(file)} did not compile`)});\n` };
        }
        return { code: result.code, map: result.map as SourceMapCompact | undefined };
      },
    },
  };
});

/** A line (1-based) and column (0-based), as bundlers count them. */
function at(lines: LineMap, offset: number): { line: number; column: number } {
  const { line, column } = lines.position(offset);
  return { line, column: column - 1 };
}
