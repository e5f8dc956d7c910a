/**
 * The JavaScript glue of the WebAssembly target: the embedded module's instantiation, and per
 * function a JS function with the JS target's signature that checks the arguments exactly as the
 * JS target does (the same prologue, the same RangeErrors and TypeErrors), copies the array
 * arguments into linear memory once, calls the wasm function and returns fresh arrays.
 */
import type { IrFunction, Param } from '../../ir/ir.ts';
import { Section, aliasChecks, argumentChecks, jsString, member, prologue } from '../js/emit-js.ts';
import { outParameterName, propertyKey, wasmAddressName, wasmExportName, wasmGlueName } from '../names.ts';
import type { CheckFailure, ResultSlot } from './select.ts';
import { argumentBase } from './layout.ts';

/** The module-level code: the bytes, their instantiation, and the memory helpers the glue calls. */
export function runtimeSection(bytes: Uint8Array, failures: readonly CheckFailure[], resultSlots: number): Section {
  const s = new Section();
  const text = `// WebAssembly (--target wasm): each function with array parameters also runs as the WebAssembly
// function adc compiled from the same IR (below, ${bytes.length} bytes, f64x2 SIMD where loops allow). Its
// exports f, fGrad and fGradInto call it; they take and return what the JS functions above do, and
// every other export (fJvp, fHessian, …) is the JS function. exp, log, log1p, expm1, tanh, cosh and
// sinh are the module's ports of V8's own routines for Math's (the same bits); sin, pow, … are
// JavaScript's Math functions, imported. So values agree with the JS functions to rounding (sums
// over SIMD lanes add in another order). The module is compiled synchronously as this module loads; where
// that is refused (no WebAssembly or no SIMD, a Content-Security-Policy without 'wasm-unsafe-eval',
// a browser's main thread refusing a synchronous compile over 4 KB, as Chrome's long did) every
// export is the JS function, which computes the same.
const $wasmChecks = ${JSON.stringify(failures.map((f) => [f.where, f.kind]))};
const $wasm = (() => {
  const fail = (check, index, length, from) => {
    const [where, kind] = $wasmChecks[check];
    if (kind === 'bound') throw new RangeError(where + index + ', not a whole number a loop can count to (within 2^53)');
    if (kind === 'defined') throw new RangeError(where + index + ', outside the elements defined, ' + from + '..' + (length - 1));
    throw new RangeError(where + index + ', outside 0..' + (length - 1));
  };
  const outOfMemory = () => {
    throw new RangeError('the WebAssembly memory cannot grow to hold these arrays (4 GB at most): use the JS target');
  };
  try {
    const bytes = $base64(${jsString(base64(bytes))});
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { Math, adc: { fail, outOfMemory } }).exports;
  } catch {
    return undefined;
  }
})();

/** The module's bytes from base64 (no padding). */
function $base64(text) {
  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = new Uint8Array(128);
  for (let d = 0; d < 64; d++) value[digits.charCodeAt(d)] = d;
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let count = 0;
  let n = 0;
  for (let c = 0; c < text.length; c++) {
    bits = ((bits << 6) | value[text.charCodeAt(c)]) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[n++] = (bits >> count) & 255;
    }
  }
  return bytes;
}

let $wasmView = new Float64Array(0);

/** Linear memory as numbers, at least \`bytes\` long: grown when needed, a new view after it grew. */
function $wasmMemory(bytes) {
  const memory = $wasm.memory;
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  if ($wasmView.buffer !== memory.buffer) $wasmView = new Float64Array(memory.buffer);
  return $wasmView;
}

/** The bytes an array of n numbers takes in memory (16-byte aligned, for f64x2). */
function $wasmBytes(n) {
  return Math.ceil(n / 2) * 16;
}

/** Copies a matrix argument into memory, row after row. */
function $wasmRows(view, at, m, columns) {
  for (let r = 0; r < m.length; r++) view.set(m[r], at / 8 + r * columns);
}

/** A new Float64Array holding the array result whose address and length are at r[k], r[k + 1]. */
function $wasmArray(r, k) {
  return r.slice(r[k] / 8, r[k] / 8 + r[k + 1]);
}

/** Copies the array result at r[k] into the caller's array a (fGradInto). */
function $wasmInto(a, r, k) {
  const at = r[k] / 8;
  if (a instanceof Float64Array) a.set(r.subarray(at, at + a.length));
  else for (let i = 0; i < a.length; i++) a[i] = r[at + i];
}

/** Copies the matrix result at r[k] into the caller's rows (fGradInto). */
function $wasmIntoRows(m, r, k, columns) {
  const at = r[k] / 8;
  for (let row = 0; row < m.length; row++) {
    const a = m[row];
    const from = at + row * columns;
    if (a instanceof Float64Array) a.set(r.subarray(from, from + columns));
    else for (let i = 0; i < columns; i++) a[i] = r[from + i];
  }
}`;
  for (const line of text.split('\n')) s.push(line);
  void resultSlots;
  return s;
}

/** Base64 without padding (the decoder above needs none). */
function base64(bytes: Uint8Array): string {
  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let text = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.ceil(((Math.min(3, bytes.length - i)) * 8) / 6);
    for (let c = 0; c < chars; c++) text += digits[(n >> (18 - 6 * c)) & 63];
  }
  return text;
}

type Variant = 'value' | 'gradient' | 'into';

/** The number of elements of an array parameter, as a JS expression over the prologue's sizes. */
function elements(p: Param): string {
  const size = (s: number | { name: string }) => (typeof s === 'number' ? String(s) : s.name);
  const sizes = p.shape!.sizes.map(size);
  return sizes.join(' * ');
}

/**
 * One exported function's glue (`local$wasm`) and the export choosing it (`local$export`): the
 * wasm function `wasmName` computes `fn` (the value or the gradient IR) and writes `slots`.
 */
export function glueFunction(fn: IrFunction, local: string, exported: string, variant: Variant, wasmName: string, slots: readonly ResultSlot[], resultSlots: number, checkArgs: boolean): Section {
  const s = new Section();
  const at = fn.span.start;
  const params = fn.params.map((p) => p.name);
  const first = variant === 'into' ? [outParameterName] : [];
  s.push(`/** ${exported} computed by WebAssembly (the same signature, checks and results as the JS function). */`, at);
  s.push(`function ${wasmGlueName(local)}(${[...first, ...params].join(', ')}) {`, at);
  const checks = [...argumentChecks(fn, exported, checkArgs), ...prologue(fn, exported), ...(variant === 'into' ? aliasChecks(fn, exported) : [])];
  for (const line of checks) s.push(`  ${line}`, at);
  const gradients = fn.gradient ?? [];
  if (variant === 'into') {
    // The caller's arrays are checked before anything runs (the JS function checks each where it zeroes it).
    for (const g of gradients) {
      if (!g.param.shape) continue;
      const what = jsString(`${exported}: out.${g.param.sourceName}`);
      const into = `${outParameterName}${member(g.param.sourceName)}`;
      const [rows, columns] = g.param.shape.sizes.map((x) => (typeof x === 'number' ? String(x) : x.name));
      if (g.param.shape.kind === 'mat') {
        s.push(`  $expect(${into}, ${rows}, ${what}, "the parameter's row count");`, at);
        s.push(`  $expectRows(${into}, ${columns}, ${what}, "the parameter's row length");`, at);
      } else {
        s.push(`  $expect(${into}, ${rows}, ${what}, "the parameter's length");`, at);
      }
    }
  }
  // Where each array argument goes: one after another from the first address after the result area.
  const arrays = fn.params.filter((p) => p.shape);
  let previous = String(argumentBase(resultSlots));
  for (const p of arrays) {
    s.push(`  const ${wasmAddressName(p.name)} = ${previous};`, at);
    previous = `${wasmAddressName(p.name)} + $wasmBytes(${elements(p)})`;
  }
  s.push(`  const $heap = ${previous};`, at);
  s.push(`  ${arrays.length > 0 ? 'const $view = ' : ''}$wasmMemory($heap);`, at);
  for (const p of arrays) {
    if (p.shape!.kind === 'mat') {
      const columns = p.shape!.sizes[1];
      s.push(`  $wasmRows($view, ${wasmAddressName(p.name)}, ${p.name}, ${typeof columns === 'number' ? columns : columns.name});`, at);
    } else {
      s.push(`  $view.set(${p.name}, ${wasmAddressName(p.name)} / 8);`, at);
    }
  }
  const sizes: string[] = [];
  for (const p of fn.params) for (const x of p.shape?.sizes ?? []) if (typeof x !== 'number' && !sizes.includes(x.name)) sizes.push(x.name);
  const args = [...fn.params.map((p) => (p.shape ? wasmAddressName(p.name) : p.name)), ...sizes, '$heap'];
  s.push(`  $wasm.${wasmName}(${args.join(', ')});`, at);
  s.push(`  const $r = $wasmMemory(0);`, at);
  // The result area: slot k of `slots` starts at the number offsets[k].
  const offsets: number[] = [];
  let k = 0;
  for (const slot of slots) {
    offsets.push(k);
    k += slot.kind === 'number' ? 1 : 3;
  }
  const result = (n: number): string => {
    const slot = slots[n];
    const o = offsets[n];
    if (slot.kind === 'number') return `$r[${o}]`;
    return slot.rows ? `$rows($wasmArray($r, ${o}), $r[${o + 2}])` : `$wasmArray($r, ${o})`;
  };
  if (variant === 'value') {
    s.push(`  return ${result(0)};`, at);
  } else if (variant === 'gradient') {
    const entries = gradients.map((g, n) => `${propertyKey(g.param.sourceName)}: ${result(n + 1)}`);
    s.push(`  return { value: ${result(0)}, gradient: ${entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}'} };`, at);
  } else {
    gradients.forEach((g, n) => {
      const into = `${outParameterName}${member(g.param.sourceName)}`;
      const o = offsets[n + 1];
      if (g.param.shape?.kind === 'mat') {
        const columns = g.param.shape.sizes[1];
        s.push(`  $wasmIntoRows(${into}, $r, ${o}, ${typeof columns === 'number' ? columns : columns.name});`, at);
      } else if (g.param.shape) {
        s.push(`  $wasmInto(${into}, $r, ${o});`, at);
      } else if (g.param.sourceName === '__proto__') {
        s.push(`  Object.defineProperty(${outParameterName}, '__proto__', { value: $r[${o}], writable: true, enumerable: true, configurable: true });`, at);
      } else {
        s.push(`  ${into} = $r[${o}];`, at);
      }
    });
    s.push(`  return ${result(0)};`, at);
  }
  s.push('}', at);
  s.push(`const ${wasmExportName(local)} = $wasm === undefined ? ${local} : ${wasmGlueName(local)};`, at);
  return s;
}
