import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Recoverable, start, type REPLServer } from 'node:repl';
import { version } from '../version.ts';
import { completions } from './complete.ts';
import { Interpreter, isIncomplete, notAnAdcCommand } from './interpreter.ts';
import { Session } from './session.ts';

export interface ReplOptions {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  /** Where error messages go in a piped session (default: output). At a terminal everything goes to output. */
  readonly error?: NodeJS.WritableStream;
  /**
   * An interactive session on node:repl (prompts, history, tab completion, colours), or, when
   * false, a script: each line's result is printed plainly, with no prompt.
   */
  readonly terminal: boolean;
  /** .ad files to load before the first entry. */
  readonly load?: string | readonly string[];
  /** The history file of an interactive session; default: $ADC_HISTORY, else ~/.adc_history. '' keeps none. */
  readonly historyFile?: string;
  /** ANSI colours; default: in an interactive session, unless NO_COLOR is set. */
  readonly color?: boolean;
  /** Where relative paths start (default: the working directory). */
  readonly cwd?: string;
  /** Points across a :plot (default: fits an interactive terminal, else 60). */
  readonly plotWidth?: number;
}

/**
 * Runs a REPL session over the given streams and resolves with the exit code when it ends: at
 * `:quit`, Ctrl+D or the end of the input. A piped session exits with 1 if any entry (or a file
 * given to load) had an error, else 0; an interactive one with 0.
 */
export async function startRepl(options: ReplOptions): Promise<number> {
  const color = options.color ?? (options.terminal && !process.env.NO_COLOR);
  const columns = (options.output as { columns?: number }).columns;
  const interpreter = new Interpreter(new Session(), {
    color,
    filename: options.terminal ? '<repl>' : '<stdin>',
    cwd: options.cwd,
    plotWidth: options.plotWidth ?? (options.terminal && columns ? Math.max(20, Math.min(100, columns - 16)) : 60),
  });
  const load = typeof options.load === 'string' ? [options.load] : (options.load ?? []);
  return options.terminal ? interactive(options, interpreter, load, color) : script(options, interpreter, load);
}

/** The session of `adc repl` (and of plain `adc` at a terminal): the process's streams, interactive when both are terminals. */
export function runRepl(options: { readonly load?: readonly string[]; readonly color?: boolean } = {}): Promise<number> {
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  return startRepl({ input: process.stdin, output: process.stdout, error: process.stderr, terminal, load: options.load, color: options.color });
}

async function script(options: ReplOptions, interpreter: Interpreter, load: readonly string[]): Promise<number> {
  let failed = false;
  const print = (text: string, error: boolean) => {
    if (error) failed = true;
    if (text !== '') (error ? (options.error ?? options.output) : options.output).write(text + '\n');
  };
  for (const file of load) {
    const reply = await interpreter.load(file);
    // Scripts print results only: a successful load says nothing.
    if (reply.error) print(reply.text, true);
  }
  const lines = createInterface({ input: options.input, crlfDelay: Infinity, terminal: false });
  let entry: string | undefined;
  let first = 0;
  let n = 0;
  let quit = false;
  for await (const line of lines) {
    n++;
    if (entry === undefined) {
      entry = line;
      first = n;
    } else entry += '\n' + line;
    if (isIncomplete(entry)) continue;
    const reply = await interpreter.run(entry, first);
    entry = undefined;
    print(reply.text, reply.error);
    if (reply.quit) {
      quit = true;
      break;
    }
  }
  if (entry !== undefined && !quit) {
    const reply = await interpreter.run(entry, first);
    print(reply.text, reply.error);
  }
  lines.close();
  return failed ? 1 : 0;
}

async function interactive(options: ReplOptions, interpreter: Interpreter, load: readonly string[], color: boolean): Promise<number> {
  const { output } = options;
  output.write(`adc ${version}: type an expression, fn f(x) = ..., grad f(1) or :help. :quit leaves.\n`);
  for (const file of load) {
    const reply = await interpreter.load(file);
    output.write(reply.text + '\n');
  }
  const history = openHistory(options.historyFile ?? process.env.ADC_HISTORY ?? join(homedir(), '.adc_history'), output);
  let queue: Promise<unknown> = Promise.resolve();
  /** The lines of a block still open (its braces do not balance yet), if any. */
  let openBlock: string | undefined;
  const server: REPLServer = start({
    prompt: 'adc> ',
    input: options.input,
    output,
    terminal: true,
    useColors: color,
    ignoreUndefined: true,
    preview: false,
    writer: (value: unknown) => String(value),
    completer: (line: string) => completions(line, interpreter.session.names, options.cwd, interpreter.session.bindings.map((b) => b.name)),
    eval: (cmd: string, _context: unknown, _file: string, callback: (error: Error | null, result?: unknown) => void) => {
      const entry = cmd.replace(/\r?\n$/, '');
      // node:repl keeps the lines of a block and shows `...` until the braces balance.
      if (isIncomplete(entry)) {
        openBlock = entry;
        return callback(new Recoverable(new SyntaxError('the block is not closed')), undefined);
      }
      openBlock = undefined;
      history.add(server, entry);
      // node:repl does not wait for one entry before reading the next (a paste): run them in order.
      const run = queue.then(() => interruptible(server, (signal) => interpreter.run(entry, 1, { signal })));
      queue = run.catch(() => undefined);
      run.then(
        (reply) => {
          // Closing without answering leaves no last prompt behind.
          if (reply.quit) server.close();
          else callback(null, reply.text === '' ? undefined : reply.text);
        },
        (error: unknown) => callback(error as Error, undefined),
      );
    },
    // readline's default keeps 30 entries; a history file is only as useful as what Up can reach.
    // (node:repl passes it on to readline, though its typings leave it out.)
    historySize: HISTORY_SIZE,
  } as Parameters<typeof start>[0] & { historySize: number });
  (server as unknown as { history: string[] }).history = history.entries();
  speakAdc(server, interpreter, output, () => openBlock, () => (openBlock = undefined));
  return new Promise((resolve) =>
    server.on('exit', () => {
      // Ctrl-D with a block open: say that it was not run rather than leave silently.
      if (openBlock !== undefined) output.write('\n(the unfinished block was not run)\n');
      resolve(0);
    }),
  );
}

/** Entries kept in the history file and reachable with the Up arrow. */
export const HISTORY_SIZE = 1000;

/**
 * The history file: one entry per line, oldest first, the last HISTORY_SIZE kept. A block typed
 * over several lines is kept as one line (`fn g(x) { let a = x return a }` is the same .ad), so
 * Up brings it back whole and the file never holds a half of one. '' keeps no history.
 */
function openHistory(file: string, output: NodeJS.WritableStream) {
  let kept: string[] = [];
  let broken = file === '';
  const fail = (error: unknown) => {
    if (!broken) output.write(`adc: history is not kept: ${(error as Error).message}\n`);
    broken = true;
  };
  if (!broken) {
    try {
      if (existsSync(file)) kept = readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
      // Older files (node:repl's) can be long or hold entries written together on one line: keep the last ones.
      if (kept.length > HISTORY_SIZE) {
        kept = kept.slice(-HISTORY_SIZE);
        writeFileSync(file, kept.join('\n') + '\n');
      }
    } catch (error) {
      fail(error);
    }
  }
  let written = kept.length;
  return {
    /** readline's order: newest first. */
    entries: () => [...kept].reverse(),
    add(server: REPLServer, entry: string) {
      const lines = entry.split('\n').map((line) => line.trim()).filter((line) => line !== '');
      if (lines.length === 0) return;
      const one = lines.join(' ');
      // readline added each line of a block on its own: replace them by the whole block.
      const recent = (server as unknown as { history: string[] }).history;
      if (lines.length > 1 && lines.every((line, k) => recent[lines.length - 1 - k]?.trim() === line)) recent.splice(0, lines.length, one);
      if (broken) return;
      try {
        appendFileSync(file, one + '\n');
        // Appending is cheap; now and then the file is cut back to its last HISTORY_SIZE entries.
        if (++written > 2 * HISTORY_SIZE) {
          const all = readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
          writeFileSync(file, all.slice(-HISTORY_SIZE).join('\n') + '\n');
          written = HISTORY_SIZE;
        }
      } catch (error) {
        fail(error);
      }
    },
  };
}

/**
 * node:repl's own language replaced by adc's: its dot commands (`.help`, `.load`, `.save`…) answer
 * with the `:` command they mean, and Ctrl-C speaks of :quit. `.exit` and `.break` keep working.
 */
function speakAdc(server: REPLServer, interpreter: Interpreter, output: NodeJS.WritableStream, openBlock: () => string | undefined, dropBlock: () => void): void {
  const own = server.commands as Record<string, { help?: string; action: (this: REPLServer, rest: string) => void }>;
  const reply = (text: string) => {
    if (text !== '') output.write(text + '\n');
    server.displayPrompt();
  };
  const as = (command: string) => (rest: string) => {
    void interpreter.run(`${command}${rest ? ` ${rest}` : ''}`).then((r) => (r.quit ? server.close() : reply(r.text)));
  };
  const mapped: Record<string, (rest: string) => void> = { help: as(':help'), load: as(':load'), save: as(':save'), clear: as(':clear') };
  const fallback = (name: string) => () => reply(notAnAdcCommand(name));
  // node:repl looks each `.word` up in this table; every word gets an answer in adc's terms.
  (server as { commands: unknown }).commands = new Proxy(own, {
    get: (target, name) => {
      if (typeof name !== 'string') return undefined;
      if (name === 'exit' || name === 'break') return target[name];
      return { help: '', action: mapped[name] ?? fallback(name) };
    },
  });

  // Ctrl-C: clears the line, or drops an open block, or (on an empty line) says how to leave; twice leaves.
  let sawSigint = false;
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', () => {
    const editor = server as unknown as { line: string; clearLine(): void };
    const empty = editor.line.length === 0;
    editor.clearLine();
    const block = openBlock();
    if (block === undefined && empty) {
      if (sawSigint) {
        server.close();
        return;
      }
      output.write('(To leave, press Ctrl-C again or Ctrl-D, or type :quit)\n');
      sawSigint = true;
    } else {
      if (block !== undefined) output.write('(the unfinished block was dropped)\n');
      sawSigint = false;
    }
    dropBlock();
    server.clearBufferedCommand();
    server.displayPrompt();
  });
  server.on('line', () => (sawSigint = false));
}

/**
 * Runs one entry so that Ctrl+C stops it (a long :plot) rather than clearing the line or, pressed
 * twice, leaving the REPL: node:repl's own Ctrl+C listeners are set aside meanwhile. The work
 * runs in a worker, so this thread stays free to read the key.
 */
async function interruptible<T>(server: REPLServer, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const saved = server.listeners('SIGINT') as (() => void)[];
  server.removeAllListeners('SIGINT');
  server.on('SIGINT', () => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    server.removeAllListeners('SIGINT');
    for (const listener of saved) server.on('SIGINT', listener);
  }
}
