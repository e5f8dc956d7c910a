import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CompileCache } from '../compile-cache.ts';
import { quotePath, printable } from '../diagnostics/printable.ts';
import { compileFile, readSource, type CompileFilesOptions, type Reporter } from './compile-files.ts';

export interface WatchOptions extends CompileFilesOptions {
  /** How long a file must be quiet before it is recompiled (editors write in several steps). */
  readonly debounceMs?: number;
}

/**
 * `adc compile --watch`: compiles every file, then recompiles a file each time it changes,
 * printing its diagnostics, until `signal` aborts. Errors never stop the watch.
 *
 * Each input's folder is watched rather than the file itself, so an editor that saves by writing a
 * new file and renaming it over the old one (vim, many IDEs) is still seen, and so is a file that is
 * deleted and created again. Resolves with 0 once stopped.
 */
export async function watchFiles(files: readonly string[], options: WatchOptions, report: Reporter, signal: AbortSignal): Promise<number> {
  const debounceMs = options.debounceMs ?? 60;
  // Each input once, by folder: folder → (file name → the path as the user wrote it).
  const folders = new Map<string, Map<string, string>>();
  for (const file of files) {
    const folder = dirname(resolve(file));
    if (!folders.has(folder)) folders.set(folder, new Map());
    folders.get(folder)!.set(basename(file), file);
  }
  const inputs = [...folders.values()].flatMap((names) => [...names.values()]);
  // The compiler stays warm between changes, and each file keeps its compiled functions: an edit
  // recompiles only the functions it could change (compile-cache.ts).
  const caches = new Map<string, CompileCache>();
  const cacheOf = (file: string) => caches.get(file) ?? caches.set(file, new CompileCache()).get(file)!;
  options = { ...options, cacheOf };

  /** The text last compiled for each file, so a save that changes nothing is not reported again. */
  const lastSource = new Map<string, string | undefined>();
  const timers = new Map<string, NodeJS.Timeout>();
  let running: Promise<void> = Promise.resolve();

  const stamp = () => `[${new Date().toTimeString().slice(0, 8)}]`;
  const build = async (file: string, initial: boolean): Promise<boolean> => {
    const source = readSource(file, report);
    if (!initial && source !== undefined && lastSource.get(file) === source) return true;
    lastSource.set(file, source);
    if (!initial) report.out(`${stamp()} ${printable(file)} changed`);
    return source !== undefined && (await compileFile(file, options, report, source));
  };
  // One compile at a time, in the order the changes came.
  const enqueue = (file: string) => {
    running = running.then(async () => {
      if (signal.aborted) return;
      try {
        await build(file, false);
      } catch (error) {
        report.err(`adc: internal error: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  };
  const schedule = (file: string) => {
    clearTimeout(timers.get(file));
    timers.set(
      file,
      setTimeout(() => {
        timers.delete(file);
        enqueue(file);
      }, debounceMs),
    );
  };

  let failed = 0;
  for (const file of inputs) if (!(await build(file, true))) failed++;

  const watchers: FSWatcher[] = [];
  for (const [folder, names] of folders) {
    try {
      const watcher = watch(folder, (_event, name) => {
        if (signal.aborted) return;
        if (name === null) for (const file of names.values()) schedule(file);
        else if (names.has(name)) schedule(names.get(name)!);
      });
      watcher.on('error', (error) => report.err(`adc: error: stopped watching ${quotePath(folder)}: ${error.message}`));
      watchers.push(watcher);
    } catch (error) {
      report.err(`adc: error: cannot watch ${quotePath(folder)}: ${(error as Error).message}`);
    }
  }
  if (watchers.length === 0) return 1;
  const count = inputs.length === 1 ? quotePath(inputs[0]) : `${inputs.length} files`;
  report.out(`${stamp()} ${failed > 0 ? `${failed} of ${inputs.length} failed; ` : ''}watching ${count} for changes (Ctrl-C to stop)`);

  await new Promise<void>((resolveStop) => {
    if (signal.aborted) resolveStop();
    else signal.addEventListener('abort', () => resolveStop(), { once: true });
  });
  for (const watcher of watchers) watcher.close();
  for (const timer of timers.values()) clearTimeout(timer);
  await running;
  return 0;
}
