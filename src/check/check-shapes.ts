import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { Span } from '../diagnostics/span.ts';
import { allStatements, anyReachable, derivativeArity, derivativeTarget, isArrayDerivative, statementExprs, assertNever, childrenOf, directIndexUses, freshIndices, hasStatefulCode, leftSpine, printExpr, reduceOps, type Binder, type Expr, type FunctionDecl, type Statement } from '../syntax/ast.ts';
import { constants } from '../ir/builtins.ts';
import { alwaysStaysCall, staysCallPerIndex, type CallPolicy } from '../ir/call-graph.ts';
import { affineCombine, affineConstant, affineEqual, affineOf, affineSymbol, extreme, printAffine, signOf, type Affine, type AffineRange } from './affine.ts';

/** One dimension of an array: its length as a form over sizes (undefined if not affine), and as written. */
export interface Dim {
  readonly length: Affine | undefined;
  readonly text: string;
  /** An array let defined from a later start (`let k[i in 2..n]`): the start, as a form (if one) and as written. */
  readonly from?: { readonly form: Affine | undefined; readonly text: string };
}

export interface ArrayInfo {
  readonly kind: 'array';
  readonly dims: readonly Dim[];
  readonly type: string;
}

type Entity = ArrayInfo | { readonly kind: 'index'; readonly range: AffineRange } | { readonly kind: 'size' } | { readonly kind: 'number' };
/** A number's entity, one for all (entities are not changed). */
const NUMBER: Entity = { kind: 'number' };

const sizeSymbol = (name: string) => `size:${name}`;
const indexSymbol = (name: string) => `index:${name}`;
/** Whether a symbol of a length's form is a size, and which (a callee's result length in its sizes: call-graph.ts, lower.ts). */
export const isSizeSymbol = (symbol: string): boolean => symbol.startsWith('size:');
export const sizeOfSymbol = (symbol: string): string => symbol.slice('size:'.length);
const display = (symbol: string) => symbol.slice(symbol.indexOf(':') + 1);
const show = (e: Expr) => printExpr(e).replace(/^\((.*)\)$/, '$1');
/** `0.5`, or `1 / 0 (Infinity)` for a computed constant. */
const withValue = (e: Expr, value: number) => (e.kind === 'number' ? show(e) : `${show(e)} (${value})`);

/** The array type of a parameter, as dims; undefined for a scalar or an invalid type (reported). */
export function parameterDims(p: FunctionDecl['params'][number]): ArrayInfo | undefined {
  if (!p.type) return undefined;
  const dims = p.type.sizes.map((s): Dim => (s.kind === 'name' ? { length: affineSymbol(sizeSymbol(s.name)), text: s.name } : { length: affineConstant(s.value), text: String(s.value) }));
  return { kind: 'array', dims, type: `${p.type.kind}[${dims.map((d) => d.text).join(', ')}]` };
}

/**
 * The array rules, after names resolve: parameter types are `vec[n]` or `mat[m, n]`; arrays are
 * only indexed (with one index per dimension), passed to `dot`, `norm` or a user function's array
 * parameter; every index variable has a range, given or inferred from the arrays it indexes
 * directly (all of which must agree); a read provably outside its array is an error.
 */
export function checkShapes(
  fn: FunctionDecl,
  functions: ReadonlyMap<string, FunctionDecl>,
  diagnostics: DiagnosticBag,
  resultOf: (name: string) => ArrayInfo | undefined = () => undefined,
  policy: CallPolicy = 'auto',
  /** Filled with each call of fn by itself (by its name's start): the length each size of fn gets there. */
  selfCalls?: Map<number, ReadonlyMap<string, Affine | undefined>>,
): ArrayInfo | undefined {
  const env = new Map<string, Entity>();
  // Whether any name was ever an array here: until one is, a name is never one (most functions of numbers).
  let hasArrays = false;
  const ranges = new Map<string, AffineRange>();
  // Inside a reduction's body or an array's definition: code that runs once per index.
  let loops = 0;
  const inLoop = (inner: () => void) => {
    loops++;
    inner();
    loops--;
  };

  for (const p of fn.params) {
    if (!p.type) {
      env.set(p.name, NUMBER);
      continue;
    }
    const t = p.type;
    const expected = t.kind === 'vec' ? 1 : t.kind === 'mat' ? 2 : undefined;
    if (expected === undefined) diagnostics.error('unknownArrayType', t.kindSpan, t.kind);
    else if (t.sizes.length !== expected) diagnostics.error('wrongSizeCount', t.span, t.kind, expected, t.sizes.length);
    for (const s of t.sizes) {
      if (s.kind === 'number' && !(Number.isInteger(s.value) && s.value >= 0)) diagnostics.error('invalidSize', s.span, String(s.value));
      if (s.kind === 'name' && !env.has(s.name)) env.set(s.name, { kind: 'size' });
    }
    env.set(p.name, parameterDims(p)!);
    hasArrays = true;
  }

  const symbol = (name: string): Affine | undefined => {
    const entity = env.get(name);
    if (entity?.kind === 'size') return affineSymbol(sizeSymbol(name));
    if (entity?.kind === 'index') return affineSymbol(indexSymbol(name));
    return undefined;
  };

  /**
   * The shape of an array-valued expression, without reporting: an array's name, a list, or a call
   * of a function returning an array (its result's sizes in terms of the arguments'); undefined
   * for a number or what is already an error.
   */
  const shapeOf = (e: Expr): ArrayInfo | undefined => {
    switch (e.kind) {
      case 'name': {
        const entity = env.get(e.name);
        return entity?.kind === 'array' ? entity : undefined;
      }
      case 'list':
        return listShape(e);
      case 'call': {
        const callee = functions.get(e.callee);
        const result = callee && resultOf(callee.name);
        if (!callee || !result) return undefined;
        const bound = new Map<string, Dim>();
        callee.params.forEach((p, k) => {
          const info = p.type && e.args[k] ? shapeOf(e.args[k]) : undefined;
          p.type?.sizes.forEach((size, d) => {
            if (info?.dims[d] && size.kind === 'name' && !bound.has(size.name)) bound.set(size.name, info.dims[d]);
          });
        });
        return arrayInfo(result.dims.map((d) => substitute(d, bound)));
      }
      case 'derivative': {
        // grad: the argument's shape (for an array parameter); jvp: the value's (f's result, as
        // for a call); jacobian: (the value's shape) × (the argument's shape).
        const target = derivativeTarget(e, functions);
        if (!target) return undefined;
        const arg = target.fn.params[target.param].type ? e.args[target.param] : undefined;
        const argShape = arg && shapeOf(arg);
        if (e.transform === 'grad') return argShape;
        const value = shapeOf({ kind: 'call', callee: target.fn.name, calleeSpan: e.of[0].span, args: e.args.slice(0, target.fn.params.length), span: e.span });
        if (e.transform === 'jvp' || !argShape) return value;
        if (!value) return argShape;
        return arrayInfo([...value.dims, ...argShape.dims]);
      }
      default:
        return undefined;
    }
  };

  /**
   * An expression where an array may stand (indexed, passed to an array parameter, returned):
   * reports what is wrong inside it and returns its shape. A list or a call returning an array is
   * computed once per statement, before it: inside a reduction or an array definition, it may not
   * use their index variables.
   */
  const visitArray = (e: Expr): ArrayInfo | undefined => {
    if (e.kind === 'name') return shapeOf(e);
    if (e.kind !== 'list' && e.kind !== 'call' && e.kind !== 'derivative') {
      visit(e);
      return undefined;
    }
    if (e.kind === 'list') visitList(e);
    else if (e.kind === 'derivative') visitDerivative(e);
    else visitCall(e);
    const info = shapeOf(e);
    if (info && loops > 0) {
      // (A `for` statement's index is one number throughout each of its body's statements.)
      const index = namesIn(e).find((n) => env.get(n)?.kind === 'index' && !forIndices.has(n));
      const what = e.kind === 'call' ? `'${e.callee}(...)'` : e.kind === 'derivative' ? `'${show(e)}'` : 'a list';
      if (index !== undefined) diagnostics.error('arrayPerIndex', e.span, what, index);
    }
    return info;
  };

  /** A list's items: all numbers (a vec), or all lists of numbers of one length (a mat). */
  const visitList = (e: Extract<Expr, { kind: 'list' }>) => {
    const lists = e.items.filter((x) => x.kind === 'list');
    if (lists.length === 0) {
      e.items.forEach((x) => visit(x));
      return;
    }
    if (lists.length < e.items.length) {
      diagnostics.error('raggedList', e.items.find((x) => x.kind !== 'list')!.span, 'a number and a list');
      return;
    }
    const first = lists[0].items.length;
    for (const row of lists as Extract<Expr, { kind: 'list' }>[]) {
      const deep = row.items.find((x) => x.kind === 'list');
      if (deep) {
        diagnostics.error('listTooDeep', deep.span);
        return;
      }
      row.items.forEach((x) => visit(x));
      if (row.items.length !== first) {
        diagnostics.error('raggedList', row.span, `rows of ${first} and ${row.items.length} elements`);
        return;
      }
    }
  };

  /** The range of an index variable: given, or the length of the dimensions it indexes directly. */
  const rangeOf = (b: Binder, body: Expr): { range: AffineRange; dim?: Dim } | undefined => {
    if (b.range) return { range: { from: affineOf(b.range.from, symbol), to: affineOf(b.range.to, symbol) } };
    const uses = directUses(b.name, body, shapeOf);
    if (uses.length === 0) {
      diagnostics.error('cannotInferRange', b.span, b.name);
      return undefined;
    }
    const [first, ...rest] = uses;
    for (const use of rest) {
      const same = first.dim.length && use.dim.length ? affineEqual(first.dim.length, use.dim.length) : first.dim.text === use.dim.text;
      const partly = [first, use].find((u) => u.dim.from);
      if (same && partly && first.dim.from?.text !== use.dim.from?.text) {
        // One starts later than the other: which elements the range covers is for the author to say.
        const other = partly === first ? use : first;
        diagnostics.error('partlyDefinedRange', use.span, b.name, partly.what, partly.dim.from!.text, other.what, other.dim.from?.text ?? '0', partly.dim.text);
        return undefined;
      }
      if (!same) {
        diagnostics.errorWithNote(
          'conflictingRanges',
          use.span,
          { message: `'${b.name}' also indexes ${first.what} here`, span: first.span },
          b.name,
          first.what,
          first.dim.text,
          use.what,
          use.dim.text,
        );
        return undefined;
      }
    }
    // An array let defined from a later start gives its defined range, not 0..length.
    return { range: { from: first.dim.from ? first.dim.from.form : affineConstant(0), to: first.dim.length }, dim: first.dim };
  };

  /** A range bound that is a constant must be one a loop can count to: finite, within 2^53. */
  const checkBounds = (b: Binder) => {
    for (const bound of b.range ? [b.range.from, b.range.to] : []) {
      const value = constantValue(bound);
      if (value !== undefined && !(Math.abs(value) <= 2 ** 53)) diagnostics.error('rangeTooLarge', bound.span, b.name, withValue(bound, value));
    }
  };

  /** The index variables of the `for` statements around the statement being checked (not a reduction's, nor an array let's). */
  const forIndices = new Set<string>();
  const withIndex = (b: Binder, range: AffineRange, inner: () => void) => {
    env.set(b.name, { kind: 'index', range });
    ranges.set(indexSymbol(b.name), range);
    inner();
    env.delete(b.name);
    ranges.delete(indexSymbol(b.name));
  };

  /** The value of an expression of numbers and built-in constants (`0.5`, `2 * pi`), else undefined. */
  const constantValue = (x: Expr): number | undefined => constantOf(x, (name) => (env.has(name) ? undefined : constants.get(name)));

  const checkIndex = (e: { readonly indices: readonly Expr[] }, array: string, info: ArrayInfo) => {
    e.indices.forEach((index, k) => {
      const value = constantValue(index);
      if (value !== undefined && !(Number.isInteger(value) && Math.abs(value) <= 2 ** 53)) {
        diagnostics.error('indexNotWhole', index.span, array, withValue(index, value));
        return;
      }
      const form = affineOf(index, symbol);
      const length = info.dims[k]?.length;
      if (!form) return;
      const low = extreme(form, ranges, 'min');
      if (low && signOf(low) === 'negative') {
        diagnostics.error('indexOutOfRange', index.span, array, show(index), printAffine(low, display), 'below 0');
        return;
      }
      const from = info.dims[k]?.from?.form;
      if (low && from && signOf(affineCombine(low, from, -1)) === 'negative') {
        diagnostics.error('readBeforeDefined', index.span, array, show(index), printAffine(low, display), info.dims[k].from!.text);
        return;
      }
      const high = extreme(form, ranges, 'max');
      if (high && length && signOf(affineCombine(high, length, -1)) === 'nonNegative') {
        diagnostics.error('indexOutOfRange', index.span, array, show(index), printAffine(high, display), `and ${array} has ${info.dims[k].text} there`);
      }
    });
  };

  const visit = (e: Expr, position: 'value' | 'argument' = 'value'): void => {
    switch (e.kind) {
      case 'number':
        return;
      case 'name': {
        if (!hasArrays || position !== 'value') return;
        const entity = env.get(e.name);
        if (entity?.kind === 'array') diagnostics.error('arrayAsNumber', e.span, e.name, entity.type);
        return;
      }
      case 'index': {
        e.indices.forEach((i) => visit(i));
        const entity = env.get(e.array);
        if (!entity) return;
        if (entity.kind !== 'array') diagnostics.error('notAnArray', e.arraySpan, e.array);
        else if (entity.dims.length !== e.indices.length) diagnostics.error('wrongIndexCount', e.span, e.array, entity.dims.length, e.indices.length);
        else checkIndex(e, e.array, entity);
        return;
      }
      case 'element': {
        e.indices.forEach((i) => visit(i));
        const what = e.base.kind === 'call' ? `${e.base.callee}(...)` : e.base.kind === 'derivative' ? show(e.base) : 'the list';
        const before = diagnostics.items.length;
        const info = visitArray(e.base);
        if (!info) {
          if (diagnostics.items.length === before && e.base.kind === 'call') diagnostics.error('notAnArrayResult', e.base.calleeSpan, e.base.callee);
          if (diagnostics.items.length === before && e.base.kind === 'derivative') diagnostics.error('notAnArrayResult', e.base.span, show(e.base));
          // A reduction's value is a number (`sum(i: x[i])[0]`).
          if (diagnostics.items.length === before && e.base.kind === 'reduce') diagnostics.error('notAnArrayResult', e.base.span, `${e.base.op}(…)`);
        } else if (info.dims.length !== e.indices.length) diagnostics.error('wrongIndexCount', e.span, what, info.dims.length, e.indices.length);
        else checkIndex(e, what, info);
        return;
      }
      case 'list':
        visitList(e);
        if (position === 'value') diagnostics.error('arrayValueAsNumber', e.span, 'this list', shapeOf(e)?.type ?? 'an array');
        return;
      case 'reduce': {
        if (!reduceOps.has(e.op)) diagnostics.error('notAReduction', e.opSpan, e.op);
        if (e.binder.range) {
          visit(e.binder.range.from);
          visit(e.binder.range.to);
          checkBounds(e.binder);
        }
        const r = rangeOf(e.binder, e.body);
        withIndex(e.binder, r?.range ?? { from: undefined, to: undefined }, () => inLoop(() => visit(e.body)));
        return;
      }
      case 'call': {
        visitCall(e);
        const result = position === 'value' ? shapeOf(e) : undefined;
        if (result) diagnostics.error('arrayValueAsNumber', e.span, `'${e.callee}(...)'`, result.type);
        return;
      }
      case 'derivative': {
        visitDerivative(e);
        const result = position === 'value' ? shapeOf(e) : undefined;
        if (result) diagnostics.error('arrayValueAsNumber', e.span, `'${show(e)}'`, result.type);
        return;
      }
      case 'unary':
      case 'binary':
      case 'if':
        // Chains are walked without recursing down their left side.
        // (Children pushed as childrenOf lists them, without its array: this runs for every operator.)
        for (const stack: Expr[] = [e]; stack.length > 0; ) {
          const x = stack.pop()!;
          if (x.kind === 'binary') stack.push(x.left, x.right);
          else if (x.kind === 'unary') stack.push(x.operand);
          else if (x.kind === 'if') stack.push(x.condition, x.then, x.else);
          else visit(x);
        }
        return;
      default:
        assertNever(e);
    }
  };

  const visitCall = (e: Extract<Expr, { kind: 'call' }>) => {
    if (e.callee === 'dot' || e.callee === 'norm') {
      const infos = e.args.map((a) => arrayArgument(a, e.callee, e.callee === 'dot' ? (a === e.args[0] ? 'a' : 'b') : 'a', 'vec[n]', 1));
      if (e.callee === 'dot' && infos[0] && infos[1]) unify(e.callee, e.span, [['n', infos[0].dims[0]], ['n', infos[1].dims[0]]]);
      return;
    }
    const callee = functions.get(e.callee);
    if (!callee) {
      e.args.forEach((a) => visit(a));
      return;
    }
    // An array `let` allocates its array: once per call, never once per iteration. A call that
    // returns an array is computed before its statement (visitArray checks that it can be).
    const returnsArray = resultOf(callee.name) !== undefined;
    // (A call that stays a call allocates the callee's arrays in the callee, per call.)
    const staysCall = alwaysStaysCall(callee, functions, policy);
    if (loops > 0 && !returnsArray && !staysCall && definesArrays(callee, functions)) diagnostics.error('arraysInLoop', e.calleeSpan, e.callee);
    // A loop with state inside a reduction would be run (and taped) once per index: not supported.
    // A call returning an array is computed once, before its statement: it may have state.
    // A function of numbers stays a call there instead (src/ir/call-graph.ts), unless every call is inlined.
    if (loops > 0 && !returnsArray && anyReachable(callee, functions, hasStatefulCode) && !staysCallPerIndex(callee, functions, policy)) diagnostics.error('statefulCodeInLoop', e.calleeSpan, e.callee);
    // In a block, the arrays the callee makes are allocated once, before the block: their lengths
    // must be sizes (a range over a number parameter could change from one call to the next).
    if (blocks > 0 && !staysCall) {
      const ranged = firstNumberRangedArray(callee, functions);
      if (ranged) diagnostics.error('arrayLengthInBlock', e.calleeSpan, `${ranged.fn}'s array '${ranged.array}`, ranged.name);
    }
    const bindings: [string, Dim][] = [];
    callee.params.forEach((p, k) => {
      const arg = e.args[k];
      if (!arg) return;
      const expected = parameterDims(p);
      if (!expected) {
        if (shapeOf(arg)) diagnostics.error('numberExpected', arg.span, e.callee, p.name, arg.kind === 'name' ? arg.name : show(arg));
        else visit(arg);
        return;
      }
      const info = arrayArgument(arg, e.callee, p.name, expected.type, expected.dims.length);
      if (!info) return;
      p.type!.sizes.forEach((s, d) => {
        const key = s.kind === 'name' ? s.name : String(s.value);
        // A fixed size in the callee is a binding of its own, which the argument must match.
        if (s.kind === 'number') bindings.push([key, { length: affineConstant(s.value), text: key }]);
        bindings.push([key, info.dims[d]]);
      });
    });
    unify(e.callee, e.span, bindings);
    if (selfCalls && callee === fn) {
      const lengths = new Map<string, Affine | undefined>();
      for (const [size, dim] of bindings) if (!lengths.has(size)) lengths.set(size, dim.length);
      selfCalls.set(e.calleeSpan.start, lengths);
    }
  };

  /**
   * `grad(f, x)(args)`, `jvp(f, x)(args, v)`, `jacobian(f, x)(args)`: the arguments as for a call
   * of f (jvp's direction with x's shape); f has no statements (not yet); grad needs f to return a
   * number, and a Jacobian has at most two dimensions. A derivative that works on arrays is computed before its statement, never per
   * index; inside a block, once per iteration (its arrays made before the blocks, lower.ts). (Names and arity are resolve-names.ts's business.)
   */
  const visitDerivative = (e: Extract<Expr, { kind: 'derivative' }>) => {
    const target = derivativeTarget(e, functions);
    if (!target || e.args.length !== derivativeArity(e.transform, target.fn)) {
      e.args.forEach((a) => visit(a, 'argument'));
      return;
    }
    const { fn: f } = target;
    const x = f.params[target.param];
    const result = resultOf(f.name);
    if (result && e.transform === 'grad') diagnostics.error('derivativeOfArrayFunction', e.of[0].span, f.name, result.type);
    else if (anyReachable(f, functions, hasStatefulCode)) diagnostics.error('derivativeOfStatefulCode', e.of[0].span, e.transform, f.name);
    // Its body is inlined into the nested sweep with every call (a kept call's adjoint cannot be
    // reversed again), so a function reaching a recursive one would never end.
    else if (anyReachable(f, functions, (g) => anyReachable(g, new Map(), () => false, (x) => x.kind === 'call' && x.callee === g.name))) {
      diagnostics.error('derivativeOfRecursion', e.of[0].span, e.transform, f.name);
    } else if (e.transform === 'jacobian' && result && (result.dims.length > 1 || x.type)) {
      const xType = x.type ? `${x.type.kind}[${x.type.sizes.map((s) => (s.kind === 'name' ? s.name : String(s.value))).join(', ')}]` : 'a number';
      if (result.dims.length + (x.type ? x.type.sizes.length : 0) > 2) diagnostics.error('jacobianRank', e.span, f.name, result.type, x.name, xType);
    }
    const usesArrays = result !== undefined || definesArrays(f, functions) || anyReachable(f, functions, (g) => g.params.some((p) => p.type));
    const arrayValued = isArrayDerivative(e, functions);
    // Per index of a reduction or an array definition, a sweep over arrays would allocate per
    // index. In a block it runs once per iteration, its arrays made before the blocks (lower.ts).
    if (loops > 0 && usesArrays && !arrayValued) diagnostics.error('derivativeInLoop', e.span, e.transform, f.name);
    // The arguments, as a call's (shapes, sizes; a call of f inside a loop is checked there too).
    const saved = loops;
    loops = 0;
    const args = e.args.slice(0, f.params.length);
    visitCall({ kind: 'call', callee: f.name, calleeSpan: e.of[0].span, args, span: e.span });
    if (e.transform === 'jvp') {
      // The direction: x's shape, with x's argument's lengths.
      const v = e.args[f.params.length];
      const what = `jvp(${f.name}, ${x.name})`;
      if (!x.type) {
        if (shapeOf(v)) diagnostics.error('numberExpected', v.span, what, 'direction', v.kind === 'name' ? v.name : show(v));
        else visit(v);
      } else {
        const want = shapeOf(args[target.param]);
        const got = arrayArgument(v, what, 'direction', parameterDims(x)!.type, x.type.sizes.length);
        if (want && got && !want.dims.every((d, k) => got.dims[k] && (d.length && got.dims[k].length ? affineEqual(d.length, got.dims[k].length) : d.text === got.dims[k].text))) {
          diagnostics.error('jvpDirectionShape', v.span, x.name, want.type, got.type);
        }
      }
    }
    loops = saved;
  };

  /** An argument that must be an array of the given rank: a name, a list, or a call returning one. */
  const arrayArgument = (arg: Expr, fnName: string, param: string, type: string, rank: number): ArrayInfo | undefined => {
    const info = arg.kind === 'name' || arg.kind === 'list' || arg.kind === 'call' || arg.kind === 'derivative' ? visitArray(arg) : (visit(arg, 'argument'), undefined);
    if (info?.dims.length !== rank) {
      diagnostics.error('arrayExpected', arg.span, fnName, param, type);
      return undefined;
    }
    refusePartlyDefined(arg, info, `'${fnName}'`);
    return info;
  };

  /** An array let defined from a later start where every element would be read: passed or returned. */
  const refusePartlyDefined = (e: Expr, info: ArrayInfo, reader: string) => {
    const dim = info.dims.find((d) => d.from);
    if (dim) diagnostics.error('partlyDefinedArray', e.span, e.kind === 'name' ? e.name : show(e), dim.from!.text, reader);
  };

  /** Each size name of a callee gets one length from the arguments. */
  const unify = (fnName: string, at: Span, bindings: readonly [string, Dim][]) => {
    const seen = new Map<string, Dim>();
    for (const [size, dim] of bindings) {
      const first = seen.get(size);
      if (!first) {
        seen.set(size, dim);
        continue;
      }
      const same = first.length && dim.length ? affineEqual(first.length, dim.length) : first.text === dim.text;
      if (!same) {
        diagnostics.error('sizeMismatch', at, fnName, size, first.text, dim.text);
        return;
      }
    }
  };

  /** The shape `var y: vec[n]` declares: sizes are parameters' sizes or whole numbers. */
  const varType = (name: string, t: NonNullable<Extract<Statement, { kind: 'var' }>['type']>): ArrayInfo | undefined => {
    const expected = t.kind === 'vec' ? 1 : t.kind === 'mat' ? 2 : undefined;
    if (expected === undefined) diagnostics.error('unknownArrayType', t.kindSpan, t.kind);
    else if (t.sizes.length !== expected) diagnostics.error('wrongSizeCount', t.span, t.kind, expected, t.sizes.length);
    let valid = expected !== undefined && t.sizes.length === expected;
    const dims = t.sizes.map((size): Dim => {
      if (size.kind === 'number') {
        if (!(Number.isInteger(size.value) && size.value >= 0)) {
          diagnostics.error('invalidSize', size.span, String(size.value));
          valid = false;
        }
        return { length: affineConstant(size.value), text: String(size.value) };
      }
      if (env.get(size.name)?.kind !== 'size') {
        diagnostics.error('arrayVarSize', size.span, size.name, name);
        valid = false;
      }
      return { length: affineSymbol(sizeSymbol(size.name)), text: size.name };
    });
    return valid ? arrayInfo(dims) : undefined;
  };

  /** `var y: T = e` or `y = e`: e is an array of y's shape (copied), or a number (every element). */
  const assignArray = (name: string, info: ArrayInfo, value: Expr) => {
    if (!isArrayValued(value, shapeOf)) {
      visit(value);
      return;
    }
    const got = visitArray(value);
    if (!got) return;
    const same =
      got.dims.length === info.dims.length &&
      got.dims.every((d, k) => {
        const want = info.dims[k];
        return d.length && want.length ? affineEqual(d.length, want.length) : d.text === want.text;
      });
    if (!same) diagnostics.error('arrayVarShape', value.span, name, info.type, value.kind === 'name' ? `'${value.name}'` : `'${show(value)}'`, got.type);
  };

  /**
   * `y[i] = e` (i fresh: every element, simultaneously) or `y[j] = e` (j defined or computed: one
   * element, checked in range when the program runs); `e` reads y from before the statement.
   */
  const updateElements = (name: string, at: Span, info: ArrayInfo, indices: readonly Expr[], value: Expr) => {
    if (indices.length !== info.dims.length) {
      diagnostics.error('wrongIndexCount', at, name, info.dims.length, indices.length);
      return;
    }
    const fresh = freshIndices(indices, (n) => env.has(n) || constants.has(n));
    indices.forEach((x, k) => fresh[k] === undefined && visit(x));
    const enter = (k: number): void => {
      // (A single element's value, `y[j] = e`, is computed once, as a statement's.)
      if (k === indices.length) return fresh.some((b) => b !== undefined) ? inLoop(() => visit(value)) : visit(value);
      const b = fresh[k];
      if (!b) return enter(k + 1);
      withIndex(b, { from: affineConstant(0), to: info.dims[k].length }, () => enter(k + 1));
    };
    enter(0);
  };

  // Inside a `for`, `while` or `if` block, an array made there is allocated once, before the
  // blocks, and filled again by each iteration: its length may not change from one to the next.
  let blocks = 0;
  // Names whose value may change between iterations: variables, and names declared in blocks.
  const changing = new Set<string>();
  const refuseChangingRange = (s: Extract<Statement, { kind: 'let' }>, b: Binder) => {
    for (const bound of b.range ? [b.range.from, b.range.to] : []) {
      for (const stack: Expr[] = [bound]; stack.length > 0; ) {
        const e = stack.pop()!;
        if (e.kind === 'name' && (changing.has(e.name) || env.get(e.name)?.kind === 'index')) {
          diagnostics.error('arrayLengthInBlock', e.span, s.name, e.name);
          return;
        }
        stack.push(...childrenOf(e));
      }
    }
  };
  const block = (body: readonly Statement[]): ArrayInfo | undefined => {
    const declaredHere: string[] = [];
    for (const s of body) {
      if (blocks > 0 && (s.kind === 'let' || s.kind === 'var')) changing.add(s.name);
      if (s.kind === 'var') changing.add(s.name);
      switch (s.kind) {
        case 'let':
          if (s.indices) {
            if (blocks > 0) for (const b of s.indices) refuseChangingRange(s, b);
            const dims: Dim[] = [];
            const bound: [Binder, AffineRange][] = [];
            for (const b of s.indices) {
              if (b.range) {
                visit(b.range.from);
                visit(b.range.to);
                checkBounds(b);
              }
              const r = rangeOf(b, s.value);
              bound.push([b, r?.range ?? { from: undefined, to: undefined }]);
              const start = b.range && constantValue(b.range.from) !== 0 ? { form: r?.range.from, text: show(b.range.from) } : undefined;
              const inferred = r?.dim ?? { length: r?.range.to, text: b.range ? show(b.range.to) : '?' };
              dims.push(start ? { ...inferred, from: start } : inferred);
            }
            const enter = (k: number): void => (k === bound.length ? inLoop(() => visit(s.value)) : withIndex(bound[k][0], bound[k][1], () => enter(k + 1)));
            enter(0);
            env.set(s.name, arrayInfo(dims));
            hasArrays = true;
          } else {
            visit(s.value);
            env.set(s.name, NUMBER);
          }
          declaredHere.push(s.name);
          break;
        case 'var':
          if (s.type) {
            // An invalid type is reported once: the variable is then unknown here, not a number.
            const info = varType(s.name, s.type);
            if (info) {
              assignArray(s.name, info, s.value);
              env.set(s.name, info);
              hasArrays = true;
            } else env.delete(s.name);
          } else {
            visit(s.value);
            env.set(s.name, NUMBER);
          }
          declaredHere.push(s.name);
          break;
        case 'assign': {
          const entity = env.get(s.name);
          if (entity?.kind === 'array') {
            if (s.indices) updateElements(s.name, s.nameSpan, entity, s.indices, s.value);
            else assignArray(s.name, entity, s.value);
            break;
          }
          s.indices?.forEach((i) => visit(i));
          if (s.indices && entity?.kind === 'number') diagnostics.error('notAnArray', s.nameSpan, s.name);
          if (!s.indices && isArrayValued(s.value, shapeOf)) {
            const what = s.value.kind === 'name' ? `'${s.value.name}'` : `'${show(s.value)}'`;
            diagnostics.error('arrayAssignedToNumber', s.value.span, s.name, what);
          } else visit(s.value);
          break;
        }
        case 'for': {
          const b = s.binder;
          if (b.range) {
            visit(b.range.from);
            visit(b.range.to);
            checkBounds(b);
          }
          const range = b.range ? { from: affineOf(b.range.from, symbol), to: affineOf(b.range.to, symbol) } : { from: undefined, to: undefined };
          blocks++;
          forIndices.add(b.name);
          withIndex(b, range, () => block(s.body));
          forIndices.delete(b.name);
          blocks--;
          break;
        }
        case 'while':
          // (The arrays a condition makes, lists and calls returning arrays, are made again for
          // every test, in the test: lowerLoop.)
          visit(s.condition);
          if (s.limit) visit(s.limit);
          blocks++;
          block(s.body);
          blocks--;
          break;
        case 'if':
          visit(s.condition);
          blocks++;
          block(s.then);
          block(s.else);
          blocks--;
          break;
        case 'return':
          // The function's result may be this array.
          if (isArrayValued(s.value, shapeOf)) {
            const info = visitArray(s.value);
            if (info) refusePartlyDefined(s.value, info, 'the caller of a function returning it');
            return info;
          }
          visit(s.value);
          break;
        default:
          assertNever(s);
      }
    }
    // Names declared in a nested block end with it (the top block's stay: nothing follows them).
    if (blocks > 0) for (const name of declaredHere) env.delete(name);
    return undefined;
  };
  return block(fn.body);
}

/** An array of these dims: `vec[n]`, `mat[m, n]`. */
function arrayInfo(dims: readonly Dim[]): ArrayInfo {
  const kind = dims.length === 1 ? 'vec' : dims.length === 2 ? 'mat' : 'array';
  return { kind: 'array', dims, type: `${kind}[${dims.map((d) => d.text).join(', ')}]` };
}

/** Whether an expression stands for an array: an array's name, a list, a call returning one. */
function isArrayValued(e: Expr, shapeOf: (e: Expr) => ArrayInfo | undefined): boolean {
  return e.kind === 'list' || shapeOf(e) !== undefined;
}

/** The shape of a list literal, or undefined if it is not a vec or a rectangular mat of numbers. */
function listShape(e: Extract<Expr, { kind: 'list' }>): ArrayInfo | undefined {
  const fixed = (n: number): Dim => ({ length: affineConstant(n), text: String(n) });
  if (e.items.every((x) => x.kind !== 'list')) return arrayInfo([fixed(e.items.length)]);
  const rows = e.items.map((x) => (x.kind === 'list' && x.items.every((y) => y.kind !== 'list') ? x.items.length : -1));
  return rows.every((n) => n >= 0 && n === rows[0]) ? arrayInfo([fixed(rows.length), fixed(rows[0])]) : undefined;
}

/** A callee's result dim in the caller's terms: its sizes replaced by the lengths the arguments give them. */
function substitute(d: Dim, bound: ReadonlyMap<string, Dim>): Dim {
  if (!d.length) return { length: undefined, text: '?' };
  let form: Affine | undefined = affineConstant(d.length.get('') ?? 0);
  for (const [symbol, c] of d.length) {
    if (symbol === '') continue;
    const length = bound.get(display(symbol))?.length;
    form = form && length ? affineCombine(form, length, c) : undefined;
  }
  return form ? { length: form, text: printAffine(form, display) } : { length: undefined, text: '?' };
}

/** The names an expression reads. */
function namesIn(e: Expr): string[] {
  const names: string[] = [];
  for (const stack: Expr[] = [e]; stack.length > 0; ) {
    const x = stack.pop()!;
    if (x.kind === 'name') names.push(x.name);
    if (x.kind === 'index') names.push(x.array);
    if (x.kind === 'reduce' && x.binder.range) stack.push(x.binder.range.from, x.binder.range.to);
    stack.push(...childrenOf(x));
  }
  return names;
}

/** Whether a function, or one it calls, has an array `let`, an array `var` or a list (each allocates an array). */
function definesArrays(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): boolean {
  return anyReachable(
    fn,
    functions,
    (f) => allStatements(f.body).some((s) => (s.kind === 'let' && s.indices !== undefined) || (s.kind === 'var' && s.type !== undefined)),
    (e) => e.kind === 'list',
  );
}

interface Use {
  readonly what: string;
  readonly dim: Dim;
  readonly span: Span;
}

/** The direct uses of an index variable (`x[i]`, `g(x)[i]`), each with the length of the dimension it indexes. */
function directUses(name: string, body: Expr, shapeOf: (e: Expr) => ArrayInfo | undefined): Use[] {
  return directIndexUses(name, body).flatMap(({ array, dimension, index }) => {
    const entity = typeof array === 'string' ? shapeOf({ kind: 'name', name: array, span: index.span }) : shapeOf(array);
    if (!entity?.dims[dimension]) return [];
    const label = typeof array === 'string' ? array : array.kind === 'call' ? `${array.callee}(...)` : array.kind === 'derivative' ? show(array) : 'the list';
    const what = entity.dims.length === 1 ? label : `${label}'s dimension ${dimension + 1}`;
    return [{ what, dim: entity.dims[dimension], span: index.span }];
  });
}

/**
 * The value of an expression built from numbers, signs, `+ - * / ^` and built-in constants, or
 * undefined when it involves anything else. `constant` gives a name's value (undefined: not one).
 */
function constantOf(e: Expr, constant: (name: string) => number | undefined): number | undefined {
  switch (e.kind) {
    case 'number':
      return e.value;
    case 'name':
      return constant(e.name);
    case 'unary': {
      const v = e.op === 'not' ? undefined : constantOf(e.operand, constant);
      return v === undefined ? undefined : e.op === '-' ? -v : v;
    }
    case 'binary': {
      const { base, chain } = leftSpine(e);
      let acc = constantOf(base, constant);
      for (const node of chain) {
        const right = acc === undefined ? undefined : constantOf(node.right, constant);
        if (acc === undefined || right === undefined) return undefined;
        if (node.op === '+') acc += right;
        else if (node.op === '-') acc -= right;
        else if (node.op === '*') acc *= right;
        else if (node.op === '/') acc /= right;
        else if (node.op === '^') acc = Math.pow(acc, right);
        else return undefined;
      }
      return acc;
    }
    default:
      return undefined;
  }
}

/**
 * An array let, in a function or one it calls, whose range uses a name that is not a size of an
 * array parameter (a number parameter, a variable): its length may differ between two calls.
 */
function firstNumberRangedArray(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): { fn: string; array: string; name: string } | undefined {
  let found: { fn: string; array: string; name: string } | undefined;
  anyReachable(fn, functions, (f) => {
    const sizes = new Set(f.params.flatMap((p) => p.type?.sizes.flatMap((s) => (s.kind === 'name' ? [s.name] : [])) ?? []));
    for (const s of allStatements(f.body)) {
      if (s.kind !== 'let' || !s.indices) continue;
      for (const b of s.indices) {
        for (const stack: Expr[] = b.range ? [b.range.from, b.range.to] : []; stack.length > 0; ) {
          const e = stack.pop()!;
          if (e.kind === 'name' && !sizes.has(e.name) && !constants.has(e.name)) {
            found = { fn: f.name, array: s.name, name: e.name };
            return true;
          }
          stack.push(...childrenOf(e));
        }
      }
    }
    return false;
  });
  return found;
}
