/**
 * The state of one WebAssembly module while functions are selected into it: its function types,
 * its imports (numbered in order of first use, so the same program gives the same bytes) and the
 * messages of the checks its functions make.
 */
import type { LineMap } from '../../diagnostics/span.ts';
import { valueType, type FunctionType, type Import, type ValueType } from './encode.ts';
import type { CheckFailure } from './select.ts';

export class ModuleBuilder {
  readonly types: FunctionType[] = [];
  readonly imports: Import[] = [];
  readonly failures: CheckFailure[] = [];
  private readonly importIndex = new Map<string, number>();

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
  mathImport(name: string, arity: number): number {
    return this.import('Math', name, new Array<ValueType>(arity).fill(valueType.f64), [valueType.f64]);
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
