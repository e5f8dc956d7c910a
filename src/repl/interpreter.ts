import { describeFileError as reason } from '../cli/file-errors.ts';
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../cli/write-file.ts';
import { messages } from '../diagnostics/messages.ts';
import { printable, quotePath } from '../diagnostics/printable.ts';
import { resolve } from 'node:path';
import { didYouMean } from '../check/suggest.ts';
import { fileText, problemAt, slice, typed, type Piece, type Problems } from './assembly.ts';
import { builtinNames, commandNames, commands } from './complete.ts';
import { highlight } from './highlight.ts';
import { keywords } from '../syntax/lexer.ts';
import { renderPlot } from './plot.ts';
import { Session, signature, type DerivativeCommand, type GradientEntry } from './session.ts';
import { assertNever } from '../syntax/ast.ts';

export interface InterpreterOptions {
  /** ANSI colours in replies. */
  readonly color?: boolean;
  /** The name messages give typed text: `<repl>` at a prompt, `<stdin>` when piped. */
  readonly filename?: string;
  /** Where relative paths of :load and :save start. */
  readonly cwd?: string;
  /** Points (columns) of a :plot. */
  readonly plotWidth?: number;
  /** How long a :plot may take to sample its expression (default 20 s). */
  readonly plotTimeoutMs?: number;
}

/** What to print for an entry. `error` replies go to the error stream when piped, and set the exit code. */
export interface Reply {
  readonly text: string;
  readonly error: boolean;
  readonly quit?: boolean;
}

const ok = (text: string): Reply => ({ text, error: false });

/** node:repl's dot commands that mean one of adc's: `.help`, `.load`, `.save`, `.clear`, `.exit` (`:quit`). */
export const dotCommands: ReadonlySet<string> = new Set(['help', 'load', 'save', 'clear', 'exit']);
/** What any other `.word` gets. */
export const notAnAdcCommand = (name: string) => `'.${name}' is not an adc command: adc's commands start with ':' (:help lists them; :quit leaves)`;
const failed = (text: string): Reply => ({ text, error: true });

/**
 * An entry continues while it has more `{` than `}` (comments aside), so a block can be typed over
 * several lines. Commands are always one line.
 */
export function isIncomplete(entry: string): boolean {
  if (/^\s*:/.test(entry)) return false;
  let depth = 0;
  for (const line of entry.split(/\r\n|\r|\n/)) {
    for (const ch of line.replace(/#.*$/, '')) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
  }
  return depth > 0;
}

/**
 * Runs what a person types, one entry (a line, or a block) at a time, and says what to print.
 * It holds no streams: startRepl feeds it from node:repl or from piped lines.
 */
export class Interpreter {
  readonly session: Session;
  private readonly color: boolean;
  private readonly filename: string;
  private readonly cwd: string;
  private readonly plotWidth: number;
  private readonly plotTimeoutMs: number | undefined;
  private signal: AbortSignal | undefined;

  constructor(session = new Session(), options: InterpreterOptions = {}) {
    this.session = session;
    this.color = options.color ?? false;
    this.filename = options.filename ?? '<repl>';
    this.cwd = options.cwd ?? process.cwd();
    this.plotWidth = options.plotWidth ?? 60;
    this.plotTimeoutMs = options.plotTimeoutMs;
  }

  /** One entry; `line` is the line it starts on, for messages; `signal` stops a long :plot (Ctrl+C). */
  async run(entry: string, line = 1, options: { signal?: AbortSignal } = {}): Promise<Reply> {
    this.signal = options.signal;
    const piece = typed(entry, this.filename, line);
    const start = /^(?:\s|#[^\r\n]*)*/.exec(entry)![0].length;
    if (start === entry.length) return ok('');
    const body = slice(piece, start, start + entry.slice(start).trimEnd().length);
    if (body.text.startsWith(':')) return this.command(body);
    // node's REPL words, as the interactive REPL answers them (repl.ts), rather than "unknown character '.'".
    const dotted = /^\.([A-Za-z]+)(?![A-Za-z0-9_])/.exec(body.text);
    if (dotted && dotCommands.has(dotted[1])) return this.command(body);
    if (dotted) return failed(this.problems(problemAt(body, notAnAdcCommand(dotted[1]), 0, dotted[0].length)));
    // A definition keeps the comments before it (`:save` writes them).
    if (/^fn(?![A-Za-z0-9_])/.test(body.text)) return this.define(slice(piece, 0, body.where.offset - piece.where.offset + body.text.length));
    // `x = [1, 2, 3]` (or `let x = …`) binds a value; `x == 1` is a comparison.
    const binding = /^(?:let\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*/d.exec(body.text);
    if (binding?.indices) return this.bind(body, slice(body, ...binding.indices[1]!), slice(body, binding[0].length));
    // `grad f(1, 2)`, `jvp f(1, 2) along (1, 0)`, …; `grad (2)` still calls a function the user named grad.
    const command = /^(grad|jvp|vjp|jacobian|hessian)(?:\s+|$)/.exec(body.text);
    if (command && !(this.session.has(command[1]) && body.text.slice(command[0].length).startsWith('('))) {
      const word = command[1] as DerivativeCommand;
      if (command[0].length === body.text.length) return failed(this.problems(problemAt(body, `${word} takes a call of a function defined with fn, such as '${derivativeUsage[word]}'`)));
      return this.derivative(word, body, slice(body, command[0].length));
    }
    return this.evaluate(body);
  }

  /**
   * Loads a file into the session (`:load`, `--load`). A file that cannot be read is reported at
   * `at`, the command's argument, like any mistake in an entry (`--load`'s has no place: `adc: error:`).
   */
  async load(path: string, at?: Piece): Promise<Reply> {
    const read = readSource(resolve(this.cwd, path), path);
    if (typeof read !== 'string') return failed(at ? this.problems(problemAt(at, read.problem)) : `adc: error: ${read.problem}`);
    const result = this.session.define(fileText(read, path));
    if (!result.ok) return failed(`${this.problems(result.problems)}\nnothing was loaded from ${quotePath(path)}`);
    const names = result.defined.map((d) => d.info.name);
    const replaced = result.defined.filter((d) => d.replaced).map((d) => d.info.name);
    const count = `${names.length} function${names.length === 1 ? '' : 's'}`;
    return ok(`loaded ${count} from ${printable(path)}: ${names.join(', ')}${replaced.length > 0 ? ` (redefined: ${replaced.join(', ')})` : ''}`);
  }

  private define(body: Piece): Reply {
    const result = this.session.define(body);
    if (!result.ok) {
      const elsewhere = result.problems.items.some((p) => p.where.source !== body.where.source);
      const why = elsewhere ? `\nnothing was defined: functions already defined would no longer compile` : '';
      return failed(this.problems(result.problems) + why);
    }
    return ok(result.defined.map((d) => `${d.replaced ? 'redefined' : 'defined'} ${signature(d.info)}`).join('\n'));
  }

  private async bind(body: Piece, name: Piece, value: Piece): Promise<Reply> {
    if (keywords.has(name.text)) return failed(this.problems(problemAt(name, `'${name.text}' is a keyword of the language; a value needs another name`)));
    if (value.text === '') return failed(this.problems(problemAt(body, `usage: NAME = EXPR, e.g. x = [1, 2, 3]`)));
    const result = await this.session.bind(name, value);
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(`${result.name} = ${this.number(show(result.value))}`);
  }

  private async evaluate(body: Piece): Promise<Reply> {
    const result = await this.session.evaluate(body);
    // `help`, `quit`, … alone, and unknown: the user meant the command.
    const meant = body.text === 'exit' ? ':quit' : `:${body.text}`;
    if (!result.ok && commandNames.includes(meant)) return failed(`${this.problems(result.problems)}\nadc's commands start with ':': type ${meant}`);
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(this.number(show(result.value)));
  }

  private async derivative(word: DerivativeCommand, body: Piece, rest: Piece): Promise<Reply> {
    // `grad f(1) along (1)`: a direction or a cotangent belongs to jvp or vjp.
    for (const [other, separator] of [['jvp', 'along'], ['vjp', 'with']] as const) {
      const at = word === other ? undefined : lastWord(rest.text, separator);
      if (at === undefined) continue;
      const message = `'${separator}' gives ${other} its ${other === 'jvp' ? 'direction' : 'cotangent'} (${derivativeUsage[other]}); ${word} is typed as '${derivativeUsage[word]}'`;
      return failed(this.problems(problemAt(rest, message, at, at + separator.length)));
    }
    switch (word) {
      case 'grad':
        return this.grad(rest);
      case 'jvp':
      case 'vjp': {
        // `jvp f(1, 2) along (1, 0)`, `vjp r(1) with [1, 0]`: the last `along`/`with` outside brackets.
        const separator = word === 'jvp' ? 'along' : 'with';
        const at = lastWord(rest.text, separator);
        if (at === undefined) return failed(this.problems(problemAt(body, `usage: ${derivativeUsage[word]}`)));
        const call = trimmed(slice(rest, 0, at));
        const after = trimmed(slice(rest, at + separator.length));
        if (after.text === '') {
          const what = word === 'jvp' ? 'the direction is missing: one entry per differentiated parameter' : 'the cotangent is missing: a number or a vector, the shape of the value';
          return failed(this.problems(problemAt(rest, `${what} (${derivativeUsage[word]})`, at, at + separator.length)));
        }
        return word === 'jvp' ? this.jvp(call, after) : this.vjp(call, after);
      }
      case 'jacobian':
        return this.jacobian(rest);
      case 'hessian':
        return this.hessian(rest);
      default:
        return assertNever(word);
    }
  }

  private async grad(call: Piece): Promise<Reply> {
    const result = await this.session.grad(call);
    if (!result.ok) return failed(this.problems(result.problems));
    const rows: [string, GradientEntry['value']][] = [['value', result.value], ...result.gradient.map((g): [string, GradientEntry['value']] => [`∂${result.name}/∂${g.param}`, g.value])];
    const width = Math.max(...rows.map(([label]) => [...label].length));
    return ok(rows.map(([label, v]) => `${label}${' '.repeat(width - [...label].length + 2)}${this.number(show(v))}`).join('\n'));
  }

  /** The value and the tangent, each in its shape (a matrix as aligned rows). */
  private async jvp(call: Piece, direction: Piece): Promise<Reply> {
    const result = await this.session.jvp(call, direction);
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(this.blocks([['value', grid(result.value)], ['tangent', grid(result.tangent)]]));
  }

  /** The value and uᵀ·∂f/∂p for each parameter p. */
  private async vjp(call: Piece, cotangent: Piece): Promise<Reply> {
    const result = await this.session.vjp(call, cotangent);
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(this.blocks([['value', grid(result.value)], ...result.gradient.map((g): Block => [`uᵀ∂${result.name}/∂${g.param}`, grid(g.value)])]));
  }

  /** The value, then ∂f/∂p for each parameter p: m rows (one per output) of the parameter's size. */
  private async jacobian(call: Piece): Promise<Reply> {
    const result = await this.session.jacobian(call);
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(this.blocks([['value', grid(result.value)], ...result.jacobian.map((j): Block => [`∂${result.name}/∂${j.param}`, grid(j.value, 'column')])]));
  }

  /**
   * The value, the gradient, and the Hessian: one matrix with its parameters' names along both
   * sides when every differentiated parameter is a number, else one block ∂²f/∂p∂q per pair
   * (a vector parameter's rows down, the other's columns across).
   */
  private async hessian(call: Piece): Promise<Reply> {
    const result = await this.session.hessian(call);
    if (!result.ok) return failed(this.problems(result.problems));
    const f = result.name;
    const head: Block[] = [['value', grid(result.value)], ...result.gradient.map((g): Block => [`∂${f}/∂${g.param}`, grid(g.value)])];
    const names = result.gradient.map((g) => g.param);
    if (result.gradient.every((g) => typeof g.value === 'number')) {
      const cells = (row: string) => result.hessian.filter((b) => b.row === row).map((b) => show(b.value));
      return ok(`${this.blocks(head)}\n${this.table(`∂²${f}`, names, names, names.map(cells))}`);
    }
    const scalar = new Set(result.gradient.filter((g) => typeof g.value === 'number').map((g) => g.param));
    // ∂²f/∂x∂w for a number x and a vector w is a row; ∂²f/∂w∂x a column.
    const blocks = result.hessian.map((b): Block => [`∂²${f}/∂${b.row}∂${b.column}`, grid(b.value, scalar.has(b.column) ? 'column' : 'row')]);
    return ok(this.blocks([...head, ...blocks]));
  }

  /** Labelled values, the labels in one column; a block of several rows continues under its first. */
  private blocks(items: readonly Block[]): string {
    const width = Math.max(...items.map(([label]) => [...label].length)) + 2;
    return items
      .flatMap(([label, rows]) => {
        const lines = alignColumns(rows).map((line) => this.number(line));
        return lines.map((line, i) => (i === 0 ? label.padEnd(width + label.length - [...label].length) : ' '.repeat(width)) + line);
      })
      .join('\n');
  }

  /** A matrix with names along the top and down the side, as a Hessian of scalar parameters. */
  private table(corner: string, columns: readonly string[], rows: readonly string[], cells: readonly (readonly string[])[]): string {
    const aligned = alignColumns([columns, ...cells]);
    const side = Math.max([...corner].length, ...rows.map((r) => [...r].length + 2));
    const pad = (s: string) => s + ' '.repeat(side - [...s].length + 2);
    return [pad(corner) + aligned[0], ...rows.map((r, i) => pad(`  ${r}`) + this.number(aligned[i + 1]))].join('\n');
  }

  private async command(body: Piece): Promise<Reply> {
    const name = /^[:.]([A-Za-z]*)/.exec(body.text)![1];
    const rest = body.text.slice(1 + name.length);
    const argStart = 1 + name.length + (rest.length - rest.trimStart().length);
    const arg = slice(body, argStart);
    const noArgument = (usage: string) => (arg.text === '' ? undefined : failed(this.problems(problemAt(arg, `${usage} takes no argument`))));
    switch (name) {
      case 'help':
      case 'h':
        return noArgument(':help') ?? ok(this.help());
      case 'list':
      case 'ls':
        return noArgument(':list') ?? ok(this.list());
      case 'code':
        return this.code(arg);
      case 'load':
        if (arg.text === '') return failed(this.problems(problemAt(body, 'usage: :load FILE.ad')));
        return this.load(unquote(arg.text), arg);
      case 'save':
        if (arg.text === '') return failed(this.problems(problemAt(body, 'usage: :save FILE.ad')));
        return this.save(unquote(arg.text), arg);
      case 'clear': {
        const bad = noArgument(':clear');
        if (bad) return bad;
        const n = this.session.clear();
        return ok(`cleared ${n.functions} function${n.functions === 1 ? '' : 's'}${n.values > 0 ? ` and ${n.values} value${n.values === 1 ? '' : 's'}` : ''}`);
      }
      case 'plot':
        return this.plot(body, arg);
      case 'quit':
      case 'q':
      case 'exit':
        return { text: '', error: false, quit: true };
      default: {
        const message = `unknown command ':${name}'${didYouMean(`:${name}`, commandNames)}; :help lists the commands`;
        return failed(this.problems(problemAt(body, message, 0, 1 + name.length)));
      }
    }
  }

  private code(arg: Piece): Reply {
    if (this.session.definitions.length === 0) return ok(`no functions yet: define one with fn, e.g. fn f(x) = x^2`);
    if (arg.text !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.text)) return failed(this.problems(problemAt(arg, 'usage: :code NAME')));
    const result = this.session.code(arg.text === '' ? undefined : arg);
    if (!result.ok) return failed(this.problems(result.problems));
    const code = result.code.trimEnd();
    return ok(this.color ? highlight(code) : code);
  }

  private save(path: string, at: Piece): Reply {
    const n = this.session.definitions.length;
    try {
      // As the CLI writes: whole or not at all, through a link, keeping the file's mode.
      writeFileAtomic(resolve(this.cwd, path), this.session.source());
    } catch (error) {
      return failed(this.problems(problemAt(at, messages.cannotWrite.text(path, reason(error)))));
    }
    return ok(`saved ${n} function${n === 1 ? '' : 's'} to ${printable(path)}`);
  }

  private async plot(body: Piece, arg: Piece): Promise<Reply> {
    const usage = () => failed(this.problems(problemAt(body, 'usage: :plot EXPR for X in A..B, e.g. :plot sin(x) for x in 0..2*pi')));
    const m = /^(.+?)\s+for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+(.+?)\.\.(.+)$/ds.exec(arg.text);
    if (!m?.indices) return usage();
    const part = (i: number) => slice(arg, m.indices![i]![0], m.indices![i]![1]);
    const [expr, variable, lo, hi] = [part(1), part(2), trimmed(part(3)), trimmed(part(4))];
    const result = await this.session.sample(expr, variable, lo, hi, this.plotWidth, { signal: this.signal, timeoutMs: this.plotTimeoutMs });
    if (!result.ok) return failed(this.problems(result.problems));
    return ok(renderPlot(expr.text, variable.text, result, { color: this.color }));
  }

  private list(): string {
    const defs = this.session.definitions;
    const values = this.session.bindings.map((b) => `${b.name} = ${show(b.value)}`);
    if (defs.length === 0) return ['no functions yet: define one with fn, e.g. fn f(x) = x^2', ...values].join('\n');
    return [...defs.map((d) => d.piece.text), ...values].join('\n');
  }

  private help(): string {
    const width = Math.max(...commands.map(([c, a]) => `${c} ${a}`.length));
    const b = (s: string) => (this.color ? `\x1b[1m${s}\x1b[0m` : s);
    return [
      `Type an expression to see its value, or define functions (the .ad language):`,
      `  fn f(x, y) = x^2 * y + exp(x * y)    define f, or replace it`,
      `  fn g(x) {                            a block goes on until its braces balance`,
      `    let a = sin(x)`,
      `    return a * f(x, 2)`,
      `  }`,
      `  f(1, 2)                              the value`,
      `  grad f(1, 2)                         the value and each partial derivative (fGrad)`,
      `  jvp f(1, 2) along (1, 0)             the derivative along a direction, one entry per parameter (fJvp)`,
      `  hessian f(1, 2)                      the value, the gradient and every second derivative (fHessian)`,
      `  fn r(x, y) = [x * y, x + y]          a function may return a vector (or a matrix)`,
      `  jacobian r(1, 2)                     ∂r/∂p: for each parameter p, one entry per element of r (fJacobian)`,
      `  vjp r(1, 2) with [1, 0]              uᵀ·∂r/∂p for a u shaped like r's value (fVjp)`,
      `  fn norm2(v: vec[n]) = sum(i: v[i]^2) array parameters: vec[n], mat[m, n]`,
      `  x = [1, 2, 3]                        bind a value (a number, a vector, or a matrix [[1, 2], [3, 4]])`,
      `  grad norm2(x)                        expressions, grad and :plot may use it; fn bodies may not`,
      `Commands:`,
      ...commands.map(([c, a, what]) => `  ${b(`${c} ${a}`.padEnd(width))}  ${what}`),
      `Built-ins: ${builtinNames.join(' ')}`,
      `Tab completes names and commands; Ctrl+C abandons a block or stops a :plot.`,
    ].join('\n');
  }

  private problems(problems: Problems): string {
    return problems.format(this.color);
  }

  private number(text: string): string {
    return this.color ? `\x1b[33m${text}\x1b[0m` : text;
  }
}

/**
 * A value as JavaScript prints it (console.log and node's REPL show -0 as -0; String(-0) is '0');
 * an array gradient (a Float64Array, or rows of them for a matrix) as the literal that would be
 * typed for it: [2, 4, 6], [[2, 4], [6, 8]].
 */
export function show(value: number | boolean | ArrayLike<unknown>): string {
  if (typeof value === 'object') return `[${Array.from(value, (v) => show(v as number | ArrayLike<unknown>)).join(', ')}]`;
  return Object.is(value, -0) ? '-0' : String(value);
}

/** How each derivative command is typed, for usage messages and :help. */
export const derivativeUsage: Readonly<Record<DerivativeCommand, string>> = {
  grad: 'grad f(1, 2)',
  jvp: 'jvp f(1, 2) along (1, 0)',
  vjp: 'vjp r(1, 2) with [1, 0]',
  jacobian: 'jacobian r(1, 2)',
  hessian: 'hessian f(1, 2)',
};

/** A label and its value as rows of cells. */
type Block = readonly [string, readonly (readonly string[])[]];

/**
 * A value as rows of printed numbers: a number is one cell; a vector one cell as its literal
 * (`[1, 2]`), or as one row or one column of cells; a matrix one row of cells per row.
 */
function grid(value: GradientEntry['value'] | number, vector: 'list' | 'row' | 'column' = 'list'): string[][] {
  if (typeof value === 'number') return [[show(value)]];
  const items = Array.from(value as ArrayLike<number | ArrayLike<number>>);
  if (items.some((v) => typeof v !== 'number')) return items.map((row) => Array.from(row as ArrayLike<number>, show));
  const cells = items.map((v) => show(v as number));
  return vector === 'list' ? [[`[${cells.join(', ')}]`]] : vector === 'row' ? [cells] : cells.map((c) => [c]);
}

/** Rows of cells as lines, each column right-aligned to its widest cell, two spaces apart. */
function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, j) => (widths[j] = Math.max(widths[j] ?? 0, [...cell].length)));
  // A single column is not padded (a list or a number stays as JavaScript prints it).
  if (widths.length <= 1 && rows.length <= 1) return rows.map((row) => row.join(''));
  return rows.map((row) => row.map((cell, j) => ' '.repeat(widths[j] - [...cell].length) + cell).join('  '));
}

/** Where the word `word` last stands outside brackets in `text`, if it does. */
function lastWord(text: string, word: string): number | undefined {
  let depth = 0;
  let found: number | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (depth === 0 && text.startsWith(word, i) && !/[A-Za-z0-9_]/.test(text[i - 1] ?? ' ') && !/[A-Za-z0-9_]/.test(text[i + word.length] ?? ' ')) found = i;
  }
  return found;
}

function trimmed(piece: Piece): Piece {
  const start = piece.text.length - piece.text.trimStart().length;
  return slice(piece, start, start + piece.text.trim().length);
}

function unquote(path: string): string {
  const m = /^(['"])(.*)\1$/.exec(path);
  return m ? m[2] : path;
}

/** A file's text as the CLI reads it (invalid UTF-8 becomes U+FFFD, which the lexer reports), or why it cannot be read. */
function readSource(file: string, shown: string): string | { readonly problem: string } {
  try {
    if (statSync(file).isDirectory()) return { problem: messages.cannotRead.text(shown, 'it is a directory') };
    return new TextDecoder('utf-8').decode(readFileSync(file));
  } catch (error) {
    return { problem: messages.cannotRead.text(shown, reason(error)) };
  }
}

