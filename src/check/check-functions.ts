import { notes } from '../diagnostics/messages.ts';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { gradientIntoName, gradientName, hessianName, hvpName, jacobianName, jvpName, vjpName } from '../emit/names.ts';
import { builtinArity, constants } from '../ir/builtins.ts';
import type { FunctionDecl, Program } from '../syntax/ast.ts';

/**
 * File-level checks on function names: duplicates, built-in names, and names that collide with a
 * generated export (`fn fGrad` beside `fn f`). Returns the table of functions by name (first wins).
 */
export function checkFunctions(program: Program, diagnostics: DiagnosticBag): Map<string, FunctionDecl> {
  const table = new Map<string, FunctionDecl>();
  for (const fn of program.functions) {
    const first = table.get(fn.name);
    if (first) {
      diagnostics.errorWithNote('duplicateFunction', fn.nameSpan, { message: notes.firstDefinedHere, span: first.nameSpan }, fn.name);
      continue;
    }
    if (builtinArity.has(fn.name)) diagnostics.error('shadowsBuiltin', fn.nameSpan, fn.name);
    else if (constants.has(fn.name)) diagnostics.error('shadowsConstant', fn.nameSpan, fn.name);
    table.set(fn.name, fn);
  }
  for (const fn of table.values()) {
    // fGradInto is generated only for functions with array parameters.
    // fJvp, fVjp, fHvp and fHessian are generated when asked for (the derivatives option): refused always, so a file means one thing.
    const derivatives = [jvpName(fn.name), vjpName(fn.name), jacobianName(fn.name), hvpName(fn.name), hessianName(fn.name)];
    const generated = [...(fn.params.some((p) => p.type) ? [gradientName(fn.name), gradientIntoName(fn.name)] : [gradientName(fn.name)]), ...derivatives];
    for (const name of generated) {
      const owner = table.get(name);
      if (!owner) continue;
      diagnostics.errorWithNote('generatedNameCollision', owner.nameSpan, { message: notes.generatedFor(name), span: fn.nameSpan }, owner.name, fn.name);
    }
  }
  return table;
}
