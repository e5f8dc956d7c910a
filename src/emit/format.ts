export const printWidth = 100;
const options = { parser: 'babel', printWidth, singleQuote: true, trailingComma: 'all' } as const;

/** Prettier is loaded on the first format only: importing adc, `--no-format` and most files never need it. */
async function format(code: string): Promise<string> {
  const prettier = await import('prettier');
  prettierRuns.count++;
  return prettier.format(code, options);
}

/** How many texts have been handed to prettier in this process (tests check which sections skip it). */
export const prettierRuns = { count: 0 };

/**
 * Whether a line is a comment and nothing else (`// …`, or a `/* … *\/` closed at its end): prettier
 * copies such a line as it is, whatever its length, and its length changes the layout of no other
 * line, so it does not make a section need prettier. (The generated doc comments quote the
 * function's parameters and can be longer than the print width.)
 */
function wholeLineComment(line: string): boolean {
  const text = line.trimStart();
  if (text.startsWith('//')) return true;
  return text.startsWith('/*') && text.indexOf('*/', 2) === text.length - 2;
}

/** Whether prettier would change a section of our printer's: only when a line other than a comment is too long. */
function needsPrettier(lines: readonly string[]): boolean {
  return lines.some((line) => line.length > printWidth && !wholeLineComment(line));
}

/** The module text from its sections, as written by our printer. */
export function joinSections(sections: readonly { readonly text: string }[]): string {
  return sections.map((s) => s.text).join('\n\n') + '\n';
}

/**
 * Formats generated code with prettier, with fixed options so output never depends on a user's
 * configuration. The printer in emit-js.ts already writes prettier's layout for every line that
 * fits in the print width (test/format.test.ts checks this on the whole corpus), so only the
 * sections with a longer line (other than a whole-line comment) are handed to prettier: the result is the same as formatting the
 * whole module, and a 10,000-statement file does not spend seconds confirming it.
 */
export async function formatSections(sections: readonly { readonly lines: readonly string[]; readonly text: string }[]): Promise<string> {
  const formatted = await Promise.all(
    sections.map(async (section) => {
      if (!needsPrettier(section.lines)) return section;
      const text = section.text;
      const known = recentlyFormatted.get(text);
      if (known !== undefined) return { text: known };
      const result = (await format(text)).trimEnd();
      if (recentlyFormatted.size >= 2_000) recentlyFormatted.clear();
      recentlyFormatted.set(text, result);
      return { text: result };
    }),
  );
  return joinSections(formatted);
}

/**
 * Sections prettier has formatted, by their text: watch mode and the plugins compile the same
 * file again and again, and prettier costs milliseconds per section (a bounded memo, emptied when full).
 */
const recentlyFormatted = new Map<string, string>();

/** Prettier over a whole text, for tests and tools. */
export async function formatCode(code: string): Promise<string> {
  return format(code);
}
