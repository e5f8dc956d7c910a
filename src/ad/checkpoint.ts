import type { NameSupply } from '../ir/builder.ts';
import { constant, variable, type Instr, type Operand } from '../ir/ir.ts';
import type { Loop } from './loops.ts';

/**
 * What the reverse sweep of a loop with carried state needs: where the state at the start of each
 * iteration was stored, and the body split into what an iteration computes (`core`) and the new
 * state it ends with (`next`, one operand per carried variable).
 */
export interface Tape {
  /** The array holding the state at the start of iteration t at (t - from)·stride + k. */
  readonly array: string;
  readonly stride: number;
}

/**
 * The body of a loop with carried state without its bookkeeping (the trip count's `set`, the
 * stores onto its tape, the final `set`s), and the new state its final `set`s assign.
 */
export function splitIteration(loop: Loop, tape: Tape | undefined): { core: Instr[]; next: Operand[] } {
  const carried = loop.carried ?? [];
  const body = loop.body.filter((i) => !(i.kind === 'set' && i.target === loop.exit?.trips) && !(i.kind === 'store' && i.array === tape?.array));
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

/** The tape of each loop with carried state, by the loop's index variable (unique in a function). */
export type Tapes = Map<string, Tape>;

/**
 * Store-or-recompute for loops that carry state (the decision for nested reductions is in
 * loops.ts): the state at the start of every iteration is stored on a tape, allocated before the
 * loop from its trip count (a `while`: its `max`) times the number of carried variables, and the
 * reverse sweep reads iteration t's state back, recomputes the iteration's values from it and
 * reverses them. Storing the state (a few numbers per iteration) rather than every value keeps
 * the tape small; recomputing one iteration costs about as much as the forward sweep did.
 *
 * Returns the instructions replacing the loop: the tape, then the loop storing into it.
 */
export function tapeLoop(loop: Loop, names: NameSupply, tapes: Tapes): Instr[] {
  const carried = loop.carried ?? [];
  const stride = carried.length;
  const origin = loop.origin;
  const out: Instr[] = [];
  const temp = (op: 'sub' | 'mul' | 'add' | 'max', a: Operand, b: Operand, into: Instr[]): Operand => {
    const target = names.temp();
    into.push({ kind: 'const', target, expr: { op, args: [a, b] }, origin });
    return variable(target);
  };
  const array = names.saved();
  const iterations = temp('max', temp('sub', loop.to, loop.from, out), constant(0), out);
  const length = stride === 1 ? iterations : temp('mul', iterations, constant(stride), out);
  const note = `the state at the start of each iteration (${carried.length} number${carried.length === 1 ? '' : 's'}), for the reverse sweep`;
  out.push({ kind: 'array', target: array, length, overwritten: true, note, origin });
  const stores: Instr[] = [];
  const offset = variable(loop.index);
  const position = loop.from.kind === 'const' && loop.from.value === 0 ? offset : temp('sub', offset, loop.from, stores);
  const base = stride === 1 ? position : temp('mul', position, constant(stride), stores);
  carried.forEach((name, k) => {
    const at = k === 0 ? base : temp('add', base, constant(k), stores);
    stores.push({ kind: 'store', array, index: at, expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin });
  });
  tapes.set(loop.index, { array, stride });
  out.push({ ...loop, body: [...stores, ...loop.body] });
  return out;
}

/** Tapes every loop with carried state in a block, in `if` branches too (a loop's body is taped when the reverse sweep recomputes it). */
export function tapeCarriedLoops(body: readonly Instr[], names: NameSupply, tapes: Tapes): Instr[] {
  return body.flatMap((i): Instr[] => {
    if (i.kind === 'if') return [{ ...i, then: tapeCarriedLoops(i.then, names, tapes), else: tapeCarriedLoops(i.else, names, tapes) }];
    if (i.kind === 'loop' && i.carried) return tapeLoop(i, names, tapes);
    return [i];
  });
}
