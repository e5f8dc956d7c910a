import type { LineMap } from './diagnostics/span.ts';
import { Section, type EmittedFunction } from './emit/js/emit-js.ts';
import { calledNames, type FunctionDecl } from './syntax/ast.ts';

/**
 * Compiled functions kept between compiles of the same file, for watch mode and the bundler
 * plugins: after a one-line edit, only the functions whose code could have changed are lowered,
 * differentiated and emitted again; the others' sections are reused.
 *
 * Calls are inlined or kept as calls (the kept set, decided over the file, is part of every key,
 * and an entry remembers the kept forms its code calls, which are emitted for each compile), so a
 * function's output depends on its own text and its callees' (directly or not), and on nothing
 * else but where they are: the `// line N:` comments and the source-map
 * origins. The key is therefore each of those functions' text (whole lines, since a comment
 * quotes the line) with its offset and line relative to the function; a hit is moved to where the
 * function now is. An edit elsewhere in the file, even one that adds lines above, leaves it valid.
 * Functions with array parameters or work arrays number their slots across the module and are
 * always compiled again.
 *
 * Entries not used by the last compile are dropped, so the cache holds one version of the file.
 */
export class CompileCache {
  private entries = new Map<string, Entry>();
  private used = new Map<string, Entry>();

  /** The key of `decl` in this source, given every function of the file by name (and the options that change every function's code). */
  key(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>, source: string, lines: LineMap, options = ''): string {
    const origin = decl.span.start;
    const firstLine = lines.position(origin).line;
    const parts: string[] = [options];
    for (const fn of closure(decl, table)) {
      const start = lineStart(source, fn.span.start);
      const end = lineEnd(source, fn.span.end);
      parts.push(`${fn.name}\u0000${fn.span.start - origin}\u0000${lines.position(fn.span.start).line - firstLine}\u0000${source.slice(start, end)}`);
    }
    return parts.join('\u0001');
  }

  /** The sections kept for this key, moved to a function starting at `origin` on line `line`. */
  reuse(key: string, origin: number, line: number): EmittedFunction | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.used.set(key, entry);
    this.hits++;
    const { made } = entry;
    if (entry.origin === origin && entry.line === line) return made;
    return { ...made, sections: made.sections.map((s) => moved(s, origin - entry.origin, line - entry.line)) };
  }

  /** Keeps what was just emitted for a function (which started at `origin`, on line `line`). */
  keep(key: string, made: EmittedFunction, origin: number, line: number): void {
    this.used.set(key, { made, origin, line });
  }

  /** Ends a compile: keeps what it used or made, drops the rest. */
  finish(): void {
    this.entries = this.used;
    this.used = new Map();
    this.reusedLast = this.hits;
    this.hits = 0;
  }

  /** How many functions are kept. */
  get size(): number {
    return this.entries.size;
  }

  /** How many functions the last compile reused rather than compiled. */
  reusedLast = 0;
  private hits = 0;
}

interface Entry {
  readonly made: EmittedFunction;
  readonly origin: number;
  readonly line: number;
}

/** A function and every user function it calls, directly or not, in a fixed order (by name). */
function closure(decl: FunctionDecl, table: ReadonlyMap<string, FunctionDecl>): FunctionDecl[] {
  const found = new Map<string, FunctionDecl>([[decl.name, decl]]);
  const stack = [decl];
  while (stack.length > 0) {
    for (const name of calledNames(stack.pop()!)) {
      const callee = table.get(name);
      if (!callee || found.has(name)) continue;
      found.set(name, callee);
      stack.push(callee);
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A section moved by `offset` characters and `lines` lines: its origins and its `// line N:` comments. */
function moved(section: Section, offset: number, lines: number): Section {
  const out = new Section();
  section.lines.forEach((text, i) => {
    const origin = section.origins[i];
    // Only the comments emit-js writes start a line with `// line N:` (a quoted source line follows it).
    const shifted = lines === 0 ? text : text.replace(/^(\s*\/\/ line )(\d+):/, (_, lead: string, n: string) => `${lead}${Number(n) + lines}:`);
    out.push(shifted, origin === undefined ? undefined : origin + offset);
  });
  return out;
}

function lineStart(source: string, offset: number): number {
  let i = offset;
  while (i > 0 && source[i - 1] !== '\n' && source[i - 1] !== '\r') i--;
  return i;
}

function lineEnd(source: string, offset: number): number {
  let i = offset;
  while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
  return i;
}
