/**
 * The state of one WebAssembly module while functions are selected into it: its function types,
 * its imports (numbered in order of first use, so the same program gives the same bytes) and the
 * messages of the checks its functions make.
 */
import type { LineMap } from '../../diagnostics/span.ts';
import { op, valueType, type Bytes, type FunctionBody, type FunctionType, type Import, type ValueType } from './encode.ts';
import { isMathRoutine, mathDependencies, mathRoutine, type MathRoutine } from './math.ts';
import { isSimdRoutine, simdDependencies, simdRoutine } from './simd-math.ts';

/**
 * A routine's key: a scalar routine's name (f64 → f64), or `name×2` for its two-lane version
 * (v128 → v128, simd-math.ts), or `name×4` for two vectors at once (v128, v128 → v128, v128).
 */
type RoutineKey = MathRoutine | `${MathRoutine}×2` | `${MathRoutine}×4`;
import type { CheckFailure } from './select.ts';

export class ModuleBuilder {
  readonly types: FunctionType[] = [];
  readonly imports: Import[] = [];
  readonly failures: CheckFailure[] = [];
  private readonly importIndex = new Map<string, number>();
  /** The fdlibm routines (math.ts) the module defines, in order of first use, with their bodies. */
  private readonly routines = new Map<RoutineKey, ReturnType<typeof mathRoutine>>();
  /** Calls to routines, whose function indices are known only once every function is selected. */
  private readonly routineCalls: { code: Bytes; at: number; callee: RoutineKey }[] = [];

  constructor(readonly lines: LineMap) {}

  /** The index of a function type, added on first use. */
  type(params: readonly ValueType[], results: readonly ValueType[]): number {
    const key = `${params.join(',')}:${results.join(',')}`;
    const found = this.types.findIndex((t) => `${t.params.join(',')}:${t.results.join(',')}` === key);
    if (found >= 0) return found;
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  private import(module: string, name: string, params: readonly ValueType[], results: readonly ValueType[]): number {
    const key = `${module}.${name}`;
    let n = this.importIndex.get(key);
    if (n === undefined) {
      n = this.imports.length;
      this.imports.push({ module, name, type: this.type(params, results) });
      this.importIndex.set(key, n);
    }
    return n;
  }

  /** A function of JavaScript's Math (f64 → f64, or two f64 → f64). */
  private mathImport(name: string, arity: number): number {
    return this.import('Math', name, new Array<ValueType>(arity).fill(valueType.f64), [valueType.f64]);
  }

  /**
   * Writes a call of a Math function with its arguments on the stack: exp, log, log1p, expm1,
   * tanh, cosh and sinh are the module's own ports of V8's fdlibm routines (math.ts: the same
   * bits, no crossing into JavaScript); the others are JavaScript's Math functions, imported.
   */
  callMath(code: Bytes, name: string, arity: number): void {
    code.byte(op.call);
    if (arity === 1 && isMathRoutine(name)) {
      this.routine(name);
      this.routineCalls.push({ code, at: code.length, callee: name });
      code.u32Padded(0);
    } else {
      code.u32(this.mathImport(name, arity));
    }
  }

  /** Whether a Math function has a two-lane version (simd-math.ts). */
  hasMath2(name: string): boolean {
    return isSimdRoutine(name);
  }

  /**
   * Writes a call of the two-lane version of a Math function (simd-math.ts) with `vectors` (1 or
   * 2) v128s of arguments on the stack, leaving as many results; false (nothing written) when it
   * has none.
   */
  callMath2(code: Bytes, name: string, vectors: 1 | 2 = 1): boolean {
    if (!isSimdRoutine(name)) return false;
    const key = vectors === 1 ? (`${name}×2` as const) : (`${name}×4` as const);
    this.routine(key);
    code.byte(op.call);
    this.routineCalls.push({ code, at: code.length, callee: key });
    code.u32Padded(0);
    return true;
  }

  private routine(key: RoutineKey): void {
    if (this.routines.has(key)) return;
    const name = key.replace(/×[24]$/, '') as MathRoutine;
    const body = key === name ? mathRoutine(name) : simdRoutine(name as Parameters<typeof simdRoutine>[0], key.endsWith('×4') ? 2 : 1, (bytes) => this.constant(bytes));
    this.routines.set(key, body);
    for (const d of key === name ? mathDependencies[name] : simdDependencies[name as keyof typeof simdDependencies]) this.routine(d);
    for (const c of body.calls) this.routineCalls.push({ code: body.code, at: c.at, callee: c.callee });
  }

  /**
   * The routines' bodies, to follow the compiled functions (the first of them at function index
   * `first`), after every call of one is given its index.
   */
  routineBodies(first: number): FunctionBody[] {
    const order = [...this.routines.keys()];
    for (const c of this.routineCalls) c.code.setU32(c.at, first + order.indexOf(c.callee));
    const v = valueType.v128;
    const typeOf = (key: RoutineKey) => (key.endsWith('×4') ? this.type([v, v], [v, v]) : key.endsWith('×2') ? this.type([v], [v]) : this.type([valueType.f64], [valueType.f64]));
    return order.map((key) => ({ type: typeOf(key), locals: this.routines.get(key)!.locals, code: this.routines.get(key)!.code }));
  }

  /** The v128 constants held in immutable globals, after the heap pointer (global 0). */
  readonly constants: Uint8Array[] = [];
  private readonly constantIndex = new Map<string, number>();

  /** The global holding a v128 constant, added on first use. */
  constant(bytes: Uint8Array): number {
    const key = [...bytes].join(',');
    let n = this.constantIndex.get(key);
    if (n === undefined) {
      n = 1 + this.constants.length;
      this.constants.push(bytes.slice());
      this.constantIndex.set(key, n);
    }
    return n;
  }

  /** One of the glue's functions: `fail(check, index, length, from)` or `outOfMemory()`, both throwing. */
  adcImport(name: 'fail' | 'outOfMemory'): number {
    const f = valueType.f64;
    return name === 'fail' ? this.import('adc', name, [f, f, f, f], []) : this.import('adc', name, [], []);
  }

  /** The number of a check's failure message. */
  checkFailure(failure: CheckFailure): number {
    this.failures.push(failure);
    return this.failures.length - 1;
  }
}
