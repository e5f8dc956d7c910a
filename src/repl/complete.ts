import { readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { builtinArity, constants } from '../ir/builtins.ts';
import { keywords } from '../syntax/lexer.ts';

/** The REPL's commands, each with its argument and what it does (for :help and completion). */
export const commands = [
  [':help', '', 'this help'],
  [':list', '', 'the functions defined so far, as written, and the values bound'],
  [':code', 'NAME', 'the JavaScript adc generates for NAME and NAMEGrad (no NAME: the whole module)'],
  [':load', 'FILE.ad', 'define (or redefine) the functions of a file'],
  [':save', 'FILE.ad', 'write the functions to a file'],
  [':clear', '', 'forget every function and every value bound with NAME = EXPR'],
  [':plot', 'EXPR for X in A..B', 'plot EXPR and its derivative ∂/∂X for X from A to B'],
  [':quit', '', 'leave (or Ctrl+D)'],
] as const;

export const commandNames: readonly string[] = commands.map(([name]) => name);

/** Every name an expression can use besides the session's functions. */
export const builtinNames: readonly string[] = [...builtinArity.keys(), ...constants.keys()].sort();

/** The words that start a derivative command (`grad f(1, 2)`, `jvp f(1, 2) along (1, 0)`, …). */
export const derivativeWords: readonly string[] = ['grad', 'jvp', 'vjp', 'jacobian', 'hessian'];

/**
 * Tab completion, in node:repl's form: the candidates and the part of the line they complete.
 * Commands after `:`, function names after `:code`, .ad files after `:load`/`:save`, and otherwise
 * built-ins, constants, keywords, the derivative commands (`grad`, `jvp`, …; `along` after `jvp`,
 * `with` after `vjp`), the session's functions and its bound values (`valueNames`).
 */
export function completions(line: string, functionNames: readonly string[], cwd = process.cwd(), valueNames: readonly string[] = []): [string[], string] {
  const command = /^\s*(:[A-Za-z]*)$/.exec(line);
  if (command) return [commandNames.filter((c) => c.startsWith(command[1])).sort(), command[1]];
  const code = /^\s*:code\s+([A-Za-z_0-9]*)$/.exec(line);
  if (code) return [functionNames.filter((n) => n.startsWith(code[1])).sort(), code[1]];
  const file = /^\s*:(?:load|save)\s+(.*)$/.exec(line);
  if (file) return [adFiles(file[1], cwd), file[1]];
  if (/^\s*:/.test(line) && !/^\s*:plot\s/.test(line)) return [[], ''];
  const word = /(?:^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)$/.exec(line)?.[1];
  if (word === undefined) return [[], ''];
  // After `jvp f(1, 2) ` comes `along`, after `vjp r(1) ` comes `with`.
  const joiner = /^\s*jvp\s/.test(line) ? ['along'] : /^\s*vjp\s/.test(line) ? ['with'] : [];
  const words = new Set([...functionNames, ...valueNames, ...builtinNames, ...keywords, ...derivativeWords, ...joiner]);
  return [[...words].filter((w) => w.startsWith(word)).sort(), word];
}

/** Folders and .ad files that complete a path typed so far. */
function adFiles(partial: string, cwd: string): string[] {
  const folder = partial.endsWith('/') ? partial : dirname(partial) === '.' && !partial.startsWith('./') ? '' : dirname(partial) + '/';
  const base = partial.slice(folder.length);
  try {
    return readdirSync(resolve(cwd, folder || '.'), { withFileTypes: true })
      .filter((e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')))
      .filter((e) => e.isDirectory() || e.name.endsWith('.ad'))
      .map((e) => folder + e.name + (e.isDirectory() ? '/' : ''))
      .sort();
  } catch {
    return [];
  }
}
