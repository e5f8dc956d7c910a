/**
 * The wasm target's own exp, log, log1p, expm1, tanh, cosh and sinh (src/emit/wasm/math.ts, ports
 * of V8's fdlibm routines) against JavaScript's Math functions themselves, the independent source:
 * the same bits on random arguments over every magnitude, on random bit patterns (subnormals,
 * huge values, NaNs), on special values and on both sides of every threshold the routines branch
 * on. NaN results are compared as NaN (JavaScript cannot see a NaN's payload).
 */
import { describe, expect, it } from 'vitest';
import { LineMap } from '../src/diagnostics/span.ts';
import { Bytes, encodeModule, op, simdOp, valueType } from '../src/emit/wasm/encode.ts';
import { mathRoutines, type MathRoutine } from '../src/emit/wasm/math.ts';
import { simdRoutines } from '../src/emit/wasm/simd-math.ts';
import { ModuleBuilder } from '../src/emit/wasm/module.ts';
import { compileSync } from '../src/index.ts';
import { importCode } from './support/load.ts';
import { both } from './support/targets.ts';

/** A module whose export `f<k>` calls routine k through ModuleBuilder.callMath, as compiled code does. */
function routinesModule(): Record<MathRoutine, (x: number) => number> {
  const builder = new ModuleBuilder(new LineMap(''));
  const type = builder.type([valueType.f64], [valueType.f64]);
  const bodies = mathRoutines.map((name) => {
    const code = new Bytes();
    code.byte(op.local_get).u32(0);
    builder.callMath(code, name, 1);
    code.byte(op.end);
    return { type, locals: [], code };
  });
  const routines = builder.routineBodies(builder.imports.length + bodies.length);
  expect(builder.imports).toEqual([]);
  const bytes = encodeModule({
    types: builder.types,
    imports: builder.imports,
    functions: [...bodies, ...routines],
    globals: [],
    memoryPages: 1,
    exports: bodies.map((_, n) => ({ name: `f${n}`, kind: 'function' as const, index: n })),
  });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {}).exports as Record<string, (x: number) => number>;
  return Object.fromEntries(mathRoutines.map((name, n) => [name, exports[`f${n}`]])) as Record<MathRoutine, (x: number) => number>;
}

/**
 * A module whose export `g(a, b, c, d, lane)` calls the two-lane version of a routine
 * (simd-math.ts) through ModuleBuilder.callMath2, as vectorised loops do: with `vectors` = 1 on
 * the lanes (a, b), with 2 on the two vectors (a, b) and (c, d) at once; it returns lane `lane`
 * (0–3) of the results.
 */
function simdModule(name: string, vectors: 1 | 2): (a: number, b: number, c: number, d: number, lane: number) => number {
  const builder = new ModuleBuilder(new LineMap(''));
  const f = valueType.f64;
  const type = builder.type([f, f, f, f, valueType.i32], [f]);
  const code = new Bytes();
  const simd = (n: number) => code.byte(0xfd).u32(n);
  for (let v = 0; v < vectors; v++) {
    code.byte(op.local_get).u32(2 * v);
    simd(simdOp.f64x2_splat);
    code.byte(op.local_get).u32(2 * v + 1);
    simd(simdOp.f64x2_replace_lane);
    code.byte(1);
  }
  expect(builder.callMath2(code, name, vectors)).toBe(true);
  // Results into locals 5 (and 6), then lane `lane` of them.
  for (let v = vectors - 1; v >= 0; v--) code.byte(op.local_set).u32(5 + v);
  const laneOf = (n: number) => {
    code.byte(op.local_get).u32(5 + (n >> 1));
    simd(simdOp.f64x2_extract_lane);
    code.byte(n & 1);
  };
  // lane 0 ? r0 : lane 1 ? r1 : …
  for (let n = 0; n < 2 * vectors; n++) laneOf(n);
  for (let n = 2 * vectors - 2; n >= 0; n--) code.byte(op.local_get).u32(4).byte(op.i32_const).s32(n).byte(op.i32_le_u).byte(op.select);
  code.byte(op.end);
  const body = { type, locals: [valueType.v128, valueType.v128], code };
  const routines = builder.routineBodies(builder.imports.length + 1);
  const bytes = encodeModule({
    types: builder.types,
    imports: builder.imports,
    functions: [body, ...routines],
    // The two-lane routines read their constants from immutable globals after the heap pointer's.
    globals: [0],
    constants: builder.constants,
    memoryPages: 1,
    exports: [{ name: 'g', kind: 'function' as const, index: 0 }],
  });
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {}).exports as Record<string, (a: number, b: number, c: number, d: number, lane: number) => number>;
  return exports.g;
}

const view = new DataView(new ArrayBuffer(8));
const fromWords = (hi: number, lo: number) => {
  view.setUint32(0, hi >>> 0);
  view.setUint32(4, lo >>> 0);
  return view.getFloat64(0);
};
const words = (x: number): [number, number] => {
  view.setFloat64(0, x);
  return [view.getUint32(0), view.getUint32(4)];
};
/** The next double up and down (finite x). */
const up = (x: number) => {
  const [hi, lo] = words(x);
  if (x === 0) return Number.MIN_VALUE;
  return x > 0 ? fromWords(lo === 0xffffffff ? hi + 1 : hi, (lo + 1) >>> 0) : fromWords(lo === 0 ? hi - 1 : hi, (lo - 1) >>> 0);
};
const down = (x: number) => -up(-x);

/** A deterministic generator (xorshift), so a failure is reproduced by the same run. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** The high words the routines compare against (their branch boundaries), and the arguments around them. */
const thresholds = [
  0x40862e42, 0x3fd62e42, 0x3fd62e43, 0x3ff0a2b2, 0x3e300000, 0x4043687a, 0x3c900000, 0x40360000, 0x3ff00000, 0x3c800000, 0x3fda827a,
  0x3fd2bec4, 0x3e200000, 0x43400000, 0x00100000, 0x3fe6a09e, 0x3ff6a09e, 0x3fe95f64, 0x3ff95f64, 0x7ff00000, 0x7fefffff, 0x40000000,
];

function specialArguments(): number[] {
  const xs: number[] = [0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, Number.MAX_VALUE, 2.2250738585072014e-308, 2.225073858507201e-308];
  xs.push(1, 2, 0.5, 0.25, 22, 56 * Math.LN2, Math.LN2 / 2, 1.5 * Math.LN2, Math.LN2, Math.SQRT2, Math.SQRT1_2, Math.E, 2 ** -28, 2 ** -54, 2 ** -55, 2 ** -29, 2 ** 53, 2 ** 54, 1e300);
  // exp's and expm1's overflow and underflow thresholds, cosh's and sinh's, and their neighbours.
  xs.push(7.09782712893383973096e2, -7.45133219101941108420e2, 710.4758600739439, 709.7822265625, -708.3964185322641, -744.4400719213812, 709.089565712824);
  for (const hw of thresholds) xs.push(fromWords(hw, 0), fromWords(hw, 0xffffffff), fromWords(hw - 1, 0xffffffff), fromWords(hw + 1, 0));
  for (let k = -1080; k <= 1030; k++) xs.push(2 ** k, 1 + 2 ** -Math.min(k, 60), k, k * Math.LN2, k / 16);
  const more = xs.filter(Number.isFinite).flatMap((x) => [up(x), down(x), up(up(x)), down(down(x))]);
  const all = [...xs, ...more];
  return [...all, ...all.map((x) => -x)];
}

function randomArguments(count: number): number[] {
  const next = random(20261207);
  const xs: number[] = [];
  const scales = [1e-310, 1e-300, 1e-20, 1e-9, 1e-5, 0.01, 0.3, 1, 2, 5, 10, 25, 40, 100, 700, 720, 800, 1e10, 1e300];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) {
      // A random bit pattern: every exponent, subnormals, infinities and NaNs included.
      xs.push(fromWords(Math.floor(next() * 2 ** 32), Math.floor(next() * 2 ** 32)));
    } else if (kind === 1) {
      xs.push((next() * 2 - 1) * scales[Math.floor(next() * scales.length)]);
    } else {
      // Log-uniform magnitudes from 2^-60 to 2^11, either sign.
      xs.push((next() < 0.5 ? -1 : 1) * 2 ** (next() * 71 - 60));
    }
  }
  return xs;
}

/** The number of functions a module defines (its function section's count: one byte here). */
function functionCount(bytes: Uint8Array): number {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      size |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (id === 3) return bytes[at];
    at += size;
  }
  return 0;
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe("the wasm target's exp, log, log1p, expm1, tanh, cosh and sinh (math.ts)", () => {
  const routines = routinesModule();
  const args = [...specialArguments(), ...randomArguments(300_000)];

  // The ports are bit-exact where the C compiler that built V8 does what the C source says. On
  // x86-64 (this machine) it does; a build that fuses a·b + c into one FMA instruction (possible
  // on arm64) rounds differently, so elsewhere the test asks for 1 ulp (≤ 2.3e-16 relative).
  const exact = process.arch === 'x64';

  for (const name of mathRoutines) {
    it(`${name}: the same bits as Math.${name} on ${args.length} arguments`, () => {
      const f = routines[name];
      const reference = Math[name];
      const wrong: string[] = [];
      for (const x of args) {
        const a = f(x);
        const b = reference(x);
        if (same(a, b)) continue;
        if (!exact && Math.abs(a - b) <= 2.3e-16 * Math.abs(b)) continue;
        if (wrong.length < 10) wrong.push(`${name}(${x}) = ${a}, Math.${name}(${x}) = ${b}`);
        else break;
      }
      expect(wrong).toEqual([]);
    });
  }

  for (const name of simdRoutines) {
    for (const vectors of [1, 2] as const) {
      it(`${2 * vectors} lanes at once (simd-math.ts): ${name} of each lane the same bits as Math.${name}, beside every kind of other lane`, () => {
        const g = simdModule(name, vectors);
        const reference = Math[name];
        // Near the thresholds the two-lane routines take (tanh: 2^-28 and 19; cosh: 2^-54 and 22) and fdlibm's (1, ln2/2, …).
        // tanh's expm1 argument 2|x| crosses k = 19 → 20 (its path for k ≥ 20 runs behind a branch) at |x| = 19.5·ln2/2.
        const near = [2 ** -28, 2 ** -54, 19, 22, 1, 0.5, Math.LN2 / 2, 1.5 * Math.LN2, (19.5 * Math.LN2) / 2].flatMap((x) => [x, up(x), down(x), up(up(x)), down(down(x))]);
        const xs = [...args, ...near, ...near.map((x) => -x), ...randomArguments(30_000).map((x) => x / 2 ** 40)];
        // Each argument in every lane: beside arguments of the fast range (0.5, −3, and 10, whose
        // tanh takes expm1's path k ≥ 20), beside one that sends the lanes to the scalar routine
        // (NaN, 0, 30), and beside its neighbours in the list.
        const partners = (x: number, i: number) => [0.5, -3, 10, NaN, 0, 30, xs[(i + 1) % xs.length], x];
        const wrong: string[] = [];
        xs.forEach((x, i) => {
          for (const p of partners(x, i)) {
            const q = xs[(i + 2) % xs.length];
            for (let lane = 0; lane < 2 * vectors; lane++) {
              const lanes = [p, q, p, q];
              lanes[lane] = x;
              const got = g(lanes[0], lanes[1], lanes[2], lanes[3], lane);
              if (same(got, reference(x))) continue;
              if (!exact && Math.abs(got - reference(x)) <= 2.3e-16 * Math.abs(reference(x))) continue;
              if (wrong.length < 10) wrong.push(`${name}(${x}) in lane ${lane} of ${lanes} = ${got}, Math.${name} = ${reference(x)}`);
            }
          }
        });
        expect(wrong).toEqual([]);
      });
    }
  }

  it('in compiled code: element-wise array lets (vectorised, two lanes per call site) and a scalar loop give the JS target\'s bits', () => {
    // No sums: each element is one routine's result, so the two targets must agree bit for bit.
    const { js, wasm } = both(
      'fn ex(x: vec[n]) {\n  let y[i] = exp(x[i]) + log(abs(x[i])) + log1p(abs(x[i]))\n  return y\n}\n' +
        'fn h(x: vec[n]) {\n  let y[i] = tanh(x[i]) - cosh(x[i]) * sinh(x[i]) + expm1(x[i])\n  return y\n}\n' +
        'fn s(x: vec[n]) {\n  let y[i] = if x[i] > 0 then exp(x[i]) else tanh(x[i])\n  return y\n}\n',
    );
    const x = [...specialArguments().slice(0, 2000), ...randomArguments(3000)];
    for (const name of ['ex', 'h', 's']) {
      const a = wasm[name](x) as Float64Array;
      const b = js[name](x) as Float64Array;
      const wrong = [...a.keys()].filter((i) => !same(a[i], b[i])).slice(0, 5).map((i) => `${name}(${x[i]}): ${a[i]} ≠ ${b[i]}`);
      expect(wrong).toEqual([]);
    }
  });

  it("a loop that cannot vectorise but stores tanh of its values is split, the tanh loop vectorised (fission.ts): the JS target's bits", () => {
    // A branch per element (not vectorisable); a dot product per element (the MLP's shape); the
    // array read at other elements after the loop. No sums across elements: bit for bit.
    const { js, wasm, code } = both(
      'fn b(x: vec[n]) {\n  let y[i] = tanh(if x[i] > 0 then x[i] else 3 * x[i])\n  let w[i] = y[i] + y[n - 1 - i]\n  return w\n}\n' +
        'fn d(x: vec[n], A: mat[h, 3]) {\n  let z[k, j] = tanh(x[k] * sum(i: A[j, i] * A[j, i] * (if i > 0 then 1 else 2)))\n  return sum(k: z[k, 0] * x[k])\n}\n',
    );
    const bytes = Buffer.from(/\$base64\('([^']*)'\)/.exec(code)![1], 'base64');
    // The split's loop calls tanh two vectors at a time (a function taking two v128s and returning two).
    expect(bytes.includes(Buffer.from([0x60, 0x02, 0x7b, 0x7b, 0x02, 0x7b, 0x7b]))).toBe(true);
    const x = [...specialArguments().slice(0, 2000), ...randomArguments(3000)];
    const a = wasm.b(x) as Float64Array;
    const r = js.b(x) as Float64Array;
    expect([...a.keys()].filter((i) => !same(a[i], r[i])).slice(0, 5).map((i) => `b at ${i}: ${a[i]} ≠ ${r[i]}`)).toEqual([]);
    const xs = randomArguments(999).map((v) => Math.max(-30, Math.min(30, v)));
    const A = [
      [0.5, -1, 2],
      [3, 0.25, -0.125],
      [1e-9, 2e-9, 0],
    ];
    for (const fn of ['d', 'dGrad'] as const) {
      const p = (wasm[fn] as (...args: unknown[]) => unknown)(xs, A);
      const q = (js[fn] as (...args: unknown[]) => unknown)(xs, A);
      // Both targets add the sums' terms in order: the i sums are 3 terms, one at a time past the
      // branch; z[k, 0] is not at the k loop's index (a stride of h), so that sum is a scalar loop.
      expect(JSON.stringify(p)).toBe(JSON.stringify(q));
    }
  });

  it('a compiled module includes only the routines its functions call, and they are not imported', async () => {
    const source = 'fn f(x: vec[n]) = sum(i: tanh(x[i]))';
    const code = compileSync(source, { target: 'wasm' }).code!;
    const m = await importCode(code);
    const x = Float64Array.from([-30, -1, -0.5, 0, 1e-10, 0.3, 2, 25]);
    // One term per call, so the vectorised sum's order does not enter: tanh's bits themselves.
    for (const v of x) expect(Object.is((m.f as unknown as (x: Float64Array) => number)(Float64Array.of(v)), Math.tanh(v))).toBe(true);
    const bytes = Buffer.from(/\$base64\('([^']*)'\)/.exec(code)![1], 'base64');
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module).filter((i) => i.module === 'Math')).toEqual([]);
    // f and fGrad (exported), then the vectorised sum's tanh of two vectors (a step of four) and
    // of one (two left), the scalar tanh (their fallback and the last odd element's), the same
    // three of cosh for the gradient's vectorised loop, and the expm1 and exp they call.
    const functions = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function');
    expect(functions.map((e) => e.name)).toEqual(['f0', 'f1']);
    expect(functionCount(bytes)).toBe(2 + 8);
  });
});
