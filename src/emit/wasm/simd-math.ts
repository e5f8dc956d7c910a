/**
 * Two-lane (f64x2) versions of math.ts's routines, for vectorised loops (vectorize.ts): one call
 * computes both lanes, where calling the scalar routine per lane would run fdlibm's code twice.
 * Each lane gets exactly the bits the scalar routine (and so V8's `Math`) gives for it.
 *
 * How: a lane cannot branch, so for arguments in a routine's common range (finite, neither tiny
 * nor near overflow) every fdlibm path's last few operations are computed, and each lane keeps its
 * own path's result with `v128.bitselect` — the same operations on the same operands as the branch
 * fdlibm takes, so the same bits. Argument reductions need no choice: fdlibm's k = ±1 reduction
 * (x ∓ ln2_hi, ±ln2_lo) is the general one with t = ±1, and no reduction is t = 0 (x − 0·ln2_hi =
 * x, c = 0), since multiplying by ±1 or 0 and subtracting 0 are exact. Paths that divide by
 * different operands choose the operand and divide once. The scalar versions of these branch-free
 * paths were checked bit for bit against `Math` on 406,212 arguments each (branch
 * wasmmlp-branchless); test/wasm-math.test.ts checks these two-lane ones the same way. When
 * either lane is outside the range (±0, tiny, |x| ≥ 19, ±∞, NaN), both lanes go to the scalar
 * routine, one call each.
 *
 * As in math.ts, comparisons of fdlibm's high words against a threshold are comparisons of |x|
 * against the double with that high word (and a zero low word): `hx < H` is `|x| < [H, 0]`, and
 * `hx > H` is `|x| ≥ [H + 1, 0]`, exactly, for finite x.
 */
import { Bytes, op, simdOp, valueType, type ValueType } from './encode.ts';
import type { MathRoutine } from './math.ts';

/** An expression pushing one v128: of copy `copy` when a routine computes several vectors at once (interleaved). */
interface V {
  emit(c: Bytes, copy: number): void;
}

const simd = (c: Bytes, code: number) => c.byte(0xfd).u32(code);
const v = (emit: (c: Bytes, copy: number) => void): V => ({ emit });

/**
 * The global holding a v128 constant (ModuleBuilder.constant), while a routine is written. The
 * routines' ~25 constants are immutable globals rather than `v128.const`: V8 (Node 20) builds a
 * v128.const from a 64-bit immediate in three instructions (movq, vmovq, vpunpcklqdq), and a
 * global in one load; the MLP's gradient ran 5% faster (h = 256, CPU time, interleaved, load 16).
 */
let constantGlobal: ((bytes: Uint8Array) => number) | undefined;
/** A v128 constant: read from an immutable global when the routine has a module's pool, else v128.const. */
const constant = (c: Bytes, bytes: Uint8Array) => {
  if (constantGlobal) c.byte(op.global_get).u32(constantGlobal(bytes));
  else {
    simd(c, simdOp.v128_const);
    c.bytes(bytes);
  }
};
/** Both lanes the double x (or lanes a and b). */
const F = (a: number, b = a): V =>
  v((c) => {
    const view = new DataView(new ArrayBuffer(16));
    view.setFloat64(0, a, true);
    view.setFloat64(8, b, true);
    constant(c, new Uint8Array(view.buffer));
  });
/** Both i64 lanes n. */
const L = (n: bigint): V =>
  v((c) => {
    const view = new DataView(new ArrayBuffer(16));
    view.setBigInt64(0, n, true);
    view.setBigInt64(8, n, true);
    constant(c, new Uint8Array(view.buffer));
  });
const lift = (x: V | number): V => (typeof x === 'number' ? F(x) : x);

const binary = (code: number) => (a: V | number, b: V | number): V =>
  v((c, k) => {
    lift(a).emit(c, k);
    lift(b).emit(c, k);
    simd(c, code);
  });
const unary = (code: number) => (a: V): V =>
  v((c, k) => {
    a.emit(c, k);
    simd(c, code);
  });

const add = binary(simdOp.f64x2_add);
const sub = binary(simdOp.f64x2_sub);
const mul = binary(simdOp.f64x2_mul);
const div = binary(simdOp.f64x2_div);
const lt = binary(simdOp.f64x2_lt);
const le = binary(simdOp.f64x2_le);
const ge = binary(simdOp.f64x2_ge);
const feq = binary(simdOp.f64x2_eq);
const and = binary(simdOp.v128_and);
const fabs = unary(simdOp.f64x2_abs);
const neg = unary(simdOp.f64x2_neg);
const trunc = unary(simdOp.f64x2_trunc);
const ladd = binary(simdOp.i64x2_add);
const lsub = binary(simdOp.i64x2_sub);
const shift = (code: number) => (a: V, n: number): V =>
  v((c, k) => {
    a.emit(c, k);
    c.byte(op.i32_const).s32(n);
    simd(c, code);
  });
const lshl = shift(simdOp.i64x2_shl);
/** Per lane: mask ? a : b (mask all ones or all zeros per lane). */
const pick = (mask: V, a: V | number, b: V | number): V =>
  v((c, k) => {
    lift(a).emit(c, k);
    lift(b).emit(c, k);
    mask.emit(c, k);
    simd(c, simdOp.v128_bitselect);
  });
/** All ones in a lane where x < 0 (the routines' fast ranges exclude ±0 and NaN, so: where x's sign bit is set). */
const negative = (x: V): V => lt(x, 0);
/**
 * The i64 lanes of small whole-number f64 lanes (k here: |k| ≤ 56): k + 1.5·2^52 is exact and
 * holds k in its low bits, two's complement, so its bits minus those of 1.5·2^52 are k (cheaper
 * than i32x4.trunc_sat_f64x2_s_zero, whose saturation V8 compiles to several instructions).
 */
const magic = 6755399441055744; // 1.5·2^52
const toI64 = (x: V): V => lsub(add(x, magic), L(0x4338000000000000n));
/** The double with high word h and low word 0. */
const word = (h: number): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, h >>> 0);
  return view.getFloat64(0);
};

/**
 * A two-lane routine's code being written: `copies` v128 parameters → as many v128 results, the
 * same code for each, interleaved statement by statement (each local is one per copy), so that
 * the processor runs the copies' long dependency chains side by side.
 */
class VRoutine {
  readonly code = new Bytes();
  readonly locals: ValueType[] = [];
  readonly calls: { at: number; callee: MathRoutine }[] = [];
  readonly x: V = v((c, k) => c.byte(op.local_get).u32(k));

  constructor(readonly copies: number) {}

  /** New locals (one per copy) set to e; their value. */
  let(e: V): V {
    const first = this.copies + this.locals.length;
    for (let k = 0; k < this.copies; k++) {
      this.locals.push(valueType.v128);
      e.emit(this.code, k);
      this.code.byte(op.local_set).u32(first + k);
    }
    return v((c, k) => c.byte(op.local_get).u32(first + k));
  }

  /** New locals (one per copy) set to e, which `set` assigns again. */
  variable(e: V): { readonly value: V; set(e: V): void } {
    const first = this.copies + this.locals.length;
    const value = this.let(e);
    return {
      value,
      set: (next: V) => {
        for (let k = 0; k < this.copies; k++) {
          next.emit(this.code, k);
          this.code.byte(op.local_set).u32(first + k);
        }
      },
    };
  }

  /** Writes what `then` writes to run only when some lane of some copy is true in `mask`. */
  when(mask: V, then: () => void): void {
    const c = this.code;
    for (let k = 0; k < this.copies; k++) {
      mask.emit(c, k);
      simd(c, simdOp.v128_any_true);
      if (k > 0) c.byte(op.i32_or);
    }
    c.byte(op.if).byte(0x40);
    then();
    c.byte(op.end);
  }

  /** Unless every lane of every copy is true in `mask`: each lane through the scalar routine, returned. */
  unlessAll(mask: V, scalar: MathRoutine): void {
    const c = this.code;
    for (let k = 0; k < this.copies; k++) {
      mask.emit(c, k);
      simd(c, simdOp.i64x2_all_true);
      if (k > 0) c.byte(op.i32_and);
    }
    c.byte(op.i32_eqz).byte(op.if).byte(0x40);
    for (let k = 0; k < this.copies; k++) {
      for (const lane of [0, 1]) {
        this.x.emit(c, k);
        simd(c, simdOp.f64x2_extract_lane);
        c.byte(lane);
        c.byte(op.call);
        this.calls.push({ at: c.length, callee: scalar });
        c.u32Padded(0);
        if (lane === 0) simd(c, simdOp.f64x2_splat);
        else {
          simd(c, simdOp.f64x2_replace_lane);
          c.byte(1);
        }
      }
    }
    c.byte(op.return).byte(op.end);
  }

  finish(result: V): this {
    for (let k = 0; k < this.copies; k++) result.emit(this.code, k);
    this.code.byte(op.end);
    return this;
  }
}

const ln2_hi = 6.93147180369123816490e-1; // 0x3FE62E42, 0xFEE00000
const ln2_lo = 1.90821492927058770002e-10; // 0x3DEA39EF, 0x35793C76
const invln2 = 1.44269504088896338700e0; // 0x3FF71547, 0x652B82FE

/** s_expm1.c's polynomial part on a reduced x: hxs = x·x/2 and the correction e. */
function expm1Polynomial(r: VRoutine, x: V): { hxs: V; e: V } {
  const Q1 = -3.33333333333331316428e-2; // BFA11111 111110F4
  const Q2 = 1.58730158725481460165e-3; // 3F5A01A0 19FE5585
  const Q3 = -7.93650757867487942473e-5; // BF14CE19 9EAADBB7
  const Q4 = 4.00821782732936239552e-6; // 3ED0CFCA 86E65239
  const Q5 = -2.01099218183624371326e-7; // BE8AFDB7 6E09C32D
  const hfx = r.let(mul(0.5, x));
  const hxs = r.let(mul(x, hfx));
  const r1 = r.let(add(1, mul(hxs, add(Q1, mul(hxs, add(Q2, mul(hxs, add(Q3, mul(hxs, add(Q4, mul(hxs, Q5)))))))))));
  const t = r.let(sub(3.0, mul(r1, hfx)));
  const e = r.let(mul(hxs, div(sub(r1, t), sub(6.0, mul(x, t)))));
  return { hxs, e };
}

/**
 * fdlibm's k for exp and expm1: 0 for |x| ≤ ln2/2 (hx ≤ 0x3fd62e42), ±1 below 3ln2/2
 * (hx < 0x3ff0a2b2), else (int)(x/ln2 ± 1/2); as f64 lanes.
 */
function reduction(r: VRoutine, x: V): V {
  const ax = r.let(fabs(x));
  const sign = r.let(negative(x));
  const general = trunc(add(mul(invln2, x), pick(sign, -0.5, 0.5)));
  return r.let(pick(ge(ax, word(0x3fd62e43)), pick(lt(ax, word(0x3ff0a2b2)), pick(sign, -1, 1), general), 0));
}

/**
 * s_expm1.c for lanes with 2^-54 ≤ |x| < 56·ln2 (where k ≤ 56), both lanes at once: the
 * reduction, the polynomial, and its paths k = 0, −1, 1, ≤ −2, 2..19, 20..56, each lane keeping
 * its own. `k1: false` leaves out the path k = 1 (0.35 < x < 1.04), for a caller whose lanes
 * never take it (tanh's: its arguments are ≥ 2 or negative): the other lanes' results are the
 * same. The path k ≥ 20 (x ≥ 20·ln2 ≈ 13.9) is computed only when a lane takes it, behind a
 * branch: an MLP's tanh never does (|x| ≥ 6.9), and its paths' arithmetic is most of the
 * routine's (tanh×4 ran 9% faster with both).
 */
function expm1Lanes(r: VRoutine, x0: V, paths: { readonly k1: boolean } = { k1: true }): V {
  const x1 = r.let(x0);
  const kf = reduction(r, x1);
  const k = r.let(toI64(kf));
  const hi = r.let(sub(x1, mul(kf, ln2_hi)));
  const lo = r.let(mul(kf, ln2_lo));
  const x = r.let(sub(hi, lo));
  const cc = r.let(sub(sub(hi, x), lo));
  const { hxs, e: e0 } = expm1Polynomial(r, x);
  // The paths' results.
  const k0 = sub(x, sub(mul(x, e0), hxs));
  const e = r.let(sub(sub(mul(x, sub(e0, cc)), cc), hxs));
  const twopk = r.let(lshl(ladd(k, L(0x3ffn)), 52)); // 2^k
  const twomk = r.let(lshl(lsub(L(0x3ffn), k), 52)); // 2^-k (for 2 ≤ k ≤ 56)
  const kMinus1 = sub(mul(0.5, sub(x, e)), 0.5);
  const k1 = pick(lt(x, -0.25), mul(-2.0, sub(e, add(x, 0.5))), add(1, mul(2.0, sub(x, e))));
  const kLow = sub(mul(sub(1, sub(e, x)), twopk), 1); // k ≤ −2
  const kMid = mul(sub(sub(1, twomk), sub(e, x)), twopk); // 2 ≤ k < 20: t = 1 − 2^-k, exact
  const kHigh = mul(add(sub(x, add(e, twomk)), 1), twopk); // 20 ≤ k ≤ 56: t = 2^-k
  const high = r.variable(kMid);
  r.when(ge(kf, 20), () => high.set(pick(lt(kf, 20), high.value, kHigh)));
  let y = r.let(pick(le(kf, -2), kLow, high.value));
  if (paths.k1) y = r.let(pick(feq(kf, 1), k1, y));
  y = r.let(pick(feq(kf, -1), kMinus1, y));
  return pick(feq(kf, 0), k0, y);
}

/** e_exp.c for lanes with 2^-28 ≤ |x| < 704 (where |k| ≤ 1016: no rescaling): paths k = 0 and k ≠ 0, and exp(1) = E. */
function expLanes(r: VRoutine, x0: V): V {
  const P1 = 1.66666666666666019037e-1; // 0x3FC55555, 0x5555553E
  const P2 = -2.77777777770155933842e-3; // 0xBF66C16C, 0x16BEBD93
  const P3 = 6.61375632143793436117e-5; // 0x3F11566A, 0xAF25DE2C
  const P4 = -1.65339022054652515390e-6; // 0xBEBBBD41, 0xC5D26BF1
  const P5 = 4.13813679705723846039e-8; // 0x3E663769, 0x72BEA4D0
  const E = 2.718281828459045; // 0x4005BF0A, 0x8B145769
  const x1 = r.let(x0);
  const kf = reduction(r, x1);
  const hi = r.let(sub(x1, mul(kf, ln2_hi)));
  const lo = r.let(mul(kf, ln2_lo));
  const x = r.let(sub(hi, lo));
  const t = r.let(mul(x, x));
  const c = r.let(sub(x, mul(t, add(P1, mul(t, add(P2, mul(t, add(P3, mul(t, add(P4, mul(t, P5)))))))))));
  const zero = r.let(feq(kf, 0));
  // k = 0: 1 − (x·c/(c − 2) − x); else (1 − ((lo − x·c/(2 − c)) − hi))·2^k.
  const q = r.let(div(mul(x, c), pick(zero, sub(c, 2.0), sub(2.0, c))));
  const twopk = lshl(ladd(toI64(kf), L(0x3ffn)), 52);
  const y = pick(zero, sub(1, sub(q, x)), mul(sub(1, sub(sub(lo, q), hi)), twopk));
  return pick(feq(x1, 1.0), E, y);
}

/** The two-lane routines, named after the scalar routine each computes per lane. */
export const simdRoutines = ['tanh', 'cosh'] as const;
export type SimdRoutine = (typeof simdRoutines)[number];

export function isSimdRoutine(name: string): name is SimdRoutine {
  return (simdRoutines as readonly string[]).includes(name);
}

const writers: Record<SimdRoutine, (r: VRoutine) => V> = {
  /**
   * s_tanh.c for lanes with 2^-28 ≤ |x| < 19 (so expm1's argument ±2|x| is in its range):
   * 1 − 2/(t + 2) with t = expm1(2|x|) for |x| ≥ 1, else −t/(t + 2) with t = expm1(−2|x|); the sign of x.
   */
  tanh(r) {
    const ax = r.let(fabs(r.x));
    r.unlessAll(and(ge(ax, word(0x3e300000)), lt(ax, word(0x40330000))), 'tanh');
    const one = r.let(ge(ax, 1));
    // expm1's argument is 2|x| ≥ 2 (k ≥ 3) or −2|x| < 0 (k ≤ 0): never its path k = 1.
    const t = r.let(expm1Lanes(r, pick(one, mul(2, ax), mul(-2, ax)), { k1: false }));
    const q = r.let(div(pick(one, 2, neg(t)), add(t, 2)));
    const z = r.let(pick(one, sub(1, q), q));
    return pick(negative(r.x), neg(z), z);
  },

  /**
   * e_cosh.c for lanes with 2^-54 ≤ |x| < 22: 1 + t²/(2(1 + t)) with t = expm1(|x|) (its k = 0
   * path) for |x| < ln2/2, else E/2 + (1/2)/E with E = exp(|x|).
   */
  cosh(r) {
    const ax = r.let(fabs(r.x));
    r.unlessAll(and(ge(ax, word(0x3c900000)), lt(ax, word(0x40360000))), 'cosh');
    const small = r.let(lt(ax, word(0x3fd62e43)));
    const p = expm1Polynomial(r, ax);
    const t = r.let(sub(ax, sub(mul(ax, p.e), p.hxs)));
    const w = r.let(add(1, t));
    const E = r.let(expLanes(r, ax));
    const q = r.let(div(pick(small, mul(t, t), 0.5), pick(small, add(w, w), E)));
    return pick(small, add(1, q), add(mul(0.5, E), q));
  },
};

/**
 * The routine's body, for `copies` vectors at once ((v128 × copies) → (v128 × copies)); its calls
 * of scalar routines are patched by the module.
 */
export function simdRoutine(name: SimdRoutine, copies: number, global?: (bytes: Uint8Array) => number): { locals: readonly ValueType[]; code: Bytes; calls: readonly { at: number; callee: MathRoutine }[] } {
  constantGlobal = global;
  try {
    const r = new VRoutine(copies);
    return r.finish(writers[name](r));
  } finally {
    constantGlobal = undefined;
  }
}

/** The scalar routines a two-lane routine calls (for lanes outside its range). */
export const simdDependencies: Record<SimdRoutine, readonly MathRoutine[]> = { tanh: ['tanh'], cosh: ['cosh'] };
