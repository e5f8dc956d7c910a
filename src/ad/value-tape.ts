import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, variable, type Expr, type Instr, type Operand } from '../ir/ir.ts';
import { emitOp } from './checkpoint.ts';
import type { Loop } from './loops.ts';

/**
 * Store-or-recompute for the values of a loop with state (its states: checkpoint.ts). The reverse
 * sweep of such a loop recomputes each iteration from its stored starting state before reversing
 * it: with array state, every element-wise statement of the iteration then runs three times (in
 * the forward loop, again in the recomputation, and its reverse, which reads the arrays it wrote).
 * When the trip count T times the state and the iteration's arrays fits the budget, the forward
 * loop keeps instead each iteration's arrays: the arrays an iteration makes (array lets, a
 * callee's results, copies of a state before an update in place) live in a tape of T parts, one
 * per iteration, written where the loop writes them, and the reverse sweep reads iteration t's
 * part without running the statements that filled it. Otherwise one part is used by every
 * iteration (as before: the reverse sweep recomputes it). The choice is made at run time, before
 * the loop, from T: an array `A` of n numbers per iteration is indexed `A[o + i]` with
 * o = (t - from)·u, u = n when values are stored and 0 when not, so both cases are the same code.
 *
 * Kept: arrays allocated before the loop and used only inside its body (not in a `while`'s
 * condition, nor in a loop with state nested in it), by element reads and plain stores. The
 * state itself (updated in place) and scalars are recomputed as before; the reverse sweep skips
 * only loops that do nothing but fill kept arrays (`skippable`).
 */
export interface ValueTape {
  /** 1 when the iteration's arrays are kept for every iteration (the reverse sweep skips their loops), 0 when not. */
  readonly stored: Operand;
  /** The arrays kept, by name. */
  readonly arrays: ReadonlySet<string>;
}

export interface ValueTapes {
  /** By the index variable of the loop (as for checkpoint.ts's tapes). */
  readonly loops: Map<string, ValueTape>;
  /** The length of one iteration's part of each kept array: its adjoint array has that many elements, read at `i`. */
  readonly lengths: Map<string, Operand>;
  /** The variables `k = add(o, i)` indexing a kept array (by their forward names): i is the element in the iteration's part. */
  readonly indices: Set<string>;
}

export function newValueTapes(): ValueTapes {
  return { loops: new Map(), lengths: new Map(), indices: new Set() };
}

/** Rewrites each loop with state at the top level of a function body to keep its iterations' arrays (see ValueTape). */
export function tapeIterationValues(body: readonly Instr[], names: NameSupply, tapes: ValueTapes, budget: number): Instr[] {
  const allocations = new Map<string, Extract<Instr, { kind: 'array' }>>();
  const counts = new Map<string, number>();
  forEachInstr(body, (i) => {
    if (i.kind === 'array') counts.set(i.target, (counts.get(i.target) ?? 0) + 1);
  });
  for (const i of body) if (i.kind === 'array' && !i.rows && i.overwritten && !i.returned && !i.declared && counts.get(i.target) === 1) allocations.set(i.target, i);
  if (allocations.size === 0) return [...body];
  // Uses of each candidate array: inside which loop with state (top level), and whether each is a plain load or store.
  const disqualified = new Set<string>();
  const usedIn = new Map<string, Loop>();
  const written = new Set<string>();
  const note = (name: string, loop: Loop | undefined) => {
    if (!allocations.has(name)) return;
    if (!loop || (usedIn.has(name) && usedIn.get(name) !== loop)) disqualified.add(name);
    else usedIn.set(name, loop);
  };
  const bad = (o: Operand | undefined) => {
    if (o?.kind === 'var' && allocations.has(o.name)) disqualified.add(o.name);
  };
  const expr = (e: Expr, loop: Loop | undefined) => {
    e.args.forEach((a, k) => {
      if (k === 0 && e.op === 'load' && a.kind === 'var') note(a.name, loop);
      else bad(a);
    });
  };
  /** `loop`: the top-level loop with state around, while its body is walked (undefined elsewhere and in nested loops with state). */
  const walk = (block: readonly Instr[], loop: Loop | undefined) => {
    for (const i of block) {
      switch (i.kind) {
        case 'const':
        case 'let':
        case 'set':
        case 'add':
          if (i.expr) expr(i.expr, loop);
          break;
        case 'store':
          if (allocations.has(i.array)) {
            note(i.array, loop);
            written.add(i.array);
            if (i.accumulate || i.old) disqualified.add(i.array);
          }
          bad(i.index);
          bad(i.old);
          expr(i.expr, loop);
          break;
        case 'if':
          bad(i.condition);
          walk(i.then, loop);
          walk(i.else, loop);
          break;
        case 'loop':
          bad(i.from);
          bad(i.to);
          for (const a of i.carriedArrays ?? []) bad(variable(a.name));
          if (i.exit) walk(i.exit.body, undefined);
          bad(i.exit?.condition);
          bad(i.reduction?.value);
          walk(i.body, i.carried ? (loop === undefined && block === body ? i : undefined) : loop);
          break;
        case 'array':
          bad(i.length);
          break;
        case 'check':
          bad(i.index);
          bad(i.length);
          bad(i.from);
          break;
      }
    }
  };
  walk(body, undefined);
  const kept = new Map<Loop, string[]>();
  for (const [name, loop] of usedIn) {
    if (disqualified.has(name) || !written.has(name)) continue;
    kept.set(loop, [...(kept.get(loop) ?? []), name]);
  }
  if (kept.size === 0) return [...body];
  const moved = new Set([...kept.values()].flat());
  const out: Instr[] = [];
  for (const instr of body) {
    if (instr.kind === 'array' && moved.has(instr.target)) continue;
    const arrays = instr.kind === 'loop' ? kept.get(instr) : undefined;
    if (instr.kind !== 'loop' || !arrays) {
      out.push(instr);
      continue;
    }
    out.push(...tapeLoop(instr, arrays.map((a) => allocations.get(a)!), names, tapes, budget));
  }
  return out;
}

function tapeLoop(loop: Loop, arrays: readonly Extract<Instr, { kind: 'array' }>[], names: NameSupply, tapes: ValueTapes, budget: number): Instr[] {
  const origin = loop.origin;
  const out: Instr[] = [];
  const op = (o: Parameters<typeof emitOp>[3], ...args: Operand[]) => emitOp(out, names, origin, o, ...args);
  const sum = (terms: readonly Operand[]): Operand => terms.reduce((a, t) => (a.kind === 'const' && a.value === 0 ? t : op('add', a, t)), constant(0));
  // T, the state S (as checkpoint.ts counts it) and the arrays' numbers per iteration V.
  const iterations = op('max', op('sub', loop.to, loop.from), constant(0));
  const state = sum([constant((loop.carried ?? []).length), ...(loop.carriedArrays ?? []).map((a) => a.length)]);
  // (Arrays of one length counted together: V = 12·n, not n + n + … + n.)
  const byLength = new Map<string, { length: Operand; count: number }>();
  for (const a of arrays) {
    const key = JSON.stringify(a.length);
    byLength.set(key, { length: a.length, count: (byLength.get(key)?.count ?? 0) + 1 });
  }
  const perIteration = sum([...byLength.values()].map(({ length, count }) => (count === 1 ? length : length.kind === 'const' ? constant(count * length.value) : op('mul', constant(count), length))));
  const stored = op('le', op('mul', iterations, op('add', state, perIteration)), constant(budget));
  const units = new Map<string, Operand>();
  const unitOf = (length: Operand) => {
    const key = JSON.stringify(length);
    let unit = units.get(key);
    if (!unit) {
      unit = op('select', stored, length, constant(0));
      units.set(key, unit);
    }
    return unit;
  };
  const mb = ((budget * 8) / 2 ** 20).toLocaleString('en-US');
  const list = arrays.map((a) => a.target).join(', ');
  arrays.forEach((a, k) => {
    unitOf(a.length);
    tapes.lengths.set(a.target, a.length);
    const length = op('select', stored, op('mul', iterations, a.length), a.length);
    const choice =
      `the arrays each iteration makes (${list}):\n` +
      `kept for every iteration if trip count × (state + these arrays) ≤ ${budget.toLocaleString('en-US')} numbers (${mb} MB),\n` +
      `and the reverse sweep reads them back instead of running their statements again; else one\n` +
      `iteration's, which each iteration reuses and the reverse sweep recomputes`;
    out.push({ ...a, length, ...(k === 0 ? { note: choice } : { note: undefined }) });
  });
  tapes.loops.set(loop.index, { stored, arrays: new Set(arrays.map((a) => a.target)) });
  // In the body: o = (t - from)·u for each length, then every access to a kept array at o + i.
  const top: Instr[] = [];
  const slot = loop.from.kind === 'const' && loop.from.value === 0 ? variable(loop.index) : emitOp(top, names, origin, 'sub', variable(loop.index), loop.from);
  const offsets = new Map<string, Operand>();
  const lengthOf = new Map(arrays.map((a) => [a.target, a.length]));
  const offsetOf = (array: string) => {
    const key = JSON.stringify(lengthOf.get(array));
    let offset = offsets.get(key);
    if (!offset) {
      offset = emitOp(top, names, origin, 'mul', slot, unitOf(lengthOf.get(array)!));
      offsets.set(key, offset);
    }
    return offset;
  };
  const at = (before: Instr[], array: string, index: Operand): Operand => {
    const target = names.temp();
    tapes.indices.add(target);
    before.push({ kind: 'const', target, expr: { op: 'add', args: [offsetOf(array), index] }, origin });
    return variable(target);
  };
  const redirect = (e: Expr, before: Instr[]): Expr => (e.op === 'load' && e.args[0].kind === 'var' && lengthOf.has(e.args[0].name) ? { ...e, args: [e.args[0], at(before, e.args[0].name, e.args[1])] } : e);
  const rewrite = (block: readonly Instr[]): Instr[] =>
    block.flatMap((i): Instr[] => {
      const before: Instr[] = [];
      let instr: Instr;
      switch (i.kind) {
        case 'const':
        case 'set':
        case 'add':
          instr = { ...i, expr: redirect(i.expr, before) };
          break;
        case 'let':
          instr = i.expr ? { ...i, expr: redirect(i.expr, before) } : i;
          break;
        case 'store': {
          const expr = redirect(i.expr, before);
          instr = { ...i, expr, ...(lengthOf.has(i.array) && { index: at(before, i.array, i.index) }) };
          break;
        }
        case 'if':
          instr = { ...i, then: rewrite(i.then), else: rewrite(i.else) };
          break;
        case 'loop':
          instr = i.carried ? i : { ...i, body: rewrite(i.body) };
          break;
        default:
          instr = i;
      }
      return [...before, instr];
    });
  const body = rewrite(loop.body);
  out.push({ ...loop, body: [...top, ...body] });
  return out;
}

/**
 * Whether the reverse sweep may skip a loop of a recomputed iteration when its values are stored:
 * it does nothing but fill kept arrays (no reduction or state, no assignment to a variable outside it).
 */
export function skippable(loop: Loop, kept: ReadonlySet<string>): boolean {
  if (loop.reduction || loop.carried || loop.exit) return false;
  let only = true;
  const local = new Set<string>([loop.index]);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'const' || i.kind === 'let') local.add(i.target);
    if (i.kind === 'loop') local.add(i.index);
  });
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'store' && !kept.has(i.array)) only = false;
    if ((i.kind === 'set' || i.kind === 'add') && !local.has(i.target)) only = false;
    if (i.kind === 'loop' && (i.reduction || i.carried)) only = false;
  });
  return only;
}
