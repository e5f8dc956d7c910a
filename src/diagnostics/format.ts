import type { Diagnostic } from './diagnostic.ts';
import { printable } from './printable.ts';
import { LineMap } from './span.ts';

export interface FormatOptions {
  /** ANSI colours, for terminals. */
  readonly color?: boolean;
}

const paint = (on: boolean, code: string, text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

/**
 * `path:line:col: error: message`, the source line, and a caret under the offending token, like
 * compilers print them; related notes follow in the same form.
 */
export function formatDiagnostic(d: Diagnostic, source: string, filename: string, options: FormatOptions = {}, lines = new LineMap(source)): string {
  const color = options.color ?? false;
  const block = (start: number, end: number, label: string, labelColor: string, message: string): string[] => {
    const pos = lines.position(start);
    const endPos = lines.position(end);
    let chars = [...lines.lineText(pos.line, 100_000)];
    let column = pos.column;
    // A very long line is shown as a window around the column.
    if (chars.length > 160 && column > 60) {
      chars = ['…', ...chars.slice(column - 60)];
      column = 61;
    }
    if (chars.length > 160) chars = [...chars.slice(0, 159), '…'];
    // Control characters (a terminal escape in a comment, a stray carriage return) are shown
    // escaped, as compilers do; the caret counts the escapes' width so it stays under its token.
    const shown = chars.map((ch) => printable(ch, true));
    const text = shown.join('');
    const widthOf = (from: number, to: number) => shown.slice(from, to).reduce((n, s) => n + s.length, 0);
    const from = column - 1;
    const to = endPos.line === pos.line ? from + (endPos.column - pos.column) : chars.length + 1;
    const width = Math.max(1, widthOf(from, Math.min(to, chars.length)) + Math.max(0, to - Math.max(from, chars.length)));
    const prefix = shown.slice(0, column - 1).map((s) => (s === '\t' ? '\t' : ' '.repeat(s.length))).join('');
    return [
      `${paint(color, '1', `${printable(filename)}:${pos.line}:${pos.column}:`)} ${paint(color, labelColor, `${label}:`)} ${paint(color, '1', printable(message))} [${d.code}]`,
      `  ${text}`,
      `  ${prefix}${paint(color, labelColor, '^' + '~'.repeat(Math.min(width, 80) - 1))}`,
    ];
  };
  const out = block(d.span.start, d.span.end, d.severity, d.severity === 'error' ? '1;31' : '1;33', d.message);
  for (const note of d.notes) {
    const [first, ...rest] = block(note.span.start, note.span.end, 'note', '1;36', note.message);
    out.push(first.replace(` [${d.code}]`, ''), ...rest);
  }
  return out.join('\n');
}

export function formatDiagnostics(ds: readonly Diagnostic[], source: string, filename: string, options: FormatOptions = {}): string {
  const lines = new LineMap(source);
  return ds.map((d) => formatDiagnostic(d, source, filename, options, lines)).join('\n');
}
