/**
 * exp, log, log1p, expm1, tanh, cosh and sinh as WebAssembly functions inside the module, so that
 * the wasm target's loops do not call out to JavaScript's Math for them (a crossing per element).
 *
 * They are exact: each is a line-by-line port of the fdlibm routine that V8 runs for the same Math
 * function (v8/src/base/ieee754.cc, as in Node 20's V8 11.3: e_exp.c, e_log.c, s_log1p.c,
 * s_expm1.c, s_tanh.c, e_cosh.c, e_sinh.c), with the same constants, the same operations in the
 * same order (C's `a * b * c` is `(a * b) * c`) and the same bit manipulations of the high and low
 * words. Every operation is an IEEE double operation, which wasm performs exactly as C does, so
 * the results are the same bits as `Math.exp(x)` & co. in V8 (test/wasm-math.test.ts compares them
 * on random and special arguments). Only a NaN's payload may differ, which JavaScript cannot
 * observe (every NaN is NaN). Other Math functions (sin, cos, pow, atan, …) stay imported.
 *
 * The routines are written with a small structured assembler (below): typed expressions that
 * push a value, statements that set locals, branch and return.
 */
import { Bytes, miscOp, op, valueType, type ValueType } from './encode.ts';

type Type = 'f64' | 'i32';

/** An expression: code that pushes one value of its type. */
interface Ex {
  readonly type: Type;
  emit(c: Bytes): void;
}

/** A local variable (the parameter x is local 0). */
interface Local {
  readonly index: number;
  readonly type: Type;
  readonly get: Ex;
}

const ex = (type: Type, emit: (c: Bytes) => void): Ex => ({ type, emit });
const need = (e: Ex, type: Type): Ex => {
  if (e.type !== type) throw new Error(`internal error: a ${e.type} where a ${type} is needed`);
  return e;
};

/** Numbers. */
const F = (x: number): Ex => ex('f64', (c) => c.byte(op.f64_const).f64(x));
const I = (x: number): Ex => ex('i32', (c) => c.byte(op.i32_const).s32(x | 0));
const lift = (x: Ex | number): Ex => (typeof x === 'number' ? F(x) : x);

const binary = (type: Type, result: Type, code: number) => (a: Ex | number, b: Ex | number): Ex => {
  const x = type === 'f64' ? lift(a) : typeof a === 'number' ? I(a) : a;
  const y = type === 'f64' ? lift(b) : typeof b === 'number' ? I(b) : b;
  need(x, type);
  need(y, type);
  return ex(result, (c) => {
    x.emit(c);
    y.emit(c);
    c.byte(code);
  });
};
const unary = (type: Type, result: Type, ...codes: number[]) => (a: Ex): Ex => {
  need(a, type);
  return ex(result, (c) => {
    a.emit(c);
    for (const b of codes) c.byte(b);
  });
};

const add = binary('f64', 'f64', op.f64_add);
const sub = binary('f64', 'f64', op.f64_sub);
const mul = binary('f64', 'f64', op.f64_mul);
const div = binary('f64', 'f64', op.f64_div);
const lt = binary('f64', 'i32', op.f64_lt);
const gt = binary('f64', 'i32', op.f64_gt);
const le = binary('f64', 'i32', op.f64_le);
const feq = binary('f64', 'i32', op.f64_eq);
const neg = unary('f64', 'f64', op.f64_neg);
const fabs = unary('f64', 'f64', op.f64_abs);

const iadd = binary('i32', 'i32', op.i32_add);
const isub = binary('i32', 'i32', op.i32_sub);
const and = binary('i32', 'i32', op.i32_and);
const or = binary('i32', 'i32', op.i32_or);
const xor = binary('i32', 'i32', op.i32_xor);
const shl = binary('i32', 'i32', op.i32_shl);
/** `>>` of an int32_t. */
const shr = binary('i32', 'i32', op.i32_shr_s);
/** `>>` of a uint32_t. */
const shru = binary('i32', 'i32', op.i32_shr_u);
const eq = binary('i32', 'i32', op.i32_eq);
const ne = binary('i32', 'i32', op.i32_ne);
/** Signed comparisons (int32_t). */
const ilt = binary('i32', 'i32', op.i32_lt_s);
const ile = binary('i32', 'i32', op.i32_le_s);
const igt = binary('i32', 'i32', op.i32_gt_s);
const ige = binary('i32', 'i32', op.i32_ge_s);
/** Unsigned comparisons (uint32_t). */
const ultu = binary('i32', 'i32', op.i32_lt_u);
const ugtu = binary('i32', 'i32', op.i32_gt_u);
const ugeu = binary('i32', 'i32', op.i32_ge_u);

/** `(double)k` of an int32_t. */
const double = unary('i32', 'f64', op.f64_convert_i32_s);
/** `(int)x`: truncation toward zero (the arguments here are small, where it is exact). */
const int = (a: Ex): Ex => {
  need(a, 'f64');
  return ex('i32', (c) => {
    a.emit(c);
    c.byte(0xfc).u32(miscOp.i32_trunc_sat_f64_s);
  });
};
/** GET_HIGH_WORD: the upper 32 bits of a double. */
const high = (a: Ex): Ex => {
  need(a, 'f64');
  return ex('i32', (c) => {
    a.emit(c);
    c.byte(op.i64_reinterpret_f64).byte(op.i64_const).s32(32).byte(op.i64_shr_u).byte(op.i32_wrap_i64);
  });
};
/** GET_LOW_WORD: the lower 32 bits of a double. */
const low = (a: Ex): Ex => {
  need(a, 'f64');
  return ex('i32', (c) => {
    a.emit(c);
    c.byte(op.i64_reinterpret_f64).byte(op.i32_wrap_i64);
  });
};
/** INSERT_WORDS: the double with these upper and lower 32 bits. */
const words = (hi: Ex, lo: Ex): Ex => {
  need(hi, 'i32');
  need(lo, 'i32');
  return ex('f64', (c) => {
    hi.emit(c);
    c.byte(op.i64_extend_i32_u).byte(op.i64_const).s32(32).byte(op.i64_shl);
    lo.emit(c);
    c.byte(op.i64_extend_i32_u).byte(op.i64_or).byte(op.f64_reinterpret_i64);
  });
};
/** SET_HIGH_WORD(d, v) as a value. */
const withHigh = (d: Ex, v: Ex): Ex => words(v, low(d));
/** `cond ? a : b` for numbers (both are computed: only for constants and locals). */
const pick = (cond: Ex, a: Ex | number, b: Ex | number): Ex => {
  const x = lift(a);
  const y = lift(b);
  need(cond, 'i32');
  return ex(x.type, (c) => {
    x.emit(c);
    y.emit(c);
    cond.emit(c);
    c.byte(op.select);
  });
};

/** The routines, each calling the others by name (the module decides their indices). */
export const mathRoutines = ['exp', 'log', 'log1p', 'expm1', 'tanh', 'cosh', 'sinh'] as const;
export type MathRoutine = (typeof mathRoutines)[number];

export function isMathRoutine(name: string): name is MathRoutine {
  return (mathRoutines as readonly string[]).includes(name);
}

/** One routine's code being written: f64 → f64, with locals after the parameter x. */
class Routine {
  readonly code = new Bytes();
  readonly locals: ValueType[] = [];
  /** Calls to other routines: where each index goes (a padded u32) and whom it calls. */
  readonly calls: { at: number; callee: MathRoutine }[] = [];
  readonly x: Local = this.local('f64', 0);

  private local(type: Type, index: number): Local {
    return { index, type, get: ex(type, (c) => c.byte(op.local_get).u32(index)) };
  }

  f64(): Local {
    this.locals.push(valueType.f64);
    return this.local('f64', this.locals.length);
  }

  i32(): Local {
    this.locals.push(valueType.i32);
    return this.local('i32', this.locals.length);
  }

  set(l: Local, e: Ex | number): void {
    const v = typeof e === 'number' ? (l.type === 'f64' ? F(e) : I(e)) : e;
    need(v, l.type).emit(this.code);
    this.code.byte(op.local_set).u32(l.index);
  }

  if(cond: Ex, then: () => void, otherwise?: () => void): void {
    need(cond, 'i32').emit(this.code);
    this.code.byte(op.if).byte(0x40);
    then();
    if (otherwise) {
      this.code.byte(op.else);
      otherwise();
    }
    this.code.byte(op.end);
  }

  return(e: Ex | number): void {
    need(lift(e), 'f64').emit(this.code);
    this.code.byte(op.return);
  }

  call(callee: MathRoutine, arg: Ex): Ex {
    need(arg, 'f64');
    return ex('f64', (c) => {
      if (c !== this.code) throw new Error('internal error: a call emitted into another function');
      arg.emit(c);
      c.byte(op.call);
      this.calls.push({ at: c.length, callee });
      c.u32Padded(0);
    });
  }

  /** Every path has returned: the end of the body is unreachable. */
  finish(): this {
    this.code.byte(op.unreachable).byte(op.end);
    return this;
  }
}

/** The routine's body; its calls (to `calls[k].callee`) are patched by the module. */
export function mathRoutine(name: MathRoutine): { locals: readonly ValueType[]; code: Bytes; calls: readonly { at: number; callee: MathRoutine }[] } {
  const r = new Routine();
  writers[name](r);
  return r.finish();
}

const huge = 1.0e300;
const ln2_hi = 6.93147180369123816490e-1; // 0x3FE62E42, 0xFEE00000
const ln2_lo = 1.90821492927058770002e-10; // 0x3DEA39EF, 0x35793C76
const two54 = 1.8014398509481984e16; // 0x43500000, 0x00000000
// The coefficients of log's and log1p's polynomial in s = f/(2+f): fdlibm's Lg1..Lg7 (e_log.c),
// which s_log1p.c repeats as Lp1..Lp7 with the same values.
const Lg1 = 6.666666666666735130e-1; // 3FE55555 55555593
const Lg2 = 3.999999999940941908e-1; // 3FD99999 9997FA04
const Lg3 = 2.857142874366239149e-1; // 3FD24924 94229359
const Lg4 = 2.222219843214978396e-1; // 3FCC71C5 1D8E78AF
const Lg5 = 1.818357216161805012e-1; // 3FC74664 96CB03DE
const Lg6 = 1.531383769920937332e-1; // 3FC39A09 D078C69F
const Lg7 = 1.479819860511658591e-1; // 3FC2F112 DF3E5244
const invln2 = 1.44269504088896338700e0; // 0x3FF71547, 0x652B82FE

const writers: Record<MathRoutine, (r: Routine) => void> = {
  /** e_exp.c: x = k·ln2 + r, |r| ≤ ln2/2; exp(r) by a degree-5 rational approximation; times 2^k. */
  exp(r) {
    const o_threshold = 7.09782712893383973096e2; // 0x40862E42, 0xFEFA39EF
    const u_threshold = -7.45133219101941108420e2; // 0xC0874910, 0xD52D3051
    const P1 = 1.66666666666666019037e-1; // 0x3FC55555, 0x5555553E
    const P2 = -2.77777777770155933842e-3; // 0xBF66C16C, 0x16BEBD93
    const P3 = 6.61375632143793436117e-5; // 0x3F11566A, 0xAF25DE2C
    const P4 = -1.65339022054652515390e-6; // 0xBEBBBD41, 0xC5D26BF1
    const P5 = 4.13813679705723846039e-8; // 0x3E663769, 0x72BEA4D0
    const E = 2.718281828459045; // 0x4005BF0A, 0x8B145769
    const twom1000 = 9.33263618503218878990e-302; // 2^-1000
    const two1023 = 8.988465674311579539e307; // 2^1023
    const x = r.x;
    const [hx, xsb, k] = [r.i32(), r.i32(), r.i32()];
    const [y, hi, lo, c, t, twopk] = [r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64()];
    r.set(hx, high(x.get));
    r.set(xsb, and(shru(hx.get, 31), 1)); // sign bit of x
    r.set(hx, and(hx.get, 0x7fffffff)); // high word of |x|
    // filter out non-finite argument
    r.if(ugeu(hx.get, 0x40862e42), () => {
      r.if(ugeu(hx.get, 0x7ff00000), () => {
        r.if(ne(or(and(hx.get, 0xfffff), low(x.get)), 0), () => r.return(add(x.get, x.get))); // NaN
        r.if(eq(xsb.get, 0), () => r.return(x.get)); // exp(+inf) = inf
        r.return(0); // exp(-inf) = 0
      });
      r.if(gt(x.get, o_threshold), () => r.return(mul(huge, huge))); // overflow
      r.if(lt(x.get, u_threshold), () => r.return(mul(twom1000, twom1000))); // underflow
    });
    // argument reduction
    r.set(k, 0);
    r.set(hi, 0);
    r.set(lo, 0);
    r.if(
      ugtu(hx.get, 0x3fd62e42), // |x| > 0.5 ln2
      () => {
        r.if(
          ultu(hx.get, 0x3ff0a2b2), // and |x| < 1.5 ln2
          () => {
            r.if(feq(x.get, 1.0), () => r.return(E));
            r.set(hi, sub(x.get, pick(xsb.get, -ln2_hi, ln2_hi)));
            r.set(lo, pick(xsb.get, -ln2_lo, ln2_lo));
            r.set(k, isub(isub(1, xsb.get), xsb.get));
          },
          () => {
            r.set(k, int(add(mul(invln2, x.get), pick(xsb.get, -0.5, 0.5))));
            r.set(t, double(k.get));
            r.set(hi, sub(x.get, mul(t.get, ln2_hi))); // t·ln2HI is exact here
            r.set(lo, mul(t.get, ln2_lo));
          },
        );
        r.set(x, sub(hi.get, lo.get));
      },
      () => {
        r.if(
          ultu(hx.get, 0x3e300000), // |x| < 2^-28
          () => r.if(gt(add(huge, x.get), 1), () => r.return(add(1, x.get))),
          () => r.set(k, 0),
        );
      },
    );
    // x is now in primary range
    r.set(t, mul(x.get, x.get));
    r.if(
      ige(k.get, -1021),
      () => r.set(twopk, words(iadd(0x3ff00000, shl(k.get, 20)), I(0))),
      () => r.set(twopk, words(iadd(0x3ff00000, shl(iadd(k.get, 1000), 20)), I(0))),
    );
    r.set(c, sub(x.get, mul(t.get, add(P1, mul(t.get, add(P2, mul(t.get, add(P3, mul(t.get, add(P4, mul(t.get, P5)))))))))));
    r.if(eq(k.get, 0), () => r.return(sub(1, sub(div(mul(x.get, c.get), sub(c.get, 2.0)), x.get))));
    r.set(y, sub(1, sub(sub(lo.get, div(mul(x.get, c.get), sub(2.0, c.get))), hi.get)));
    r.if(ige(k.get, -1021), () => {
      r.if(eq(k.get, 1024), () => r.return(mul(mul(y.get, 2.0), two1023)));
      r.return(mul(y.get, twopk.get));
    });
    r.return(mul(mul(y.get, twopk.get), twom1000));
  },

  /** e_log.c: x = 2^k·(1+f), √2/2 < 1+f < √2; log(1+f) from s = f/(2+f) by a degree-14 polynomial. */
  log(r) {
    const x = r.x;
    const [k, hx, i, j] = [r.i32(), r.i32(), r.i32(), r.i32()];
    const [hfsq, f, s, z, R, w, t1, t2, dk] = [r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64()];
    r.set(hx, high(x.get));
    r.set(k, 0);
    r.if(ilt(hx.get, 0x00100000), () => {
      // x < 2^-1022
      r.if(eq(or(and(hx.get, 0x7fffffff), low(x.get)), 0), () => r.return(-Infinity)); // log(±0) = -inf
      r.if(ilt(hx.get, 0), () => r.return(NaN)); // log(-#) = NaN
      r.set(k, isub(k.get, 54));
      r.set(x, mul(x.get, two54)); // subnormal number, scale up x
      r.set(hx, high(x.get));
    });
    r.if(ige(hx.get, 0x7ff00000), () => r.return(add(x.get, x.get)));
    r.set(k, iadd(k.get, isub(shr(hx.get, 20), 1023)));
    r.set(hx, and(hx.get, 0x000fffff));
    r.set(i, and(iadd(hx.get, 0x95f64), 0x100000));
    r.set(x, withHigh(x.get, or(hx.get, xor(i.get, 0x3ff00000)))); // normalize x or x/2
    r.set(k, iadd(k.get, shr(i.get, 20)));
    r.set(f, sub(x.get, 1.0));
    r.if(ilt(and(0x000fffff, iadd(2, hx.get)), 3), () => {
      // -2^-20 <= f < 2^-20
      r.if(feq(f.get, 0), () => {
        r.if(eq(k.get, 0), () => r.return(0));
        r.set(dk, double(k.get));
        r.return(add(mul(dk.get, ln2_hi), mul(dk.get, ln2_lo)));
      });
      r.set(R, mul(mul(f.get, f.get), sub(0.5, mul(0.33333333333333333, f.get))));
      r.if(eq(k.get, 0), () => r.return(sub(f.get, R.get)));
      r.set(dk, double(k.get));
      r.return(sub(mul(dk.get, ln2_hi), sub(sub(R.get, mul(dk.get, ln2_lo)), f.get)));
    });
    r.set(s, div(f.get, add(2.0, f.get)));
    r.set(dk, double(k.get));
    r.set(z, mul(s.get, s.get));
    r.set(i, isub(hx.get, 0x6147a));
    r.set(w, mul(z.get, z.get));
    r.set(j, isub(0x6b851, hx.get));
    r.set(t1, mul(w.get, add(Lg2, mul(w.get, add(Lg4, mul(w.get, Lg6))))));
    r.set(t2, mul(z.get, add(Lg1, mul(w.get, add(Lg3, mul(w.get, add(Lg5, mul(w.get, Lg7))))))));
    r.set(i, or(i.get, j.get));
    r.set(R, add(t2.get, t1.get));
    r.if(
      igt(i.get, 0),
      () => {
        r.set(hfsq, mul(mul(0.5, f.get), f.get));
        r.if(eq(k.get, 0), () => r.return(sub(f.get, sub(hfsq.get, mul(s.get, add(hfsq.get, R.get))))));
        r.return(sub(mul(dk.get, ln2_hi), sub(sub(hfsq.get, add(mul(s.get, add(hfsq.get, R.get)), mul(dk.get, ln2_lo))), f.get)));
      },
      () => {
        r.if(eq(k.get, 0), () => r.return(sub(f.get, mul(s.get, sub(f.get, R.get)))));
        r.return(sub(mul(dk.get, ln2_hi), sub(sub(mul(s.get, sub(f.get, R.get)), mul(dk.get, ln2_lo)), f.get)));
      },
    );
  },

  /** s_log1p.c: 1+x = 2^k·(1+f) with a correction term c for the rounding of 1+x. */
  log1p(r) {
    const x = r.x;
    const [k, hx, hu, ax] = [r.i32(), r.i32(), r.i32(), r.i32()];
    const [hfsq, f, c, s, z, R, u] = [r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64()];
    r.set(hx, high(x.get));
    r.set(ax, and(hx.get, 0x7fffffff));
    r.set(k, 1);
    r.set(hu, 0);
    r.set(f, 0);
    r.set(c, 0);
    r.if(ilt(hx.get, 0x3fda827a), () => {
      // 1+x < √2+
      r.if(ige(ax.get, 0x3ff00000), () => {
        // x <= -1.0
        r.if(feq(x.get, -1.0), () => r.return(-Infinity)); // log1p(-1) = -inf
        r.return(NaN); // log1p(x < -1) = NaN
      });
      r.if(ilt(ax.get, 0x3e200000), () => {
        // |x| < 2^-29
        r.if(and(gt(add(two54, x.get), 0), ilt(ax.get, 0x3c900000)), () => r.return(x.get)); // |x| < 2^-54
        r.return(sub(x.get, mul(mul(x.get, x.get), 0.5)));
      });
      r.if(or(igt(hx.get, 0), ile(hx.get, 0xbfd2bec4 | 0)), () => {
        // √2/2- <= 1+x < √2+
        r.set(k, 0);
        r.set(f, x.get);
        r.set(hu, 1);
      });
    });
    r.if(ige(hx.get, 0x7ff00000), () => r.return(add(x.get, x.get)));
    r.if(ne(k.get, 0), () => {
      r.if(
        ilt(hx.get, 0x43400000),
        () => {
          r.set(u, add(1.0, x.get));
          r.set(hu, high(u.get));
          r.set(k, isub(shr(hu.get, 20), 1023));
          r.if(
            igt(k.get, 0),
            () => r.set(c, sub(1.0, sub(u.get, x.get))),
            () => r.set(c, sub(x.get, sub(u.get, 1.0))),
          ); // correction term
          r.set(c, div(c.get, u.get));
        },
        () => {
          r.set(u, x.get);
          r.set(hu, high(u.get));
          r.set(k, isub(shr(hu.get, 20), 1023));
          r.set(c, 0);
        },
      );
      r.set(hu, and(hu.get, 0x000fffff));
      r.if(
        ilt(hu.get, 0x6a09e), // u ~< √2
        () => r.set(u, withHigh(u.get, or(hu.get, 0x3ff00000))), // normalize u
        () => {
          r.set(k, iadd(k.get, 1));
          r.set(u, withHigh(u.get, or(hu.get, 0x3fe00000))); // normalize u/2
          r.set(hu, shr(isub(0x00100000, hu.get), 2));
        },
      );
      r.set(f, sub(u.get, 1.0));
    });
    r.set(hfsq, mul(mul(0.5, f.get), f.get));
    r.if(eq(hu.get, 0), () => {
      // |f| < 2^-20
      r.if(feq(f.get, 0), () => {
        r.if(eq(k.get, 0), () => r.return(0));
        r.set(c, add(c.get, mul(double(k.get), ln2_lo)));
        r.return(add(mul(double(k.get), ln2_hi), c.get));
      });
      r.set(R, mul(hfsq.get, sub(1.0, mul(0.66666666666666666, f.get))));
      r.if(eq(k.get, 0), () => r.return(sub(f.get, R.get)));
      r.return(sub(mul(double(k.get), ln2_hi), sub(sub(R.get, add(mul(double(k.get), ln2_lo), c.get)), f.get)));
    });
    r.set(s, div(f.get, add(2.0, f.get)));
    r.set(z, mul(s.get, s.get));
    r.set(R, mul(z.get, add(Lg1, mul(z.get, add(Lg2, mul(z.get, add(Lg3, mul(z.get, add(Lg4, mul(z.get, add(Lg5, mul(z.get, add(Lg6, mul(z.get, Lg7))))))))))))));
    r.if(eq(k.get, 0), () => r.return(sub(f.get, sub(hfsq.get, mul(s.get, add(hfsq.get, R.get))))));
    r.return(sub(mul(double(k.get), ln2_hi), sub(sub(hfsq.get, add(mul(s.get, add(hfsq.get, R.get)), add(mul(double(k.get), ln2_lo), c.get))), f.get)));
  },

  /** s_expm1.c: exp(x) − 1 with the reduction's rounding error c carried as a correction. */
  expm1(r) {
    const tiny = 1.0e-300;
    const o_threshold = 7.09782712893383973096e2; // 0x40862E42, 0xFEFA39EF
    // Scaled Q's: Qn_here = 2^n · Qn_above, for R(2z) where z = hxs = x·x/2
    const Q1 = -3.33333333333331316428e-2; // BFA11111 111110F4
    const Q2 = 1.58730158725481460165e-3; // 3F5A01A0 19FE5585
    const Q3 = -7.93650757867487942473e-5; // BF14CE19 9EAADBB7
    const Q4 = 4.00821782732936239552e-6; // 3ED0CFCA 86E65239
    const Q5 = -2.01099218183624371326e-7; // BE8AFDB7 6E09C32D
    const x = r.x;
    const [k, xsb, hx] = [r.i32(), r.i32(), r.i32()];
    const [y, hi, lo, c, t, e, hxs, hfx, r1, twopk] = [r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64(), r.f64()];
    r.set(hx, high(x.get));
    r.set(xsb, and(hx.get, 0x80000000 | 0)); // sign bit of x
    r.set(hx, and(hx.get, 0x7fffffff)); // high word of |x|
    // filter out huge and non-finite argument
    r.if(ugeu(hx.get, 0x4043687a), () => {
      // |x| >= 56·ln2
      r.if(ugeu(hx.get, 0x40862e42), () => {
        // |x| >= 709.78...
        r.if(ugeu(hx.get, 0x7ff00000), () => {
          r.if(ne(or(and(hx.get, 0xfffff), low(x.get)), 0), () => r.return(add(x.get, x.get))); // NaN
          r.if(eq(xsb.get, 0), () => r.return(x.get)); // expm1(+inf) = inf
          r.return(-1.0); // expm1(-inf) = -1
        });
        r.if(gt(x.get, o_threshold), () => r.return(mul(huge, huge))); // overflow
      });
      r.if(ne(xsb.get, 0), () => {
        // x < -56·ln2: -1.0
        r.if(lt(add(x.get, tiny), 0.0), () => r.return(sub(tiny, 1)));
      });
    });
    // argument reduction
    r.set(c, 0);
    r.if(
      ugtu(hx.get, 0x3fd62e42), // |x| > 0.5 ln2
      () => {
        r.if(
          ultu(hx.get, 0x3ff0a2b2), // and |x| < 1.5 ln2
          () =>
            r.if(
              eq(xsb.get, 0),
              () => {
                r.set(hi, sub(x.get, ln2_hi));
                r.set(lo, ln2_lo);
                r.set(k, 1);
              },
              () => {
                r.set(hi, add(x.get, ln2_hi));
                r.set(lo, -ln2_lo);
                r.set(k, -1);
              },
            ),
          () => {
            r.set(k, int(add(mul(invln2, x.get), pick(eq(xsb.get, 0), 0.5, -0.5))));
            r.set(t, double(k.get));
            r.set(hi, sub(x.get, mul(t.get, ln2_hi))); // t·ln2_hi is exact here
            r.set(lo, mul(t.get, ln2_lo));
          },
        );
        r.set(x, sub(hi.get, lo.get));
        r.set(c, sub(sub(hi.get, x.get), lo.get));
      },
      () =>
        r.if(
          ultu(hx.get, 0x3c900000), // |x| < 2^-54: x
          () => {
            r.set(t, add(huge, x.get));
            r.return(sub(x.get, sub(t.get, add(huge, x.get))));
          },
          () => r.set(k, 0),
        ),
    );
    // x is now in primary range
    r.set(hfx, mul(0.5, x.get));
    r.set(hxs, mul(x.get, hfx.get));
    r.set(r1, add(1, mul(hxs.get, add(Q1, mul(hxs.get, add(Q2, mul(hxs.get, add(Q3, mul(hxs.get, add(Q4, mul(hxs.get, Q5)))))))))));
    r.set(t, sub(3.0, mul(r1.get, hfx.get)));
    r.set(e, mul(hxs.get, div(sub(r1.get, t.get), sub(6.0, mul(x.get, t.get)))));
    r.if(eq(k.get, 0), () => r.return(sub(x.get, sub(mul(x.get, e.get), hxs.get)))); // c is 0
    r.set(twopk, words(iadd(0x3ff00000, shl(k.get, 20)), I(0))); // 2^k
    r.set(e, sub(mul(x.get, sub(e.get, c.get)), c.get));
    r.set(e, sub(e.get, hxs.get));
    r.if(eq(k.get, -1), () => r.return(sub(mul(0.5, sub(x.get, e.get)), 0.5)));
    r.if(eq(k.get, 1), () => {
      r.if(lt(x.get, -0.25), () => r.return(mul(-2.0, sub(e.get, add(x.get, 0.5)))));
      r.return(add(1, mul(2.0, sub(x.get, e.get))));
    });
    r.if(or(ile(k.get, -2), igt(k.get, 56)), () => {
      // suffice to return exp(x) - 1
      r.set(y, sub(1, sub(e.get, x.get)));
      r.if(
        eq(k.get, 1024),
        () => r.set(y, mul(mul(y.get, 2.0), 8.98846567431158e307)),
        () => r.set(y, mul(y.get, twopk.get)),
      );
      r.return(sub(y.get, 1));
    });
    r.set(t, 1);
    r.if(
      ilt(k.get, 20),
      () => {
        r.set(t, withHigh(t.get, isub(0x3ff00000, shr(I(0x200000), k.get)))); // t = 1 - 2^-k
        r.set(y, sub(t.get, sub(e.get, x.get)));
        r.set(y, mul(y.get, twopk.get));
      },
      () => {
        r.set(t, withHigh(t.get, shl(isub(0x3ff, k.get), 20))); // 2^-k
        r.set(y, sub(x.get, add(e.get, t.get)));
        r.set(y, add(y.get, 1));
        r.set(y, mul(y.get, twopk.get));
      },
    );
    r.return(y.get);
  },

  /** s_tanh.c: from expm1(±2|x|); ±1 past |x| = 22. */
  tanh(r) {
    const tiny = 1.0e-300;
    const x = r.x;
    const [jx, ix] = [r.i32(), r.i32()];
    const [t, z] = [r.f64(), r.f64()];
    r.set(jx, high(x.get));
    r.set(ix, and(jx.get, 0x7fffffff));
    // x is INF or NaN
    r.if(ige(ix.get, 0x7ff00000), () => {
      r.if(ige(jx.get, 0), () => r.return(add(div(1, x.get), 1))); // tanh(±inf) = ±1
      r.return(sub(div(1, x.get), 1)); // tanh(NaN) = NaN
    });
    r.if(
      ilt(ix.get, 0x40360000), // |x| < 22
      () => {
        r.if(ilt(ix.get, 0x3e300000), () => r.if(gt(add(huge, x.get), 1), () => r.return(x.get))); // |x| < 2^-28
        r.if(
          ige(ix.get, 0x3ff00000), // |x| >= 1
          () => {
            r.set(t, r.call('expm1', mul(2, fabs(x.get))));
            r.set(z, sub(1, div(2, add(t.get, 2))));
          },
          () => {
            r.set(t, r.call('expm1', mul(-2, fabs(x.get))));
            r.set(z, div(neg(t.get), add(t.get, 2)));
          },
        );
      },
      () => r.set(z, sub(1, tiny)), // |x| >= 22: ±1
    );
    r.return(pick(ige(jx.get, 0), z.get, neg(z.get)));
  },

  /** e_cosh.c (V8's version): 1 + expm1(|x|)²/(2·exp(|x|)) near 0, (exp(|x|) + 1/exp(|x|))/2, exp(|x|)/2, exp(|x|/2)²/2. */
  cosh(r) {
    const KCOSH_OVERFLOW = 710.4758600739439;
    const half = 0.5;
    const x = r.x;
    const ix = r.i32();
    const [t, w] = [r.f64(), r.f64()];
    r.set(ix, and(high(x.get), 0x7fffffff));
    r.if(ilt(ix.get, 0x3fd62e43), () => {
      // |x| in [0, 0.5·log2]
      r.set(t, r.call('expm1', fabs(x.get)));
      r.set(w, add(1, t.get));
      r.if(ilt(ix.get, 0x3c800000), () => r.return(w.get)); // |x| < 2^-55: 1
      r.return(add(1, div(mul(t.get, t.get), add(w.get, w.get))));
    });
    r.if(ilt(ix.get, 0x40360000), () => {
      // |x| in [0.5·log2, 22]
      r.set(t, r.call('exp', fabs(x.get)));
      r.return(add(mul(half, t.get), div(half, t.get)));
    });
    r.if(ilt(ix.get, 0x40862e42), () => r.return(mul(half, r.call('exp', fabs(x.get))))); // [22, log(maxdouble)]
    r.if(le(fabs(x.get), KCOSH_OVERFLOW), () => {
      r.set(w, r.call('exp', mul(half, fabs(x.get))));
      r.set(t, mul(half, w.get));
      r.return(mul(t.get, w.get));
    });
    r.if(ige(ix.get, 0x7ff00000), () => r.return(mul(x.get, x.get))); // INF or NaN
    r.return(mul(huge, huge)); // overflow
  },

  /** e_sinh.c (V8's version): (E + E/(E+1))/2 with E = expm1(|x|), then exp(|x|)/2, exp(|x|/2)²/2. */
  sinh(r) {
    const KSINH_OVERFLOW = 710.4758600739439;
    const TWO_M28 = 3.725290298461914e-9; // 2^-28
    const LOG_MAXD = 709.7822265625; // 0x40862E42 00000000
    const shuge = 1.0e307;
    const x = r.x;
    const [h, ax, t, w] = [r.f64(), r.f64(), r.f64(), r.f64()];
    r.set(h, pick(lt(x.get, 0), -0.5, 0.5));
    r.set(ax, fabs(x.get));
    r.if(lt(ax.get, 22), () => {
      r.if(lt(ax.get, TWO_M28), () => r.return(x.get)); // |x| < 2^-28: x
      r.set(t, r.call('expm1', ax.get));
      r.if(lt(ax.get, 1), () => r.return(mul(h.get, sub(mul(2, t.get), div(mul(t.get, t.get), add(t.get, 1))))));
      r.return(mul(h.get, add(t.get, div(t.get, add(t.get, 1)))));
    });
    r.if(lt(ax.get, LOG_MAXD), () => r.return(mul(h.get, r.call('exp', ax.get))));
    r.if(le(ax.get, KSINH_OVERFLOW), () => {
      r.set(w, r.call('exp', mul(0.5, ax.get)));
      r.set(t, mul(h.get, w.get));
      r.return(mul(t.get, w.get));
    });
    r.return(mul(x.get, shuge)); // overflow or NaN
  },
};

/** The routines a routine calls (a module including it includes them). */
export const mathDependencies: Record<MathRoutine, readonly MathRoutine[]> = {
  exp: [],
  log: [],
  log1p: [],
  expm1: [],
  tanh: ['expm1'],
  cosh: ['expm1', 'exp'],
  sinh: ['expm1', 'exp'],
};
