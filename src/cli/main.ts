import { Command, CommanderError } from 'commander';
import { version } from '../version.ts';
// Only commander and the version are loaded up front: `adc --version` and `--help` must answer
// without loading the compiler (test/startup.test.ts checks the module graph). Each command
// imports what it needs when it runs.
import { derivativeKinds, parseDerivatives } from '../derivatives.ts';

/** Colour when printing to a terminal, unless NO_COLOR (no-color.org) says otherwise. */
export function defaultColor(): boolean {
  return process.stderr.isTTY === true && !process.env.NO_COLOR;
}

/** `adc compile --watch`: runs until SIGINT (Ctrl-C) or SIGTERM. */
async function watchUntilInterrupted(files: string[], options: import('./watch.ts').WatchOptions, io: { out(s: string): void; err(s: string): void }): Promise<number> {
  const { watchFiles } = await import('./watch.ts');
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await watchFiles(files, options, io, controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** The `adc` command. Returns the exit code instead of exiting, so tests can call it. */
export async function main(
  argv: readonly string[],
  io: { out(s: string): void; err(s: string): void; readStdin?(): Promise<string> } = { out: (s) => console.log(s), err: (s) => console.error(s) },
): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('adc')
    .description('A differentiating compiler: .ad files to JavaScript that returns each function and its exact gradient.')
    .version(version, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      outputError: (s, write) => write(`adc: ${s}`),
    })
    .showHelpAfterError('(adc --help lists the commands)');

  program.addHelpText(
    'after',
    `
Plain \`adc\` at a terminal starts the REPL (\`adc repl\`); piped, it prints this help.

Examples:
  adc compile model.ad                     write model.js: f and fGrad for each fn f
  adc compile model.ad --dts --source-map  also model.d.ts and model.js.map
  adc compile src/*.ad --out-dir build     several files into one folder
  adc compile model.ad -o -                print the module on standard output instead
  adc compile model.ad --check             report problems only, write nothing
  adc compile model.ad --watch             recompile on every change
  adc explain model.ad f --at x=1,y=2      f's graph at a point: partials, adjoints, paths
  adc repl --load model.ad                 a session with model.ad's functions defined
  adc <command> --help                     the options of one command`,
  );

  program
    .command('compile')
    .description('compile .ad files to ES modules (f and fGrad for each fn f)')
    .showHelpAfterError('(adc compile --help lists its options)')
    .argument('<files...>', '.ad files to compile; - reads standard input (its module goes to standard output unless -o names a file)')
    .option('-o, --output <file>', 'the output file (one input only), - for standard output; default: next to the input, with .js')
    .option('--out-dir <dir>', 'write every output into this folder')
    .option('--check', 'report problems only; write nothing')
    .option('--no-format', 'skip prettier (the output is already indented)')
    .option('--source-map', 'also write out.js.map, mapping the output to the .ad source (implies --no-format)')
    .option('--dts', 'also write TypeScript declarations beside the output (model.d.ts)')
    .option('--derivatives <list>', `derivatives to export per function, comma-separated: ${derivativeKinds.join(',')} (default: grad)`)
    .option('--target <target>', 'js (default), or wasm: functions with array parameters also run as WebAssembly (SIMD) in the same module')
    .option('--check-args', 'generated functions throw a TypeError when a number argument is not a number')
    .option('--checkpoint-memory <MB>', 'the most memory a gradient stores per loop with state before it checkpoints (default 64)')
    .option('-w, --watch', 'compile, then recompile each file when it changes, until Ctrl-C')
    .option('--color', 'colour diagnostics (default: when stderr is a terminal and NO_COLOR is not set)')
    .option('--no-color', 'plain diagnostics')
    .action(async (files: string[], given: { output?: string; outDir?: string; check?: boolean; format: boolean; color?: boolean; sourceMap?: boolean; dts?: boolean; checkArgs?: boolean; watch?: boolean; checkpointMemory?: string; derivatives?: string; target?: string }) => {
      const { checkpointMemory: memoryText, derivatives: derivativesText, ...rest } = given;
      const derivatives = derivativesText === undefined ? undefined : parseDerivatives(derivativesText);
      if (typeof derivatives === 'string') {
        io.err(`adc: error: --derivatives: ${derivatives}`);
        exitCode = 2;
        return;
      }
      if (rest.target !== undefined && rest.target !== 'js' && rest.target !== 'wasm') {
        io.err(`adc: error: --target takes js or wasm, not '${rest.target}'`);
        exitCode = 2;
        return;
      }
      const checkpointMemory = memoryText === undefined ? undefined : Number(memoryText);
      if (checkpointMemory !== undefined && !(memoryText!.trim() !== '' && Number.isFinite(checkpointMemory) && checkpointMemory >= 0)) {
        io.err(`adc: error: --checkpoint-memory takes a number of MB ≥ 0, not '${memoryText}'`);
        exitCode = 2;
        return;
      }
      const opts = { ...rest, target: rest.target as 'js' | 'wasm' | undefined, ...(checkpointMemory !== undefined && { checkpointMemory }), ...(derivatives && { derivatives }) };
      if (opts.output && opts.output !== '-' && files.length > 1) {
        io.err('adc: error: -o/--output takes one input file; use --out-dir for several');
        exitCode = 2;
        return;
      }
      if (opts.output && opts.outDir) {
        io.err('adc: error: use either -o/--output or --out-dir, not both');
        exitCode = 2;
        return;
      }
      const { checkOutputs, compileFiles } = await import('./compile-files.ts');
      const problem = checkOutputs(files, opts);
      if (problem !== undefined) {
        io.err(`adc: error: ${problem}`);
        exitCode = 2;
        return;
      }
      if (opts.watch) {
        exitCode = await watchUntilInterrupted(files, { ...opts, color: opts.color ?? defaultColor() }, io);
        return;
      }
      exitCode = await compileFiles(files, { ...opts, color: opts.color ?? defaultColor() }, io);
    });

  program
    .command('explain')
    .description("show a function's expression graph at a point: values, partials, adjoints, and the paths that sum to each gradient entry")
    .showHelpAfterError('(adc explain --help lists its options)')
    .argument('<file>', 'the .ad file (- reads standard input)')
    .argument('<function>', 'the function to explain')
    .option('--at <point>', 'the point, one value per parameter: x1=2,x2=3 (or 2,3 in parameter order); arrays as x=[1,2], A=[[1,2],[3,4]]')
    .option('--forward <input>', 'also the forward sweep: each node\'s tangent with respect to one input (x1, or an element x[0])')
    .option('--max-paths <n>', 'list at most n paths per input (default 20); the adjoint view is always complete')
    .option('--expand', 'one node per operation, calls inlined (default: one node per user-function call)')
    .option('--graph <file>', 'also draw the graph with Graphviz, to a .svg or .dot file')
    .option('--json', 'print the same data as JSON')
    .option('--color', 'colour diagnostics (default: when stderr is a terminal and NO_COLOR is not set)')
    .option('--no-color', 'plain diagnostics')
    .action(async (file: string, fn: string, opts: import('../explain/cli.ts').ExplainCommandOptions) => {
      const { explainCommand } = await import('../explain/cli.ts');
      exitCode = await explainCommand(file, fn, { ...opts, color: opts.color ?? defaultColor() }, io);
    });

  const repl = async (opts: { load?: string[]; color?: boolean }) => (await import('../repl/repl.ts')).runRepl(opts);
  program
    .command('repl')
    .description('an interactive session: define functions, see values, gradients, generated code and plots (piped: one result per line)')
    .showHelpAfterError('(adc repl --help lists its options)')
    .option('-l, --load <file>', 'load a .ad file first (repeatable)', (file: string, files: string[] = []) => [...files, file])
    .option('--color', 'colour results and errors (default: at a terminal, unless NO_COLOR is set)')
    .option('--no-color', 'plain output')
    .action(async (opts: { load?: string[]; color?: boolean }) => {
      if (opts.load?.includes('-')) {
        // Standard input is the session's own input: a loaded file must be a file.
        io.err("adc: error: --load takes a file; the REPL reads its lines from standard input, so pipe the file in instead (adc repl < model.ad)");
        exitCode = 2;
        return;
      }
      exitCode = await repl(opts);
    });

  try {
    if (argv.length === 0) {
      // Plain `adc` at a terminal opens the REPL; otherwise (piped, scripted) it prints the help.
      if (process.stdin.isTTY && process.stdout.isTTY) return await repl({});
      program.outputHelp();
      return 0;
    }
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  return exitCode;
}
