import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { calledNames, type FunctionDecl, type Program } from '../syntax/ast.ts';
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
 *
 * The first request for a function walks the functions it calls (depth first, with a stack of its
 * own, not JavaScript's) and checks each after its callees: every check then finds its callees'
 * shapes known, so a chain of 10,000 functions each calling the last is checked without nesting.
 * A function still on that walk (the caller of a call that closes a cycle, or a function calling
 * itself) has no shape for its callers, as when each check asked for its callees' shapes itself.
 */
export function resultShapes(functions: ReadonlyMap<string, FunctionDecl>): (name: string) => ArrayInfo | undefined {
  const known = new Map<string, ArrayInfo | undefined>();
  const running = new Set<string>();
  const resultOf = (name: string): ArrayInfo | undefined => {
    if (known.has(name)) return known.get(name);
    const fn = functions.get(name);
    if (!fn || running.has(name)) return undefined;
    const stack: { fn: FunctionDecl; callees: FunctionDecl[]; next: number }[] = [];
    const enter = (f: FunctionDecl) => {
      running.add(f.name);
      const callees = [...calledNames(f)].flatMap((n) => functions.get(n) ?? []);
      stack.push({ fn: f, callees, next: 0 });
    };
    enter(fn);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next < frame.callees.length) {
        const callee = frame.callees[frame.next++];
        if (!known.has(callee.name) && !running.has(callee.name)) enter(callee);
        continue;
      }
      stack.pop();
      known.set(frame.fn.name, checkShapes(frame.fn, functions, new DiagnosticBag(), resultOf));
      running.delete(frame.fn.name);
    }
    return known.get(name);
  };
  return resultOf;
}
