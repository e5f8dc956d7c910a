/**
 * adc's WebAssembly binary encoder: bytes only, no knowledge of the IR (select.ts decides which
 * instructions the IR becomes). The format is small (a magic number, a version, then numbered
 * sections of LEB128-prefixed vectors), so writing it costs ~250 lines and no dependency. binaryen
 * 132 (a 23 MB package, 15 MB of JavaScript compiled from C++) and wabt 1.0.39 (1.7 MB; its JS API
 * assembles the text format, which adc would print only to parse back) would each be far larger
 * than the whole compiler and add their loading to every compile, for features (optimisation
 * passes, the text format) the target does not use: V8's own compiler optimises the bytes it gets.
 *
 * Reference: https://webassembly.github.io/spec/core/binary/ and the SIMD proposal's opcode table.
 */

/** Value types. */
export const valueType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValueType = (typeof valueType)[keyof typeof valueType];

/** One-byte opcodes used by the target (the spec's names, dots as underscores). */
export const op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  global_get: 0x23,
  global_set: 0x24,
  f64_load: 0x2b,
  f64_store: 0x39,
  memory_size: 0x3f,
  memory_grow: 0x40,
  i32_const: 0x41,
  i64_const: 0x42,
  f64_const: 0x44,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_lt: 0x63,
  f64_gt: 0x64,
  f64_le: 0x65,
  f64_ge: 0x66,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i64_or: 0x84,
  i64_shl: 0x86,
  i64_shr_u: 0x88,
  f64_abs: 0x99,
  f64_neg: 0x9a,
  f64_ceil: 0x9b,
  f64_floor: 0x9c,
  f64_trunc: 0x9d,
  f64_sqrt: 0x9f,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  i32_wrap_i64: 0xa7,
  f64_convert_i32_s: 0xb7,
  f64_convert_i32_u: 0xb8,
  i64_extend_i32_u: 0xad,
  i64_reinterpret_f64: 0xbd,
  f64_reinterpret_i64: 0xbf,
} as const;

/** Opcodes behind the 0xfc prefix (saturating truncation, bulk memory). */
export const miscOp = { i32_trunc_sat_f64_s: 2, i32_trunc_sat_f64_u: 3, i64_trunc_sat_f64_s: 6, memory_fill: 11 } as const;

/** Opcodes behind the 0xfd prefix (fixed-width SIMD, f64x2 only). */
export const simdOp = {
  v128_load: 0,
  v128_store: 11,
  v128_const: 12,
  i64x2_splat: 18,
  f64x2_splat: 20,
  f64x2_extract_lane: 33,
  f64x2_replace_lane: 34,
  f64x2_eq: 71,
  f64x2_ne: 72,
  f64x2_lt: 73,
  f64x2_gt: 74,
  f64x2_le: 75,
  f64x2_ge: 76,
  v128_not: 77,
  v128_and: 78,
  v128_or: 80,
  v128_xor: 81,
  v128_bitselect: 82,
  v128_any_true: 83,
  f64x2_ceil: 116,
  f64x2_floor: 117,
  f64x2_trunc: 122,
  i64x2_all_true: 195,
  i64x2_extend_low_i32x4_s: 199,
  i64x2_shl: 203,
  i64x2_shr_s: 204,
  i64x2_add: 206,
  i64x2_sub: 209,
  f64x2_abs: 236,
  f64x2_neg: 237,
  f64x2_sqrt: 239,
  f64x2_add: 240,
  f64x2_sub: 241,
  f64x2_mul: 242,
  f64x2_div: 243,
  f64x2_min: 244,
  f64x2_max: 245,
  i32x4_trunc_sat_f64x2_s_zero: 252,
} as const;

/** A growing byte buffer with the format's primitive encodings. */
export class Bytes {
  private data = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.data.length) {
      const grown = new Uint8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = b;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]);
    return this;
  }

  /** An unsigned LEB128 number (counts, indices, sizes). */
  u32(n: number): this {
    if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new Error(`internal error: ${n} is not a u32`);
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n !== 0) b |= 0x80;
      this.byte(b);
    } while (n !== 0);
    return this;
  }

  /**
   * An unsigned LEB128 number always 5 bytes long (padded with 0x80 continuation bytes, which the
   * format allows): a function index decided after the code is written, filled in by setU32.
   */
  u32Padded(n: number): this {
    const at = this.length;
    for (let i = 0; i < 5; i++) this.byte(0);
    this.setU32(at, n);
    return this;
  }

  /** Overwrites the 5-byte number u32Padded wrote at `at`. */
  setU32(at: number, n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff) || at + 5 > this.length) throw new Error(`internal error: cannot patch ${n} at ${at}`);
    for (let i = 0; i < 5; i++) {
      const b = Math.floor(n / 128 ** i) & 0x7f;
      this.data[at + i] = i < 4 ? b | 0x80 : b;
    }
  }

  /** A signed LEB128 number (i32.const). */
  s32(n: number): this {
    if (!(Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff)) throw new Error(`internal error: ${n} is not an i32`);
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      const done = (n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** An IEEE 754 double, little-endian (f64.const): every bit kept, -0 and NaN payloads included. */
  f64(x: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, true);
    return this.bytes(new Uint8Array(view.buffer));
  }

  /** A name: its UTF-8 length, then the bytes. */
  name(text: string): this {
    const utf8 = new TextEncoder().encode(text);
    return this.u32(utf8.length).bytes(utf8);
  }

  /** Another buffer, prefixed by its length (a section's or a function body's contents). */
  sized(inner: Bytes): this {
    return this.u32(inner.length).bytes(inner.view());
  }

  view(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}

export interface FunctionType {
  readonly params: readonly ValueType[];
  readonly results: readonly ValueType[];
}

export interface Import {
  readonly module: string;
  readonly name: string;
  /** Index into the module's types. */
  readonly type: number;
}

export interface FunctionBody {
  readonly type: number;
  /** The locals after the parameters, in order. */
  readonly locals: readonly ValueType[];
  /** The instructions, ending with `end`. */
  readonly code: Bytes;
}

export interface WasmModule {
  readonly types: readonly FunctionType[];
  /** Imported functions (indices 0..imports-1; defined functions follow). */
  readonly imports: readonly Import[];
  readonly functions: readonly FunctionBody[];
  /** Mutable i32 globals, each initialised to the given value. */
  readonly globals: readonly number[];
  /** Immutable v128 globals after them, each the given 16 bytes (the two-lane routines' constants). */
  readonly constants?: readonly Uint8Array[];
  /** The memory's initial size, in 64 KiB pages (it has no maximum: memory.grow decides). */
  readonly memoryPages: number;
  /** Exported functions and the memory. */
  readonly exports: readonly { readonly name: string; readonly kind: 'function' | 'memory'; readonly index: number }[];
}

const section = { type: 1, import: 2, function: 3, memory: 5, global: 6, export: 7, code: 10 } as const;

/** The module as bytes. Deterministic: the same module gives the same bytes. */
export function encodeModule(m: WasmModule): Uint8Array {
  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d]).bytes([0x01, 0x00, 0x00, 0x00]);
  const put = (id: number, write: (b: Bytes) => void) => {
    const body = new Bytes();
    write(body);
    out.byte(id).sized(body);
  };
  put(section.type, (b) => {
    b.u32(m.types.length);
    for (const t of m.types) b.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
  });
  if (m.imports.length > 0) {
    put(section.import, (b) => {
      b.u32(m.imports.length);
      for (const i of m.imports) b.name(i.module).name(i.name).byte(0x00).u32(i.type);
    });
  }
  put(section.function, (b) => {
    b.u32(m.functions.length);
    for (const f of m.functions) b.u32(f.type);
  });
  put(section.memory, (b) => b.u32(1).byte(0x00).u32(m.memoryPages));
  const constants = m.constants ?? [];
  if (m.globals.length + constants.length > 0) {
    put(section.global, (b) => {
      b.u32(m.globals.length + constants.length);
      for (const g of m.globals) b.byte(valueType.i32).byte(0x01).byte(op.i32_const).s32(g).byte(op.end);
      for (const k of constants) b.byte(valueType.v128).byte(0x00).byte(0xfd).u32(simdOp.v128_const).bytes(k).byte(op.end);
    });
  }
  put(section.export, (b) => {
    b.u32(m.exports.length);
    for (const e of m.exports) b.name(e.name).byte(e.kind === 'function' ? 0x00 : 0x02).u32(e.index);
  });
  put(section.code, (b) => {
    b.u32(m.functions.length);
    for (const f of m.functions) {
      const body = new Bytes();
      // Locals as runs of one type.
      const runs: [number, ValueType][] = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      body.u32(runs.length);
      for (const [n, t] of runs) body.u32(n).byte(t);
      body.bytes(f.code.view());
      b.sized(body);
    }
  });
  return out.view().slice();
}
