/**
 * The bundler plugin, written once with unplugin: `.ad` files become ES modules exporting `f` and
 * `fGrad` for each `fn f`, with a source map back to the `.ad` text. The per-bundler entry files
 * beside this one (`adc-compiler/vite`, `adc-compiler/rollup`, `adc-compiler/esbuild`,
 * `adc-compiler/webpack`) export its adapters.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { createUnplugin, type SourceMapCompact, type UnpluginContextMeta, type UnpluginMessage } from 'unplugin';
import { CompileCache } from '../compile-cache.ts';
import { compileSync } from '../compile.ts';
import { formatDiagnostic, formatDiagnostics } from '../diagnostics/format.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { printable } from '../diagnostics/printable.ts';
import { LineMap, type Span } from '../diagnostics/span.ts';
import type { PartialMessage, PluginBuild } from 'esbuild';
import type { AdcPluginOptions } from './options.ts';

export type { AdcPluginOptions };
import { writeIfChanged } from './write-if-changed.ts';

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
  const result = compileSync(source, { filename: basename(file), sourceMap: true, dts: options.dts, checkArgs: options.checkArgs, checkpointMemory: options.checkpointMemory, derivatives: options.derivatives, target: options.target, cache });
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
    esbuild: {
      // esbuild's own onLoad rather than unplugin's adapter, which keeps only a message's file, line
      // and column: esbuild then prints each diagnostic with its source line and a caret under it.
      setup(build: PluginBuild) {
        build.onLoad({ filter: /\.ad$/ }, async ({ path: file }) => {
          const { source, result } = await loadAdModule(file, options, cacheOf(file));
          const lines = new LineMap(source);
          const message = (d: Diagnostic): PartialMessage => ({
            text: `${printable(d.message)} [${d.code}]`,
            location: esbuildLocation(file, lines, d.span),
            notes: d.notes.map((n) => ({ text: printable(n.message), location: esbuildLocation(file, lines, n.span) })),
          });
          const errors = result.diagnostics.filter((d) => d.severity === 'error').map(message);
          const warnings = result.diagnostics.filter((d) => d.severity !== 'error').map(message);
          if (result.code === undefined || errors.length > 0) return { errors, warnings, watchFiles: [file] };
          const map = Buffer.from(JSON.stringify(result.map)).toString('base64');
          return { contents: `${result.code}//# sourceMappingURL=data:application/json;base64,${map}\n`, loader: 'js', warnings, watchFiles: [file] };
        });
      },
    },
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
          if (meta.framework === 'webpack' || meta.framework === 'rspack' || meta.framework === 'farm') {
            // These print the message as it is: every diagnostic as the CLI prints it (path:line:column, caret).
            this.error({ message: formatDiagnostics(problems, source, file), id: file, loc });
          } else {
            // Rollup and Vite stop at the first error and print its location and frame themselves: it
            // carries the first diagnostic, its source line and caret as the frame, and any others in full.
            const frame = formatDiagnostic(first, source, file, {}, lines).split('\n').slice(1).join('\n');
            const more = problems.length > 1 ? `\n${formatDiagnostics(problems.slice(1), source, file)}` : '';
            this.error({ message: `${printable(first.message)} [${first.code}]${more}`, id: file, loc, frame } as UnpluginMessage);
          }
          // Reached only where errors are collected (webpack): they fail the build.
          return { code: `throw new Error(${JSON.stringify(`${basename(file)} did not compile`)});\n` };
        }
        return { code: result.code, map: result.map as SourceMapCompact | undefined };
      },
    },
  };
});

/**
 * esbuild's location of a span: line (1-based), column and length in UTF-8 bytes, and the line's
 * text (control characters escaped, as the CLI shows them, with the column counted in that text).
 */
function esbuildLocation(file: string, lines: LineMap, span: Span): PartialMessage['location'] {
  const start = lines.position(span.start);
  const end = lines.position(span.end);
  const shown = [...lines.lineText(start.line, 10_000)].map((ch) => printable(ch, true));
  const bytes = (parts: readonly string[]) => Buffer.byteLength(parts.join(''));
  const from = start.column - 1;
  const to = end.line === start.line ? end.column - 1 : shown.length;
  return { file, namespace: 'file', line: start.line, column: bytes(shown.slice(0, from)), length: bytes(shown.slice(from, to)), lineText: shown.join('') };
}

/** A line (1-based) and column (0-based), as bundlers count them. */
function at(lines: LineMap, offset: number): { line: number; column: number } {
  const { line, column } = lines.position(offset);
  return { line, column: column - 1 };
}
