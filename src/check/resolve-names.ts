import { notes } from '../diagnostics/messages.ts';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { builtinArity, constants } from '../ir/builtins.ts';
import type { Binder, Expr, FunctionDecl, Statement } from '../syntax/ast.ts';
import { allStatements, assertNever, derivativeArity, derivativeTransforms, freshIndices, leftSpine, reduceOps } from '../syntax/ast.ts';
import { Suggester } from './suggest.ts';

export interface CallSite {
  readonly callee: string;
  readonly span: FunctionDecl['nameSpan'];
  /** A `grad(f, …)` naming f, not a call: never a bounded self-call (AD3002 when it recurses). */
  readonly derivative?: boolean;
}

/**
 * Checks one function's names and statements: parameters, `let`s and `var`s are unique, every name
 * used is defined before its use, only `var`s are assigned, loops have their ranges and bounds, calls name a built-in or a function of the file with the right number of
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
  // What each name in scope is: only a `var` may be assigned.
  const kinds = new Map<string, 'parameter' | 'let' | 'var' | 'index'>();

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
        else if (later(e.name)) {
          const { span, kind } = later(e.name)!;
          diagnostics.errorWithNote(kind === 'let' ? 'usedBeforeDefinition' : 'usedBeforeVar', e.span, { message: notes.definedHere, span }, e.name);
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
      case 'derivative':
        e.args.forEach(visit);
        return visitDerivative(e);
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

  /**
   * `grad(f, x)(args)`, `jvp(f, x)(args, v)`, `jacobian(f, x)(args)`: f is a function of the file,
   * x one of its parameters (or left out when f has one differentiated parameter), and args are
   * f's arguments (jvp's then the direction). It counts as a call of f (so `fn f(x) = grad(f)(x)`
   * is recursion).
   */
  const visitDerivative = (e: Extract<Expr, { kind: 'derivative' }>) => {
    if (!derivativeTransforms.has(e.transform)) {
      diagnostics.error('notADerivative', e.transformSpan, e.transform);
      return;
    }
    const [f, x] = e.of;
    if (f?.kind !== 'name' || e.of.length > 2 || (x !== undefined && x.kind !== 'name')) {
      diagnostics.error('derivativeOfWhat', e.ofSpan, e.transform);
      return;
    }
    const fn = functions.get(f.name);
    if (!fn) {
      if (builtinArity.has(f.name)) diagnostics.error('derivativeOfWhat', f.span, e.transform);
      else diagnostics.error('unknownFunction', f.span, f.name, suggest.didYouMean(f.name, functions.keys()));
      return;
    }
    calls.push({ callee: fn.name, span: f.span, derivative: true });
    if (x?.kind === 'name' && !fn.params.some((p) => p.name === x.name)) {
      diagnostics.error('derivativeUnknownParameter', x.span, fn.name, x.name, fn.params.map((p) => p.name).join(', ') || 'none');
    } else if (x === undefined) {
      const differentiated = fn.params.filter((p) => !p.isConst);
      if (differentiated.length !== 1) diagnostics.error('derivativeWhichParameter', e.ofSpan, e.transform, fn.name, differentiated.length, (differentiated[0] ?? fn.params[0])?.name ?? 'x');
    }
    const arity = derivativeArity(e.transform, fn);
    if (e.args.length !== arity) {
      if (e.transform === 'jvp') diagnostics.error('jvpArgumentCount', e.span, fn.name, fn.params.length, e.args.length);
      else diagnostics.error('wrongArgumentCount', e.span, fn.name, arity, e.args.length);
    }
  };

  /** Index variables are in scope in their body only. */
  const withBinders = (binders: readonly Binder[], body: () => void) => {
    const added: string[] = [];
    for (const b of binders) {
      if (scope.has(b.name) || constants.has(b.name)) diagnostics.errorWithNote('indexShadows', b.span, { message: notes.firstDefinedHere, span: scope.get(b.name) ?? b.span }, b.name);
      else {
        scope.set(b.name, b.span);
        kinds.set(b.name, 'index');
        added.push(b.name);
      }
    }
    body();
    for (const name of added) {
      scope.delete(name);
      kinds.delete(name);
    }
  };

  /**
   * The `let` or `var` of a name not yet reached, to say "used before its let" instead of
   * "unknown": the first of that name in source order, if `block` (which defines them in that
   * order, counting them in `defined`) has not reached it. Found only when a name is unknown, so a
   * function without mistakes pays nothing for it.
   */
  let defined = 0;
  let firstDeclarations: Map<string, { readonly span: FunctionDecl['nameSpan']; readonly kind: 'let' | 'var'; readonly ordinal: number }> | undefined;
  const later = (name: string) => {
    if (!firstDeclarations) {
      firstDeclarations = new Map();
      let ordinal = 0;
      for (const s of allStatements(fn.body)) {
        if (s.kind !== 'let' && s.kind !== 'var') continue;
        if (!firstDeclarations.has(s.name)) firstDeclarations.set(s.name, { span: s.nameSpan, kind: s.kind, ordinal });
        ordinal++;
      }
    }
    const first = firstDeclarations.get(name);
    return first !== undefined && first.ordinal >= defined ? first : undefined;
  };
  for (const p of fn.params) {
    declare(p.name, p.span, 'duplicateParameter');
    kinds.set(p.name, 'parameter');
  }
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
        kinds.set(size.name, 'parameter');
      }
    }
  }

  /** `x = e`: x must be a `var` in scope. */
  const checkAssignment = (s: Extract<Statement, { kind: 'assign' }>) => {
    const kind = kinds.get(s.name);
    if (scope.has(s.name) && kind !== undefined) {
      if (kind === 'let') diagnostics.errorWithNote('assignToLet', s.nameSpan, { message: notes.definedHere, span: scope.get(s.name)! }, s.name);
      else if (kind === 'parameter') diagnostics.error('assignToParameter', s.nameSpan, s.name);
      else if (kind === 'index') diagnostics.error('assignToIndex', s.nameSpan, s.name);
      return;
    }
    visit({ kind: 'name', name: s.name, span: s.nameSpan });
  };

  /** A block's statements; names declared in a nested block go out of scope at its end. */
  const block = (body: readonly Statement[], top: boolean) => {
    const declaredHere: string[] = [];
    // As `declare`, with one lookup of each kind per name (this runs for every `let`).
    const define = (name: string, at: FunctionDecl['nameSpan'], kind: 'let' | 'var') => {
      defined++;
      const first = scope.get(name);
      if (first) return diagnostics.errorWithNote('duplicateLet', at, { message: notes.firstDefinedHere, span: first }, name);
      if (constants.has(name)) return diagnostics.error('shadowsConstant', at, name);
      scope.set(name, at);
      kinds.set(name, kind);
      // (The top block's names stay: nothing follows them.)
      if (!top) declaredHere.push(name);
    };
    body.forEach((s, i) => {
      switch (s.kind) {
        case 'let':
          if (s.indices) {
            // Each index's range is read outside the array's indices; the value sees all of them.
            for (const b of s.indices) {
              if (!b.range) continue;
              visit(b.range.from);
              visit(b.range.to);
            }
            withBinders(s.indices, () => visit(s.value));
          } else visit(s.value);
          define(s.name, s.nameSpan, 'let');
          break;
        case 'var':
          // An array variable's sizes (`var y: vec[n]`) are names in scope.
          for (const size of s.type?.sizes ?? []) if (size.kind === 'name') visit({ kind: 'name', name: size.name, span: size.span });
          visit(s.value);
          define(s.name, s.nameSpan, 'var');
          break;
        case 'assign': {
          // `y[i] = e` with `i` not defined: `i` is a fresh index over y's dimension, seen by `e`.
          const fresh = s.indices ? freshIndices(s.indices, (name) => scope.has(name) || constants.has(name)) : [];
          s.indices?.forEach((x, k) => fresh[k] === undefined && visit(x));
          withBinders(
            fresh.filter((b) => b !== undefined),
            () => visit(s.value),
          );
          checkAssignment(s);
          break;
        }
        case 'for':
          if (s.binder.range) {
            visit(s.binder.range.from);
            visit(s.binder.range.to);
          } else diagnostics.error('forWithoutRange', s.binder.span, s.binder.name);
          withBinders([s.binder], () => block(s.body, false));
          break;
        case 'while':
          visit(s.condition);
          if (s.limit) visit(s.limit);
          else diagnostics.error('whileWithoutMax', s.keywordSpan);
          block(s.body, false);
          break;
        case 'if':
          visit(s.condition);
          block(s.then, false);
          block(s.else, false);
          break;
        case 'return':
          visit(s.value);
          if (!top) diagnostics.error('returnInBlock', s.span);
          else if (i !== body.length - 1) diagnostics.error('statementAfterReturn', body[i + 1].span);
          break;
        default:
          assertNever(s);
      }
    });
    if (top) return;
    for (const name of declaredHere) {
      scope.delete(name);
      kinds.delete(name);
    }
  };
  block(fn.body, true);
  // A misplaced `return` was reported above; only a block with none at all is missing one.
  if (!fn.body.some((s) => s.kind === 'return')) diagnostics.error('missingReturn', fn.endSpan, fn.name);
  return calls;
}

/** The candidates for a suggestion, read lazily (no copy per unknown name). */
function* chain<T>(...parts: Iterable<T>[]): Generator<T> {
  for (const part of parts) yield* part;
}
