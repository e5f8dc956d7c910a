import { formatDiagnostic, LineMap, type Diagnostic, type RelatedNote, type Span } from '../index.ts';

/** Where a piece of text came from: a file, or an entry typed at the prompt. */
export interface Where {
  /** The name shown in messages: a path, `<repl>` or `<stdin>`. */
  readonly filename: string;
  /** The whole text the piece belongs to (a file, or the entry as typed), for line, column and the quoted line. */
  readonly source: string;
  /** The offset of the piece's first character in `source`. */
  readonly offset: number;
}

/** Some text a person wrote, and where it is: positions in it can always be reported where they were typed. */
export interface Piece {
  readonly text: string;
  readonly where: Where;
}

/**
 * An entry typed at the prompt. `line` is the line it started on (1 at a prompt; the line number
 * of the input when piped), so a message points at `<stdin>:7:12` for the 7th line of a script.
 */
export function typed(text: string, filename = '<repl>', line = 1): Piece {
  const pad = '\n'.repeat(Math.max(0, line - 1));
  return { text, where: { filename, source: pad + text, offset: pad.length } };
}

/** The whole text of a file. */
export function fileText(text: string, filename: string): Piece {
  return { text, where: { filename, source: text, offset: 0 } };
}

/** Part of a piece, keeping its place in the original text. */
export function slice(piece: Piece, start: number, end = piece.text.length): Piece {
  return { text: piece.text.slice(start, end), where: { ...piece.where, offset: piece.where.offset + start } };
}

/** Text the REPL writes around user text (`fn __repl_value() = `), or a piece of user text. */
export type Segment = string | Piece;

interface Part {
  readonly start: number;
  readonly end: number;
  readonly chunk: number;
  readonly piece?: Piece;
}

/** A diagnostic with its spans moved to where the user wrote the text, ready to print. */
export interface Problem {
  readonly diagnostic: Diagnostic;
  readonly where: Where;
  /** Notes about text from elsewhere (another file or entry), printed after the diagnostic. */
  readonly farNotes: readonly { readonly note: RelatedNote; readonly where: Where }[];
}

/** Problems found in one step; they print like the compiler prints them. */
export class Problems {
  constructor(readonly items: readonly Problem[]) {}

  get messages(): string[] {
    return this.items.map((p) => p.diagnostic.message);
  }

  format(color = false): string {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of this.items) {
      const text = formatProblem(p, color);
      if (seen.has(text)) continue;
      seen.add(text);
      out.push(text);
    }
    return out.join('\n');
  }
}

function formatProblem(p: Problem, color: boolean): string {
  let text = formatDiagnostic(p.diagnostic, p.where.source, p.where.filename, { color });
  if (p.diagnostic.code === '') text = text.replace(/ \[\]$/m, '');
  for (const { note, where } of p.farNotes) {
    // The compiler's own layout for a note: format it as the note of a diagnostic at the same place,
    // and keep the note's lines (a diagnostic prints as three lines, then three per note).
    const carrier: Diagnostic = { ...p.diagnostic, span: note.span, notes: [note] };
    text += '\n' + formatDiagnostic(carrier, where.source, where.filename, { color }).split('\n').slice(3).join('\n');
  }
  return text;
}

/** An error at a piece of user text that the compiler did not report (a REPL message, printed without a code). */
export function problemAt(piece: Piece, message: string, start = 0, end = piece.text.length): Problems {
  const span = { start: piece.where.offset + start, end: piece.where.offset + Math.max(start, end) };
  return new Problems([{ diagnostic: { severity: 'error', code: '', message, span, notes: [] }, where: piece.where, farNotes: [] }]);
}

/**
 * One synthetic source made of chunks (each a function, as segments of REPL text and user text),
 * joined by line breaks. Diagnostics about it are mapped back to the user's pieces: a position in
 * text the REPL wrote is reported at the start of the nearest following piece of the same chunk
 * (or the end of the one before), so no message ever points into text the user did not write.
 */
export class Assembly {
  readonly source: string;
  private readonly parts: Part[] = [];

  constructor(chunks: readonly (readonly Segment[])[]) {
    let source = '';
    chunks.forEach((segments, chunk) => {
      for (const segment of [...segments, '\n']) {
        const text = typeof segment === 'string' ? segment : segment.text;
        // An empty piece stays, so a message about it (say, a missing expression) still has a place.
        if (typeof segment === 'string' && text.length === 0) continue;
        this.parts.push({ start: source.length, end: source.length + text.length, chunk, piece: typeof segment === 'string' ? undefined : segment });
        source += text;
      }
    });
    this.source = source;
  }

  /** The offset in the synthetic source of `pieceOffset` within a piece given to the constructor. */
  offsetOf(piece: Piece, pieceOffset = 0): number | undefined {
    const part = this.parts.find((p) => p.piece === piece);
    return part && part.start + pieceOffset;
  }

  /** The piece and the offset within it that a synthetic offset stands for. */
  locate(offset: number, isEnd = false): { piece: Piece; at: number } | undefined {
    const index = this.parts.findIndex((p) => (isEnd ? offset > p.start && offset <= p.end : offset >= p.start && offset < p.end));
    const i = index >= 0 ? index : isEnd && offset === 0 ? 0 : this.parts.length - 1;
    const part = this.parts[i];
    if (!part) return undefined;
    if (part.piece) return { piece: part.piece, at: Math.max(0, Math.min(offset - part.start, part.piece.text.length)) };
    for (let j = i + 1; j < this.parts.length && this.parts[j].chunk === part.chunk; j++) {
      const next = this.parts[j].piece;
      if (next) return { piece: next, at: 0 };
    }
    for (let j = i - 1; j >= 0 && this.parts[j].chunk === part.chunk; j--) {
      const before = this.parts[j].piece;
      if (before) return { piece: before, at: before.text.length };
    }
    return undefined;
  }

  /** A synthetic span as a span in the source its start was written in. */
  mapSpan(span: Span): { span: Span; where: Where } | undefined {
    const start = this.locate(span.start);
    if (!start) return undefined;
    const end = span.end > span.start ? this.locate(span.end, true) : undefined;
    const endAt = end === undefined ? start.at : end.piece === start.piece ? end.at : start.piece.text.length;
    const base = start.piece.where.offset;
    return { span: { start: base + start.at, end: base + Math.max(start.at, endAt) }, where: start.piece.where };
  }

  /** The compiler's diagnostics about the synthetic source, moved to where each was written. */
  problems(diagnostics: readonly Diagnostic[], rewrite: (d: Diagnostic) => Diagnostic = (d) => d): Problems {
    const items: Problem[] = [];
    for (const raw of diagnostics) {
      const d = rewrite(raw);
      const main = this.mapSpan(d.span);
      if (!main) continue;
      const notes: RelatedNote[] = [];
      const farNotes: { note: RelatedNote; where: Where }[] = [];
      for (const note of d.notes) {
        const mapped = this.mapSpan(note.span);
        if (!mapped) continue;
        if (sameSource(mapped.where, main.where)) notes.push({ message: note.message, span: mapped.span });
        else farNotes.push({ note: { message: note.message, span: mapped.span }, where: mapped.where });
      }
      items.push({ diagnostic: { ...d, span: main.span, notes }, where: main.where, farNotes });
    }
    return new Problems(items);
  }

  /** The 1-based line in the user's text that a line of the synthetic source comes from. */
  originalLine(syntheticLine: number): { line: number; where: Where } | undefined {
    const start = lineStart(this.source, syntheticLine);
    if (start === undefined) return undefined;
    const located = this.locate(start);
    if (!located) return undefined;
    const offset = located.piece.where.offset + located.at;
    return { line: new LineMap(located.piece.where.source).position(offset).line, where: located.piece.where };
  }
}

function sameSource(a: Where, b: Where): boolean {
  return a.source === b.source && a.filename === b.filename;
}

/** The offset where a 1-based line starts, with line breaks counted as LineMap counts them. */
function lineStart(text: string, line: number): number | undefined {
  if (line === 1) return 0;
  let n = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (++n === line) return i + 1;
    }
  }
  return undefined;
}
