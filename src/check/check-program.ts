import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { FunctionDecl, Program } from '../syntax/ast.ts';
import { checkFunctions } from './check-functions.ts';
import { checkInlining } from './check-inlining.ts';
import type { CallPolicy } from '../ir/call-graph.ts';
import { checkRecursion } from './check-recursion.ts';
import { checkShapes, type ArrayInfo } from './check-shapes.ts';
import type { Affine } from './affine.ts';
import { checkTypes } from './check-types.ts';
import { resolveNames, type CallSite } from './resolve-names.ts';
import { Suggester } from './suggest.ts';

/** Runs every check and reports every independent error. Returns the function table when all pass. */
export function checkProgram(program: Program, diagnostics: DiagnosticBag, policy: CallPolicy = 'auto'): Map<string, FunctionDecl> | undefined {
  const functions = checkFunctions(program, diagnostics);
  const calls = new Map<string, readonly CallSite[]>();
  const suggest = new Suggester(); // one budget for the whole file's "did you mean"s
  const results = resultShapes(functions);
  // The sizes each call of a function by itself passes (for the termination rule over sizes).
  const selfCalls = new Map<number, ReadonlyMap<string, Affine | undefined>>();
  for (const fn of functions.values()) {
    const before = diagnostics.items.length;
    calls.set(fn.name, resolveNames(fn, functions, diagnostics, suggest));
    // Types are only checked where every name resolved, so one mistake is reported once.
    if (diagnostics.items.length === before) {
      checkShapes(fn, functions, diagnostics, results, policy, selfCalls);
      checkTypes(fn, diagnostics);
    }
  }
  checkRecursion(calls, diagnostics, functions, policy, selfCalls);
  if (!diagnostics.hasErrors) checkInlining(functions, diagnostics, policy);
  return diagnostics.hasErrors ? undefined : functions;
}

/**
 * Each function's result shape (undefined: a number), computed on demand, callees first: a
 * caller's checks need the shapes of the arrays its calls return. Diagnostics of these runs are
 * dropped (each function is checked once, in order, by checkProgram); a call cycle, reported by
 * check-recursion.ts, has no shape.
 */
export function resultShapes(functions: ReadonlyMap<string, FunctionDecl>): (name: string) => ArrayInfo | undefined {
  const known = new Map<string, ArrayInfo | undefined>();
  const running = new Set<string>();
  const resultOf = (name: string): ArrayInfo | undefined => {
    if (known.has(name)) return known.get(name);
    const fn = functions.get(name);
    if (!fn || running.has(name)) return undefined;
    running.add(name);
    const result = checkShapes(fn, functions, new DiagnosticBag(), resultOf);
    running.delete(name);
    known.set(name, result);
    return result;
  };
  return resultOf;
}
