import { Command, CommanderError } from 'commander';
import { version } from '../version.ts';
import { compileFiles } from './compile-files.ts';

/** The `adc` command. Returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: readonly string[], io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s) }): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('adc')
    .description('A differentiating compiler: .ad files to JavaScript that returns each function and its exact gradient.')
    .version(version, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('compile')
    .description('compile .ad files to ES modules (f and fGrad for each fn f)')
    .argument('<files...>', '.ad files to compile')
    .option('-o, --output <file>', 'the output file (one input only); default: next to the input, with .js')
    .option('--out-dir <dir>', 'write every output into this folder')
    .option('--check', 'report problems only; write nothing')
    .option('--no-format', 'skip prettier (the output is already indented)')
    .option('--color', 'colour diagnostics (default: when stderr is a terminal)')
    .action(async (files: string[], opts: { output?: string; outDir?: string; check?: boolean; format: boolean; color?: boolean }) => {
      if (opts.output && files.length > 1) {
        io.err('adc: error: -o/--output takes one input file; use --out-dir for several');
        exitCode = 2;
        return;
      }
      if (opts.output && opts.outDir) {
        io.err('adc: error: use either -o/--output or --out-dir, not both');
        exitCode = 2;
        return;
      }
      exitCode = await compileFiles(files, { ...opts, color: opts.color ?? process.stderr.isTTY === true }, io);
    });

  try {
    if (argv.length === 0) {
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
