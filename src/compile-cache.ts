import type { LineMap } from './diagnostics/span.ts';
import { Section, type EmittedFunction } from './emit/js/emit-js.ts';
import { calledNames, type FunctionDecl } from './syntax/ast.ts';
import { calleesFirst } from './ir/call-graph.ts';

/**
 * Compiled functions kept between compiles of the same file, for watch mode and the bundler
 * plugins: after a one-line edit, only the functions whose code could have changed are lowered,
 * differentiated and emitted again; the others' sections are reused.
 *
 * Calls are inlined or kept as calls (the kept set, decided over the file, is part of every key,
 * and an entry remembers the kept forms its code calls, which are emitted for each compile), so a
 * function's output depends on its own text and its callees' (directly or not), and on nothing
 * else but where they are: the `// line N:` comments and the source-map origins. A hit is moved
 * to where the function now is, so an edit elsewhere in the file, even one that adds lines above,
 * leaves it valid. Functions with array parameters or work arrays number their slots across the
 * module and are always compiled again.
 *
 * Keys are built callees first and are constant-size (see `keys`): a function's key stands for
 * its own text (whole lines, since a comment quotes the line) together with its direct callees'
 * keys and where those callees are relative to it, so it stands, transitively, for every callee's
 * text and relative place, and the work is linear in the file even on a call chain 10,000 deep.
 *
 * Entries not used by the last compile are dropped, so the cache holds one version of the file.
 */
export class CompileCache {
  private entries = new Map<string, Entry>();
  private used = new Map<string, Entry>();
  /**
   * The key parts seen by the last compile (and by this one), each with its number. A key is such
   * a number: equal numbers mean equal parts, exactly. Interning rather than hashing, because a
   * hash collision would silently reuse another function's code, and node:crypto is not in the
   * browser (the playground compiles there).
   */
  private parts = new Map<string, number>();
  private usedParts = new Map<string, number>();
  private next = 0;
  private keyedChars = 0;

  /**
   * The key of each function of `functions` (by name), given every function of the file by name
   * and the options that change every function's code, built callees first (the call graph's
   * order, call-graph.ts) so that each key can name its callees' keys. A function calling itself
   * names only its own text for that call. A function in a larger cycle (mutual recursion, which
   * the checks refuse: AD3002) gets no key and is always compiled again.
   */
  keys(functions: readonly FunctionDecl[], table: ReadonlyMap<string, FunctionDecl>, source: string, lines: LineMap, options = ''): Map<string, string> {
    const optionsId = this.intern(`o${options}`);
    const keys = new Map<string, string>();
    // Whole-line ranges already interned in this compile: functions sharing a line read it once.
    const texts = new Map<string, number>();
    const textOf = (fn: FunctionDecl): number => {
      const start = lineStart(source, fn.span.start);
      const end = lineEnd(source, fn.span.end);
      const range = `${start}:${end}`;
      const known = texts.get(range);
      if (known !== undefined) return known;
      const id = this.intern(`t${source.slice(start, end)}`);
      texts.set(range, id);
      return id;
    };
    const lineOf = new Map<string, number>();
    const place = (fn: FunctionDecl) => lineOf.get(fn.name) ?? lineOf.set(fn.name, lines.position(fn.span.start).line).get(fn.name)!;
    const calleesOf = (fn: FunctionDecl) => [...calledNames(fn)].filter((name) => table.has(name) && name !== fn.name).sort();
    const wanted = new Set(functions.map((fn) => fn.name));
    for (const fn of calleesFirst(table, calleesOf)) {
      // Its text and place, then each callee's key and place relative to it.
      const origin = fn.span.start;
      const line = place(fn);
      const items: string[] = [`c${optionsId}`, `${fn.name}\u0000${textOf(fn)}`];
      let complete = true;
      for (const name of calleesOf(fn)) {
        const callee = table.get(name)!;
        const key = keys.get(name);
        if (key === undefined) complete = false;
        items.push(`${name}\u0000${callee.span.start - origin}\u0000${place(callee) - line}\u0000${key}`);
      }
      if (complete) keys.set(fn.name, String(this.intern(items.join('\u0001'))));
    }
    for (const name of keys.keys()) if (!wanted.has(name)) keys.delete(name);
    return keys;
  }

  /** The number of a key part: the one it had in the last compile, or a new one. */
  private intern(part: string): number {
    this.keyedChars += part.length;
    const id = this.usedParts.get(part) ?? this.parts.get(part) ?? this.next++;
    this.usedParts.set(part, id);
    return id;
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
    this.parts = this.usedParts;
    this.usedParts = new Map();
    this.keyedLast = this.keyedChars;
    this.keyedChars = 0;
    this.reusedLast = this.hits;
    this.hits = 0;
  }

  /** How many functions are kept. */
  get size(): number {
    return this.entries.size;
  }

  /** How many functions the last compile reused rather than compiled. */
  reusedLast = 0;
  /** How many characters the last compile's keys were built from: about the file's length (the keying's work). */
  keyedLast = 0;
  private hits = 0;
}

interface Entry {
  readonly made: EmittedFunction;
  readonly origin: number;
  readonly line: number;
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
