/**
 * f64x2 SIMD for innermost loops: element-wise work (array lets, the reverse sweep's
 * `d$w[i] += …`), sums and the reverse sweep's accumulation into outer adjoints. A loop qualifies
 * when its body is straight-line arithmetic on elements at the loop's index (plus an invariant
 * offset: `X[k, i]`, a flat `z[k·h + i]`) and on values computed before the loop; it then runs
 * four iterations per step (two vectors of two lanes, with two accumulators per sum so the adds
 * do not wait on each other), then one vector of two if two or three are left, and the scalar
 * loop (select.ts) runs the last one, if any.
 *
 * Exactness: each lane computes what the scalar iteration computes, with the same IEEE operations
 * (SIMD add, mul, div, sqrt, min, max, floor, ceil are the scalar ones lane by lane; exp, tanh, …
 * are called per lane: the module's ports of V8's routines, math.ts, or imported Math functions).
 * Sums keep the order every copy of the loop shares (Selector.sumsInLanes, addsInLanes): a sum
 * the JS target splits goes in its four partial sums (two accumulators of two lanes, added as
 * (p0 + p2) + (p1 + p3) at the end), any other sum into the value gets each vector's lanes added
 * one by one in index order; only the reverse sweep's additions into a number take lanes where the
 * JS target adds in index order (a few ulps of the sum of the terms' magnitudes, in the gradient).
 * Nothing else is reassociated.
 *
 * Loops it does not take run as scalar loops: ones with branches, checks, nested loops, state,
 * comparisons, other reductions, an index used as a number, reads at another index of an array
 * the loop writes (an iteration would read what another wrote).
 */
import type { Expr, Instr, Operand } from '../../ir/ir.ts';
import { op, simdOp, valueType } from './encode.ts';
import type { Selector } from './select.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

const binary: Partial<Record<string, number>> = { add: simdOp.f64x2_add, sub: simdOp.f64x2_sub, mul: simdOp.f64x2_mul, div: simdOp.f64x2_div, min: simdOp.f64x2_min, max: simdOp.f64x2_max };
const unary: Partial<Record<string, number>> = { neg: simdOp.f64x2_neg, sqrt: simdOp.f64x2_sqrt, abs: simdOp.f64x2_abs, floor: simdOp.f64x2_floor, ceil: simdOp.f64x2_ceil };
/** Math functions (math.ts's or imported: ModuleBuilder.callMath), called lane by lane. */
const imported = new Set(['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh', 'exp', 'log', 'log1p', 'expm1', 'log2', 'log10', 'cbrt', 'hypot', 'sign', 'pow']);

/** Vectorised loops keep their bounds below this, so the index's steps of 4 never overflow. */
const vectorBound = 2 ** 30;

interface Plan {
  /** Index forms: variables equal to the loop index plus these invariant operands. */
  readonly offsets: Map<string, readonly Operand[]>;
  /** Values computed per lane (consts of the body that are not index forms). */
  readonly vectors: Set<string>;
  /** Outer variables the body adds into (`d$b += …`), accumulated in vectors. */
  readonly sums: string[];
  /** Numbers the body defines with `let` and adds into (`let $t = a; $t += b`): a vector per copy, like a const's. */
  readonly lets: Set<string>;
}

/** Whether the loop can run vectorised, and how: undefined when it cannot. */
function plan(s: Selector, loop: Loop): Plan | undefined {
  if (loop.exit || (loop.carried && loop.carried.length > 0)) return undefined;
  if (loop.reduction && loop.reduction.op !== 'sum') return undefined;
  const bound = (o: Operand) => (o.kind === 'const' ? (Number.isSafeInteger(o.value) ? Math.abs(o.value) : Infinity) : (s.ints.get(o.name) ?? Infinity));
  if (!(bound(loop.from) < vectorBound && bound(loop.to) < vectorBound)) return undefined;
  const defined = new Set<string>();
  // A `let` is a value per iteration too when it has its expression and is only added to after
  // (unroll-and-jam's four rows' terms for one element: ad/accumulate-once.ts's addOncePerElement).
  const lets = new Set<string>();
  for (const i of loop.body) {
    if (i.kind === 'const') defined.add(i.target);
    else if (i.kind === 'let' && i.expr) {
      defined.add(i.target);
      lets.add(i.target);
    } else if (i.kind !== 'store' && i.kind !== 'add') return undefined;
  }
  const invariant = (o: Operand) => o.kind === 'const' || (!defined.has(o.name) && o.name !== loop.index);
  const offsets = new Map<string, readonly Operand[]>([[loop.index, []]]);
  const vectors = new Set<string>();
  const sums: string[] = [];
  // An index form's invariant part must have an exact i32 (a twin, or a small constant).
  const integer = (o: Operand) => (o.kind === 'const' ? Number.isSafeInteger(o.value) : s.ints.has(o.name) && s.shadows.has(o.name));
  const number = (o: Operand) => (o.kind === 'const' ? true : vectors.has(o.name) || (invariant(o) && s.kinds.get(o.name) !== 'bool' && s.kinds.get(o.name) !== 'ptr'));
  const arrayOperand = (o: Operand) => o.kind === 'var' && invariant(o) && s.kinds.get(o.name) === 'ptr';
  // Reads and writes of arrays, to check no iteration reads what another writes.
  const loads: { array: string; index: Operand }[] = [];
  const stores: { array: string; index: Operand; accumulate: boolean }[] = [];
  const exprOk = (e: Expr): boolean => {
    if (e.op === 'load') {
      if (!arrayOperand(e.args[0])) return false;
      const index = e.args[1];
      if (!(index.kind === 'var' && offsets.has(index.name)) && !(invariant(index) && s.kinds.get(index.kind === 'var' ? index.name : '') !== 'bool')) return false;
      loads.push({ array: (e.args[0] as { name: string }).name, index });
      return true;
    }
    if (binary[e.op] !== undefined || unary[e.op] !== undefined || e.op === 'copy' || imported.has(e.op)) return e.args.every(number);
    return false;
  };
  for (const i of loop.body) {
    if (i.kind === 'let') {
      if (!exprOk(i.expr!)) return undefined;
      vectors.add(i.target);
    } else if (i.kind === 'const') {
      const [a, b] = i.expr.args;
      const offsetOf = (o: Operand) => (o.kind === 'var' ? offsets.get(o.name) : undefined);
      if (i.expr.op === 'copy' && offsetOf(a)) {
        offsets.set(i.target, offsetOf(a)!);
        continue;
      }
      if (i.expr.op === 'add' && offsetOf(a) && invariant(b) && integer(b)) {
        offsets.set(i.target, [...offsetOf(a)!, b]);
        continue;
      }
      if (i.expr.op === 'add' && offsetOf(b) && invariant(a) && integer(a)) {
        offsets.set(i.target, [...offsetOf(b)!, a]);
        continue;
      }
      if (!exprOk(i.expr)) return undefined;
      vectors.add(i.target);
    } else if (i.kind === 'store') {
      if (!(i.index.kind === 'var' && offsets.has(i.index.name)) || !(s.kinds.get(i.array) === 'ptr' && !defined.has(i.array))) return undefined;
      if (!exprOk(i.expr)) return undefined;
      stores.push({ array: i.array, index: i.index, accumulate: i.accumulate === true && !i.old });
    } else if (i.kind === 'add') {
      // Into a `let` of the body defined before: that lane's value grows (each copy its own vector).
      if (lets.has(i.target) && vectors.has(i.target)) {
        if (!exprOk(i.expr)) return undefined;
        continue;
      }
      if (defined.has(i.target) || s.kinds.get(i.target) !== 'f64' || sums.includes(i.target)) return undefined;
      if (!exprOk(i.expr)) return undefined;
      sums.push(i.target);
    }
  }
  const r = loop.reduction;
  if (r && !number(r.value)) return undefined;
  // Index forms are addresses only (the index, or an offset, read as a number would need a vector
  // of indices), and an outer variable added into is not read in the loop (its value is only
  // known at the end).
  const values = (e: Expr) => (e.op === 'load' ? [] : e.args);
  for (const i of loop.body) {
    const reads = i.kind === 'const' ? (offsets.has(i.target) ? [] : values(i.expr)) : i.kind === 'store' || i.kind === 'add' || i.kind === 'let' ? values(i.expr!) : [];
    for (const o of reads) if (o.kind === 'var' && (offsets.has(o.name) || sums.includes(o.name))) return undefined;
  }
  if (r && r.value.kind === 'var' && (offsets.has(r.value.name) || sums.includes(r.value.name))) return undefined;
  // Arrays written: every access to the same memory (rows of one matrix included) is the same
  // element as the write's, except that accumulations (`+=`) into memory the loop does not otherwise
  // read may be at other elements (unroll-and-jam's four rows of `d$L`, rows j down to j − 3):
  // each vector's addition loads, adds and stores before the next one loads (body, below), so where
  // they met at one element both terms would still be added, in another order (rounding only).
  const root = (name: string) => s.arrayRoot(name);
  const key = (a: { array: string; index: Operand }) => `${a.array}|${a.index.kind === 'var' ? (offsets.get(a.index.name) ?? []).map((o) => (o.kind === 'var' ? o.name : o.value)).join('+') : '?'}`;
  for (const w of stores) {
    for (const other of [...loads, ...stores]) {
      if (root(other.array) !== root(w.array)) continue;
      if (!(other.index.kind === 'var' && offsets.has(other.index.name))) return undefined;
      const bothAdd = w.accumulate && 'accumulate' in other && other.accumulate;
      if (key(other) !== key(w) && !bothAdd) return undefined;
    }
  }
  return { offsets, vectors, sums, lets };
}

/**
 * The body in the order its vectors run: the body's, except that accumulations (`+=`) into one
 * memory at offsets that differ by constants (the reverse sweep of `sum(i: x[i] · x[i + 1])`:
 * `d$x[i + 1] += x[i]; d$x[i] += x[i + 1]`) run together, where the last of them was, ordered so
 * that each element receives its terms in the scalar loop's order. An element e gets the term of
 * the accumulation at offset o from iteration e − o; a step runs one accumulation for all its
 * iterations before the next one, so the scalar order (iterations up, or down) is the order of
 * the offsets down (or up). Terms at the same offset keep the body's order. Without this, the
 * gradient's element would add the same terms in another order than the JS target (the last
 * bits). Offsets that differ by other variables (unroll-and-jam's rows of `d$L`, whose elements
 * never meet in GMM) keep the body's order. Moving an accumulation later is safe: nothing in the
 * loop reads that memory (plan), and its operands are defined before it.
 */
function scalarOrder(s: Selector, loop: Loop, p: Plan): readonly Instr[] {
  type Store = Extract<Instr, { kind: 'store' }>;
  const groups = new Map<string, Store[]>();
  for (const i of loop.body) {
    if (i.kind !== 'store' || !i.accumulate || i.old || i.index.kind !== 'var') continue;
    const root = s.arrayRoot(i.array);
    groups.set(root, [...(groups.get(root) ?? []), i]);
  }
  // Per accumulation: its offset's variables (as a key) and its constant part.
  const split = (i: Store) => {
    const offsets = p.offsets.get((i.index as { name: string }).name) ?? [];
    const names = offsets.flatMap((o) => (o.kind === 'var' ? [o.name] : [])).sort();
    const constant = offsets.reduce((k, o) => k + (o.kind === 'const' ? o.value : 0), 0);
    return { names: names.join(','), constant };
  };
  const moved = new Map<Instr, readonly Store[]>();
  const skipped = new Set<Instr>();
  for (const group of groups.values()) {
    const parts = group.map(split);
    if (new Set(parts.map((x) => x.constant)).size < 2 || new Set(parts.map((x) => x.names)).size > 1) continue;
    const sorted = group.map((i, k) => ({ i, k, c: parts[k].constant })).sort((a, b) => (loop.descending ? a.c - b.c : b.c - a.c) || a.k - b.k);
    for (const x of group) skipped.add(x);
    moved.set(group[group.length - 1], sorted.map((x) => x.i));
  }
  if (moved.size === 0) return loop.body;
  return loop.body.flatMap((i): readonly Instr[] => moved.get(i) ?? (skipped.has(i) ? [] : [i]));
}

/** Whether the loop can run vectorised. */
export function vectorizable(s: Selector, loop: Loop): boolean {
  return plan(s, loop) !== undefined;
}

/** Emits the loop vectorised, if it can be; false leaves it to the scalar loop. */
export function vectorizeLoop(s: Selector, loop: Loop): boolean {
  const p = plan(s, loop);
  if (!p) return false;
  const c = s.code;
  const simd = (code: number) => c.byte(0xfd).u32(code);
  // A vector value's local, one per copy (the two vectors of a step are computed interleaved).
  const v128 = new Map<string, number>();
  const vlocal = (name: string, copy: number) => {
    const key = `${copy}|${name}`;
    let n = v128.get(key);
    if (n === undefined) v128.set(key, (n = s.newLocal(valueType.v128)));
    return n;
  };
  // Math calls whose two vectors were computed by one call (a two-lane routine taking both), by the local holding them.
  const ready = new Map<Expr, string>();
  const scratch = s.newLocal(valueType.v128);
  const scratch2 = s.newLocal(valueType.v128);
  const address = s.newLocal(valueType.i32);
  const j = s.newLocal(valueType.i32);
  const splatZero = () => {
    s.f64const(0);
    simd(simdOp.f64x2_splat);
  };

  /** Pushes the byte address of the lane-0 element at an index form (the memarg adds the lane offset). */
  const elementAddress = (array: string, index: Operand) => {
    s.pointer({ kind: 'var', name: array });
    c.byte(op.local_get).u32(j);
    for (const o of p.offsets.get((index as { name: string }).name)!) {
      if (o.kind === 'const') c.byte(op.i32_const).s32(o.value | 0);
      else s.indexI32(o);
      c.byte(op.i32_add);
    }
    c.byte(op.i32_const).s32(3).byte(op.i32_shl).byte(op.i32_add);
  };
  const operand = (o: Operand, copy: number) => {
    if (o.kind === 'var' && p.vectors.has(o.name)) {
      c.byte(op.local_get).u32(vlocal(o.name, copy));
      return;
    }
    s.number(o);
    simd(simdOp.f64x2_splat);
  };
  const vexpr = (e: Expr, lane: number, copy: number) => {
    const done = ready.get(e);
    if (done !== undefined) {
      c.byte(op.local_get).u32(vlocal(done, copy));
      return;
    }
    if (e.op === 'load') {
      const [array, index] = e.args as [{ name: string }, Operand];
      if (index.kind === 'var' && p.offsets.has(index.name)) {
        elementAddress(array.name, index);
        simd(simdOp.v128_load);
        c.u32(3).u32(lane * 8);
      } else {
        s.expr(e);
        simd(simdOp.f64x2_splat);
      }
      return;
    }
    if (e.op === 'copy') return operand(e.args[0], copy);
    const b = binary[e.op];
    const u = unary[e.op];
    if (b !== undefined) {
      operand(e.args[0], copy);
      operand(e.args[1], copy);
      simd(b);
      return;
    }
    if (u !== undefined) {
      operand(e.args[0], copy);
      simd(u);
      return;
    }
    // A Math function with a two-lane version (simd-math.ts: tanh), both lanes in one call.
    if (e.args.length === 1 && s.module.hasMath2(e.op)) {
      operand(e.args[0], copy);
      s.module.callMath2(c, e.op);
      return;
    }
    // Another Math function, lane by lane.
    const temps = [scratch, scratch2];
    e.args.forEach((a, k) => {
      operand(a, copy);
      c.byte(op.local_set).u32(temps[k]);
    });
    for (const laneIndex of [0, 1]) {
      e.args.forEach((_, k) => {
        c.byte(op.local_get).u32(temps[k]);
        simd(simdOp.f64x2_extract_lane);
        c.byte(laneIndex);
      });
      s.module.callMath(c, e.op, e.args.length);
      if (laneIndex === 0) simd(simdOp.f64x2_splat);
      else {
        simd(simdOp.f64x2_replace_lane);
        c.byte(1);
      }
    }
  };
  // Two accumulators per sum taken in lanes (the reduction's, then each outer variable added
  // into): the reduction where the JS target takes it in partial sums, the additions in the reverse
  // sweep (Selector.sumsInLanes, addsInLanes: the same in every copy of the loop, whether or not it
  // vectorises). The other sums add their lanes into the variable in index order.
  const r = loop.reduction;
  const inLanes = new Set([...(r && s.sumsInLanes(loop) ? [r.target] : []), ...(s.addsInLanes(loop) ? p.sums : [])]);
  const sumTargets = [...(r ? [r.target] : []), ...p.sums].filter((t) => inLanes.has(t));
  const accumulators = sumTargets.map(() => [s.newLocal(valueType.v128), s.newLocal(valueType.v128)] as const);
  /** Adds vectors' lanes (by copy) into a variable one by one, in the iterations' order. */
  const addInOrder = (target: string, steps: readonly (readonly [lane: number, copy: number])[], push: (copy: number) => void) => {
    // Ascending, a step's copies hold indices j, j + 1 (copy 0) and j + 2, j + 3 (copy 1) in lanes
    // 0 and 1; descending runs them from the top.
    const order = steps.flatMap(([, copy]) => [0, 1].map((lane) => [copy, lane] as const));
    if (loop.descending) order.reverse();
    const t = s.local(target);
    for (const [copy, lane] of order) {
      c.byte(op.local_get).u32(t);
      push(copy);
      simd(simdOp.f64x2_extract_lane);
      c.byte(lane);
      c.byte(op.f64_add).byte(op.local_set).u32(t);
    }
  };
  const term = new Map<number, number>();
  const termLocal = (copy: number) => {
    let n = term.get(copy);
    if (n === undefined) term.set(copy, (n = s.newLocal(valueType.v128)));
    return n;
  };
  s.initReduction(loop);
  for (const [a0, a1] of accumulators) {
    splatZero();
    c.byte(op.local_set).u32(a0);
    splatZero();
    c.byte(op.local_set).u32(a1);
  }
  // A vector the body defines as `neg(v)` (the reverse sweep's `d$L[…] += -(ḡ·x)` in GMM's
  // triangular loop): an accumulating store of it subtracts v instead of adding the negation, one
  // operation fewer per element; a + (−v) is a − v in IEEE arithmetic, bit for bit. GMM's gradient
  // ran 3–4% faster at D = 10–20 (21 rounds, CPU time, interleaved with the neg and add).
  const negated = new Map<string, Operand>();
  for (const i of loop.body) if (i.kind === 'const' && i.expr.op === 'neg' && p.vectors.has(i.target)) negated.set(i.target, i.expr.args[0]);
  const subtrahend = (e: Expr): Operand | undefined => (e.op === 'copy' && e.args[0].kind === 'var' ? negated.get(e.args[0].name) : undefined);
  /**
   * The body for each of `steps` (a vector's lane offset and its copy: its locals and
   * accumulators), interleaved instruction by instruction: the iterations are independent (plan),
   * so the order between the two vectors' instructions does not matter, and interleaving lets a
   * call of a two-lane routine take both vectors at once (simd-math.ts, `×4`: its two dependency
   * chains run side by side).
   */
  const instrs = scalarOrder(s, loop, p);
  const body = (steps: readonly (readonly [lane: number, copy: number])[]) => {
    const pair = steps.length === 2;
    for (const [n, i] of instrs.entries()) {
      if (i.kind === 'const' && p.offsets.has(i.target)) continue;
      const e = i.kind === 'const' || i.kind === 'store' || i.kind === 'add' || i.kind === 'let' ? i.expr : undefined;
      if (pair && e && e.args.length === 1 && s.module.hasMath2(e.op) && !(i.kind === 'store' && i.accumulate && subtrahend(e))) {
        // Both vectors' arguments, one call, both results.
        const name = `$math2#${n}`;
        for (const [, copy] of steps) operand(e.args[0], copy);
        s.module.callMath2(c, e.op, 2);
        c.byte(op.local_set).u32(vlocal(name, steps[1][1]));
        c.byte(op.local_set).u32(vlocal(name, steps[0][1]));
        ready.set(e, name);
      }
      for (const [lane, copy] of steps) {
        if (i.kind === 'const' || i.kind === 'let') {
          vexpr(i.expr!, lane, copy);
          c.byte(op.local_set).u32(vlocal(i.target, copy));
        } else if (i.kind === 'add' && p.lets.has(i.target)) {
          c.byte(op.local_get).u32(vlocal(i.target, copy));
          vexpr(i.expr, lane, copy);
          simd(simdOp.f64x2_add);
          c.byte(op.local_set).u32(vlocal(i.target, copy));
        } else if (i.kind === 'store') {
          elementAddress(i.array, i.index);
          if (i.accumulate) {
            c.byte(op.local_tee).u32(address).byte(op.local_get).u32(address);
            simd(simdOp.v128_load);
            c.u32(3).u32(lane * 8);
            const v = subtrahend(i.expr);
            if (v) {
              operand(v, copy);
              simd(simdOp.f64x2_sub);
            } else {
              vexpr(i.expr, lane, copy);
              simd(simdOp.f64x2_add);
            }
          } else {
            vexpr(i.expr, lane, copy);
          }
          simd(simdOp.v128_store);
          c.u32(3).u32(lane * 8);
        } else if (i.kind === 'add' && inLanes.has(i.target)) {
          const acc = accumulators[sumTargets.indexOf(i.target)][copy];
          c.byte(op.local_get).u32(acc);
          vexpr(i.expr, lane, copy);
          simd(simdOp.f64x2_add);
          c.byte(op.local_set).u32(acc);
        } else if (i.kind === 'add') {
          vexpr(i.expr, lane, copy);
          c.byte(op.local_set).u32(termLocal(copy));
        }
      }
      if (i.kind === 'add' && !p.lets.has(i.target) && !inLanes.has(i.target)) addInOrder(i.target, steps, (copy) => c.byte(op.local_get).u32(termLocal(copy)));
      if (e) ready.delete(e);
    }
    if (r && inLanes.has(r.target)) {
      for (const [, copy] of steps) {
        const acc = accumulators[0][copy];
        c.byte(op.local_get).u32(acc);
        operand(r.value, copy);
        simd(simdOp.f64x2_add);
        c.byte(op.local_set).u32(acc);
      }
    } else if (r) {
      addInOrder(r.target, steps, (copy) => operand(r.value, copy));
    }
  };
  // j: the first of the four indices of a step (from up, or to − 4 down).
  if (loop.descending) {
    s.smallI32(loop.to);
    c.byte(op.i32_const).s32(4).byte(op.i32_sub);
  } else {
    s.smallI32(loop.from);
  }
  c.byte(op.local_set).u32(j);
  c.byte(op.block).byte(0x40).byte(op.loop).byte(0x40);
  if (loop.descending) {
    c.byte(op.local_get).u32(j);
    s.smallI32(loop.from);
    c.byte(op.i32_lt_s).byte(op.br_if).u32(1);
  } else {
    c.byte(op.local_get).u32(j);
    c.byte(op.i32_const).s32(4).byte(op.i32_add);
    s.smallI32(loop.to);
    c.byte(op.i32_gt_s).byte(op.br_if).u32(1);
  }
  body([
    [0, 0],
    [2, 1],
  ]);
  c.byte(op.local_get).u32(j).byte(op.i32_const).s32(4).byte(loop.descending ? op.i32_sub : op.i32_add).byte(op.local_set).u32(j);
  c.byte(op.br).u32(0).byte(op.end).byte(op.end);
  // One more vector of two when at least two iterations are left (short loops, such as GMM's
  // triangular ones, would otherwise run mostly one at a time).
  if (loop.descending) {
    // Left: from .. j + 3; the top two are j + 2, j + 3 (the lanes at offset 2).
    c.byte(op.local_get).u32(j).byte(op.i32_const).s32(2).byte(op.i32_add);
    s.smallI32(loop.from);
    c.byte(op.i32_ge_s).byte(op.if).byte(0x40);
    body([[2, 0]]);
    c.byte(op.local_get).u32(j).byte(op.i32_const).s32(2).byte(op.i32_sub).byte(op.local_set).u32(j);
    c.byte(op.end);
  } else {
    // Left: j .. to − 1.
    c.byte(op.local_get).u32(j).byte(op.i32_const).s32(2).byte(op.i32_add);
    s.smallI32(loop.to);
    c.byte(op.i32_le_s).byte(op.if).byte(0x40);
    body([[0, 0]]);
    c.byte(op.local_get).u32(j).byte(op.i32_const).s32(2).byte(op.i32_add).byte(op.local_set).u32(j);
    c.byte(op.end);
  }
  // The sums: both accumulators' lanes, added into the variable.
  sumTargets.forEach((target, k) => {
    const [a0, a1] = accumulators[k];
    c.byte(op.local_get).u32(a0).byte(op.local_get).u32(a1);
    simd(simdOp.f64x2_add);
    c.byte(op.local_tee).u32(scratch);
    simd(simdOp.f64x2_extract_lane);
    c.byte(0);
    c.byte(op.local_get).u32(scratch);
    simd(simdOp.f64x2_extract_lane);
    c.byte(1);
    c.byte(op.f64_add);
    const t = s.local(target);
    c.byte(op.local_get).u32(t).byte(op.f64_add).byte(op.local_set).u32(t);
  });
  // The iteration left, if any, as a scalar one.
  c.byte(op.local_get).u32(j);
  if (loop.descending) c.byte(op.i32_const).s32(3).byte(op.i32_add);
  c.byte(op.local_set).u32(s.shadowOf(loop.index));
  s.scalarLoop(loop, true);
  return true;
}
