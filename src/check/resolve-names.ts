import { notes } from '../diagnostics/messages.ts';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { builtinArity, constants } from '../ir/builtins.ts';
import type { Binder, Expr, FunctionDecl } from '../syntax/ast.ts';
import { assertNever, leftSpine, reduceOps } from '../syntax/ast.ts';
import { Suggester } from './suggest.ts';

export interface CallSite {
  readonly callee: string;
  readonly span: FunctionDecl['nameSpan'];
}

/**
 * Checks one function's names and statements: parameters and `let`s are unique, every name used is
 * defined before its use, calls name a built-in or a function of the file with the right number of
 * arguments, and a block ends in exactly one `return`. Returns the calls to user functions, for the
 * recursion check. `suggest` is shared by the functions of one file, so its work is bounded per file.
 */
export function resolveNames(
  fn: FunctionDecl,
  functions: ReadonlyMap<string, FunctionDecl>,
  diagnostics: DiagnosticBag,
  suggest: Suggester = new Suggester(),
): CallSite[] {
  const calls: CallSite[] = [];
  const scope = new Map<string, FunctionDecl['nameSpan']>();

  const declare = (name: string, at: FunctionDecl['nameSpan'], kind: 'duplicateParameter' | 'duplicateLet' | 'indexShadows') => {
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
        } else diagnostics.error('unknownVariable', e.span, e.name, suggest.didYouMean(e.name, chain(scope.keys(), constants.keys())));
        return;
      case 'call': {
        e.args.forEach(visit);
        const user = functions.get(e.callee);
        const arity = user ? user.params.length : builtinArity.get(e.callee);
        if (arity === undefined) {
          if (reduceOps.has(e.callee)) diagnostics.error('reductionNeedsIndex', e.span, e.callee);
          else if (scope.has(e.callee) || constants.has(e.callee)) diagnostics.error('notAFunction', e.calleeSpan, e.callee);
          else diagnostics.error('unknownFunction', e.calleeSpan, e.callee, suggest.didYouMean(e.callee, chain(functions.keys(), builtinArity.keys())));
          return;
        }
        if (e.args.length !== arity) diagnostics.error('wrongArgumentCount', e.span, e.callee, arity, e.args.length);
        if (user) calls.push({ callee: e.callee, span: e.calleeSpan });
        return;
      }
      case 'index':
        visit({ kind: 'name', name: e.array, span: e.arraySpan });
        e.indices.forEach(visit);
        return;
      case 'element':
        visit(e.base);
        e.indices.forEach(visit);
        return;
      case 'list':
        e.items.forEach(visit);
        return;
      case 'reduce':
        if (e.binder.range) {
          visit(e.binder.range.from);
          visit(e.binder.range.to);
        }
        return withBinders([e.binder], () => visit(e.body));
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

  /** Index variables are in scope in their body only. */
  const withBinders = (binders: readonly Binder[], body: () => void) => {
    const added: string[] = [];
    for (const b of binders) {
      if (scope.has(b.name) || constants.has(b.name)) diagnostics.errorWithNote('indexShadows', b.span, { message: notes.firstDefinedHere, span: scope.get(b.name) ?? b.span }, b.name);
      else {
        scope.set(b.name, b.span);
        added.push(b.name);
      }
    }
    body();
    for (const name of added) scope.delete(name);
  };

  // `let`s not yet reached, to say "used before its let" instead of "unknown".
  const laterLets = new Map<string, FunctionDecl['nameSpan']>();
  for (const s of [...fn.body].reverse()) if (s.kind === 'let') laterLets.set(s.name, s.nameSpan);
  for (const p of fn.params) declare(p.name, p.span, 'duplicateParameter');
  // Size names (`n` in `x: vec[n]`) are numbers in the body; one name may size several parameters.
  const sizes = new Set<string>();
  for (const p of fn.params) {
    for (const size of p.type?.sizes ?? []) {
      if (size.kind !== 'name' || sizes.has(size.name)) continue;
      if (scope.has(size.name)) diagnostics.errorWithNote('sizeClash', size.span, { message: notes.firstDefinedHere, span: scope.get(size.name)! }, size.name);
      else if (constants.has(size.name)) diagnostics.error('shadowsConstant', size.span, size.name);
      else {
        sizes.add(size.name);
        scope.set(size.name, size.span);
      }
    }
  }
  fn.body.forEach((s, i) => {
    if (s.kind === 'let' && s.indices) {
      // Each index's range is read outside the array's indices; the value sees all of them.
      for (const b of s.indices) {
        if (!b.range) continue;
        visit(b.range.from);
        visit(b.range.to);
      }
      withBinders(s.indices, () => visit(s.value));
    } else visit(s.value);
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

/** The candidates for a suggestion, read lazily (no copy per unknown name). */
function* chain<T>(...parts: Iterable<T>[]): Generator<T> {
  for (const part of parts) yield* part;
}
