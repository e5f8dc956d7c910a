import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { FunctionDecl, Program } from '../syntax/ast.ts';
import { checkFunctions } from './check-functions.ts';
import { checkInlining } from './check-inlining.ts';
import { checkRecursion } from './check-recursion.ts';
import { checkShapes } from './check-shapes.ts';
import { checkTypes } from './check-types.ts';
import { resolveNames, type CallSite } from './resolve-names.ts';
import { Suggester } from './suggest.ts';

/** Runs every check and reports every independent error. Returns the function table when all pass. */
export function checkProgram(program: Program, diagnostics: DiagnosticBag): Map<string, FunctionDecl> | undefined {
  const functions = checkFunctions(program, diagnostics);
  const calls = new Map<string, readonly CallSite[]>();
  const suggest = new Suggester(); // one budget for the whole file's "did you mean"s
  for (const fn of functions.values()) {
    const before = diagnostics.items.length;
    calls.set(fn.name, resolveNames(fn, functions, diagnostics, suggest));
    // Types are only checked where every name resolved, so one mistake is reported once.
    if (diagnostics.items.length === before) {
      checkShapes(fn, functions, diagnostics);
      checkTypes(fn, diagnostics);
    }
  }
  checkRecursion(calls, diagnostics);
  if (!diagnostics.hasErrors) checkInlining(functions, diagnostics);
  return diagnostics.hasErrors ? undefined : functions;
}
