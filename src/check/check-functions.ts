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
    // Each with the kind of function the message names.
    const derivatives: [string, string][] = [
      [jvpName(fn.name), 'forward-mode (jvp)'],
      [vjpName(fn.name), 'reverse-mode (vjp)'],
      [jacobianName(fn.name), 'Jacobian'],
      [hvpName(fn.name), 'Hessian-vector product (hvp)'],
      [hessianName(fn.name), 'Hessian'],
    ];
    const gradients: [string, string][] = [[gradientName(fn.name), 'gradient'], ...(fn.params.some((p) => p.type) ? [[gradientIntoName(fn.name), 'in-place gradient'] as [string, string]] : [])];
    for (const [name, what] of [...gradients, ...derivatives]) {
      const owner = table.get(name);
      if (!owner) continue;
      diagnostics.errorWithNote('generatedNameCollision', owner.nameSpan, { message: notes.generatedFor(name), span: fn.nameSpan }, owner.name, fn.name, what);
    }
  }
  return table;
}
