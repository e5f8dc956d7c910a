import { notes } from '../diagnostics/messages.ts';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { builtinArity, constants } from '../ir/builtins.ts';
import type { Expr, FunctionDecl } from '../syntax/ast.ts';
import { assertNever, leftSpine } from '../syntax/ast.ts';
import { didYouMean } from './suggest.ts';

export interface CallSite {
  readonly callee: string;
  readonly span: FunctionDecl['nameSpan'];
}

/**
 * Checks one function's names and statements: parameters and `let`s are unique, every name used is
 * defined before its use, calls name a built-in or a function of the file with the right number of
 * arguments, and a block ends in exactly one `return`. Returns the calls to user functions, for the
 * recursion check.
 */
export function resolveNames(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>, diagnostics: DiagnosticBag): CallSite[] {
  const calls: CallSite[] = [];
  const scope = new Map<string, FunctionDecl['nameSpan']>();

  const declare = (name: string, at: FunctionDecl['nameSpan'], kind: 'duplicateParameter' | 'duplicateLet') => {
    const first = scope.get(name);
    if (first) diagnostics.errorWithNote(kind, at, { message: notes.firstDefinedHere, span: first }, name);
    else if (constants.has(name)) diagnostics.error('shadowsConstant', at, name);
    else scope.set(name, at);
  };

  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'number':
        return;
      case 'name':
        if (scope.has(e.name) || constants.has(e.name)) return;
        if (functions.has(e.name) || builtinArity.has(e.name)) diagnostics.error('notAVariable', e.span, e.name);
        else if (laterLets.has(e.name)) {
          diagnostics.errorWithNote('usedBeforeDefinition', e.span, { message: notes.definedHere, span: laterLets.get(e.name)! }, e.name);
        } else diagnostics.error('unknownVariable', e.span, e.name, didYouMean(e.name, [...scope.keys(), ...constants.keys()]));
        return;
      case 'call': {
        e.args.forEach(visit);
        const user = functions.get(e.callee);
        const arity = user ? user.params.length : builtinArity.get(e.callee);
        if (arity === undefined) {
          if (scope.has(e.callee) || constants.has(e.callee)) diagnostics.error('notAFunction', e.calleeSpan, e.callee);
          else diagnostics.error('unknownFunction', e.calleeSpan, e.callee, didYouMean(e.callee, [...functions.keys(), ...builtinArity.keys()]));
          return;
        }
        if (e.args.length !== arity) diagnostics.error('wrongArgumentCount', e.span, e.callee, arity, e.args.length);
        if (user) calls.push({ callee: e.callee, span: e.calleeSpan });
        return;
      }
      case 'unary':
        return visit(e.operand);
      case 'binary': {
        const { base, chain } = leftSpine(e);
        visit(base);
        for (const node of chain) visit(node.right);
        return;
      }
      case 'if':
        visit(e.condition);
        visit(e.then);
        return visit(e.else);
      default:
        return assertNever(e);
    }
  };

  // `let`s not yet reached, to say "used before its let" instead of "unknown".
  const laterLets = new Map<string, FunctionDecl['nameSpan']>();
  for (const s of [...fn.body].reverse()) if (s.kind === 'let') laterLets.set(s.name, s.nameSpan);
  for (const p of fn.params) declare(p.name, p.span, 'duplicateParameter');
  fn.body.forEach((s, i) => {
    visit(s.value);
    if (s.kind === 'let') {
      if (laterLets.get(s.name) === s.nameSpan) laterLets.delete(s.name);
      declare(s.name, s.nameSpan, 'duplicateLet');
    }
    else if (i !== fn.body.length - 1) diagnostics.error('statementAfterReturn', fn.body[i + 1].span);
  });
  // A misplaced `return` was reported above; only a block with none at all is missing one.
  if (!fn.body.some((s) => s.kind === 'return')) diagnostics.error('missingReturn', fn.endSpan, fn.name);
  return calls;
}
