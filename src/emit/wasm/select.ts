/**
 * Instruction selection: one IR function (the value or the gradient of a function with array
 * parameters) → one WebAssembly function body. encode.ts writes the bytes; layout.ts says where
 * things live in linear memory; vectorize.ts rewrites the loops that f64x2 SIMD can run.
 *
 * Values keep the JS target's float64 semantics exactly: + - * / neg sqrt abs floor ceil min max
 * are the IEEE operations both targets share (wasm's f64.min/max treat NaN and -0 as Math.min/max
 * do); exp, log, log1p, expm1, tanh, cosh and sinh call the module's ports of V8's own routines
 * (math.ts: the same bits as Math's); every other built-in (sin, pow, atan, …) is a call to the
 * very same `Math` function the JS target calls, imported (ModuleBuilder.callMath decides).
 * Numbers are f64 locals, conditions i32, arrays i32 byte addresses.
 */
import { isBooleanOp, isTwoPassLogsumexp, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from '../../ir/ir.ts';
import { assertNever } from '../../syntax/ast.ts';
import { hasPartialSums } from '../js/partial-sums.ts';
import { Bytes, miscOp, op, simdOp, valueType, type ValueType } from './encode.ts';
import { alignment, heapGlobal, outOfMemoryImport, resultAddress } from './layout.ts';
import type { ModuleBuilder } from './module.ts';
import { splitMathLoop } from './fission.ts';
import { vectorizeLoop } from './vectorize.ts';

/** What a variable holds in the wasm function. */
export type Kind = 'f64' | 'bool' | 'ptr';

/** What one result slot of the result area holds (layout.ts): a number, or an array's address, length and rows. */
export type ResultSlot = { readonly kind: 'number' } | { readonly kind: 'array'; readonly rows: boolean };

/** The failures an index or bound check reports, numbered across the module (the glue's messages). */
export interface CheckFailure {
  readonly where: string;
  readonly kind: 'index' | 'defined' | 'bound';
}

/** Built-ins computed by a wasm instruction with exactly Math's result. */
const nativeUnary: Partial<Record<string, number>> = { sqrt: op.f64_sqrt, abs: op.f64_abs, floor: op.f64_floor, ceil: op.f64_ceil };
const nativeBinary: Partial<Record<string, number>> = { add: op.f64_add, sub: op.f64_sub, mul: op.f64_mul, div: op.f64_div, min: op.f64_min, max: op.f64_max };
const compare: Partial<Record<string, number>> = { lt: op.f64_lt, le: op.f64_le, gt: op.f64_gt, ge: op.f64_ge, eq: op.f64_eq, ne: op.f64_ne };

/** The kind of every variable of a function: conditions and arrays are found by a fixed point over definitions. */
function inferKinds(fn: IrFunction, all: readonly Instr[]): Map<string, Kind> {
  const kinds = new Map<string, Kind>();
  for (const p of fn.params) {
    kinds.set(p.name, p.shape ? 'ptr' : 'f64');
    for (const s of p.shape?.sizes ?? []) if (typeof s !== 'number') kinds.set(s.name, 'f64');
  }
  const ofExpr = (e: Expr): Kind => {
    if (isBooleanOp(e.op)) return 'bool';
    if (e.op === 'row') return 'ptr';
    const from = e.op === 'copy' ? e.args[0] : e.op === 'select' ? e.args[1] : undefined;
    return from?.kind === 'var' ? (kinds.get(from.name) ?? 'f64') : 'f64';
  };
  for (let changed = true; changed; ) {
    changed = false;
    const set = (name: string, kind: Kind) => {
      if (kinds.get(name) !== kind) {
        // A variable once known to be a condition or an array stays one (an uninitialised `let` is f64 until set).
        if (kinds.has(name) && kind === 'f64') return;
        kinds.set(name, kind);
        changed = true;
      }
    };
    forEachInstr(all, (i) => {
      switch (i.kind) {
        case 'array':
          set(i.target, 'ptr');
          break;
        case 'const':
        case 'let':
        case 'set':
        case 'add':
          set(i.target, i.expr ? ofExpr(i.expr) : 'f64');
          break;
        case 'loop': {
          set(i.index, 'f64');
          const r = i.reduction;
          if (r) for (const n of [r.target, r.arg, r.nonzero, r.zeros]) if (n !== undefined) set(n, 'f64');
          if (i.exit) set(i.exit.trips, 'f64');
          break;
        }
        default:
          break;
      }
    });
  }
  return kinds;
}

/**
 * Integer-valued variables: sizes, loop indices, and consts computed from them by + - * (and min,
 * max of small ones), each with a bound on its magnitude (Infinity: unknown). Such a variable gets
 * an i32 twin computed beside its f64 value, which addresses use instead of converting the f64
 * per access. The twin is exact modulo 2^32 (+ - * wrap as a ring), and an address is only formed
 * from an index the IR proved or checked in range (below 2^29 elements in a 4 GB memory), so the
 * twin equals it there. A loop whose bounds are small (below 2^31) counts with its i32 twin.
 * `floor(a / 2^k)` of such an a below 2^31 is one too (unroll-and-jam's number of groups, `floor(n
 * / 4)`: ad/unroll-and-jam.ts), its twin a's shifted right arithmetically, which floors: each
 * quotient's dividend and shift are put in `quotients`. And `a − floor(a / 2^k)·2^k` (the rows
 * left) is below 2^k, not a's bound plus twice the quotient's: the rows computed from it stay
 * small enough for their loops to vectorise (vectorize.ts's bound).
 */
export function integerBounds(fn: IrFunction, all: readonly Instr[], quotients = new Map<string, Quotient>()): Map<string, number> {
  const ints = new Map<string, number>();
  // An array length in a 4 GB memory.
  const sizeBound = 2 ** 29;
  for (const p of fn.params) for (const x of p.shape?.sizes ?? []) if (typeof x !== 'number') ints.set(x.name, sizeBound);
  const bound = (o: Operand): number | undefined => (o.kind === 'const' ? (Number.isSafeInteger(o.value) ? Math.abs(o.value) : undefined) : ints.get(o.name));
  // x / 2^k of an integer x below 2^31 (not itself an integer): its floor is one.
  const halves = new Map<string, Quotient>();
  // floor(a / 2^k)·2^k, by name: a's remainder by 2^k is a minus it.
  const multiples = new Map<string, Quotient>();
  const same = (a: Operand, b: Operand) => (a.kind === 'const' ? b.kind === 'const' && a.value === b.value : b.kind === 'var' && a.name === b.name);
  forEachInstr(all, (i) => {
    if (i.kind === 'loop') {
      const b = Math.max(bound(i.from) ?? Infinity, bound(i.to) ?? Infinity);
      ints.set(i.index, b);
      return;
    }
    if (i.kind !== 'const') return;
    const [x, d] = i.expr.args;
    if (i.expr.op === 'div' && d.kind === 'const' && (bound(x) ?? Infinity) < 2 ** 31) {
      const shift = Math.log2(d.value);
      if (Number.isInteger(shift) && shift >= 1 && shift <= 30) halves.set(i.target, { dividend: x, shift });
      return;
    }
    const half = i.expr.op === 'floor' && x.kind === 'var' ? halves.get(x.name) : undefined;
    if (half) {
      quotients.set(i.target, half);
      ints.set(i.target, Math.ceil(bound(half.dividend)! / 2 ** half.shift));
      return;
    }
    const bs = i.expr.args.map(bound);
    if (bs.some((b) => b === undefined)) return;
    if (i.expr.op === 'mul') {
      const q = x.kind === 'var' ? quotients.get(x.name) : undefined;
      if (q && d.kind === 'const' && d.value === 2 ** q.shift) multiples.set(i.target, q);
    }
    const multiple = i.expr.op === 'sub' && d.kind === 'var' ? multiples.get(d.name) : undefined;
    if (multiple && same(x, multiple.dividend)) {
      ints.set(i.target, 2 ** multiple.shift - 1);
      return;
    }
    const [a, b] = bs as number[];
    switch (i.expr.op) {
      case 'add':
      case 'sub':
        ints.set(i.target, a + b);
        break;
      case 'mul':
        ints.set(i.target, a * b);
        break;
      case 'neg':
      case 'copy':
        ints.set(i.target, a);
        break;
      case 'min':
      case 'max':
        // Not a ring operation: only where both twins are exact.
        if (Math.max(a, b) < 2 ** 31) ints.set(i.target, Math.max(a, b));
        break;
      default:
        break;
    }
  });
  return ints;
}

/** `floor(dividend / 2^shift)` (integerBounds). */
export interface Quotient {
  readonly dividend: Operand;
  readonly shift: number;
}

/** Below this, an integer and its i32 twin are equal (with room for a loop counter's last step). */
export const smallBound = 2 ** 31 - 2;

/** A construct the target does not compile: compile-wasm.ts turns it into a located diagnostic. */
export class Unsupported extends Error {
  constructor(
    readonly what: string,
    readonly instr: Instr | undefined,
  ) {
    super(what);
  }
}

/** The wasm signature of a function compiled from IR: its array params, number params and sizes, then the heap start. */
export interface Signature {
  /** In order: each IR parameter (an array's address or a number), each size variable, the heap's start. */
  readonly params: readonly { readonly name: string; readonly type: ValueType }[];
}

export function signatureOf(fn: IrFunction): Signature {
  const params: { name: string; type: ValueType }[] = fn.params.map((p) => ({ name: p.name, type: p.shape ? valueType.i32 : valueType.f64 }));
  const seen = new Set<string>();
  for (const p of fn.params) {
    for (const s of p.shape?.sizes ?? []) {
      if (typeof s === 'number' || seen.has(s.name)) continue;
      seen.add(s.name);
      params.push({ name: s.name, type: valueType.f64 });
    }
  }
  params.push({ name: '$heap', type: valueType.i32 });
  return { params };
}

/** The body of one function, and the results it writes into the result area. */
export interface SelectedFunction {
  readonly locals: readonly ValueType[];
  readonly code: Bytes;
  readonly results: readonly ResultSlot[];
  /** The loops run as f64x2 vectors (vectorize.ts), for tests. */
  readonly vectorized: readonly Instr[];
}

/**
 * Compiles one IR function. `results` are the operands written into the result area at the end,
 * each a number or an array (written as its address, its length and its row count).
 */
export interface ResultOperand {
  readonly operand: Operand;
  /** An array: its length (the product of these) and, for a matrix, its row count. */
  readonly array?: { readonly length: readonly Operand[]; readonly rows?: Operand };
}

export function selectFunction(fn: IrFunction, instrs: readonly Instr[], results: readonly ResultOperand[], module: ModuleBuilder): SelectedFunction {
  const s = new Selector(fn, instrs, module);
  s.block(instrs);
  const slots: ResultSlot[] = [];
  let address = resultAddress;
  const put = (emit: () => void) => {
    s.code.byte(op.i32_const).s32(address);
    emit();
    s.code.byte(op.f64_store).u32(3).u32(0);
    address += 8;
  };
  for (const r of results) {
    if (!r.array) {
      put(() => s.number(r.operand));
      slots.push({ kind: 'number' });
      continue;
    }
    const { length, rows } = r.array;
    put(() => {
      s.pointer(r.operand);
      s.code.byte(op.f64_convert_i32_u);
    });
    put(() => length.forEach((l, n) => {
      s.number(l);
      if (n > 0) s.code.byte(op.f64_mul);
    }));
    put(() => (rows ? s.number(rows) : s.code.byte(op.f64_const).f64(0)));
    slots.push({ kind: 'array', rows: rows !== undefined });
  }
  s.code.byte(op.end);
  return { locals: s.locals, code: s.code, results: slots, vectorized: s.vectorized };
}

/** The running state of one function's selection. */
export class Selector {
  readonly code = new Bytes();
  /** The locals declared after the parameters. */
  readonly locals: ValueType[] = [];
  /** The loops vectorize.ts took. */
  readonly vectorized: Instr[] = [];
  /** The loops of a gradient's reverse sweep (`fn.reverse`): what they add into numbers are adjoints, never the value. */
  private readonly reverseLoops = new Set<Instr>();
  /** Loops fission.ts made from another, with that original: each sums in its original's order (sumsInLanes). */
  private readonly madeFrom = new Map<Instr, Instr>();
  readonly kinds: Map<string, Kind>;
  private readonly index = new Map<string, number>();
  private readonly paramCount: number;
  /** The i32 twin of each integer-valued variable (integerBounds): loop indices' counters, sizes, offsets. */
  readonly shadows = new Map<string, number>();
  readonly ints: Map<string, number>;
  /** The integers that are a floored quotient by a power of two (integerBounds), twinned by a shift. */
  private readonly quotients = new Map<string, Quotient>();
  /** The row length (in elements) of each matrix: a parameter's second size, or a gradient matrix's length. */
  private readonly rowLength = new Map<string, Operand>();
  /** Arrays defined as a row or a copy of another: for the memory each one lies in (arrayRoot). */
  private readonly arrayOf = new Map<string, string>();
  /** Scratch locals, each used only within one instruction's code: the allocator's end and size, an accumulating store's address. */
  private scratchF64: number | undefined;
  private scratchBytes: number | undefined;
  private scratchI32: number | undefined;

  constructor(
    readonly fn: IrFunction,
    all: readonly Instr[],
    readonly module: ModuleBuilder,
  ) {
    this.kinds = inferKinds(fn, all);
    const forward = new Set<Instr>();
    forEachInstr(fn.body, (i) => {
      if (i.kind === 'loop') forward.add(i);
    });
    forEachInstr(all, (i) => {
      if (i.kind === 'loop' && !forward.has(i)) this.reverseLoops.add(i);
    });
    this.ints = integerBounds(fn, all, this.quotients);
    const sig = signatureOf(fn);
    sig.params.forEach((p, n) => this.index.set(p.name, n));
    this.paramCount = sig.params.length;
    for (const p of fn.params) {
      if (p.shape?.kind !== 'mat') continue;
      const columns = p.shape.sizes[1];
      this.rowLength.set(p.name, typeof columns === 'number' ? { kind: 'const', value: columns } : { kind: 'var', name: columns.name });
    }
    forEachInstr(all, (i) => {
      if (i.kind === 'const' && (i.expr.op === 'row' || i.expr.op === 'copy') && i.expr.args[0].kind === 'var') this.arrayOf.set(i.target, i.expr.args[0].name);
      if (i.kind === 'array' && i.rows) this.rowLength.set(i.target, i.length);
      if ((i.kind === 'const' || i.kind === 'let') && i.expr?.op === 'copy' && i.expr.args[0].kind === 'var') {
        const from = this.rowLength.get(i.expr.args[0].name);
        if (from) this.rowLength.set(i.target, from);
      }
    });
    // The heap starts where the glue says (after the arguments it copied in).
    this.code.byte(op.local_get).u32(this.index.get('$heap')!).byte(op.global_set).u32(heapGlobal);
    // The sizes' i32 twins (array lengths: exact).
    for (const p of sig.params) {
      if (!this.ints.has(p.name)) continue;
      this.get(this.index.get(p.name)!);
      this.code.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_u);
      this.set(this.shadowOf(p.name));
    }
  }

  /**
   * The order of a loop's sums, decided from what every copy of the loop shares (the value
   * function's, fGrad's forward sweep's, and those the JS functions of the same module print:
   * fJvp, fHvp, the fallback), so that every export returns the value's bits, whichever copies
   * vectorise: a `sum` goes in four partial sums exactly where the JS target takes them
   * (hasPartialSums: cheap straight-line bodies, the index only an address; the derivative copies'
   * saving stores and tangents do not change it), else in index order. vectorize.ts keeps this
   * order in its lanes, and partialSums where a copy does not vectorise.
   */
  sumsInLanes(loop: Extract<Instr, { kind: 'loop' }>): boolean {
    return hasPartialSums(this.original(loop));
  }

  /**
   * Whether a loop's additions into numbers declared outside it (`d$b += …`) may be split into
   * lanes: only in the reverse sweep, where they are adjoints (within rounding of the JS target's,
   * and the same in fGrad and fGradInto, one wasm function). Elsewhere they may be the value, and
   * go in index order, as the JS target adds them.
   */
  addsInLanes(loop: Extract<Instr, { kind: 'loop' }>): boolean {
    return this.reverseLoops.has(this.original(loop));
  }

  /** Records that fission.ts made `copy` in place of (part of) `loop`: it keeps `loop`'s order. */
  derived(copy: Instr, loop: Instr): void {
    this.madeFrom.set(copy, this.madeFrom.get(loop) ?? loop);
  }

  private original(loop: Extract<Instr, { kind: 'loop' }>): Extract<Instr, { kind: 'loop' }> {
    return (this.madeFrom.get(loop) as Extract<Instr, { kind: 'loop' }> | undefined) ?? loop;
  }

  /** The array parameter or allocation whose memory an array variable (a row, a copy) lies in. */
  arrayRoot(name: string): string {
    let n = name;
    for (let k = 0; k < 1000 && this.arrayOf.has(n); k++) n = this.arrayOf.get(n)!;
    return n;
  }

  /** A new local of the given type. */
  newLocal(type: ValueType): number {
    this.locals.push(type);
    return this.paramCount + this.locals.length - 1;
  }

  /** The local of a variable, declared on first use. */
  local(name: string): number {
    let n = this.index.get(name);
    if (n === undefined) {
      const kind = this.kinds.get(name) ?? 'f64';
      n = this.newLocal(kind === 'f64' ? valueType.f64 : valueType.i32);
      this.index.set(name, n);
    }
    return n;
  }

  get(n: number): void {
    this.code.byte(op.local_get).u32(n);
  }

  set(n: number): void {
    this.code.byte(op.local_set).u32(n);
  }

  f64const(x: number): void {
    this.code.byte(op.f64_const).f64(x);
  }

  /** Pushes an operand as an f64. */
  number(o: Operand): void {
    if (o.kind === 'const') return this.f64const(o.value);
    const kind = this.kinds.get(o.name) ?? 'f64';
    if (kind === 'ptr') throw new Unsupported(`an array used as a number ('${o.name}')`, undefined);
    this.get(this.local(o.name));
    if (kind === 'bool') this.code.byte(op.f64_convert_i32_u);
  }

  /** Pushes an operand as a condition (i32 0 or 1). */
  condition(o: Operand): void {
    if (o.kind === 'const') {
      this.code.byte(op.i32_const).s32(o.value !== 0 && !Number.isNaN(o.value) ? 1 : 0);
      return;
    }
    const kind = this.kinds.get(o.name) ?? 'f64';
    this.get(this.local(o.name));
    if (kind === 'f64') this.code.byte(op.f64_const).f64(0).byte(op.f64_ne);
  }

  /** Pushes an array operand's address. */
  pointer(o: Operand): void {
    if (o.kind !== 'var' || this.kinds.get(o.name) !== 'ptr') throw new Unsupported('a number used as an array', undefined);
    this.get(this.local(o.name));
  }

  /** Pushes an index operand as an i32 (a loop index through its twin). */
  indexI32(o: Operand): void {
    if (o.kind === 'const') {
      // Proven or checked in range by the IR: a whole number.
      this.code.byte(op.i32_const).s32(o.value | 0);
      return;
    }
    const shadow = this.shadows.get(o.name);
    if (shadow !== undefined) return this.get(shadow);
    this.number(o);
    this.code.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_u);
  }

  /** Pushes a small integer operand (isSmall) as an i32, exactly. */
  smallI32(o: Operand): void {
    if (o.kind === 'const') {
      this.code.byte(op.i32_const).s32(o.value);
      return;
    }
    const shadow = this.shadows.get(o.name);
    if (shadow !== undefined) return this.get(shadow);
    this.number(o);
    this.code.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_s);
  }

  isSmall(o: Operand): boolean {
    return (o.kind === 'const' ? (Number.isSafeInteger(o.value) ? Math.abs(o.value) : Infinity) : (this.ints.get(o.name) ?? Infinity)) < smallBound;
  }

  /** Pushes the byte address of element `index` of array `array`. */
  address(array: Operand, index: Operand): void {
    this.pointer(array);
    if (index.kind === 'const') {
      if (index.value !== 0) this.code.byte(op.i32_const).s32((index.value * 8) | 0).byte(op.i32_add);
      return;
    }
    this.indexI32(index);
    this.code.byte(op.i32_const).s32(3).byte(op.i32_shl).byte(op.i32_add);
  }

  /** Pushes an expression's value; returns its kind. */
  expr(e: Expr): Kind {
    const c = this.code;
    const a = e.args;
    const native1 = nativeUnary[e.op];
    const native2 = nativeBinary[e.op];
    if (native2 !== undefined) {
      this.number(a[0]);
      this.number(a[1]);
      c.byte(native2);
      return 'f64';
    }
    if (native1 !== undefined) {
      this.number(a[0]);
      c.byte(native1);
      return 'f64';
    }
    const cmp = compare[e.op];
    if (cmp !== undefined) {
      const booleans = a.every((o) => o.kind === 'var' && this.kinds.get(o.name) === 'bool');
      if (booleans && (e.op === 'eq' || e.op === 'ne')) {
        this.condition(a[0]);
        this.condition(a[1]);
        c.byte(e.op === 'eq' ? op.i32_eq : op.i32_ne);
      } else {
        this.number(a[0]);
        this.number(a[1]);
        c.byte(cmp);
      }
      return 'bool';
    }
    switch (e.op) {
      case 'neg':
        this.number(a[0]);
        c.byte(op.f64_neg);
        return 'f64';
      case 'and':
      case 'or':
        this.condition(a[0]);
        this.condition(a[1]);
        c.byte(e.op === 'and' ? op.i32_and : op.i32_or);
        return 'bool';
      case 'not':
        this.condition(a[0]);
        c.byte(op.i32_eqz);
        return 'bool';
      case 'copy':
        return this.operand(a[0]);
      case 'select': {
        const kind = this.operandKind(a[1]);
        this.as(a[1], kind);
        this.as(a[2], kind);
        this.condition(a[0]);
        c.byte(op.select);
        return kind;
      }
      case 'load':
        this.address(a[0], a[1]);
        c.byte(op.f64_load).u32(3).u32(0);
        return 'f64';
      case 'row': {
        const columns = a[0].kind === 'var' ? this.rowLength.get(a[0].name) : undefined;
        if (!columns) throw new Unsupported('a row of an array that is not a matrix', undefined);
        this.pointer(a[0]);
        this.indexI32(a[1]);
        this.indexI32(columns);
        c.byte(op.i32_mul).byte(op.i32_const).s32(3).byte(op.i32_shl).byte(op.i32_add);
        return 'ptr';
      }
      case 'pow':
      default: {
        // Every other built-in: the module's port of V8's routine (math.ts) or JavaScript's own Math
        // function, imported; either way the same bits as the JS target's.
        const name = e.op === 'pow' ? 'pow' : e.op;
        for (const o of a) this.number(o);
        this.module.callMath(c, name, a.length);
        return 'f64';
      }
    }
  }

  private operandKind(o: Operand): Kind {
    return o.kind === 'var' ? (this.kinds.get(o.name) ?? 'f64') : 'f64';
  }

  private as(o: Operand, kind: Kind): void {
    if (kind === 'bool') this.condition(o);
    else if (kind === 'ptr') this.pointer(o);
    else this.number(o);
  }

  private operand(o: Operand): Kind {
    const kind = this.operandKind(o);
    this.as(o, kind);
    return kind;
  }

  /** Stores the value on the stack (of kind `from`) into a variable. */
  private assign(target: string, from: Kind): void {
    const to = this.kinds.get(target) ?? 'f64';
    if (from === 'bool' && to === 'f64') this.code.byte(op.f64_convert_i32_u);
    else if (from !== to && !(from === 'bool' && to === 'bool')) throw new Unsupported(`a variable holding both a ${from} and a ${to} ('${target}')`, undefined);
    this.set(this.local(target));
  }

  block(instrs: readonly Instr[]): void {
    for (const i of instrs) {
      try {
        this.instr(i);
      } catch (e) {
        if (e instanceof Unsupported && e.instr === undefined) throw new Unsupported(e.what, i);
        throw e;
      }
    }
  }

  private instr(i: Instr): void {
    const c = this.code;
    switch (i.kind) {
      case 'const':
      case 'let':
      case 'set':
        if (!i.expr) return;
        this.assign(i.target, this.expr(i.expr));
        if (i.kind === 'const' && this.ints.has(i.target)) this.twin(i.target, i.expr);
        return;
      case 'add':
        this.number({ kind: 'var', name: i.target });
        this.expr(i.expr);
        c.byte(op.f64_add);
        this.set(this.local(i.target));
        return;
      case 'if':
        this.condition(i.condition);
        c.byte(op.if).byte(0x40);
        this.block(i.then);
        if (i.else.length > 0) {
          c.byte(op.else);
          this.block(i.else);
        }
        c.byte(op.end);
        return;
      case 'store':
        this.address({ kind: 'var', name: i.array }, i.index);
        if (i.accumulate) {
          // a[i] += v: the address is computed once, read and written (one scratch local serves all).
          const at = (this.scratchI32 ??= this.newLocal(valueType.i32));
          c.byte(op.local_tee).u32(at);
          this.get(at);
          c.byte(op.f64_load).u32(3).u32(0);
          this.expr(i.expr);
          c.byte(op.f64_add);
        } else {
          this.expr(i.expr);
        }
        c.byte(op.f64_store).u32(3).u32(0);
        return;
      case 'array':
        this.allocate(i);
        return;
      case 'check':
        this.check(i);
        return;
      case 'loop': {
        if (i.reduction?.op === 'logsumexp' && isTwoPassLogsumexp(this.original(i))) {
          this.twoPassLogsumexp(i);
          return;
        }
        if (vectorizeLoop(this, i)) {
          this.vectorized.push(i);
          return;
        }
        const split = splitMathLoop(this, i);
        if (split) {
          // A split's work array is dead after it: the heap pointer goes back (an outer loop
          // running the split per iteration allocates it once, not once per iteration).
          const mark = split.scratch ? this.newLocal(valueType.i32) : -1;
          if (split.scratch) c.byte(op.global_get).u32(heapGlobal).byte(op.local_set).u32(mark);
          for (const x of split.instrs) this.instr(x);
          if (split.scratch) c.byte(op.local_get).u32(mark).byte(op.global_set).u32(heapGlobal);
          return;
        }
        if (i.reduction?.op === 'sum' && this.sumsInLanes(i)) {
          this.partialSums(i);
          return;
        }
        this.scalarLoop(i);
        return;
      }
      default:
        assertNever(i);
    }
  }

  /** The i32 twin of an integer-valued const (integerBounds), computed from its operands' twins. */
  private twin(target: string, e: Expr): void {
    const c = this.code;
    const [a, b] = e.args;
    const i32 = (o: Operand) => (o.kind === 'const' ? c.byte(op.i32_const).s32(o.value | 0) : this.indexI32(o));
    switch (e.op) {
      case 'add':
      case 'sub':
      case 'mul':
        i32(a);
        i32(b);
        c.byte(e.op === 'add' ? op.i32_add : e.op === 'sub' ? op.i32_sub : op.i32_mul);
        break;
      case 'neg':
        c.byte(op.i32_const).s32(0);
        i32(a);
        c.byte(op.i32_sub);
        break;
      case 'copy':
        i32(a);
        break;
      case 'floor': {
        // floor(x / 2^k), x's twin exact (below 2^31): an arithmetic shift floors negative x too.
        const q = this.quotients.get(target)!;
        i32(q.dividend);
        c.byte(op.i32_const).s32(q.shift).byte(op.i32_shr_s);
        break;
      }
      case 'min':
      case 'max': {
        i32(a);
        i32(b);
        i32(a);
        i32(b);
        c.byte(e.op === 'min' ? op.i32_lt_s : op.i32_gt_s).byte(op.select);
        break;
      }
      default:
        throw new Error(`internal error: no twin for ${e.op}`);
    }
    this.set(this.shadowOf(target));
  }

  /**
   * A work array from the heap (layout.ts): the heap pointer moves past it (16-byte aligned), the
   * memory grows when it must (an import throws a RangeError when it cannot), and the array is
   * zeroed unless every element is written before it is read.
   */
  private allocate(i: Extract<Instr, { kind: 'array' }>): void {
    const c = this.code;
    const end = (this.scratchF64 ??= this.newLocal(valueType.f64));
    const bytes = (this.scratchBytes ??= this.newLocal(valueType.f64));
    // The size in bytes, computed in f64 so no length can overflow.
    this.number(i.length);
    if (i.rows) {
      this.number(i.rows);
      c.byte(op.f64_mul);
    }
    this.f64const(8);
    c.byte(op.f64_mul);
    c.byte(op.local_tee).u32(bytes);
    // end = heap + ⌈bytes / 16⌉ · 16
    this.f64const(alignment);
    c.byte(op.f64_div).byte(op.f64_ceil);
    this.f64const(alignment);
    c.byte(op.f64_mul);
    c.byte(op.global_get).u32(heapGlobal).byte(op.f64_convert_i32_u).byte(op.f64_add);
    this.set(end);
    // Past the memory's end: grow by the pages missing, or fail.
    this.get(end);
    c.byte(op.memory_size).byte(0).byte(op.f64_convert_i32_u);
    this.f64const(65536);
    c.byte(op.f64_mul).byte(op.f64_gt);
    c.byte(op.if).byte(0x40);
    {
      this.get(end);
      c.byte(op.memory_size).byte(0).byte(op.f64_convert_i32_u);
      this.f64const(65536);
      c.byte(op.f64_mul).byte(op.f64_sub);
      this.f64const(65536);
      c.byte(op.f64_div).byte(op.f64_ceil);
      c.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_u);
      c.byte(op.memory_grow).byte(0);
      c.byte(op.i32_const).s32(-1).byte(op.i32_eq);
      c.byte(op.if).byte(0x40);
      c.byte(op.call).u32(this.module.adcImport(outOfMemoryImport));
      c.byte(op.end);
    }
    c.byte(op.end);
    c.byte(op.global_get).u32(heapGlobal);
    this.set(this.local(i.target));
    this.get(end);
    c.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_u).byte(op.global_set).u32(heapGlobal);
    if (!i.overwritten) {
      this.get(this.local(i.target));
      c.byte(op.i32_const).s32(0);
      this.get(bytes);
      c.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_u);
      c.byte(0xfc).u32(miscOp.memory_fill).byte(0);
    }
  }

  /** An index or bound check: the glue's `$fail` throws the JS target's RangeError, word for word. */
  private check(i: Extract<Instr, { kind: 'check' }>): void {
    const c = this.code;
    // A loop bound that is a whole number by construction (a size, a loop index, or sums and
    // products of them: integerBounds) and within 2^53 cannot fail its check: none is made (GMM's
    // triangular `c in 0..j` checked j once per j before).
    if (i.bound && (i.index.kind === 'const' ? Number.isSafeInteger(i.index.value) : (this.ints.get(i.index.name) ?? Infinity) <= Number.MAX_SAFE_INTEGER)) return;
    const line = this.module.lines.position(i.origin.statement.start).line;
    const where = `${this.fn.name}, line ${line}: ${i.message} is `;
    const id = this.module.checkFailure({ where, kind: i.bound ? 'bound' : i.from ? 'defined' : 'index' });
    // ok = floor(x) == x, and the range: |x| ≤ 2^53 - 1 for a bound, else 0 ≤ x < 2^32 (x >>> 0 === x), x < length (and x ≥ from).
    this.number(i.index);
    c.byte(op.f64_floor);
    this.number(i.index);
    c.byte(op.f64_eq);
    if (i.bound) {
      this.number(i.index);
      c.byte(op.f64_abs);
      this.f64const(Number.MAX_SAFE_INTEGER);
      c.byte(op.f64_le).byte(op.i32_and);
    } else {
      this.number(i.index);
      this.f64const(0);
      c.byte(op.f64_ge).byte(op.i32_and);
      this.number(i.index);
      this.f64const(4294967296);
      c.byte(op.f64_lt).byte(op.i32_and);
      this.number(i.index);
      this.number(i.length);
      c.byte(op.f64_lt).byte(op.i32_and);
      if (i.from) {
        this.number(i.index);
        this.number(i.from);
        c.byte(op.f64_ge).byte(op.i32_and);
      }
    }
    c.byte(op.i32_eqz).byte(op.if).byte(0x40);
    this.f64const(id);
    this.number(i.index);
    this.number(i.length);
    if (i.from) this.number(i.from);
    else this.f64const(0);
    c.byte(op.call).u32(this.module.adcImport('fail'));
    c.byte(op.unreachable).byte(op.end);
  }

  /**
   * A loop run one iteration at a time, as the JS target runs it. With small bounds its i32 twin
   * counts (the f64 index is converted from it where the body reads it as a number); otherwise the
   * f64 index counts, and the twin beside it is only used for addresses. `resume`: the index and
   * its twin are already set (the iterations a vectorised loop left). `step`, if given, is the
   * code after each iteration's body in place of the reduction's (twoPassLogsumexp's passes).
   */
  scalarLoop(i: Extract<Instr, { kind: 'loop' }>, resume = false, step?: () => void): void {
    const c = this.code;
    const r = i.reduction;
    const index = this.local(i.index);
    const shadow = this.shadowOf(i.index);
    const small = this.isSmall(i.from) && this.isSmall(i.to);
    if (!resume) {
      if (!step) this.initReduction(i);
      if (small) {
        if (i.descending) {
          this.smallI32(i.to);
          c.byte(op.i32_const).s32(1).byte(op.i32_sub);
        } else {
          this.smallI32(i.from);
        }
        this.set(shadow);
      } else {
        if (i.descending) {
          this.number(i.to);
          this.f64const(1);
          c.byte(op.f64_sub);
        } else {
          this.number(i.from);
        }
        // The twin is congruent modulo 2^32 at any size (through i64), as the twins of offsets need.
        c.byte(op.local_tee).u32(index);
        c.byte(0xfc).u32(miscOp.i64_trunc_sat_f64_s).byte(op.i32_wrap_i64);
        this.set(shadow);
      }
    }
    c.byte(op.block).byte(0x40).byte(op.loop).byte(0x40);
    // Stop when the index leaves the range.
    if (small) {
      this.get(shadow);
      this.smallI32(i.descending ? i.from : i.to);
      c.byte(i.descending ? op.i32_ge_s : op.i32_lt_s);
      c.byte(op.i32_eqz).byte(op.br_if).u32(1);
      this.get(shadow);
      c.byte(op.f64_convert_i32_s);
      this.set(index);
    } else {
      this.get(index);
      if (i.descending) {
        this.number(i.from);
        c.byte(op.f64_ge);
      } else {
        this.number(i.to);
        c.byte(op.f64_lt);
      }
      c.byte(op.i32_eqz).byte(op.br_if).u32(1);
    }
    if (i.exit) {
      // A while: its condition, from the state at the start of the iteration.
      this.block(i.exit.body);
      this.condition(i.exit.condition);
      c.byte(op.i32_eqz).byte(op.br_if).u32(1);
    }
    this.block(i.body);
    if (step) step();
    else if (r) this.updateReduction(i);
    if (!small) {
      this.get(index);
      this.f64const(1);
      c.byte(i.descending ? op.f64_sub : op.f64_add);
      this.set(index);
    }
    this.get(shadow);
    c.byte(op.i32_const).s32(1).byte(i.descending ? op.i32_sub : op.i32_add);
    this.set(shadow);
    c.byte(op.br).u32(0).byte(op.end).byte(op.end);
    if (!step) this.finishReduction(i);
  }

  /**
   * A sum the JS target takes in four partial sums (sumsInLanes) in a loop that does not
   * vectorise here (a copy whose saving store's address vectorize.ts cannot form, a body with a
   * check, …): the same partial sums, one iteration at a time, so that this copy sums as the
   * others do (src/emit/js/partial-sums.ts's order): iterations from + 4q … from + 4q + 3 into
   * parts 0 to 3; when two or three are left, the next two into parts 0 and 1; the sum is
   * (p0 + p2) + (p1 + p3), and the last iteration, if one is left, is added to it. The body is
   * written four times, plus once for the last iteration.
   */
  private partialSums(i: Extract<Instr, { kind: 'loop' }>): void {
    const c = this.code;
    const r = i.reduction!;
    const index = this.local(i.index);
    const shadow = this.shadowOf(i.index);
    // As scalarLoop: small bounds count with the i32 twin, others with the f64 index.
    const small = this.isSmall(i.from) && this.isSmall(i.to);
    const parts = [0, 1, 2, 3].map(() => this.newLocal(valueType.f64));
    for (const p of parts) {
      this.f64const(0);
      this.set(p);
    }
    // The first iteration of the group.
    const base = this.newLocal(small ? valueType.i32 : valueType.f64);
    if (small) this.smallI32(i.from);
    else this.number(i.from);
    this.set(base);
    const plus = (k: number) => {
      this.get(base);
      if (k === 0) return;
      if (small) c.byte(op.i32_const).s32(k).byte(op.i32_add);
      else {
        this.f64const(k);
        c.byte(op.f64_add);
      }
    };
    // Whether iteration base + k is in the range.
    const inRange = (k: number) => {
      plus(k);
      if (small) {
        this.smallI32(i.to);
        c.byte(op.i32_lt_s);
      } else {
        this.number(i.to);
        c.byte(op.f64_lt);
      }
    };
    // The index and its twin at base + k.
    const at = (k: number) => {
      plus(k);
      if (small) {
        c.byte(op.local_tee).u32(shadow).byte(op.f64_convert_i32_s);
        this.set(index);
      } else {
        c.byte(op.local_tee).u32(index);
        c.byte(0xfc).u32(miscOp.i64_trunc_sat_f64_s).byte(op.i32_wrap_i64);
        this.set(shadow);
      }
    };
    const advance = (k: number) => {
      plus(k);
      this.set(base);
    };
    const iteration = (k: number) => {
      at(k);
      this.block(i.body);
      this.get(parts[k]);
      this.number(r.value);
      c.byte(op.f64_add);
      this.set(parts[k]);
    };
    c.byte(op.block).byte(0x40).byte(op.loop).byte(0x40);
    // Fewer than two left: done.
    inRange(1);
    c.byte(op.i32_eqz).byte(op.br_if).u32(1);
    iteration(0);
    iteration(1);
    // Two or three were left: these two were the last into the parts.
    inRange(3);
    c.byte(op.i32_eqz).byte(op.if).byte(0x40);
    advance(2);
    c.byte(op.br).u32(2).byte(op.end);
    iteration(2);
    iteration(3);
    advance(4);
    c.byte(op.br).u32(0).byte(op.end).byte(op.end);
    this.get(parts[0]);
    this.get(parts[2]);
    c.byte(op.f64_add);
    this.get(parts[1]);
    this.get(parts[3]);
    c.byte(op.f64_add).byte(op.f64_add);
    this.set(this.local(r.target));
    // The last iteration, if one is left, as the scalar loop runs it (adding into the sum).
    at(0);
    this.scalarLoop(i, true);
  }

  /**
   * A logsumexp whose body is cheap to compute twice (isTwoPassLogsumexp), in two passes as the
   * JS target computes it (emit-js.ts's twoPassLogsumexp): the maximum M and its first index,
   * then the sum of exp(term − M) over the other terms that are not ±Infinity; R = M + log1p(sum).
   * The same operations in the same order (exp and log1p the module's ports of V8's), so the same
   * bits as the JS functions of the module (fJvp, fHvp, the fallback). With a tape (the JS
   * target's gradient IR; the wasm target's own asks for none), the second pass also stores each
   * exp(term − M) at offset + index, and scale = 1 / (1 + sum).
   */
  private twoPassLogsumexp(i: Extract<Instr, { kind: 'loop' }>): void {
    const c = this.code;
    const r = i.reduction!;
    const tape = r.tape;
    const exp = tape ? this.newLocal(valueType.f64) : -1;
    const index = this.local(i.index);
    const max = this.state(r.target, 'max');
    const first = this.state(r.target, 'first');
    const sum = this.state(r.target, 'sum');
    this.f64const(-Infinity);
    this.set(max);
    this.f64const(-1);
    this.set(first);
    this.scalarLoop(i, false, () => {
      this.number(r.value);
      this.get(max);
      c.byte(op.f64_gt).byte(op.if).byte(0x40);
      this.number(r.value);
      this.set(max);
      this.get(index);
      this.set(first);
      c.byte(op.end);
    });
    this.f64const(0);
    this.set(sum);
    this.scalarLoop(i, false, () => {
      if (tape) {
        // tape[offset + index] = exp(term − M)
        this.pointer({ kind: 'var', name: tape.array });
        this.indexI32(tape.offset);
        this.get(this.shadowOf(i.index));
        c.byte(op.i32_add).byte(op.i32_const).s32(3).byte(op.i32_shl).byte(op.i32_add);
        this.number(r.value);
        this.get(max);
        c.byte(op.f64_sub);
        this.module.callMath(c, 'exp', 1);
        c.byte(op.local_tee).u32(exp);
        c.byte(op.f64_store).u32(3).u32(0);
      }
      this.get(index);
      this.get(first);
      c.byte(op.f64_ne);
      this.number(r.value);
      this.f64const(-Infinity);
      c.byte(op.f64_ne).byte(op.i32_and);
      this.number(r.value);
      this.f64const(Infinity);
      c.byte(op.f64_ne).byte(op.i32_and);
      c.byte(op.if).byte(0x40);
      this.get(sum);
      if (tape) this.get(exp);
      else {
        this.number(r.value);
        this.get(max);
        c.byte(op.f64_sub);
        this.module.callMath(c, 'exp', 1);
      }
      c.byte(op.f64_add);
      this.set(sum);
      c.byte(op.end);
    });
    this.get(max);
    this.get(sum);
    this.module.callMath(c, 'log1p', 1);
    c.byte(op.f64_add);
    this.set(this.local(r.target));
    if (tape) {
      this.f64const(1);
      this.f64const(1);
      this.get(sum);
      c.byte(op.f64_add).byte(op.f64_div);
      this.set(this.local(tape.scale));
    }
  }

  shadowOf(index: string): number {
    let n = this.shadows.get(index);
    if (n === undefined) {
      n = this.newLocal(valueType.i32);
      this.shadows.set(index, n);
    }
    return n;
  }

  private state(target: string, what: string): number {
    const name = `${target}$${what}`;
    this.kinds.set(name, 'f64');
    return this.local(name);
  }

  initReduction(i: Extract<Instr, { kind: 'loop' }>): void {
    const r = i.reduction;
    if (!r) return;
    const put = (name: string | number, value: number) => {
      this.f64const(value);
      this.set(typeof name === 'number' ? name : this.local(name));
    };
    switch (r.op) {
      case 'sum':
        put(r.target, 0);
        break;
      case 'max':
      case 'min':
        put(r.target, r.op === 'max' ? -Infinity : Infinity);
        put(r.arg!, -1);
        break;
      case 'prod':
        put(r.nonzero!, 1);
        put(r.zeros!, 0);
        break;
      case 'logsumexp':
        put(this.state(r.target, 'max'), -Infinity);
        put(this.state(r.target, 'sum'), 0);
        break;
    }
  }

  private updateReduction(i: Extract<Instr, { kind: 'loop' }>): void {
    const c = this.code;
    const r = i.reduction!;
    const v = () => this.number(r.value);
    switch (r.op) {
      case 'sum': {
        const t = this.local(r.target);
        this.get(t);
        v();
        c.byte(op.f64_add);
        this.set(t);
        return;
      }
      case 'max':
      case 'min': {
        // The first index reaching the extreme; a NaN term makes the result NaN (as the JS target).
        const t = this.local(r.target);
        const arg = this.local(r.arg!);
        v();
        this.get(t);
        c.byte(r.op === 'max' ? op.f64_gt : op.f64_lt);
        this.get(arg);
        this.f64const(0);
        c.byte(op.f64_lt).byte(op.i32_or);
        v();
        v();
        c.byte(op.f64_ne).byte(op.i32_or);
        c.byte(op.if).byte(0x40);
        v();
        this.set(t);
        this.get(this.local(i.index));
        this.set(arg);
        c.byte(op.end);
        return;
      }
      case 'prod': {
        // Zeros are counted, not multiplied in, so the derivative at a zero is exact.
        const zeros = this.local(r.zeros!);
        const nonzero = this.local(r.nonzero!);
        v();
        this.f64const(0);
        c.byte(op.f64_eq).byte(op.if).byte(0x40);
        this.get(zeros);
        this.f64const(1);
        c.byte(op.f64_add);
        this.set(zeros);
        c.byte(op.else);
        this.get(nonzero);
        v();
        c.byte(op.f64_mul);
        this.set(nonzero);
        c.byte(op.end);
        return;
      }
      case 'logsumexp': {
        // As the JS target: the sum of exp(term - max so far), rescaled when the maximum grows.
        const max = this.state(r.target, 'max');
        const sum = this.state(r.target, 'sum');
        v();
        this.get(max);
        c.byte(op.f64_gt).byte(op.if).byte(0x40);
        this.get(sum);
        this.f64const(1);
        c.byte(op.f64_add);
        this.get(max);
        v();
        c.byte(op.f64_sub);
        this.module.callMath(c, 'exp', 1);
        c.byte(op.f64_mul);
        this.set(sum);
        v();
        this.set(max);
        c.byte(op.else);
        v();
        this.f64const(-Infinity);
        c.byte(op.f64_ne);
        v();
        this.f64const(Infinity);
        c.byte(op.f64_ne).byte(op.i32_and);
        c.byte(op.if).byte(0x40);
        this.get(sum);
        v();
        this.get(max);
        c.byte(op.f64_sub);
        this.module.callMath(c, 'exp', 1);
        c.byte(op.f64_add);
        this.set(sum);
        c.byte(op.end);
        c.byte(op.end);
        return;
      }
    }
  }

  finishReduction(i: Extract<Instr, { kind: 'loop' }>): void {
    const c = this.code;
    const r = i.reduction;
    if (r?.op === 'prod') {
      // zeros === 0 ? nonzero : 0 * nonzero
      this.get(this.local(r.nonzero!));
      this.f64const(0);
      this.get(this.local(r.nonzero!));
      c.byte(op.f64_mul);
      this.get(this.local(r.zeros!));
      this.f64const(0);
      c.byte(op.f64_eq).byte(op.select);
      this.set(this.local(r.target));
    }
    if (r?.op === 'logsumexp') {
      this.get(this.state(r.target, 'max'));
      this.get(this.state(r.target, 'sum'));
      this.module.callMath(c, 'log1p', 1);
      c.byte(op.f64_add);
      this.set(this.local(r.target));
    }
  }
}

export { simdOp };
