import { Builder, type NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, variable, type Instr, type Op, type Operand, type Origin } from '../ir/ir.ts';
import { cloneBody, type Loop } from './loops.ts';

/** The default cap on a loop's tape: 64 MB (`--checkpoint-memory`, `checkpointMemory`). */
export const defaultCheckpointMemoryMB = 64;

/**
 * Store-or-recompute for loops that carry state (the decision for nested reductions is in
 * loops.ts), made at run time before the loop, from its trip count T (a `while`: its `max`) and
 * its state size S (the carried variables). The state at the start of an iteration (S numbers) is
 * what the reverse sweep needs: from it, it recomputes that iteration's values and reverses them.
 * The states kept are *snapshots*, in n slots of S numbers (a stack: slot k holds the state at
 * the start of iteration positions[k], positions increasing):
 *
 * - T·S numbers fit in the budget: n = T, every state is stored, nothing is recomputed.
 * - Otherwise, binomial checkpointing (Revolve: Griewank & Walther, "Algorithm 799: Revolve", ACM
 *   TOMS 26(1), 2000): n = ⌊budget / (S + 1)⌋ slots (at least ⌈log₂ T⌉ + 1, so that a tiny budget cannot
 *   make the reverse sweep quadratic in T; at most T). The schedule uses s = n − 1 of them
 *   (slot n − 1 keeps the state of the last iteration, which the forward sweep computes and Revolve
 *   reverses first, "firsturn"); with r the smallest number with C(s + r, s) ≥ T, the reverse
 *   sweep then recomputes r·T − C(s + r, s + 1) − T + 1 iterations (Griewank's minimum over all
 *   schedules with s snapshots, less the T − 1 of the forward sweep): fewer than (r − 1)·T, and
 *   r = 2 (each iteration recomputed at most once) once s + 1 ≥ √(2T).
 *
 * Both are the same code (the schedule with n = T takes every state and never recomputes), and
 * every iteration, in both sweeps, runs the same instructions on the same numbers: the gradients
 * agree to the last bit whatever the budget.
 *
 * The schedule (`nextSnapshot`): from a snapshot at iteration `capo`, with the reverse sweep's
 * next iteration to reverse at `fine − 1` and ds slots from the current one on, Revolve's rule
 * says which iteration to take the next snapshot at. The forward sweep takes snapshots by it
 * (fine = T); the reverse sweep, for each iteration t from the last, restores the top snapshot,
 * recomputes forward to t taking snapshots by the same rule (fine = t + 1), reverses t, and frees
 * the top slot once it holds t. A `while` plans its forward snapshots for its `max` and reverses
 * the trips it made: snapshots past them are never taken, and the reverse sweep restarts the rule
 * from the last one it has (at worst one more forward pass than if T had been known).
 */
export interface Tape {
  /** The snapshots: slot k at k·S. */
  readonly snapshots: string;
  /** The iteration each slot holds. */
  readonly positions: string;
  /** The highest slot in use (a `let`; -1 before the loop, then the stack's top after it). */
  readonly top: string;
  /** n, the slots. */
  readonly slots: Operand;
  /** Whether every state is stored (T·S within the budget): nothing is planned or recomputed. */
  readonly fits: Operand;
  /** s, the slots the binomial rule uses (n − 1). */
  readonly chain: Operand;
  /** S, the numbers of one state: the carried numbers first, then each array's elements. */
  readonly stride: Operand;
  /** Each array of the state (its buffer and length) and where its elements start in a state. */
  readonly arrays: readonly { readonly name: string; readonly length: Operand; readonly offset: Operand }[];
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
 * Revolve's rule (`revolve.c`, the `advance` action), emitted: with a snapshot of iteration
 * `capo` in the current slot, `ds` slots from it on (itself included) and iterations up to
 * `fine − 1` still to reverse, the iteration to take the next snapshot at. With r the smallest
 * number with C(ds + r, r) ≥ fine − capo (how often an iteration of the range will be computed),
 * it is the position that leaves both parts of the range reversible with the fewest steps (the
 * binomial coefficients bino1…bino5 of the paper). Two cases are settled first: ds ≥ fine − capo − 1
 * (a slot for every state: the next iteration, which the rule gives too) and ds ≤ 1 (no slot left:
 * the last iteration); r is then not searched for. The result is kept in (capo, fine − 1],
 * whatever rounding did. Straight-line code and one loop, so that it can sit in a loop's condition.
 */
export function nextSnapshot(b: Builder, capo: Operand, fine: Operand, ds: Operand): Operand {
  const names = b.names;
  const origin = b.origin;
  const length = b.op('sub', fine, capo);
  const every = b.op('ge', ds, b.op('sub', length, constant(1)));
  const none = b.op('le', ds, constant(1));
  // r and C(ds + r, r): range(r) = range(r − 1)·(ds + r)/r, exact in whole numbers.
  const range = names.user('range');
  const reps = names.user('reps');
  const r = names.user('r');
  b.emit({ kind: 'let', target: range, expr: { op: 'copy', args: [constant(1)] }, origin });
  b.emit({ kind: 'let', target: reps, expr: { op: 'copy', args: [constant(0)] }, origin });
  let below: Operand = constant(1);
  const exit = b.block(() => (below = b.op('lt', variable(range), length)), true);
  const body = b.block(() => {
    const r1 = b.op('add', variable(r), constant(1));
    b.emit({ kind: 'set', target: reps, expr: { op: 'copy', args: [r1] }, origin });
    const widened = b.op('floor', b.op('div', b.op('mul', variable(range), b.op('add', ds, r1)), r1));
    b.emit({ kind: 'set', target: range, expr: { op: 'copy', args: [widened] }, origin });
  }, true);
  const searched = b.op('select', b.op('or', every, none), constant(0), length);
  const note = 'r: how often each iteration of the range is computed, at the fewest, with ds snapshots';
  b.emit({ kind: 'loop', index: r, from: constant(0), to: searched, descending: false, body, carried: [range], exit: { body: exit, condition: below, trips: reps }, schedule: true, note, origin });
  const R = variable(range);
  const n = variable(reps);
  const whole = (x: Operand, y: Operand, z: Operand) => b.op('floor', b.op('div', b.op('mul', x, y), z));
  const bino1 = whole(R, n, b.op('add', ds, n));
  const bino2 = whole(bino1, ds, b.op('sub', b.op('add', ds, n), constant(1)));
  const bino3 = b.op('select', b.op('gt', ds, constant(2)), whole(bino2, b.op('sub', ds, constant(1)), b.op('sub', b.op('add', ds, n), constant(2))), constant(1));
  const bino4 = whole(bino2, b.op('sub', n, constant(1)), ds);
  const bino5 = b.op('select', b.op('lt', ds, constant(3)), constant(0), b.op('select', b.op('gt', ds, constant(3)), whole(bino3, b.op('sub', ds, constant(2)), n), constant(1)));
  const rule = b.op(
    'select',
    b.op('le', length, b.op('add', bino1, bino3)),
    b.op('add', capo, bino4),
    b.op('select', b.op('ge', length, b.op('sub', R, bino5)), b.op('add', capo, bino1), b.op('sub', b.op('sub', fine, bino2), bino3)),
  );
  const after = b.op('add', capo, constant(1));
  const last = b.op('sub', fine, constant(1));
  return b.op('select', every, after, b.op('select', none, last, b.op('min', b.op('max', rule, after), last)));
}

/**
 * Plans the snapshots of one forward run: with a snapshot of iteration `capo` in slot `first − 1`,
 * the iterations (before `limit`) that slots first, first + 1, … will take by Revolve's rule,
 * written to `positions`, then -1 after the last (so that a run checks only `positions[top + 1]`).
 * At most `slots` − first of them.
 */
export function planSnapshots(b: Builder, tape: Pick<Tape, 'positions' | 'chain'>, first: Operand, capo: Operand, fine: Operand, limit: Operand, slots: Operand): void {
  const names = b.names;
  const origin = b.origin;
  const at = names.user('capo');
  const planned = names.user('planned');
  const k = names.user('slot');
  b.emit({ kind: 'let', target: at, expr: { op: 'copy', args: [capo] }, origin });
  b.emit({ kind: 'let', target: planned, expr: { op: 'copy', args: [constant(0)] }, origin });
  let next: Operand = constant(0);
  let inRange: Operand = constant(0);
  const exit = b.block(() => {
    next = nextSnapshot(b, variable(at), fine, b.op('sub', tape.chain, b.op('sub', variable(k), constant(1))));
    inRange = b.op('lt', next, limit);
  }, true);
  const body = b.block(() => {
    b.emit({ kind: 'set', target: planned, expr: { op: 'add', args: [b.op('sub', variable(k), first), constant(1)] }, origin });
    b.emit({ kind: 'store', array: tape.positions, index: variable(k), expr: { op: 'copy', args: [next] }, accumulate: false, origin });
    b.emit({ kind: 'set', target: at, expr: { op: 'copy', args: [next] }, origin });
  }, true);
  const note = 'where the next snapshots go (Revolve’s rule, nextSnapshot in checkpoint.ts)';
  b.emit({ kind: 'loop', index: k, from: first, to: slots, descending: false, body, carried: [at], exit: { body: exit, condition: inRange, trips: planned }, schedule: true, note, origin });
  b.emit({ kind: 'store', array: tape.positions, index: b.op('add', first, variable(planned)), expr: { op: 'copy', args: [constant(-1)] }, accumulate: false, origin });
}

/** Whether an operand is known, when compiling, to be true (a trip count and state size that fit). */
export const isTrue = (o: Operand) => o.kind === 'const' && o.value !== 0;

/** Whether an operand is known, when compiling, to be false (a trip count and state size that do not fit). */
export const isFalse = (o: Operand) => o.kind === 'const' && o.value === 0;

/** The schedule for a trip count and state size known when compiling, said in the comment. */
function decided(T: number, S: number, budget: number): string {
  if (T * (S + 1) <= budget) return `(here T = ${T}, S = ${S}: all stored)`;
  const n = Math.min(T, Math.max(Math.floor(budget / (S + 1)), Math.ceil(Math.log2(T + 1)) + 1));
  const choose = (a: number, k: number) => {
    let c = 1;
    for (let i = 1; i <= k; i++) c = (c * (a - k + i)) / i;
    return Math.round(c);
  };
  let r = 0;
  while (choose(n - 1 + r, n - 1) < T) r++;
  const steps = r * T - choose(n - 1 + r, n) - T + 1;
  return `(here T = ${T}, S = ${S}: n = ${n}, r = ${r}, ${steps.toLocaleString('en-US')} iterations recomputed)`;
}

/**
 * The number of snapshot slots n, computed before the loop (see `Tape`): T if T·S numbers fit in
 * the budget, else ⌊budget / (S + 1)⌋, at least ⌈log₂ T⌉ + 1 and at most T. (A slot is S numbers and
 * its iteration: the snapshots and their positions together stay within the budget.)
 */
function slotCount(b: Builder, iterations: Operand, stride: Operand, budget: number): { slots: Operand; fits: Operand } {
  const slot = b.op('add', stride, constant(1));
  const fits = b.op('le', b.op('mul', iterations, slot), constant(budget));
  const byBudget = b.op('floor', b.op('div', constant(budget), slot));
  const least = b.op('add', b.op('ceil', b.op('log2', b.op('add', iterations, constant(1)))), constant(1));
  return { slots: b.op('select', fits, iterations, b.op('min', iterations, b.op('max', byBudget, least))), fits };
}

/**
 * Returns the instructions replacing a loop with carried state: the choice of n, the snapshot
 * slots, and the loop taking a snapshot at the iterations the schedule names. `budget` is in numbers.
 */
export function tapeLoop(loop: Loop, names: NameSupply, tapes: Tapes, budget: number): Instr[] {
  const carried = loop.carried ?? [];
  const origin = loop.origin;
  const b = new Builder(names, origin);
  // S: the carried numbers, then each array's elements (lengths known before the loop).
  let stride: Operand = constant(carried.length);
  const arrays = (loop.carriedArrays ?? []).map((a) => {
    const offset = stride;
    stride = stride.kind === 'const' && stride.value === 0 ? a.length : b.op('add', stride, a.length);
    return { ...a, offset };
  });
  const iterations = b.op('max', b.op('sub', loop.to, loop.from), constant(0));
  const { slots, fits } = slotCount(b, iterations, stride, budget);
  const chain = b.op('sub', slots, constant(1));
  const snapshots = names.saved();
  const positions = names.saved();
  const top = names.user('top');
  const mb = ((budget * 8) / 2 ** 20).toLocaleString('en-US');
  const n = carried.length;
  const what =
    arrays.length === 0
      ? `${n} number${n === 1 ? '' : 's'}`
      : `${n > 0 ? `${n} number${n === 1 ? '' : 's'} and ` : ''}the elements of ${arrays.map((a) => a.name).join(', ')}`;
  const S1 = stride.kind === 'const' ? String(stride.value + 1) : '(S + 1)';
  const T = loop.exit ? 'T the max' : 'T the trip count';
  const budgetText = `${budget.toLocaleString('en-US')} (${mb} MB)`;
  const note = isTrue(fits)
    ? `the state (${what}) at the start of every iteration, for the reverse sweep:\nT × (S + 1) = ${(iterations as { value: number }).value * ((stride as { value: number }).value + 1)} fits in ${budgetText}, nothing is recomputed`
    : [
        `snapshots of the state (${what}${stride.kind === 'const' ? '' : ': S in all'}) at the start of iterations, for the reverse sweep.`,
        `With ${T}: all T of them if T × ${S1} ≤ ${budgetText} (a state and its`,
        `iteration each), with nothing recomputed; else n = ⌊${budget.toLocaleString('en-US')} / ${S1}⌋ (at least ⌈log₂ T⌉ + 1),`,
        `placed by binomial checkpointing (Revolve): with s = n − 1 and r the least with`,
        `C(s + r, s) ≥ T, the reverse sweep recomputes r·T − C(s + r, s + 1) − T + 1 iterations,`,
        `the fewest any schedule with s snapshots can (r = 2: fewer than T, once C(s + 2, 2) ≥ T)`,
        ...(!loop.exit && iterations.kind === 'const' && stride.kind === 'const' ? [decided(iterations.value, stride.value, budget)] : []),
      ].join('\n');
  b.emit({ kind: 'array', target: snapshots, length: b.op('mul', slots, stride), overwritten: true, note, origin });
  b.emit({ kind: 'array', target: positions, length: b.op('add', slots, constant(2)), overwritten: true, note: 'the iteration each snapshot holds', origin });
  const tape = { snapshots, positions, top, slots, fits, chain, stride, arrays };
  // The first snapshot is the state before the loop; the others, planned now (every iteration when all fit).
  b.emit({ kind: 'store', array: positions, index: constant(0), expr: { op: 'copy', args: [constant(0)] }, accumulate: false, origin });
  if (!isTrue(fits)) planSnapshots(b, tape, constant(1), constant(0), iterations, iterations, b.op('select', fits, constant(0), slots));
  b.emit({ kind: 'let', target: top, expr: { op: 'copy', args: [constant(-1)] }, origin });
  const prelude = [...b.current];
  // In the loop: at the next planned iteration (at every one when all fit), a snapshot in the next slot.
  let position: Operand = variable(loop.index);
  let isSnapshot: Operand = constant(0);
  const check = b.block(() => {
    position = b.op('sub', variable(loop.index), loop.from);
    isSnapshot = isTrue(fits) ? constant(1) : b.op('or', fits, b.op('eq', position, b.op('load', variable(positions), b.op('add', variable(top), constant(1)))));
  });
  const take = b.block(() => {
    const slot = b.op('add', variable(top), constant(1));
    b.emit({ kind: 'set', target: top, expr: { op: 'copy', args: [slot] }, origin });
    b.emit({ kind: 'store', array: positions, index: slot, expr: { op: 'copy', args: [position] }, accumulate: false, origin });
    const base = b.op('mul', slot, stride);
    carried.forEach((name, k) => {
      b.emit({ kind: 'store', array: snapshots, index: b.op('add', base, constant(k)), expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin });
    });
    for (const a of arrays) b.emit(copyElements(a.name, constant(0), snapshots, b.op('add', base, a.offset), a.length, names, origin));
  });
  tapes.set(loop.index, tape);
  return [...prelude, { ...loop, body: [...check, { kind: 'if', condition: isSnapshot, then: take, else: [], origin }, ...loop.body] }];
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
  // (A loop of pushes, not flatMap, which made an array per instruction.)
  const out: Instr[] = [];
  for (const i of body) {
    if (i.kind === 'if') out.push({ ...i, then: tapeCarriedLoops(i.then, names, tapes, budget), else: tapeCarriedLoops(i.else, names, tapes, budget) });
    else if (i.kind === 'loop' && i.carried && !i.schedule) out.push(...tapeLoop(i, names, tapes, budget));
    else out.push(i);
  }
  return out;
}

/**
 * The forward sweep's loops with state, each given a second version for the common case where
 * every state fits the budget (`fits`, decided before the loop): a loop that writes the state of
 * iteration t at (t − from)·S and nothing else, with no snapshot positions, stack top or check per
 * iteration. `if (fits) { that loop } else { the checkpointed one }`. Both run the same body on
 * the same numbers, and the checkpointed one with every state stored writes them in the same
 * places (slot t holds iteration t), so the reverse sweep reads either the same way (reverse.ts).
 * Why two loops rather than one branch per iteration: a small body (an ODE step of ~10 ns) ran
 * 1.5–2× slower with a never-taken branch to the snapshot code in it (V8 keeps its state in memory
 * around it), which the straight loop avoids. Applied at the top level and in branches, after the
 * reverse sweep has been built from the checkpointed loop; a loop with state nested in another
 * loop keeps one version.
 */
export function storeEveryState(body: readonly Instr[], names: NameSupply, tapes: Tapes): Instr[] {
  // (One instruction for each: map, not flatMap, which made an array per instruction.)
  return body.map((i): Instr => {
    if (i.kind === 'if') return { ...i, then: storeEveryState(i.then, names, tapes), else: storeEveryState(i.else, names, tapes) };
    const tape = i.kind === 'loop' && i.carried && !i.schedule ? tapes.get(i.index) : undefined;
    if (i.kind !== 'loop' || !tape || isFalse(tape.fits)) return i;
    const straight = straightLoop(i, tape, names);
    if (isTrue(tape.fits)) return straight;
    return { kind: 'if', condition: tape.fits, then: [straight], else: [i], origin: i.origin };
  });
}

/** A taped loop (tapeLoop) writing every state to its slot, without the snapshot schedule: see storeEveryState. */
function straightLoop(loop: Loop, tape: Tape, names: NameSupply): Loop {
  const origin = loop.origin;
  // The snapshot branch, and the variables hoisted out of it (hoist.ts); the loads its condition
  // read are left to dead-code elimination.
  const snapshot = loop.body.filter((i) => {
    let found = false;
    if (i.kind === 'if') forEachInstr(i.then, (s) => (found ||= s.kind === 'store' && s.array === tape.snapshots));
    return found;
  });
  const inSnapshot = new Set<string>();
  forEachInstr(snapshot, (s) => s.kind === 'set' && inSnapshot.add(s.target));
  const rest = loop.body.filter((i) => !snapshot.includes(i) && !(i.kind === 'let' && i.expr === undefined && inSnapshot.has(i.target)) && !(i.kind === 'set' && i.target === tape.top));
  const store: Instr[] = [];
  const at = loop.from.kind === 'const' && loop.from.value === 0 ? variable(loop.index) : emitOp(store, names, origin, 'sub', variable(loop.index), loop.from);
  const base = tape.stride.kind === 'const' && tape.stride.value === 1 ? at : emitOp(store, names, origin, 'mul', at, tape.stride);
  (loop.carried ?? []).forEach((name, k) => {
    const index = k === 0 ? base : emitOp(store, names, origin, 'add', base, constant(k));
    store.push({ kind: 'store', array: tape.snapshots, index, expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin });
  });
  for (const a of tape.arrays) {
    const start = a.offset.kind === 'const' && a.offset.value === 0 ? base : emitOp(store, names, origin, 'add', base, a.offset);
    store.push(copyElements(a.name, constant(0), tape.snapshots, start, a.length, names, origin));
  }
  const note = 'every state fits the budget: this loop stores each in slot t (at t·S), with no\nschedule to plan or check (the loop after `else` is the checkpointed one)';
  // Fresh names for everything the loop defines: the checkpointed version beside it keeps its own.
  const [copy] = cloneBody([{ ...loop, body: [...store, ...rest], note }], new Map(), names, new Set(), new Set(), new Map()).instrs;
  return copy as Loop;
}
