import type { Span } from '../diagnostics/span.ts';
import { affineCombine, affineConstant, affineOf, affineSymbol, extreme, signOf, type Affine, type AffineRange } from '../check/affine.ts';
import { allStatements, assertNever, childrenOf, derivativeTarget, directIndexUses, freshIndices, isArrayDerivative, returnsArray, leftSpine, printExpr, type BinaryOp, type Binder, type Expr, type FunctionDecl, type ReduceOp, type Statement } from '../syntax/ast.ts';
import { constants, isBuiltin } from './builtins.ts';
import { isTemporary } from '../emit/names.ts';
import { Builder, NameSupply } from './builder.ts';
import { callLayout, resultShapeOf, sizeNamesOf } from './call-graph.ts';
import { isSizeSymbol, sizeOfSymbol } from '../check/check-shapes.ts';
import { constant, declaredIn, forEachInstr, readsOf, variable, type Instr, type IrFunction, type Op, type Operand, type Param, type Reduction, type SizeBinding } from './ir.ts';

/** The IR operation of each binary operator of the language. */
export const binaryOps: Readonly<Record<BinaryOp, Op>> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '^': 'pow',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
  and: 'and',
  or: 'or',
};

/** An array in scope: a vector or matrix parameter (an array of rows) or an array `let` (flat). */
interface ArrayValue {
  readonly kind: 'array';
  readonly ref: string;
  readonly layout: 'flat' | 'rows';
  readonly dims: readonly Operand[];
  /** Each dimension's length as a form over sizes, when it is one (to prove reads in range). */
  readonly forms: readonly (Affine | undefined)[];
  /**
   * An array let whose range does not start at 0 (`let k[i in 2..n]`): where each dimension's
   * defined elements start, and as forms. Reads before the start are checked, and an index
   * variable inferred from it takes its range.
   */
  readonly starts?: { readonly from: readonly Operand[]; readonly forms: readonly (Affine | undefined)[] };
  /**
   * The buffer of an array variable inside a `for`, `while` or `if` block (a loop's state, or
   * a variable declared in the block): statements there update it in place.
   */
  readonly owned?: boolean;
}

type Value = Operand | ArrayValue;
const isArray = (v: Value | undefined): v is ArrayValue => v !== undefined && v.kind === 'array';

/** What lowering one function carries besides its scope. */
interface Context {
  readonly b: Builder;
  readonly functions: ReadonlyMap<string, FunctionDecl>;
  /** The index variables in scope (IR names), with their ranges as forms. */
  readonly ranges: Map<string, AffineRange>;
  /** IR variables holding sizes: array lengths, so never negative. */
  readonly sizes: Set<string>;
  /**
   * Array-valued expressions (lists, calls returning arrays) computed before the statement that
   * contains them, so once per statement rather than once per element; the checker has made
   * sure they do not read the statement's index variables.
   */
  readonly hoisted: Map<Expr, ArrayValue>;
  /**
   * The flat copies of matrix parameters (arrays of rows) that kept calls take, made once at the
   * top of the function (see `flatCopy`), by the matrix's IR name.
   */
  readonly flatCopies: Map<string, ArrayValue>;
  /** How many `for`, `while` and `if` statement blocks are around the code being lowered. */
  blocks: number;
  /** The functions whose calls stay calls (src/ir/call-graph.ts); the others are inlined. */
  readonly kept: ReadonlySet<string>;
  readonly nestedDerivative: NestedDerivative;
}

/**
 * How `grad(f, x)(args)`, `jvp(f, x)(args, v)` and `jacobian(f, x)(args)` in the language become
 * code: given the IR function of f's body built at the call site (x its one differentiated
 * parameter) and what is asked (`how`), the instructions computing it and the operand holding it:
 * ∂f/∂x (nothing asked); ∂f/∂x·v (`direction`: v a variable, a number or an array of x's shape;
 * undefined for a value that does not depend on x: 0); the Jacobian of a vec of `outputs` numbers
 * with respect to a vec x of `inputs` (`columns`: a flat array, row by row). That is AD's work
 * (src/ad/nested.ts, `nestedDerivative`); the pipeline runs syntax → check → ir → ad → emit, so
 * lowering does not import it: whoever lowers passes it in.
 */
export type NestedDerivative = (fn: IrFunction, names: NameSupply, how?: NestedHow) => { readonly instrs: readonly Instr[]; readonly result: Operand | undefined };
export interface NestedHow {
  readonly direction?: Operand;
  readonly columns?: { readonly inputs: Operand; readonly outputs: Operand };
}

/**
 * Lowers a checked function to IR. Calls to other user functions are inlined: their bodies are
 * lowered again with the arguments bound to their parameters (see ARCHITECTURE.md for why).
 * Reductions and array `let`s become loops; the builder computes an operation that does not
 * depend on a loop's index before that loop.
 */
export function lowerFunction(
  fn: FunctionDecl,
  functions: ReadonlyMap<string, FunctionDecl>,
  nestedDerivative: NestedDerivative,
  kept: ReadonlySet<string> = new Set(),
  options: { readonly flatArrays?: boolean } = {},
): { ir: IrFunction; names: NameSupply } {
  const names = new NameSupply();
  const b = new Builder(names, { span: fn.span, statement: fn.span }, true);
  const cx: Context = { b, functions, ranges: new Map(), sizes: new Set(), hoisted: new Map(), flatCopies: new Map(), blocks: 0, kept, nestedDerivative };
  const params: Param[] = fn.params.map((p) => ({ name: names.user(p.name), sourceName: p.name, isConst: p.isConst }));
  const sizeVars = new Map<string, SizeBinding>();
  fn.params.forEach((p, i) => {
    if (!p.type) return;
    const sizes = p.type.sizes.map((s) => {
      if (s.kind === 'number') return s.value;
      let binding = sizeVars.get(s.name);
      if (!binding) {
        binding = { name: names.user(s.name), sourceName: s.name };
        sizeVars.set(s.name, binding);
        cx.sizes.add(binding.name);
      }
      return binding;
    });
    params[i] = { ...params[i], shape: { kind: p.type.kind === 'mat' ? 'mat' : 'vec', sizes } };
  });
  const scope = new Map<string, Value>(fn.params.map((p, i) => [p.name, paramValue(params[i])] as const));
  for (const [sourceName, binding] of sizeVars) scope.set(sourceName, variable(binding.name));
  if (options.flatArrays) {
    // A kept function's form (src/ad/calls.ts): every array parameter is one flat array (a
    // matrix's rows one after the other), its sizes are parameters after the others (passed by
    // the caller, never differentiated), and its shape is its flat length.
    params.forEach((p, i) => {
      if (!p.shape) return;
      const value = scope.get(fn.params[i].name) as ArrayValue;
      const flat: ArrayValue = { ...value, layout: 'flat' };
      scope.set(fn.params[i].name, flat);
      const length = lengthOf(flat.dims, cx);
      const size = length.kind === 'const' ? length.value : { name: length.name, sourceName: `the length of ${p.sourceName}` };
      params[i] = { ...p, shape: { kind: 'vec', sizes: [size] } };
    });
    for (const name of sizeNamesOf(fn)) params.push({ name: sizeVars.get(name)!.name, sourceName: name, isConst: true });
  }
  const value = lowerBody(fn, scope, cx);
  if (!isArray(value)) return { ir: { name: fn.name, params, body: b.current, value, span: fn.span }, names };
  const returned = returnedArray(value, cx);
  const result = value.dims.length === 2 ? { kind: 'mat' as const, rows: value.dims[0] } : { kind: 'vec' as const };
  return { ir: { name: fn.name, params, body: b.current, value: variable(returned), result, span: fn.span }, names };
}

/**
 * The array a function returns, allocated for the caller: an array the function defines itself
 * (an array let, a list, a callee's) is marked `returned` (a new array, never a work array);
 * another (a parameter, a buffer updated in place) is copied into one.
 */
function returnedArray(value: ArrayValue, cx: Context): string {
  const { b } = cx;
  const block = b.current;
  const at = block.findIndex((i) => i.kind === 'array' && i.target === value.ref && !i.rows);
  // (An array variable's buffer updated in place is copied: the reverse sweep of fVjp puts old
  // values back into it.)
  if (at >= 0 && value.layout === 'flat' && !value.owned) {
    block[at] = { ...(block[at] as Extract<Instr, { kind: 'array' }>), returned: true };
    return value.ref;
  }
  const target = b.names.temp();
  let length = value.dims[0];
  for (let k = 1; k < value.dims.length; k++) length = b.op('mul', length, value.dims[k]);
  b.emit({ kind: 'array', target, length, overwritten: true, returned: true, origin: b.origin });
  const indices = value.dims.map(() => b.names.user('i'));
  const level = (k: number): void => {
    const body = b.loopBody(indices[k], () => {
      if (k + 1 < indices.length) return level(k + 1);
      const element = loadElement(value, indices.map(variable), b);
      let offset: Operand = variable(indices[0]);
      for (let d = 1; d < indices.length; d++) offset = b.op('add', b.op('mul', offset, value.dims[d]), variable(indices[d]));
      b.emit({ kind: 'store', array: target, index: offset, expr: { op: 'copy', args: [element] }, accumulate: false, origin: b.origin });
    });
    b.emit({ kind: 'loop', index: indices[k], from: constant(0), to: value.dims[k], descending: false, body, origin: b.origin });
  };
  level(0);
  return target;
}

/** An element of an array at indices known to be in range. */
function loadElement(array: ArrayValue, indices: readonly Operand[], b: Builder): Operand {
  if (array.layout === 'rows') return b.op('load', b.op('row', variable(array.ref), indices[0]), indices[1]);
  let offset = indices[0];
  for (let k = 1; k < indices.length; k++) offset = b.op('add', b.op('mul', offset, array.dims[k]), indices[k]);
  return b.op('load', variable(array.ref), offset);
}

function paramValue(p: Param): Value {
  if (!p.shape) return variable(p.name);
  const dims = p.shape.sizes.map((s) => (typeof s === 'number' ? constant(s) : variable(s.name)));
  const forms = p.shape.sizes.map((s) => (typeof s === 'number' ? affineConstant(s) : affineSymbol(s.name)));
  return { kind: 'array', ref: p.name, layout: p.shape.kind === 'mat' ? 'rows' : 'flat', dims, forms };
}

function lowerBody(fn: FunctionDecl, scope: Map<string, Value>, cx: Context): Value {
  const value = lowerBlock(fn.body, scope, cx);
  if (!value) throw new Error(`internal error: '${fn.name}' reached lowering without a return`);
  return value;
}

/**
 * Lowers statements in order; returns the `return`'s value if the block has one. Variables are in
 * SSA form within straight-line code: an assignment binds the name to the new value in `scope`.
 * Loops and `if` blocks turn the variables they assign into IR `let`s (see lowerFor, lowerIf).
 */
function lowerBlock(body: readonly Statement[], scope: Map<string, Value>, cx: Context): Value | undefined {
  const { b } = cx;
  for (const s of body) {
    b.origin = { span: s.span, statement: s.span };
    switch (s.kind) {
      case 'return': {
        b.origin = { span: s.value.span, statement: s.span };
        const array = arrayValued(s.value, scope, cx) ? lowerArray(s.value, scope, cx) : undefined;
        if (array) return array;
        hoistArrays(s.value, scope, cx);
        return lowerExpr(s.value, scope, cx);
      }
      case 'let':
        b.origin = { span: s.value.span, statement: s.span };
        // Arrays the statement computes (calls returning arrays, lists) come first, once.
        hoistArrays(s.value, scope, cx);
        if (s.indices) {
          scope.set(s.name, lowerArrayLet({ ...s, indices: s.indices }, scope, cx));
        } else if (s.value.kind === 'if') {
          // The conditional's result variable is the user's variable itself.
          const target = b.names.user(s.name);
          lowerIf(s.value, (x) => lowerExpr(x, scope, cx), b, target);
          scope.set(s.name, variable(target));
        } else {
          scope.set(s.name, lowerNamed(s.name, s.value, scope, cx));
        }
        break;
      case 'var':
      case 'assign':
        b.origin = { span: s.value.span, statement: s.span };
        hoistArrays(s.value, scope, cx);
        if (s.kind === 'var' && s.type) {
          scope.set(s.name, lowerArrayAssign(s.name, shapeOfType(s.type, scope, cx), s.value, scope, cx));
        } else if (s.kind === 'assign' && isArray(scope.get(s.name))) {
          const current = scope.get(s.name) as ArrayValue;
          if (cx.blocks > 0 && current.owned) updateInPlace(s.name, current, s.indices, s.value, scope, cx);
          else scope.set(s.name, s.indices ? lowerElementUpdate(s.name, current, s.indices, s.value, scope, cx) : lowerArrayAssign(s.name, current, s.value, scope, cx));
        } else {
          if (s.kind === 'assign' && s.indices) throw new Error('internal error: an element update of a number reached lowering');
          scope.set(s.name, lowerNamed(s.name, s.value, scope, cx));
        }
        break;
      case 'for':
      case 'while':
        lowerLoop(s, scope, cx);
        break;
      case 'if':
        lowerIfStatement(s, scope, cx);
        break;
      default:
        assertNever(s);
    }
  }
  return undefined;
}

/** An array's lengths, as operands and (where they are) forms over sizes. */
type Shape = Pick<ArrayValue, 'dims' | 'forms'>;

/** The shape `var y: vec[n]` declares, its sizes read in this scope (an inlined callee's are its caller's). */
function shapeOfType(type: NonNullable<Extract<Statement, { kind: 'var' }>['type']>, scope: ReadonlyMap<string, Value>, cx: Context): Shape {
  const dims = type.sizes.map((size) => (size.kind === 'number' ? constant(size.value) : (scope.get(size.name) as Operand)));
  const forms = dims.map((d) => (d.kind === 'const' ? affineConstant(d.value) : cx.sizes.has(d.name) ? affineSymbol(d.name) : undefined));
  return { dims, forms };
}

/**
 * A fresh flat array of a shape, filled element by element by nested loops (the last index
 * fastest): an array variable's value after a statement. Each statement that changes an array
 * variable makes a new array (SSA, as for numbers), so the reverse sweep sees array lets only.
 */
function fillArray(name: string, shape: Shape, element: (indices: readonly Operand[]) => Operand, cx: Context, depth?: number): ArrayValue {
  const { b } = cx;
  const target = b.names.user(name);
  const length = lengthOf(shape.dims, cx);
  // At a given depth (an enclosing block, see flatCopy): the array and its outer loop go there.
  if (depth === undefined) allocate(target, length, true, cx);
  else b.emitAt(depth, { kind: 'array', target, length, overwritten: true, origin: b.origin });
  const indices = shape.dims.map(() => b.names.user('i'));
  const level = (k: number, offset: Operand | undefined): void => {
    cx.ranges.set(indices[k], { from: affineConstant(0), to: shape.forms[k] });
    const body = b.loopBody(indices[k], () => {
      const here = offset === undefined ? variable(indices[k]) : b.op('add', b.op('mul', offset, shape.dims[k]), variable(indices[k]));
      if (k + 1 < indices.length) return level(k + 1, here);
      const value = element(indices.map(variable));
      b.emit({ kind: 'store', array: target, index: here, expr: { op: 'copy', args: [value] }, accumulate: false, origin: b.origin });
    });
    cx.ranges.delete(indices[k]);
    b.emitAt(k === 0 && depth !== undefined ? depth : b.depth, { kind: 'loop', index: indices[k], from: constant(0), to: shape.dims[k], descending: false, body, origin: b.origin });
  };
  level(0, undefined);
  return { kind: 'array', ref: target, layout: 'flat', dims: shape.dims, forms: shape.forms, ...(cx.blocks > 0 && depth === undefined && { owned: true }) };
}

/** The number of elements of a flat array of these dimensions (computed where the sizes are). */
function lengthOf(dims: readonly Operand[], cx: Context): Operand {
  return cx.b.outside(() => {
    let length = dims[0];
    for (let k = 1; k < dims.length; k++) length = cx.b.op('mul', length, dims[k]);
    return length;
  });
}

/**
 * Emits an array's allocation. Inside a `for`, `while` or `if` block it goes before every block
 * around (where its length is known): one work array, which each iteration fills again, rather
 * than one per iteration; reads of it stay in the block being built, after it is filled.
 */
function allocate(target: string, length: Operand, overwritten: boolean, cx: Context): void {
  const { b } = cx;
  const instr: Instr = { kind: 'array', target, length, ...(overwritten && { overwritten }), origin: b.origin };
  if (cx.blocks === 0) {
    b.emit(instr);
    return;
  }
  b.emitAt(b.homeOf([length]), instr);
  b.pin(target);
}

/**
 * An update of an array variable's buffer in place, in a block (where a copy per statement would
 * make a loop's every single-element update cost the whole array). `y[j] = e` stores one element
 * (after its value, which reads y from before, and a range check); `y[i] = e`, `M[r, k] = e` and
 * `y = e` first copy y (the statement reads y from before it, for every element) and then write
 * the elements in place. Each store keeps the element's old value for the reverse sweep.
 */
function updateInPlace(name: string, buffer: ArrayValue, indices: readonly Expr[] | undefined, value: Expr, scope: Map<string, Value>, cx: Context): void {
  const { b } = cx;
  if (!indices) {
    if (arrayValued(value, scope, cx)) {
      const source = lowerArray(value, scope, cx);
      overwrite(name, buffer, [], (at, before) => loadElement(source.ref === buffer.ref ? before : source, at, b), cx);
    } else {
      const number = lowerExpr(value, scope, cx);
      overwrite(name, buffer, [], () => number, cx);
    }
    return;
  }
  const fresh = freshIndices(indices, (n) => scope.has(n) || constants.has(n));
  const fixed = fixedIndices(name, buffer, indices, fresh, scope, cx);
  if (fresh.every((binder) => binder === undefined)) {
    // One element: its value first (reading y from before), then the store in place.
    const updated = lowerExpr(value, scope, cx);
    const offset = offsetOf(buffer, fixed as Operand[], b);
    const old = b.op('load', variable(buffer.ref), offset);
    b.emit({ kind: 'store', array: buffer.ref, index: offset, expr: { op: 'copy', args: [updated] }, accumulate: false, old, origin: b.origin });
    return;
  }
  overwrite(name, buffer, fixed, (at, before) => {
    const inner = new Map(scope);
    inner.set(name, before);
    fresh.forEach((binder, k) => binder && inner.set(binder.name, at[k]));
    return lowerExpr(value, inner, cx);
  }, cx);
}

/** The flat offset of an element of a flat array. */
function offsetOf(array: ArrayValue, indices: readonly Operand[], b: Builder): Operand {
  let offset = indices[0];
  for (let k = 1; k < indices.length; k++) offset = b.op('add', b.op('mul', offset, array.dims[k]), indices[k]);
  return offset;
}

/**
 * Writes elements of a buffer in place: those at the `fixed` indices (undefined or missing: every
 * index of that dimension) become element(indices, before), where `before` is a copy of the buffer
 * made first (the old values, which the right-hand side reads and the reverse sweep restores).
 */
function overwrite(
  name: string,
  buffer: ArrayValue,
  fixed: readonly (Operand | undefined)[],
  element: (indices: readonly Operand[], before: ArrayValue) => Operand,
  cx: Context,
): void {
  const { b } = cx;
  const before = fillArray(name, buffer, (at) => loadElement(buffer, at, b), cx);
  const indices = buffer.dims.map((_, k) => (fixed[k] ? undefined : b.names.user('i')));
  const level = (k: number, offset: Operand | undefined): void => {
    if (k === buffer.dims.length) {
      const at = indices.map((i, d) => (i ? variable(i) : fixed[d]!));
      const value = element(at, before);
      const old = b.op('load', variable(before.ref), offset!);
      b.emit({ kind: 'store', array: buffer.ref, index: offset!, expr: { op: 'copy', args: [value] }, accumulate: false, old, origin: b.origin });
      return;
    }
    const here = (i: Operand) => (offset === undefined ? i : b.op('add', b.op('mul', offset, buffer.dims[k]), i));
    const index = indices[k];
    if (!index) return level(k + 1, here(fixed[k]!));
    cx.ranges.set(index, { from: affineConstant(0), to: buffer.forms[k] });
    const body = b.loopBody(index, () => level(k + 1, here(variable(index))));
    cx.ranges.delete(index);
    b.emit({ kind: 'loop', index, from: constant(0), to: buffer.dims[k], descending: false, body, origin: b.origin });
  };
  level(0, undefined);
}

/**
 * `var y: vec[n] = e` or `y = e` for an array variable: a copy of the array e (of y's shape, as
 * the checker proved), or the number e in every element (computed once, before the loops).
 */
function lowerArrayAssign(name: string, shape: Shape, value: Expr, scope: Map<string, Value>, cx: Context): ArrayValue {
  if (arrayValued(value, scope, cx)) {
    const source = lowerArray(value, scope, cx);
    return fillArray(name, shape, (indices) => loadElement(source, indices, cx.b), cx);
  }
  const number = lowerExpr(value, scope, cx);
  return fillArray(name, shape, () => number, cx);
}

/**
 * `y[i] = e` with i fresh: every element at once, i running over y's dimension; `y[j] = e` with j
 * defined or computed: that element (checked in range at run time unless provably in it), the
 * others copied. Both read y from before the statement: the new value is a new array. A fixed
 * index costs a copy of y (a `select` per element), which keeps every array a let for reverse mode.
 */
function lowerElementUpdate(name: string, old: ArrayValue, indices: readonly Expr[], value: Expr, scope: Map<string, Value>, cx: Context): ArrayValue {
  const { b } = cx;
  const fresh = freshIndices(indices, (n) => scope.has(n) || constants.has(n));
  const fixed = fixedIndices(name, old, indices, fresh, scope, cx);
  // One element (no fresh index): its value is computed once, before the copy.
  const once = fresh.some((binder) => binder !== undefined) ? undefined : lowerExpr(value, scope, cx);
  return fillArray(
    name,
    old,
    (at) => {
      const inner = new Map(scope);
      fresh.forEach((binder, k) => binder && inner.set(binder.name, at[k]));
      const updated = once ?? lowerExpr(value, inner, cx);
      let condition: Operand | undefined;
      fixed.forEach((j, k) => {
        if (!j) return;
        const same = b.op('eq', at[k], j);
        condition = condition ? b.op('and', condition, same) : same;
      });
      return condition ? b.op('select', condition, updated, loadElement(old, at, b)) : updated;
    },
    cx,
  );
}

/** The indices of an update that are not fresh, computed and checked in range (unless provably in it). */
function fixedIndices(name: string, array: ArrayValue, indices: readonly Expr[], fresh: readonly (Binder | undefined)[], scope: Map<string, Value>, cx: Context): (Operand | undefined)[] {
  const { b } = cx;
  return indices.map((x, k) => {
    if (fresh[k]) return undefined;
    const at = lowerExpr(x, scope, cx);
    // An array variable is defined from element 0: its updates check only the length.
    if (!provablyInRange(formOf(x, scope, cx), affineConstant(0), array.forms[k], cx)) {
      const text = `${name}[${indices.map(show).join(', ')}]`;
      b.emit({ kind: 'check', index: at, length: array.dims[k], message: indices.length === 1 ? text : `${text} (index ${k + 1})`, origin: b.origin });
    }
    return at;
  });
}

/** The value of a `let`, `var` or assignment, named after the user's variable. */
function lowerNamed(name: string, value: Expr, scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const before = b.current.length;
  const lowered = lowerExpr(value, scope, cx);
  // A constant (3 < 4 included) is used as the constant, so conditions on it fold.
  return lowered.kind === 'const' ? lowered : bindLet(name, lowered, b.current.length > before, b, value.span);
}

/** The number (or, with `arrays`, array) variables of `scope` that statements assign, at any depth (their own `var`s excluded). */
function assignedIn(body: readonly Statement[], scope: ReadonlyMap<string, Value>, arrays = false): string[] {
  const names = new Set<string>();
  for (const s of allStatements(body)) if (s.kind === 'assign' && scope.has(s.name) && isArray(scope.get(s.name)) === arrays) names.add(s.name);
  return [...names];
}

/**
 * The buffers of the array variables a block assigns: each a copy of the variable's array made
 * before the block (a loop's state has a buffer of its own; an `if` inside a block reuses the
 * buffer it already has).
 */
function buffersFor(names: readonly string[], scope: ReadonlyMap<string, Value>, cx: Context, reuse: boolean): { name: string; buffer: ArrayValue }[] {
  return names.map((name) => {
    const current = scope.get(name) as ArrayValue;
    if (reuse && cx.blocks > 0 && current.owned) return { name, buffer: current };
    const copy = fillArray(name, current, (at) => loadElement(current, at, cx.b), cx);
    return { name, buffer: { ...copy, owned: true } };
  });
}

/** At the end of a block: each buffer gets the variable's array, unless it is that buffer already. */
function storeBack(buffers: readonly { name: string; buffer: ArrayValue }[], scope: ReadonlyMap<string, Value>, cx: Context): void {
  for (const { name, buffer } of buffers) {
    const now = scope.get(name) as ArrayValue;
    if (now.ref !== buffer.ref) overwrite(name, buffer, [], (at) => loadElement(now, at, cx.b), cx);
  }
}

/** Lowers a block's statements one block deeper. */
function lowerNested(body: readonly Statement[], scope: Map<string, Value>, cx: Context): void {
  cx.blocks++;
  try {
    lowerBlock(body, scope, cx);
  } finally {
    cx.blocks--;
  }
}

/**
 * `for i in a..b { ... }` and `while cond max N { ... }`: a loop that carries the variables its
 * body assigns. Each gets an IR `let`, declared just before the loop with the current value; the
 * body reads it, computes in SSA form, and its last instructions `set` each one to its new value
 * (through a copy when that value is another carried variable, so the sets do not see each
 * other). After the loop, the variables are those `let`s.
 */
function lowerLoop(s: Extract<Statement, { kind: 'for' | 'while' }>, scope: Map<string, Value>, cx: Context): void {
  const { b } = cx;
  const carriedNames = assignedIn(s.body, scope);
  const origin = b.origin;
  let from: Operand;
  let to: Operand;
  let forms: AffineRange | undefined;
  let indexName: string;
  if (s.kind === 'for') {
    // The range is computed once, before the loop: so are the arrays its bounds make.
    hoistArrays(s.binder.range!.from, scope, cx);
    hoistArrays(s.binder.range!.to, scope, cx);
    const range = rangeOf(s.binder, s.binder.range!.to, scope, cx);
    ({ from, to, forms } = range);
    indexName = s.binder.name;
  } else {
    // `max N` is a count of iterations: rounded up to a whole number, as a range's end is.
    hoistArrays(s.limit!, scope, cx);
    const limit = lowerExpr(s.limit!, scope, cx);
    from = constant(0);
    to = limit.kind === 'const' || formOf(s.limit!, scope, cx) ? limit : b.op('ceil', limit);
    if (to.kind === 'const' && !Number.isInteger(to.value)) to = constant(Math.ceil(to.value));
    indexName = 'iteration';
  }
  const carried = carriedNames.map((name) => {
    const target = b.names.user(name);
    b.emit({ kind: 'let', target, expr: { op: 'copy', args: [scope.get(name) as Operand] }, origin });
    return { name, target };
  });
  // Array state: a buffer of the loop's own, updated in place by the body.
  const buffers = buffersFor(assignedIn(s.body, scope, true), scope, cx, false);
  b.origin = origin;
  const trips = s.kind === 'while' ? b.names.user('trips') : undefined;
  if (trips) b.emit({ kind: 'let', target: trips, expr: { op: 'copy', args: [constant(0)] }, origin });
  const index = b.names.user(indexName);
  const inner = new Map(scope);
  for (const c of carried) inner.set(c.name, variable(c.target));
  for (const { name, buffer } of buffers) inner.set(name, buffer);
  if (s.kind === 'for') inner.set(s.binder.name, variable(index));
  if (forms) cx.ranges.set(index, forms);
  const pinCarried = () => {
    carried.forEach((c) => b.pin(c.target));
    buffers.forEach((c) => b.pin(c.buffer.ref));
  };
  let exit: { body: Instr[]; condition: Operand; trips: string } | undefined;
  if (s.kind === 'while') {
    let condition: Operand = constant(1);
    const exitBody = b.loopBody(index, () => {
      pinCarried();
      b.origin = { span: s.condition.span, statement: s.condition.span };
      // The condition reads the state, so the arrays it makes (lists, calls returning arrays)
      // are made again for every test, once per test, not once per element: each in a work array
      // allocated before the loop (as a block's arrays are) and filled here.
      cx.blocks++;
      try {
        hoistArrays(s.condition, inner, cx);
        condition = lowerExpr(s.condition, inner, cx);
      } finally {
        cx.blocks--;
      }
    });
    exit = { body: exitBody, condition, trips: trips! };
  }
  const body = b.loopBody(index, () => {
    pinCarried();
    if (trips) b.emit({ kind: 'set', target: trips, expr: { op: 'add', args: [variable(index), constant(1)] }, origin });
    lowerNested(s.body, inner, cx);
    b.origin = { span: s.span, statement: s.span };
    storeBack(buffers, inner, cx);
    // The new state: read every value first, then assign.
    const next = carried.map((c) => {
      const value = inner.get(c.name) as Operand;
      if (value.kind === 'var' && value.name !== c.target && carried.some((o) => o.target === value.name)) {
        const copy = b.names.temp();
        b.emit({ kind: 'const', target: copy, expr: { op: 'copy', args: [value] }, origin: b.origin });
        return variable(copy);
      }
      return value;
    });
    carried.forEach((c, k) => {
      if (next[k].kind === 'var' && next[k].name === c.target) return;
      b.emit({ kind: 'set', target: c.target, expr: { op: 'copy', args: [next[k]] }, origin: b.origin });
    });
  });
  if (forms) cx.ranges.delete(index);
  b.origin = origin;
  b.emit({
    kind: 'loop',
    index,
    from,
    to,
    descending: false,
    body,
    carried: carried.map((c) => c.target),
    ...(buffers.length > 0 && { carriedArrays: buffers.map(({ buffer }) => ({ name: buffer.ref, length: lengthOf(buffer.dims, cx) })) }),
    ...(exit && { exit }),
    origin,
  });
  for (const c of carried) {
    b.pin(c.target);
    scope.set(c.name, variable(c.target));
  }
  for (const { name, buffer } of buffers) {
    b.pin(buffer.ref);
    scope.set(name, buffer);
  }
}

/**
 * `if c { ... } else { ... }`: the variables either branch assigns become `let`s declared before
 * the `if` and set at the end of each branch, as an `if` expression's result is. A condition
 * known at compile time keeps only its branch.
 */
function lowerIfStatement(s: Extract<Statement, { kind: 'if' }>, scope: Map<string, Value>, cx: Context): void {
  const { b } = cx;
  const origin = b.origin;
  b.origin = { span: s.condition.span, statement: s.span };
  // The condition is tested once: so are the arrays it makes computed, before it.
  hoistArrays(s.condition, scope, cx);
  const condition = lowerExpr(s.condition, scope, cx);
  b.origin = origin;
  const assigned = assignedIn([...s.then, ...s.else], scope);
  if (condition.kind === 'const') {
    const inner = new Map(scope);
    lowerBlock(condition.value !== 0 ? s.then : s.else, inner, cx);
    for (const name of [...assigned, ...assignedIn([...s.then, ...s.else], scope, true)]) scope.set(name, inner.get(name)!);
    return;
  }
  const merged = assigned.map((name) => ({ name, target: b.names.user(name) }));
  for (const m of merged) b.emit({ kind: 'let', target: m.target, expr: undefined, origin });
  // The array variables either branch assigns: one buffer each, updated in place by the branch taken.
  const buffers = buffersFor(assignedIn([...s.then, ...s.else], scope, true), scope, cx, true);
  b.origin = origin;
  const branch = (statements: readonly Statement[]) =>
    b.block(() => {
      const inner = new Map(scope);
      for (const { name, buffer } of buffers) inner.set(name, buffer);
      lowerNested(statements, inner, cx);
      b.origin = origin;
      storeBack(buffers, inner, cx);
      for (const m of merged) b.emit({ kind: 'set', target: m.target, expr: { op: 'copy', args: [inner.get(m.name) as Operand] }, origin });
    });
  const thenBlock = branch(s.then);
  const elseBlock = branch(s.else);
  b.emit({ kind: 'if', condition, then: thenBlock, else: elseBlock, origin });
  for (const m of merged) scope.set(m.name, variable(m.target));
  for (const { name, buffer } of buffers) scope.set(name, buffer);
}

/**
 * Whether an expression is array-valued: an array's name, a list, or a call of a function whose
 * `return` is one (the checker has made sure it is used where an array may stand).
 */
function arrayValued(e: Expr, scope: ReadonlyMap<string, Value>, cx: Context): boolean {
  if (e.kind === 'name') return isArray(scope.get(e.name));
  if (e.kind === 'list') return true;
  const callee = e.kind === 'call' ? cx.functions.get(e.callee) : undefined;
  if (e.kind === 'derivative') return isArrayDerivative(e, cx.functions);
  return callee !== undefined && returnsArray(callee, cx.functions);
}

/** An array-valued expression's array: a name's, a hoisted one's, or computed here. */
function lowerArray(e: Expr, scope: Map<string, Value>, cx: Context): ArrayValue {
  const hoisted = cx.hoisted.get(e);
  if (hoisted) return hoisted;
  if (e.kind === 'list') return lowerList(e, scope, cx);
  if (e.kind === 'derivative') {
    const gradient = lowerDerivative(e, scope, cx);
    if (!isArray(gradient)) throw new Error(`internal error: ${printExpr(e)} is not an array`);
    return gradient;
  }
  // A call of a kept function returning an array stays a call outside blocks (call-graph.ts).
  const keptCall = e.kind === 'call' && cx.kept.has(e.callee) && cx.blocks === 0;
  const value =
    e.kind === 'name'
      ? scope.get(e.name)
      : e.kind === 'call' && cx.functions.has(e.callee)
        ? keptCall
          ? lowerKeptArrayCall(cx.functions.get(e.callee)!, e.args, scope, cx)
          : inlineCall(cx.functions.get(e.callee)!, e.args, scope, cx)
        : undefined;
  if (!isArray(value)) throw new Error(`internal error: ${printExpr(e)} is not an array`);
  return value;
}

/**
 * Computes the lists and array-returning calls of a statement before it: where an array stands
 * (indexed, or passed to an array parameter) and is not a name. Each is computed once, even when
 * the statement reads it once per element or per iteration of a reduction.
 */
function hoistArrays(e: Expr, scope: Map<string, Value>, cx: Context): void {
  // Every such position, outer ones before the ones nested in them (`[sum(i: r(x)[i])]`)...
  const found: Expr[] = [];
  const hoist = (x: Expr) => {
    if (x.kind !== 'name') found.push(x);
  };
  for (const stack: Expr[] = [e]; stack.length > 0; ) {
    const x = stack.pop()!;
    if (x.kind === 'element') hoist(x.base);
    else if (x.kind === 'call' && (x.callee === 'dot' || x.callee === 'norm')) x.args.forEach(hoist);
    else if (x.kind === 'call' && cx.functions.has(x.callee)) {
      const params = cx.functions.get(x.callee)!.params;
      x.args.forEach((a, k) => params[k]?.type && hoist(a));
    } else if (x.kind === 'derivative') {
      const params = derivativeTarget(x, cx.functions)!.fn.params;
      x.args.forEach((a, k) => params[k]?.type && hoist(a));
      if (isArrayDerivative(x, cx.functions)) hoist(x);
    }
    // (The children pushed in order, as `stack.push(...childrenOf(x))` did, without an array per
    // operator or a spread, which makes an iterator result per element in code not yet optimised.)
    if (x.kind === 'binary') stack.push(x.left, x.right);
    else if (x.kind === 'unary') stack.push(x.operand);
    else if (x.kind !== 'number' && x.kind !== 'name') {
      const children = childrenOf(x);
      for (let k = 0; k < children.length; k++) stack.push(children[k]);
    }
    if (x.kind === 'reduce' && x.binder.range) stack.push(x.binder.range.from, x.binder.range.to);
  }
  // ...computed innermost first, so that an outer one finds the inner ones computed.
  for (const x of found.reverse()) if (!cx.hoisted.has(x)) cx.hoisted.set(x, lowerArray(x, scope, cx));
}

/** `[a, b, c]` (a vec) or `[[a, b], [c, d]]` (a mat, flat by rows): an array filled element by element. */
function lowerList(e: Extract<Expr, { kind: 'list' }>, scope: Map<string, Value>, cx: Context): ArrayValue {
  const { b } = cx;
  const rows = e.items.every((x) => x.kind === 'list') ? (e.items as Extract<Expr, { kind: 'list' }>[]) : undefined;
  const elements = rows ? rows.flatMap((r) => r.items) : e.items;
  const dims = rows ? [rows.length, rows[0].items.length] : [e.items.length];
  const target = b.names.temp();
  allocate(target, constant(elements.length), true, cx);
  elements.forEach((x, k) => {
    const value = lowerExpr(x, scope, cx);
    b.emit({ kind: 'store', array: target, index: constant(k), expr: { op: 'copy', args: [value] }, accumulate: false, origin: b.origin });
  });
  return { kind: 'array', ref: target, layout: 'flat', dims: dims.map(constant), forms: dims.map(affineConstant) };
}

/**
 * A call that stays a call. A callee with array parameters takes each array flat (a matrix of rows
 * is first copied into one flat array) and then the value of each of its sizes, bound from the
 * arguments' lengths as when inlined (the checker has proved the other uses agree): `CallLayout`.
 */
function lowerKeptCall(callee: FunctionDecl, args: readonly Expr[], scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const layout = callLayout(callee);
  if (!layout) return b.call({ fn: callee.name, kind: 'primal' }, args.map((a) => lowerExpr(a, scope, cx)));
  const { operands, sizes } = keptCallArguments(callee, args, scope, cx);
  return b.call({ fn: callee.name, kind: 'primal', layout }, [...operands, ...sizes]);
}

/** A kept call's arguments (arrays flat), the values of the callee's sizes, and those sizes as forms. */
function keptCallArguments(callee: FunctionDecl, args: readonly Expr[], scope: Map<string, Value>, cx: Context): { operands: Operand[]; sizes: Operand[]; forms: (Affine | undefined)[] } {
  const { b } = cx;
  const layout = callLayout(callee);
  const sizes: Operand[] = [];
  const forms: (Affine | undefined)[] = [];
  const operands = callee.params.map((p, k): Operand => {
    if (!p.type || !layout) return lowerExpr(args[k], scope, cx);
    let array = lowerArray(args[k], scope, cx);
    layout.params[k]!.forEach((d, i) => {
      if (typeof d !== 'number' && sizes[d.size] === undefined) {
        sizes[d.size] = array.dims[i];
        forms[d.size] = array.forms[i];
      }
    });
    if (array.layout === 'rows') array = flatCopy(p.name, array, cx);
    return variable(array.ref);
  });
  return { operands, sizes, forms };
}

/**
 * A call that stays a call, of a function returning an array (call-graph.ts keeps it only where
 * its result's lengths are sums of its sizes times numbers, as check-shapes.ts computed them):
 * the caller computes those lengths from the sizes it passes, and the call returns the result
 * flat, a new array (its primal form's).
 */
function lowerKeptArrayCall(callee: FunctionDecl, args: readonly Expr[], scope: Map<string, Value>, cx: Context): ArrayValue {
  const { b } = cx;
  const layout = callLayout(callee);
  const { operands, sizes, forms } = keptCallArguments(callee, args, scope, cx);
  const result = resultShapeOf(cx.functions)(callee.name);
  const names = sizeNamesOf(callee);
  const dims: Operand[] = [];
  const dimForms: (Affine | undefined)[] = [];
  for (const d of result?.dims ?? []) {
    if (!d.length) throw new Error(`internal error: the result of '${callee.name}' has no known length`);
    const c0 = d.length.get('') ?? 0;
    let dim: Operand | undefined = c0 === 0 ? undefined : constant(c0);
    let form: Affine | undefined = affineConstant(c0);
    for (const [symbol, c] of d.length) {
      if (symbol === '') continue;
      const k = isSizeSymbol(symbol) ? names.indexOf(sizeOfSymbol(symbol)) : -1;
      if (k < 0) throw new Error(`internal error: the result of '${callee.name}' has a length in '${symbol}'`);
      const term = c === 1 ? sizes[k] : b.op('mul', constant(c), sizes[k]);
      dim = dim ? b.op('add', dim, term) : term;
      form = form && forms[k] ? affineCombine(form, forms[k]!, c) : undefined;
    }
    dims.push(dim ?? constant(0));
    dimForms.push(form);
  }
  let length = dims[0];
  for (let k = 1; k < dims.length; k++) length = b.op('mul', length, dims[k]);
  const call = b.call({ fn: callee.name, kind: 'primal', ...(layout && { layout }), result: { length } }, [...operands, ...sizes]);
  if (call.kind !== 'var') throw new Error('internal error: a call is not a variable');
  return { kind: 'array', ref: call.name, layout: 'flat', dims, forms: dimForms };
}

/**
 * A matrix parameter (an array of rows) as one flat array, for a kept call's form. A parameter
 * never changes, so the copy is made where the matrix and its sizes are defined (the top of the
 * function), out of every loop, reduction and `if` around the call, and shared by every kept call
 * taking that matrix: once per call of the function, not once per iteration of a reduction calling
 * the kept function (m·n moves per iteration; copying never throws, so leaving a branch only costs
 * one copy when the branch is not taken). Built with `outside`, so no part of it stays in a branch.
 */
function flatCopy(name: string, rows: ArrayValue, cx: Context): ArrayValue {
  const made = cx.flatCopies.get(rows.ref);
  if (made) return made;
  const { b } = cx;
  const depth = b.homeOf([variable(rows.ref), ...rows.dims]);
  const copy = b.outside(() => fillArray(name, rows, (at) => loadElement(rows, at, b), cx, depth));
  if (depth === 0) cx.flatCopies.set(rows.ref, copy);
  return copy;
}

/** A call: the callee's body with its parameters bound to the arguments (arrays by value), and its sizes to theirs. */
function inlineCall(callee: FunctionDecl, args: readonly Expr[], scope: Map<string, Value>, cx: Context): Value {
  const calleeScope = new Map<string, Value>();
  callee.params.forEach((p, i) => {
    const arg = args[i];
    if (!p.type) {
      calleeScope.set(p.name, lowerExpr(arg, scope, cx));
      return;
    }
    const array = lowerArray(arg, scope, cx);
    calleeScope.set(p.name, array);
    p.type.sizes.forEach((s, d) => {
      if (s.kind === 'name' && !calleeScope.has(s.name)) calleeScope.set(s.name, array.dims[d]);
    });
  });
  const saved = cx.b.origin;
  // The callee's own hoisted arrays are its arguments' (a second call of it computes them again):
  // a map of its own, keyed by the callee's expressions.
  const inner: Context = { ...cx, hoisted: new Map() };
  try {
    return lowerBody(callee, calleeScope, inner);
  } finally {
    cx.b.origin = saved;
  }
}

/**
 * `grad(f, x)(args)`, `jvp(f, x)(args, v)`, `jacobian(f, x)(args)`: f's body built here, as a
 * call's is, in a block of its own, as an IR function of x alone (the other arguments are
 * constants to it), whose derivative (src/ad/nested.ts: reverse mode for grad, forward mode along
 * v for jvp) is spliced in. grad's value is ∂f/∂x, a number or an array of x's shape; jvp's is
 * ∂f/∂x·v, of f's value's shape; jacobian's is grad's for f returning a number and jvp's along 1 for
 * a number x. A scalar x is copied into a variable of its own, the parameter differentiated.
 */
function lowerDerivative(e: Extract<Expr, { kind: 'derivative' }>, scope: Map<string, Value>, cx: Context): Value {
  const { b } = cx;
  const { fn: callee, param } = derivativeTarget(e, cx.functions)!;
  const calleeScope = new Map<string, Value>();
  let wrt: Param | undefined;
  let wrtArray: ArrayValue | undefined;
  callee.params.forEach((p, i) => {
    const arg = e.args[i];
    if (!p.type) {
      let value = lowerExpr(arg, scope, cx);
      if (i === param) {
        const name = b.names.user(p.name);
        b.emit({ kind: 'const', target: name, expr: { op: 'copy', args: [value] }, origin: b.origin });
        value = variable(name);
        wrt = { name, sourceName: p.name, isConst: false };
      }
      calleeScope.set(p.name, value);
      return;
    }
    let array = lowerArray(arg, scope, cx);
    // Forward mode reads x's tangent as x is laid out: a matrix of rows along a direction that
    // may be a flat list is first copied flat (as for a kept call), and so is its direction.
    if (i === param && e.transform === 'jvp' && array.layout === 'rows') {
      const rows = array;
      array = fillArray(p.name, rows, (at) => loadElement(rows, at, b), cx);
    }
    calleeScope.set(p.name, array);
    const bound = array;
    p.type.sizes.forEach((s, d) => {
      if (s.kind === 'name' && !calleeScope.has(s.name)) calleeScope.set(s.name, bound.dims[d]);
    });
    if (i !== param) return;
    wrtArray = array;
    // A matrix of rows keeps its rows (its gradient is rows too); a flat array, whatever its
    // dimensions, is differentiated as one vector of all its elements.
    const size = (o: Operand) => (o.kind === 'const' ? o.value : { name: o.name, sourceName: o.name });
    // (Computed where the sizes are: the gradient's adjoint array is made there, before any block.)
    const length = lengthOf(array.dims, cx);
    const shape = array.layout === 'rows' ? { kind: 'mat' as const, sizes: array.dims.map(size) } : { kind: 'vec' as const, sizes: [size(length)] };
    wrt = { name: array.ref, sourceName: p.name, isConst: false, shape };
  });
  // jvp's direction (x's shape: the checker has matched the lengths), in a variable of its own; a
  // jacobian of an array-valued f with respect to a number is its jvp along 1.
  const returnsArrays = returnsArray(callee, cx.functions);
  let direction: Operand | undefined;
  let directionArray: ArrayValue | undefined;
  let columns: NestedHow['columns'];
  if (e.transform === 'jacobian' && returnsArrays && wrtArray) {
    // A vec of m numbers with respect to a vec of n: n columns (lengths known once f's value is built).
  } else if (e.transform === 'jvp' || (e.transform === 'jacobian' && returnsArrays)) {
    if (wrtArray) {
      directionArray = lowerArray(e.args[callee.params.length], scope, cx);
      if (directionArray.layout === 'rows') {
        const rows = directionArray;
        directionArray = fillArray('v', rows, (at) => loadElement(rows, at, b), cx);
      }
      direction = variable(directionArray.ref);
    } else {
      const name = b.names.temp();
      const v = e.transform === 'jvp' ? lowerExpr(e.args[callee.params.length], scope, cx) : constant(1);
      b.emit({ kind: 'const', target: name, expr: { op: 'copy', args: [v] }, origin: b.origin });
      direction = variable(name);
    }
  }
  let lowered: Value | undefined;
  const saved = b.origin;
  // The callee's lists and array calls are its own, not those of another inlining of it.
  // Every call inlined in the nested sweep: the outer sweep reverses it again, and a kept call's
  // adjoint (a JavaScript array of adjoints) has no reverse of its own.
  // Its arrays are made in its body, as at the top level (not before the blocks around): the
  // derivative gives each one its tangent or adjoint array there, and the arrays are moved before
  // the blocks below, with the sweep's own.
  const inner: Context = { ...cx, hoisted: new Map(), kept: new Set(), blocks: 0 };
  const body = b.block(() => {
    lowered = lowerBody(callee, calleeScope, inner);
  });
  b.origin = saved;
  const value: Value = lowered!;
  if (e.transform === 'jacobian' && isArray(value) && wrtArray) columns = { inputs: wrtArray.dims[0], outputs: value.dims[0] };
  if (isArray(value) && !direction && !columns) throw new Error(`internal error: grad of '${callee.name}', which returns an array`);
  const valueOperand = isArray(value) ? variable(value.ref) : value;
  const how: NestedHow | undefined = direction ? { direction } : columns ? { columns } : undefined;
  const { instrs, result } = cx.nestedDerivative({ name: callee.name, params: [wrt!], body, value: valueOperand, span: e.span }, b.names, how);
  // Work arrays the sweep fills before it reads them (a product's partial products) are made once,
  // before the loops and branches around the gradient, with the arithmetic on sizes their lengths
  // need: the caller's reverse sweep gives each an adjoint array there (an array made inside a
  // loop would have none).
  // Inside a block, so are the arrays the sweep accumulates into (the gradient's adjoint array, a
  // jvp's tangent arrays): each is zeroed where it stood, by a loop of its own, so that every
  // iteration starts from 0 and the caller's reverse sweep reverses its elements as an array let's
  // (each element written again by each iteration, its adjoint taken and set to 0 there).
  const zeroed = new Set<Instr>();
  if (cx.blocks > 0) for (const instr of instrs) if (instr.kind === 'array' && !instr.overwritten) zeroed.add(instr);
  const lengths = new Set<string>();
  for (const instr of instrs) if (instr.kind === 'array' && (instr.overwritten || zeroed.has(instr)) && instr.length.kind === 'var') lengths.add(instr.length.name);
  for (let k = instrs.length - 1; k >= 0; k--) {
    const instr = instrs[k];
    if (instr.kind === 'const' && lengths.has(instr.target)) for (const a of instr.expr.args) if (a.kind === 'var') lengths.add(a.name);
  }
  for (const instr of instrs) {
    if (instr.kind === 'array' && zeroed.has(instr)) {
      b.emitAt(b.outside(() => b.depthFor(readsOf(instr))), { ...instr, overwritten: true, note: `${instr.note ?? `the array ${instr.target}`}, zeroed where it is filled` });
      // (Its elements change in the block: reads of them stay in it, as an array let's, allocate.)
      b.pin(instr.target);
      const note = `every iteration of the blocks around starts ${instr.target} from 0`;
      const zeros = (array: string): Instr => {
        const k = b.names.user('k');
        const zero: Instr = { kind: 'store', array, index: variable(k), expr: { op: 'copy', args: [constant(0)] }, accumulate: false, origin: instr.origin };
        return { kind: 'loop', index: k, from: constant(0), to: instr.length, descending: false, body: [zero], origin: instr.origin };
      };
      if (!instr.rows) b.emit({ ...(zeros(instr.target) as Extract<Instr, { kind: 'loop' }>), note });
      else {
        // A matrix of rows (the gradient of a mat parameter): row by row.
        const r = b.names.user('r');
        const row = b.names.temp();
        const body: Instr[] = [{ kind: 'const', target: row, expr: { op: 'row', args: [variable(instr.target), variable(r)] }, origin: instr.origin }, zeros(row)];
        b.emit({ kind: 'loop', index: r, from: constant(0), to: instr.rows, descending: false, body, note, origin: instr.origin });
      }
      continue;
    }
    const movable = (instr.kind === 'array' && instr.overwritten) || (instr.kind === 'const' && lengths.has(instr.target));
    if (movable) b.emitAt(b.outside(() => b.depthFor(readsOf(instr))), instr);
    else b.emit(instr);
    if (movable && instr.kind === 'array' && cx.blocks > 0) b.pin(instr.target);
  }
  if (columns) {
    if (result?.kind !== 'var' || !isArray(value) || !wrtArray) throw new Error('internal error: no Jacobian array');
    const x = wrtArray as ArrayValue;
    return { kind: 'array', ref: result.name, layout: 'flat', dims: [value.dims[0], x.dims[0]], forms: [value.forms[0], x.forms[0]] };
  }
  if (direction) {
    // The tangent of f's value: a number, or an array of the value's shape (zeros where the value
    // does not depend on x).
    if (!isArray(value)) return result ?? constant(0);
    const { layout, dims, forms } = value;
    if (result) return { kind: 'array', ref: (result as Extract<Operand, { kind: 'var' }>).name, layout, dims, forms };
    let length = dims[0];
    for (let k = 1; k < dims.length; k++) length = b.op('mul', length, dims[k]);
    const zeros = b.names.temp();
    allocate(zeros, length, false, cx);
    return { kind: 'array', ref: zeros, layout: 'flat', dims, forms };
  }
  if (!wrtArray) return result ?? constant(0);
  if (result?.kind !== 'var') throw new Error('internal error: no gradient array');
  const { layout, dims, forms } = wrtArray as ArrayValue;
  return { kind: 'array', ref: result.name, layout, dims, forms };
}

type ArrayLet = Extract<Statement, { kind: 'let' }> & { readonly indices: readonly Binder[] };

/** The affine form of an index expression in this scope: sizes and index variables are its symbols. */
function formOf(e: Expr, scope: ReadonlyMap<string, Value>, cx: Context): Affine | undefined {
  return affineOf(e, (name) => {
    const v = scope.get(name);
    if (v === undefined || isArray(v)) return undefined;
    if (v.kind === 'const') return Number.isInteger(v.value) ? affineConstant(v.value) : undefined;
    return cx.sizes.has(v.name) || cx.ranges.has(v.name) ? affineSymbol(v.name) : undefined;
  });
}

/** Whether an index is provably in [start, length) over the ranges of the index variables in it. */
function provablyInRange(form: Affine | undefined, start: Affine | undefined, length: Affine | undefined, cx: Context): boolean {
  if (!form || !start || !length) return false;
  const low = extreme(form, cx.ranges, 'min');
  const high = extreme(form, cx.ranges, 'max');
  if (!low || !high || signOf(affineCombine(low, start, -1)) !== 'nonNegative') return false;
  return signOf(affineCombine(affineCombine(length, high, -1), affineConstant(-1))) === 'nonNegative';
}

const show = (e: Expr) => printExpr(e).replace(/^\((.*)\)$/, '$1');

/**
 * `x[i]`, `A[i, j]`: a load, after a run-time check of each index not provably in range. A checked
 * read stays inside the innermost loop around it: moved before a loop that may not run, its check
 * could throw for a read that never happens.
 */
function lowerIndex(e: Extract<Expr, { kind: 'index' | 'element' }>, scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const array = e.kind === 'index' ? scope.get(e.array) : lowerArray(e.base, scope, cx);
  if (!isArray(array)) throw new Error(`internal error: '${e.kind === 'index' ? e.array : printExpr(e.base)}' is not an array`);
  const indices = e.indices.map((x) => lowerExpr(x, scope, cx));
  let floor = 0;
  e.indices.forEach((x, k) => {
    const start = array.starts?.forms[k] ?? (array.starts ? undefined : affineConstant(0));
    if (provablyInRange(formOf(x, scope, cx), start, array.forms[k], cx)) return;
    floor = b.depth;
    const text = `${e.kind === 'index' ? e.array : show(e.base)}[${e.indices.map(show).join(', ')}]`;
    b.emitAt(b.depth, {
      kind: 'check',
      index: indices[k],
      length: array.dims[k],
      ...(array.starts && { from: array.starts.from[k] }),
      message: e.indices.length === 1 ? text : `${text} (index ${k + 1})`,
      origin: b.origin,
    });
  });
  const at = (op: Op, ...args: Operand[]): Operand => {
    const target = b.names.temp();
    b.emitAt(Math.max(b.depthFor(args), floor), { kind: 'const', target, expr: { op, args }, origin: b.origin });
    return variable(target);
  };
  if (array.layout === 'rows') return at('load', at('row', variable(array.ref), indices[0]), indices[1]);
  let offset = indices[0];
  for (let k = 1; k < indices.length; k++) offset = b.op('add', b.op('mul', offset, array.dims[k]), indices[k]);
  return at('load', variable(array.ref), offset);
}

interface LoweredRange {
  readonly from: Operand;
  readonly to: Operand;
  readonly forms: AffineRange;
}

/** The range of an index variable: as given, or the length of the first dimension it indexes directly. */
function rangeOf(binder: Binder, body: Expr, scope: Map<string, Value>, cx: Context): LoweredRange {
  if (binder.range) {
    // a..b is the whole numbers i with a ≤ i < b: a bound not known to be whole is rounded up, so
    // loops count in whole steps and run backwards over the same indices.
    const whole = (e: Expr, form: Affine | undefined, end: string): Operand => {
      const v = lowerExpr(e, scope, cx);
      const bound = form || (v.kind === 'const' && Number.isInteger(v.value)) ? v : cx.b.op('ceil', v);
      // A bound that is not finite or past 2^53 (1e300, NaN, Infinity) would make a loop that
      // never ends: it is checked before the loop, unless it is a form with small coefficients over
      // sizes (array lengths) and the index variables around (whole numbers below their own
      // bounds, which are checked), or a small constant. (`c in 0..j` inside a loop over j was
      // checked once per j, in GMM's innermost loop nest.)
      const small = (f: Affine) => [...f.values()].every((c) => Math.abs(c) <= 2 ** 32);
      const bounded = (k: string) => k === '' || cx.sizes.has(k) || cx.ranges.has(k);
      const safe = bound.kind === 'const' ? Number.isSafeInteger(bound.value) : form !== undefined && small(form) && [...form.keys()].every(bounded);
      if (!safe) {
        const message = `the ${end} of ${binder.name}'s range`;
        cx.b.emitAt(cx.b.depthFor([bound]), { kind: 'check', index: bound, length: constant(Infinity), bound: true, message, origin: cx.b.origin });
      }
      return bound;
    };
    const forms = { from: formOf(binder.range.from, scope, cx), to: formOf(binder.range.to, scope, cx) };
    return { from: whole(binder.range.from, forms.from, 'start'), to: whole(binder.range.to, forms.to, 'end'), forms };
  }
  // The checker has found that all direct uses agree: the first will do.
  for (const { array, dimension } of directIndexUses(binder.name, body)) {
    const value = typeof array === 'string' ? scope.get(array) : cx.hoisted.get(array);
    // An array let defined from a later start (`let k[i in 2..n]`) gives its own range.
    if (isArray(value)) return { from: value.starts?.from[dimension] ?? constant(0), to: value.dims[dimension], forms: { from: value.starts ? value.starts.forms[dimension] : affineConstant(0), to: value.forms[dimension] } };
  }
  throw new Error(`internal error: no range for '${binder.name}'`);
}

/** A reduction: a loop accumulating one term per index, placed before any loop it does not depend on. */
function lowerReduce(op: ReduceOp, binder: Binder, body: Expr, scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const { from, to, forms } = rangeOf(binder, body, scope, cx);
  const index = b.names.user(binder.name);
  const inner = new Map(scope);
  inner.set(binder.name, variable(index));
  cx.ranges.set(index, forms);
  let value: Operand = constant(0);
  const loopBody = b.loopBody(index, () => {
    value = lowerExpr(body, inner, cx);
  });
  cx.ranges.delete(index);
  return emitReduction(b, op, index, from, to, loopBody, value);
}

function emitReduction(b: Builder, op: ReduceOp, index: string, from: Operand, to: Operand, body: Instr[], value: Operand): Operand {
  const reduction: Reduction = {
    op,
    target: b.names.temp(),
    value,
    ...(op === 'max' || op === 'min' ? { arg: b.names.temp() } : {}),
    ...(op === 'prod' ? { nonzero: b.names.temp(), zeros: b.names.temp() } : {}),
  };
  const loop: Instr = { kind: 'loop', index, from, to, descending: false, body, reduction, origin: b.origin };
  // A loop with a run-time check stays where it is: before a loop that may not run, it could throw
  // for a read that never happens.
  let checked = false;
  forEachInstr(body, (i) => (checked ||= i.kind === 'check'));
  b.emitAt(checked ? b.depth : b.depthFor([from, to, ...outerReads(loop)]), loop);
  return variable(reduction.target);
}

/** The variables a loop reads that are defined outside it. */
function outerReads(loop: Extract<Instr, { kind: 'loop' }>): Operand[] {
  const inside = declaredIn([loop]);
  const reads: Operand[] = [];
  forEachInstr([loop], (i) => {
    for (const r of readsOf(i)) if (r.kind === 'var' && !inside.has(r.name)) reads.push(r);
  });
  return reads;
}

/**
 * `dot(a, b)` is `sum(i: a[i] * b[i])`. `norm(a)` is `s * sqrt(sum(i: (a[i] / s)^2))`, scaled as
 * `hypot` is: s is the power of two at or below max|a[i]| (kept within 2^-1022..2^1023, so an
 * empty or zero vector gives 0), so the squares neither overflow at 1e200 nor underflow at
 * 1e-200, and dividing by s is exact. s comes from `floor`, so no derivative flows through it:
 * the norm does not change with s, and its gradient is (a[i] / s) / sqrt(sum).
 */
function lowerVectorBuiltin(e: Extract<Expr, { kind: 'call' }>, scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const [x, y] = e.args.map((a) => lowerArray(a, scope, cx));
  const reduce = (op: ReduceOp, term: (xi: Operand, index: string) => Operand): Operand => {
    const index = b.names.user('i');
    let value: Operand = constant(0);
    const body = b.loopBody(index, () => {
      value = term(b.op('load', variable(x.ref), variable(index)), index);
    });
    return emitReduction(b, op, index, constant(0), x.dims[0], body, value);
  };
  if (e.callee === 'dot') return reduce('sum', (xi, index) => b.op('mul', xi, b.op('load', variable(y.ref), variable(index))));
  const largest = b.op('abs', reduce('max', (xi) => b.op('abs', xi)));
  const exponent = b.op('min', b.op('max', b.op('floor', b.op('log2', largest)), constant(-1022)), constant(1023));
  const s = b.op('pow', constant(2), exponent);
  const sum = reduce('sum', (xi) => {
    const t = b.op('div', xi, s);
    return b.op('mul', t, t);
  });
  return b.op('mul', s, b.op('sqrt', sum));
}

/**
 * `let z[k, j] = e`: a flat, zero-filled array of the ranges' product, filled by nested loops in
 * index order (the last index varies fastest). The offset is computed before the value, so that
 * the reverse sweep can read the stored value instead of recomputing it.
 */
function lowerArrayLet(s: ArrayLet, scope: Map<string, Value>, cx: Context): ArrayValue {
  const { b } = cx;
  // Inside a block, the ranges are over sizes (the checker made sure): computed before the blocks around.
  const sized = <T>(build: () => T): T => (cx.blocks > 0 ? b.outside(build) : build());
  const ranges = sized(() => s.indices.map((binder) => rangeOf(binder, s.value, scope, cx)));
  // An end below the start leaves the dimension empty (not negative).
  const dims = sized(() => ranges.map((r) => (r.forms.to && signOf(r.forms.to) === 'nonNegative' ? r.to : b.op('max', r.to, constant(0)))));
  const length = lengthOf(dims, cx);
  ranges.forEach((r, k) => {
    if (r.forms.from && signOf(r.forms.from) === 'nonNegative') return;
    // Elements before the start stay 0; a negative start would write outside the array.
    const message = `the start of ${s.indices[k].name}'s range in ${s.name}`;
    b.emit({ kind: 'check', index: r.from, length: constant(Infinity), message, origin: b.origin });
  });
  const target = b.names.user(s.name);
  // Ranges from 0 write every element; a later start leaves the first ones 0.
  const overwritten = ranges.every((r) => r.from.kind === 'const' && r.from.value === 0);
  allocate(target, length, overwritten, cx);
  const inner = new Map(scope);
  const level = (k: number, offset: Operand | undefined): void => {
    const index = b.names.user(s.indices[k].name);
    cx.ranges.set(index, ranges[k].forms);
    inner.set(s.indices[k].name, variable(index));
    const body = b.loopBody(index, () => {
      const here = offset === undefined ? variable(index) : b.op('add', b.op('mul', offset, dims[k]), variable(index));
      if (k + 1 < s.indices.length) return level(k + 1, here);
      const value = lowerExpr(s.value, inner, cx);
      b.emit({ kind: 'store', array: target, index: here, expr: { op: 'copy', args: [value] }, accumulate: false, origin: b.origin });
    });
    cx.ranges.delete(index);
    b.emit({ kind: 'loop', index, from: ranges[k].from, to: ranges[k].to, descending: false, body, origin: b.origin });
  };
  level(0, undefined);
  const starts = overwritten ? undefined : { from: ranges.map((r) => r.from), forms: ranges.map((r) => r.forms.from) };
  return { kind: 'array', ref: target, layout: 'flat', dims, forms: ranges.map((r) => r.forms.to), ...(starts && { starts }) };
}

/**
 * Names a `let`'s value after the user's variable: when the value is the temporary that the
 * `let`'s own expression just made (`emitted`), that instruction is renamed; otherwise (a
 * constant, a parameter, another variable) a copy is made, which copy propagation removes later.
 */
function bindLet(sourceName: string, value: Operand, emitted: boolean, b: Builder, span: Span): Operand {
  const target = b.names.user(sourceName);
  const block = b.current;
  const last = block[block.length - 1];
  if (emitted && value.kind === 'var' && isTemporary(value.name) && last?.kind === 'const' && last.target === value.name) {
    block[block.length - 1] = { ...last, target };
    // Operations reading the renamed value stay where it is (inside a loop body, say).
    b.pin(target);
  } else {
    b.emit({ kind: 'const', target, expr: { op: 'copy', args: [value] }, origin: { ...b.origin, span } });
  }
  return variable(target);
}

function lowerExpr(e: Expr, scope: Map<string, Value>, cx: Context): Operand {
  const { b } = cx;
  const saved = b.origin;
  b.origin = { span: e.span, statement: saved.statement };
  const sub = (x: Expr) => lowerExpr(x, scope, cx);
  try {
    switch (e.kind) {
      case 'number':
        return constant(e.value);
      case 'name': {
        const v = scope.get(e.name);
        if (isArray(v)) throw new Error(`internal error: array '${e.name}' used as a number`);
        return v ?? constant(constants.get(e.name)!);
      }
      case 'index':
      case 'element':
        return lowerIndex(e, scope, cx);
      case 'list':
        throw new Error('internal error: a list used as a number');
      case 'reduce':
        return lowerReduce(e.op, e.binder, e.body, scope, cx);
      case 'unary': {
        const operand = sub(e.operand);
        if (e.op === '+') return operand;
        return b.op(e.op === '-' ? 'neg' : 'not', operand);
      }
      case 'binary': {
        // Chains are lowered from the inside out in a loop: a long sum costs no stack.
        const { base, chain } = leftSpine(e);
        let acc = sub(base);
        for (const node of chain) {
          const right = sub(node.right);
          b.origin = { span: node.span, statement: saved.statement };
          acc = b.op(binaryOps[node.op], acc, right);
        }
        return acc;
      }
      case 'call': {
        if (e.callee === 'dot' || e.callee === 'norm') return lowerVectorBuiltin(e, scope, cx);
        const callee = cx.functions.get(e.callee);
        // A call that stays a call: a number out (src/ad/calls.ts differentiates it).
        if (callee && cx.kept.has(e.callee)) return lowerKeptCall(callee, e.args, scope, cx);
        if (callee) {
          const value = inlineCall(callee, e.args, scope, cx);
          if (isArray(value)) throw new Error(`internal error: '${e.callee}' returns an array, used as a number`);
          return value;
        }
        const args = e.args.map(sub);
        if (e.callee === 'ln') return b.op('log', ...args);
        if (e.callee === 'pow') return b.op('pow', ...args);
        if (isBuiltin(e.callee)) return b.op(e.callee, ...args);
        throw new Error(`internal error: unknown function '${e.callee}'`);
      }
      case 'if':
        return lowerIf(e, sub, b, b.names.temp());
      case 'derivative': {
        const value = lowerDerivative(e, scope, cx);
        if (isArray(value)) throw new Error('internal error: a gradient array used as a number');
        return value;
      }
      default:
        return assertNever(e);
    }
  } finally {
    b.origin = saved;
  }
}

/**
 * `if c then a else b` becomes a declared result, set in each branch: only the branch taken is
 * computed, so a value that is NaN on the other side (log of a negative) never leaks through.
 */
function lowerIf(e: Extract<Expr, { kind: 'if' }>, sub: (x: Expr) => Operand, b: Builder, target: string): Operand {
  const condition = sub(e.condition);
  if (condition.kind === 'const') {
    // Decided at compile time (e.g. after inlining a call with constant arguments).
    const taken = sub(condition.value !== 0 ? e.then : e.else);
    b.emit({ kind: 'let', target, expr: { op: 'copy', args: [taken] }, origin: b.origin });
    return variable(target);
  }
  return b.choose(condition, () => sub(e.then), () => sub(e.else), target);
}
