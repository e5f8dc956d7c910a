import type { NameSupply } from '../ir/builder.ts';
import { constant, variable, type Instr, type Op, type Operand, type Origin } from '../ir/ir.ts';
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
  readonly stride: number;
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
  const isSnapshot = (i: Instr) => i.kind === 'if' && i.then.some((s) => s.kind === 'store' && s.array === tape?.snapshots);
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
  const stride = carried.length;
  const origin = loop.origin;
  const out: Instr[] = [];
  const op = (o: Op, ...args: Operand[]) => emitOp(out, names, origin, o, ...args);
  const iterations = op('max', op('sub', loop.to, loop.from), constant(0));
  const size = stride === 1 ? iterations : op('mul', iterations, constant(stride));
  const every = op('select', op('le', size, constant(budget)), constant(1), op('ceil', op('sqrt', iterations)));
  const count = op('ceil', op('div', iterations, every));
  const snapshots = names.saved();
  const segment = names.saved();
  const mb = ((budget * 8) / 2 ** 20).toLocaleString('en-US');
  const note =
    `the state (${stride} number${stride === 1 ? '' : 's'}) at the start of each iteration, for the reverse sweep: all of them if\n` +
    `the trip count × ${stride} ≤ ${budget.toLocaleString('en-US')} (${mb} MB), else every ⌈√(trip count)⌉-th (two-level checkpointing:\n` +
    `the reverse sweep recomputes the states in between from these)`;
  out.push({ kind: 'array', target: snapshots, length: stride === 1 ? count : op('mul', count, constant(stride)), overwritten: true, note, origin });
  const segmentLength = stride === 1 ? every : op('mul', every, constant(stride));
  out.push({ kind: 'array', target: segment, length: segmentLength, overwritten: true, note: 'the states of one segment, recomputed by the reverse sweep', origin });
  // In the loop: at iterations from + q·C, store the state at snapshot q.
  const check: Instr[] = [];
  const q = emitOp(check, names, origin, 'div', loop.from.kind === 'const' && loop.from.value === 0 ? variable(loop.index) : emitOp(check, names, origin, 'sub', variable(loop.index), loop.from), every);
  const isSnapshot = emitOp(check, names, origin, 'eq', emitOp(check, names, origin, 'floor', q), q);
  const stores: Instr[] = [];
  const base = stride === 1 ? q : emitOp(stores, names, origin, 'mul', q, constant(stride));
  carried.forEach((name, k) => {
    const at = k === 0 ? base : emitOp(stores, names, origin, 'add', base, constant(k));
    stores.push({ kind: 'store', array: snapshots, index: at, expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin });
  });
  tapes.set(loop.index, { snapshots, segment, stride, every });
  out.push({ ...loop, body: [...check, { kind: 'if', condition: isSnapshot, then: stores, else: [], origin }, ...loop.body] });
  return out;
}

/** Tapes every loop with carried state in a block, in `if` branches too (a loop's body is taped when the reverse sweep recomputes it). */
export function tapeCarriedLoops(body: readonly Instr[], names: NameSupply, tapes: Tapes, budget: number): Instr[] {
  return body.flatMap((i): Instr[] => {
    if (i.kind === 'if') return [{ ...i, then: tapeCarriedLoops(i.then, names, tapes, budget), else: tapeCarriedLoops(i.else, names, tapes, budget) }];
    if (i.kind === 'loop' && i.carried) return tapeLoop(i, names, tapes, budget);
    return [i];
  });
}
