import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Recoverable, start, type REPLServer } from 'node:repl';
import { version } from '../version.ts';
import { completions } from './complete.ts';
import { Interpreter, isIncomplete } from './interpreter.ts';
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
  let queue: Promise<unknown> = Promise.resolve();
  const server: REPLServer = start({
    prompt: 'adc> ',
    input: options.input,
    output,
    terminal: true,
    useColors: color,
    ignoreUndefined: true,
    preview: false,
    writer: (value: unknown) => String(value),
    completer: (line: string) => completions(line, interpreter.session.names, options.cwd),
    eval: (cmd, _context, _file, callback) => {
      const entry = cmd.replace(/\r?\n$/, '');
      // node:repl keeps the lines of a block and shows `...` until the braces balance.
      if (isIncomplete(entry)) return callback(new Recoverable(new SyntaxError('the block is not closed')), undefined);
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
  });
  // node:repl's dot commands for JavaScript would confuse: keep .exit and .break (which abandons a block).
  const dotCommands = server.commands as Record<string, unknown>;
  for (const name of ['help', 'save', 'load', 'clear', 'editor']) delete dotCommands[name];

  const historyFile = options.historyFile ?? process.env.ADC_HISTORY ?? join(homedir(), '.adc_history');
  if (historyFile !== '') {
    server.setupHistory(historyFile, (error) => {
      if (error) output.write(`adc: history is not kept: ${error.message}\n`);
    });
  }
  return new Promise((resolve) => server.on('exit', () => resolve(0)));
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
