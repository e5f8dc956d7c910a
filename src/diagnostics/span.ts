/** A half-open range of UTF-16 offsets into one source text. Line and column are computed only when printed. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export function span(start: number, end: number): Span {
  return { start, end };
}

export function cover(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in code points. */
  readonly column: number;
}

/** Line starts of a text, for turning offsets into positions. */
export class LineMap {
  private readonly starts: number[] = [0];
  /** Lines holding a character outside the BMP, where columns must count code points. */
  private readonly astral = new Set<number>();

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) this.astral.add(this.starts.length - 1);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  /** The 0-based line index containing offset (clamped into the text). */
  lineIndex(offset: number): number {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const line = this.lineIndex(o);
    const start = this.starts[line];
    // Constant time on the usual line; only a line with astral characters is counted.
    const column = (this.astral.has(line) ? countCodePoints(this.text.slice(start, o)) : o - start) + 1;
    return { line: line + 1, column };
  }

  /** The text of a 1-based line, without its line break; at most `limit` characters of it. */
  lineText(line: number, limit = Infinity): string {
    const start = this.starts[line - 1] ?? this.text.length;
    const next = this.starts[line];
    let end = next === undefined ? this.text.length : next;
    while (end > start && (this.text[end - 1] === '\n' || this.text[end - 1] === '\r')) end--;
    return this.text.slice(start, Math.min(end, start + limit));
  }
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
