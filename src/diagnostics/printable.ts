/**
 * User text shown on a terminal or written into generated code: a source line in a diagnostic, a
 * file name in a message or a header comment. Control characters are shown escaped, as compilers
 * do, so a `.ad` comment or a file name holding `ESC [2A` cannot move the cursor or clear the
 * screen, and a line break in a file name cannot start a new line of a message or of code.
 */

/**
 * The characters never shown raw: C0 controls, DEL and C1 controls, the line and paragraph
 * separators JavaScript reads as line breaks, and the bidirectional overrides and isolates that
 * reorder what a reader sees ("Trojan Source", CVE-2021-42574). Tab is listed too; `printable`
 * keeps it when asked to (a source line keeps its tabs so the caret lines up under them).
 */
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const named: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One character as a JavaScript escape: `\n`, `\x1b`, `\u2028`. */
function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return named[ch] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** The text with every control character escaped (`\x1b`, `\n`, `\u2028`); tabs kept when `keepTabs`. */
export function printable(text: string, keepTabs = false): string {
  return text.replace(unsafe, (ch) => (keepTabs && ch === '\t' ? ch : escapeChar(ch)));
}

/** Whether `printable` would change the text. */
export function hasUnsafe(text: string): boolean {
  unsafe.lastIndex = 0;
  const found = unsafe.test(text);
  unsafe.lastIndex = 0;
  return found;
}

/** The text as a JSON string, every control character escaped (`"a\nb.ad"`, `"\u2028"`): `JSON.parse` gives it back. */
export function jsonQuote(text: string): string {
  return JSON.stringify(text).replace(unsafe, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A file name or path as messages show it: `'model.ad'` when it is plain (no control character,
 * quote or backslash), otherwise as `jsonQuote` writes it, so the exact name can be read back.
 */
export function quotePath(path: string): string {
  return !hasUnsafe(path) && !/['"\\]/.test(path) ? `'${path}'` : jsonQuote(path);
}

/**
 * A file name in a generated header comment: as it is, or as `jsonQuote` writes it when it holds a
 * control character (a line break would end the comment and start code) or starts with `"` (so a
 * reader can tell a quoted name from a plain one).
 */
export function headerName(path: string): string {
  return hasUnsafe(path) || path.startsWith('"') ? jsonQuote(path) : path;
}
