import { addMapping, GenMapping, setSourceContent, toEncodedMap, type EncodedSourceMap } from '@jridgewell/gen-mapping';
import type { LineMap } from '../diagnostics/span.ts';
import type { Section } from './js/emit-js.ts';

export type SourceMap = EncodedSourceMap;

/**
 * A source map (v3) for the module that `joinSections` makes of these sections: each generated
 * line that comes from the source maps, at its first non-blank column, to the line and column of
 * the `.ad` expression it computes. Stack traces and debuggers then point at the `.ad` file.
 */
export function buildSourceMap(sections: readonly Section[], source: string, lines: LineMap, filename: string, file?: string): SourceMap {
  const map = new GenMapping({ file });
  setSourceContent(map, filename, source);
  let generatedLine = 1;
  sections.forEach((section, s) => {
    if (s > 0) generatedLine++; // the blank line between sections
    section.lines.forEach((text, i) => {
      const origin = section.origins[i];
      if (origin !== undefined) {
        const { line, column } = lines.position(origin);
        addMapping(map, {
          generated: { line: generatedLine, column: text.length - text.trimStart().length },
          source: filename,
          original: { line, column: column - 1 },
        });
      }
      generatedLine++;
    });
  });
  return toEncodedMap(map);
}
