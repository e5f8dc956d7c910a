/**
 * The WebAssembly target (`--target wasm`), a second emitter over the same IR: the module is the
 * JS target's (emit-js.ts, unchanged: it is every derivative's code and the fallback where
 * WebAssembly cannot run), plus one embedded wasm module holding the value and the gradient of
 * each function with array parameters, and glue functions that the exports f, fGrad and fGradInto
 * choose. Functions without arrays stay JavaScript: V8 already compiles scalar code to the same
 * machine code, and a call into wasm would only add the crossing.
 *
 * select.ts turns IR into instructions (vectorize.ts the loops SIMD can run), encode.ts writes the
 * bytes, layout.ts decides the memory, glue.ts writes the JavaScript around it.
 */
import type { DiagnosticBag } from '../../diagnostics/diagnostic.ts';
import { forEachInstr, resultLength, type IrFunction, type Operand } from '../../ir/ir.ts';
import { emitModule, Section, type EmitFunction, type EmitInput } from '../js/emit-js.ts';
import { gradientIntoName, gradientName, localFunctionName, wasmExportName } from '../names.ts';
import { encodeModule, valueType, type FunctionBody } from './encode.ts';
import { glueFunction, runtimeSection } from './glue.ts';
import { ModuleBuilder } from './module.ts';
import { selectFunction, signatureOf, Unsupported, type ResultOperand, type ResultSlot } from './select.ts';

interface Compiled {
  readonly fn: IrFunction;
  readonly local: string;
  readonly exported: string;
  readonly variant: 'value' | 'gradient' | 'into';
  readonly wasmName: string;
  readonly slots: readonly ResultSlot[];
}


/** The sections of a module for the wasm target; a construct it cannot compile is a diagnostic (AD5042). */
export function emitWasmModule(input: EmitInput, diagnostics: DiagnosticBag): Section[] {
  const builder = new ModuleBuilder(input.lines);
  const bodies: FunctionBody[] = [];
  const compiled: Compiled[] = [];
  const replaced = new Set<string>();
  let resultSlots = 1;

  /** Functions left in JavaScript because they call a function kept as a call (src/ir/call-graph.ts). */
  const callers = new Set<string>();
  const select = (fn: IrFunction, gradient: boolean): { wasmName: string; slots: readonly ResultSlot[] } | undefined => {
    const instrs = [...fn.body, ...(gradient ? (fn.reverse ?? []) : [])];
    // A kept call's forms are JavaScript functions, and its gradient returns a JavaScript array: a
    // function calling one stays JavaScript (said in a comment), rather than being refused.
    let calls = false;
    forEachInstr(instrs, (i) => {
      if ('expr' in i && i.expr?.op === 'call') calls = true;
    });
    if (calls) {
      callers.add(fn.name);
      return undefined;
    }
    try {
      const results: ResultOperand[] = [];
      if (fn.result) {
        results.push({ operand: fn.value, array: { length: [resultLength(fn.body, (fn.value as { name: string }).name)], ...(fn.result.rows && { rows: fn.result.rows }) } });
      } else {
        results.push({ operand: fn.value });
      }
      for (const g of gradient ? (fn.gradient ?? []) : []) {
        if (!g.param.shape) {
          results.push({ operand: g.adjoint });
          continue;
        }
        if (g.adjoint.kind !== 'var') throw new Unsupported('an array gradient that is a constant', undefined);
        // Its shape is the parameter's: sizes the wasm function takes as parameters.
        const sizes = g.param.shape.sizes.map((x): Operand => (typeof x === 'number' ? { kind: 'const', value: x } : { kind: 'var', name: x.name }));
        results.push({ operand: g.adjoint, array: { length: sizes, ...(g.param.shape.kind === 'mat' && { rows: sizes[0] }) } });
      }
      const selected = selectFunction(fn, instrs, results, builder);
      // V8 refuses a function past 50,000 locals or 7,654,321 bytes of code (the JS API's limits).
      if (selected.locals.length + signatureOf(fn).params.length > 50_000) throw new Unsupported('a function with more than 50,000 variables', undefined);
      if (selected.code.length > 7_000_000) throw new Unsupported('a function this large (over 7 MB of WebAssembly)', undefined);
      const sig = signatureOf(fn);
      const type = builder.type(sig.params.map((p) => p.type), []);
      bodies.push({ type, locals: selected.locals, code: selected.code });
      resultSlots = Math.max(resultSlots, selected.results.reduce((n, r) => n + (r.kind === 'number' ? 1 : 3), 0));
      return { wasmName: `f${bodies.length - 1}`, slots: selected.results };
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      diagnostics.error('wasmUnsupported', e.instr?.origin.span ?? fn.span, fn.name, e.what);
      return undefined;
    }
  };

  /** Functions with array parameters: each is planned here, in every compile (see `emitted` below). */
  const planned = new Set<string>();
  const plan = (item: EmitFunction) => {
    const { value, gradient } = item;
    if (!value.params.some((p) => p.shape)) return;
    planned.add(value.name);
    const local = localFunctionName(value.name);
    const v = select(value, false);
    if (v) {
      compiled.push({ fn: value, local, exported: value.name, variant: 'value', ...v });
      replaced.add(local);
    }
    if (!gradient) return;
    const g = select(gradient, true);
    if (!g) return;
    const gradLocal = localFunctionName(gradientName(value.name));
    compiled.push({ fn: gradient, local: gradLocal, exported: gradientName(value.name), variant: 'gradient', ...g });
    compiled.push({ fn: gradient, local: gradientIntoName(value.name), exported: gradientIntoName(value.name), variant: 'into', ...g });
    replaced.add(gradLocal);
    replaced.add(gradientIntoName(value.name));
  };

  // A function the compile cache reuses (watch mode, the plugins) comes as its sections only, with
  // no IR to select: it must be one the plan does not take. So a planned function is never offered
  // to the cache (its wasm code and glue live outside its sections, in the module's appendix), and
  // only functions without array parameters can come back reused.
  const functions = (function* () {
    for (const item of input.functions) {
      if (!('reuse' in item)) plan(item);
      yield item;
    }
  })();
  const emitted = input.emitted && ((made: Parameters<NonNullable<EmitInput['emitted']>>[0], reusable: boolean) => input.emitted!(made, reusable && !planned.has(made.name)));

  const appendix = (): Section[] => {
    const note = new Section();
    for (const name of callers) note.push(`// (--target wasm: ${name} stays JavaScript: it calls a function compiled once and called, whose forms are JavaScript.)`);
    if (compiled.length === 0) return callers.size > 0 ? [note] : [];
    const exports = bodies.map((_, n) => ({ name: `f${n}`, kind: 'function' as const, index: builder.imports.length + n }));
    // exp, log, tanh, … (math.ts) follow the compiled functions.
    const routines = builder.routineBodies(builder.imports.length + bodies.length);
    const bytes = encodeModule({
      types: builder.types,
      imports: builder.imports,
      functions: [...bodies, ...routines],
      globals: [0],
      constants: builder.constants,
      memoryPages: 1,
      exports: [...exports, { name: 'memory', kind: 'memory', index: 0 }],
    });
    return [...(callers.size > 0 ? [note] : []), runtimeSection(bytes, builder.failures, resultSlots), ...compiled.map((c) => glueFunction(c.fn, c.local, c.exported, c.variant, c.wasmName, c.slots, resultSlots, input.checkArgs === true))];
  };

  return emitModule({ ...input, functions, appendix, ...(emitted && { emitted }), exportAs: (local) => (replaced.has(local) ? wasmExportName(local) : undefined) });
}

export { valueType };
