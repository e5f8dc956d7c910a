import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, variable, type Instr, type Op, type Operand, type Origin } from '../ir/ir.ts';
import type { Loop } from './loops.ts';

/** The default cap on a loop's tape: 64 MB (`--checkpoint-memory`, `checkpointMemory`). */
export const defaultCheckpointMemoryMB = 64;

/**
 * Store-or-recompute for loops that carry state (the decision for nested reductions is in
 * loops.ts), made at run time before the loop, from its trip count T (a `while`: its `max`) and
 * its state size S (the carried variables):
 *
 * - T·S numbers fit in the budget: the state at the start of every iteration is stored (a tape),
 *   and the reverse sweep reads iteration t's state back, recomputes that iteration's values and
 *   reverses them. Storing the state (S numbers) rather than every value keeps the tape small.
 * - Otherwise, two-level checkpointing: the state is stored every C = ⌈√T⌉ iterations (snapshots),
 *   and the reverse sweep, segment by segment from the last, recomputes the segment's states from
 *   its snapshot into a segment tape of C states, then reverses the segment as above. Memory is
 *   about 2·√T·S numbers instead of T·S, for one more forward pass over the loop.
 *
 * Both are the same code with C = 1 for full storage (the segment tape then holds one state), so
 * the two agree to the last bit: every iteration is recomputed from the same stored numbers.
 */
export interface Tape {
  /** The state at the start of every C-th iteration: snapshot q at q·S + k. */
  readonly snapshots: string;
  /** The states of one segment, recomputed by the reverse sweep: iteration start + j at j·S + k. */
  readonly segment: string;
  /** S, the numbers of one state: the carried numbers first, then each array's elements. */
  readonly stride: Operand;
  /** Each array of the state (its buffer and length) and where its elements start in a state. */
  readonly arrays: readonly { readonly name: string; readonly length: Operand; readonly offset: Operand }[];
  /** C, the iterations per snapshot (1: every state is stored). */
  readonly every: Operand;
}

/** The tape of each loop with carried state, by the loop's index variable (unique in a function). */
export type Tapes = Map<string, Tape>;

/**
 * The body of a loop with carried state without its bookkeeping (the trip count's `set`, the
 * snapshots, the final `set`s), and the new state its final `set`s assign.
 */
export function splitIteration(loop: Loop, tape: Tape | undefined): { core: Instr[]; next: Operand[] } {
  const carried = loop.carried ?? [];
  const isSnapshot = (i: Instr) => {
    let found = false;
    if (i.kind === 'if') forEachInstr(i.then, (s) => (found ||= s.kind === 'store' && s.array === tape?.snapshots));
    return found;
  };
  const body = loop.body.filter((i) => !(i.kind === 'set' && i.target === loop.exit?.trips) && !isSnapshot(i));
  let end = body.length;
  const next = new Map<string, Operand>();
  while (end > 0) {
    const last = body[end - 1];
    if (last.kind !== 'set' || !carried.includes(last.target) || next.has(last.target) || last.expr.op !== 'copy') break;
    next.set(last.target, last.expr.args[0]);
    end--;
  }
  return { core: body.slice(0, end), next: carried.map((name) => next.get(name) ?? variable(name)) };
}

/** Emits `const $tN = op(a, b)` into a list. */
export function emitOp(out: Instr[], names: NameSupply, origin: Origin, op: Op, ...args: Operand[]): Operand {
  const target = names.temp();
  out.push({ kind: 'const', target, expr: { op, args }, origin });
  return variable(target);
}

/**
 * Returns the instructions replacing a loop with carried state: the choice of C, the snapshot and
 * segment arrays, and the loop storing a snapshot every C iterations. `budget` is in numbers.
 */
export function tapeLoop(loop: Loop, names: NameSupply, tapes: Tapes, budget: number): Instr[] {
  const carried = loop.carried ?? [];
  const origin = loop.origin;
  const out: Instr[] = [];
  const op = (o: Op, ...args: Operand[]) => emitOp(out, names, origin, o, ...args);
  // S: the carried numbers, then each array's elements (lengths known before the loop).
  let stride: Operand = constant(carried.length);
  const arrays = (loop.carriedArrays ?? []).map((a) => {
    const offset = stride;
    stride = stride.kind === 'const' && stride.value === 0 ? a.length : op('add', stride, a.length);
    return { ...a, offset };
  });
  const times = (a: Operand, s: Operand) => (s.kind === 'const' && s.value === 1 ? a : op('mul', a, s));
  const iterations = op('max', op('sub', loop.to, loop.from), constant(0));
  const size = times(iterations, stride);
  const every = op('select', op('le', size, constant(budget)), constant(1), op('ceil', op('sqrt', iterations)));
  const count = op('ceil', op('div', iterations, every));
  const snapshots = names.saved();
  const segment = names.saved();
  const mb = ((budget * 8) / 2 ** 20).toLocaleString('en-US');
  const n = carried.length;
  const what =
    arrays.length === 0
      ? `${n} number${n === 1 ? '' : 's'}`
      : `${n > 0 ? `${n} number${n === 1 ? '' : 's'} and ` : ''}the elements of ${arrays.map((a) => a.name).join(', ')}`;
  const S = stride.kind === 'const' ? String(stride.value) : 'S';
  const note =
    `the state (${what}${stride.kind === 'const' ? '' : ': S in all'}) at the start of each iteration, for the reverse sweep: all of them if\n` +
    `the trip count × ${S} ≤ ${budget.toLocaleString('en-US')} (${mb} MB), else every ⌈√(trip count)⌉-th (two-level checkpointing:\n` +
    `the reverse sweep recomputes the states in between from these)`;
  out.push({ kind: 'array', target: snapshots, length: times(count, stride), overwritten: true, note, origin });
  const segmentLength = times(every, stride);
  out.push({ kind: 'array', target: segment, length: segmentLength, overwritten: true, note: 'the states of one segment, recomputed by the reverse sweep', origin });
  // In the loop: at iterations from + q·C, store the state at snapshot q.
  const check: Instr[] = [];
  const q = emitOp(check, names, origin, 'div', loop.from.kind === 'const' && loop.from.value === 0 ? variable(loop.index) : emitOp(check, names, origin, 'sub', variable(loop.index), loop.from), every);
  const isSnapshot = emitOp(check, names, origin, 'eq', emitOp(check, names, origin, 'floor', q), q);
  const stores: Instr[] = [];
  const base = stride.kind === 'const' && stride.value === 1 ? q : emitOp(stores, names, origin, 'mul', q, stride);
  carried.forEach((name, k) => {
    const at = k === 0 ? base : emitOp(stores, names, origin, 'add', base, constant(k));
    stores.push({ kind: 'store', array: snapshots, index: at, expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin });
  });
  for (const a of arrays) stores.push(copyElements(a.name, constant(0), snapshots, emitOp(stores, names, origin, 'add', base, a.offset), a.length, names, origin));
  tapes.set(loop.index, { snapshots, segment, stride, arrays, every });
  out.push({ ...loop, body: [...check, { kind: 'if', condition: isSnapshot, then: stores, else: [], origin }, ...loop.body] });
  return out;
}

/** A loop copying `length` elements: to[at + e] = from[start + e] (a state's array to or from a tape). */
export function copyElements(from: string, start: Operand, to: string, at: Operand, length: Operand, names: NameSupply, origin: Origin): Instr {
  const e = names.user('e');
  const body: Instr[] = [];
  const source = start.kind === 'const' && start.value === 0 ? variable(e) : emitOp(body, names, origin, 'add', start, variable(e));
  const value = emitOp(body, names, origin, 'load', variable(from), source);
  const target = at.kind === 'const' && at.value === 0 ? variable(e) : emitOp(body, names, origin, 'add', at, variable(e));
  body.push({ kind: 'store', array: to, index: target, expr: { op: 'copy', args: [value] }, accumulate: false, origin });
  return { kind: 'loop', index: e, from: constant(0), to: length, descending: false, body, origin };
}

/** Tapes every loop with carried state in a block, in `if` branches too (a loop's body is taped when the reverse sweep recomputes it). */
export function tapeCarriedLoops(body: readonly Instr[], names: NameSupply, tapes: Tapes, budget: number): Instr[] {
  return body.flatMap((i): Instr[] => {
    if (i.kind === 'if') return [{ ...i, then: tapeCarriedLoops(i.then, names, tapes, budget), else: tapeCarriedLoops(i.else, names, tapes, budget) }];
    if (i.kind === 'loop' && i.carried) return tapeLoop(i, names, tapes, budget);
    return [i];
  });
}
