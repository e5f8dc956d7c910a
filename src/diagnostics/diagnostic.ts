import { messages, type MessageId } from './messages.ts';
import type { Span } from './span.ts';

export interface RelatedNote {
  readonly message: string;
  readonly span: Span;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  /** A stable code such as 'AD2001', listed in src/diagnostics/messages.ts. */
  readonly code: string;
  readonly message: string;
  readonly span: Span;
  readonly notes: readonly RelatedNote[];
}

type Args<K extends MessageId> = Parameters<(typeof messages)[K]['text']>;

/** Collects diagnostics for one compilation instead of throwing at the first (Peggy's Session). */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  error<K extends MessageId>(id: K, span: Span, ...args: Args<K>): Diagnostic {
    return this.report('error', id, span, ...args);
  }

  /** A diagnostic that does not stop the compile (a literal that rounds to 0). */
  warning<K extends MessageId>(id: K, span: Span, ...args: Args<K>): Diagnostic {
    return this.report('warning', id, span, ...args);
  }

  private report<K extends MessageId>(severity: Diagnostic['severity'], id: K, span: Span, ...args: Args<K>): Diagnostic {
    const entry = messages[id];
    // A name or character run can be megabytes long: messages quote at most 60 characters of it.
    const quoted = args.map((a) => (typeof a === 'string' && a.length > 60 ? `${a.slice(0, 59)}…` : a));
    const text = (entry.text as (...a: unknown[]) => string)(...quoted);
    const d: Diagnostic = { severity, code: entry.code, message: text, span, notes: [] };
    this.items.push(d);
    return d;
  }

  errorWithNote<K extends MessageId>(id: K, span: Span, note: RelatedNote, ...args: Args<K>): void {
    const d = this.error(id, span, ...args);
    (d.notes as RelatedNote[]).push(note);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}
