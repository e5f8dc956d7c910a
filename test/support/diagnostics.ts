import { expect } from 'vitest';
import { compileSync, LineMap, type CompileOptions, type Diagnostic } from '../../src/index.ts';

/** A diagnostic as tests compare it: code, message, 1-based line:column, and its notes. */
export interface Seen {
  code: string;
  message: string;
  line: number;
  column: number;
  notes?: { message: string; line: number; column: number }[];
}

export function view(d: Diagnostic, lines: LineMap): Seen {
  const { line, column } = lines.position(d.span.start);
  const seen: Seen = { code: d.code, message: d.message, line, column };
  if (d.notes.length > 0) seen.notes = d.notes.map((n) => ({ message: n.message, ...lines.position(n.span.start) }));
  return seen;
}

/** Every diagnostic of a source that must not compile (all errors), as code, message, line, column (and notes). */
export function diagnose(source: string, options: Pick<CompileOptions, 'calls'> = {}): Seen[] {
  const result = compileSync(source, { filename: 'test.ad', ...options });
  expect(result.code).toBeUndefined();
  expect(result.functions).toEqual([]);
  expect(result.diagnostics.every((d) => d.severity === 'error')).toBe(true);
  const lines = new LineMap(source);
  return result.diagnostics.map((d) => view(d, lines));
}

/** The one diagnostic of a source (fails when there are none or several). */
export function only(source: string, options: Pick<CompileOptions, 'calls'> = {}): Seen {
  const all = diagnose(source, options);
  expect(all).toHaveLength(1);
  return all[0];
}
