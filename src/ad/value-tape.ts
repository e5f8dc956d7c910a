import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, variable, type Expr, type Instr, type Operand } from '../ir/ir.ts';
import { emitOp } from './checkpoint.ts';
import { worthStoring, type Loop } from './loops.ts';

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
  /**
   * The arrays keeping costly numbers computed once per iteration (not element by element): the
   * reverse sweep reads one back only when values were kept (`if (kept) c = C[o + j] else c = exp(…)`),
   * and their stores alone do not make it recompute the iteration whole.
   */
  readonly scalars: Set<string>;
}

export function newValueTapes(): ValueTapes {
  return { loops: new Map(), lengths: new Map(), indices: new Set(), scalars: new Set() };
}

/** Rewrites each loop with state at the top level of a function body to keep its iterations' arrays (see ValueTape). */
export function tapeIterationValues(body: readonly Instr[], names: NameSupply, tapes: ValueTapes, budget: number): Instr[] {
  // Only loops with state at the top level are taped, and only arrays they use are moved: without
  // one (straight-line code), nothing changes, and the walk below is skipped.
  if (!body.some((i) => i.kind === 'loop' && i.carried)) return [...body];
  const allocations = new Map<string, Extract<Instr, { kind: 'array' }>>();
  const counts = new Map<string, number>();
  forEachInstr(body, (i) => {
    if (i.kind === 'array') counts.set(i.target, (counts.get(i.target) ?? 0) + 1);
  });
  for (const i of body) if (i.kind === 'array' && !i.rows && i.overwritten && !i.returned && !i.declared && counts.get(i.target) === 1) allocations.set(i.target, i);
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
  const moved = new Set([...kept.values()].flat());
  const out: Instr[] = [];
  for (const instr of body) {
    if (instr.kind === 'array' && moved.has(instr.target)) continue;
    if (instr.kind !== 'loop' || !instr.carried) {
      out.push(instr);
      continue;
    }
    out.push(...tapeLoop(instr, (kept.get(instr) ?? []).map((a) => allocations.get(a)!), names, tapes, budget));
  }
  return out;
}

function tapeLoop(loop: Loop, arrays: readonly Extract<Instr, { kind: 'array' }>[], names: NameSupply, tapes: ValueTapes, budget: number): Instr[] {
  const origin = loop.origin;
  const out: Instr[] = [];
  const op = (o: Parameters<typeof emitOp>[3], ...args: Operand[]) => emitOp(out, names, origin, o, ...args);
  const sum = (terms: readonly Operand[]): Operand => terms.reduce((a, t) => (a.kind === 'const' && a.value === 0 ? t : op('add', a, t)), constant(0));
  const iterations = op('max', op('sub', loop.to, loop.from), constant(0));
  // Costly values (exp, tanh…, worthStoring in loops.ts) computed element by element in a loop of
  // the body that fills arrays: kept too, one array of the loop's length per value, so that the
  // reverse of that loop reads them back (as it reads back a value stored into an array let).
  const local = new Set<string>([loop.index]);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'loop') local.add(i.index);
    for (const d of i.kind === 'const' || i.kind === 'let' || i.kind === 'set' ? [i.target] : []) local.add(d);
  });
  const known = (o: Operand) => o.kind === 'const' || !local.has(o.name);
  const costly = new Map<Loop, { values: Set<string>; extent: Operand; saved: Map<string, string>; ops: Map<string, string> }>();
  const findCostly = (block: readonly Instr[]) => {
    for (const i of block) {
      if (i.kind === 'if') {
        findCostly(i.then);
        findCostly(i.else);
      }
      if (i.kind !== 'loop' || i.reduction || i.carried || i.exit || !known(i.from) || !known(i.to)) continue;
      // (Only in a loop that fills an array: the recomputation of a whole iteration runs it again.)
      if (!i.body.some((s) => s.kind === 'store' && !s.accumulate)) continue;
      // (A value stored into an array is read back from it already.)
      const inArrays = new Set(i.body.flatMap((s) => (s.kind === 'store' && s.expr.op === 'copy' && s.expr.args[0].kind === 'var' ? [s.expr.args[0].name] : [])));
      const values = new Set(i.body.flatMap((s) => (s.kind === 'const' && !inArrays.has(s.target) && worthStoring(s.expr.op, s.expr.args) ? [s.target] : [])));
      if (values.size === 0) continue;
      const extent = op('max', op('sub', i.to, i.from), constant(0));
      const ops = new Map(i.body.flatMap((s) => (s.kind === 'const' && values.has(s.target) ? [[s.target, s.expr.op] as const] : [])));
      costly.set(i, { values, extent, saved: new Map([...values].map((v) => [v, names.saved()])), ops });
    }
  };
  findCostly(loop.body);
  // Costly numbers computed once per iteration, in the body itself (not in a branch): one array of
  // them, m per iteration, read back by the reverse sweep when values are kept.
  const stored0 = new Set(loop.body.flatMap((i) => (i.kind === 'store' && i.expr.op === 'copy' && i.expr.args[0].kind === 'var' ? [i.expr.args[0].name] : [])));
  const scalars = loop.body.flatMap((i) => (i.kind === 'const' && !stored0.has(i.target) && worthStoring(i.expr.op, i.expr.args) ? [i] : []));
  const scalarArray = scalars.length > 0 ? names.saved() : undefined;
  const parts: { name: string; length: Operand; op?: string }[] = [
    ...arrays.map((a) => ({ name: a.target, length: a.length })),
    ...[...costly.values()].flatMap((c) => [...c.saved].map(([value, name]) => ({ name, length: c.extent, op: c.ops.get(value) }))),
    ...(scalarArray ? [{ name: scalarArray, length: constant(scalars.length), op: [...new Set(scalars.map((i) => i.expr.op))].join(', ') }] : []),
  ];
  if (parts.length === 0) return [loop];
  if (scalarArray) tapes.scalars.add(scalarArray);
  // T, the state S (as checkpoint.ts counts it) and the numbers kept per iteration V.
  const state = sum([constant((loop.carried ?? []).length), ...(loop.carriedArrays ?? []).map((a) => a.length)]);
  // (Parts of one length counted together: V = 12·n, not n + n + … + n.)
  const byLength = new Map<string, { length: Operand; count: number }>();
  for (const a of parts) {
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
  const values = [...new Set([...[...costly.values()].flatMap((c) => [...c.ops.values()]), ...scalars.map((i) => i.expr.op)])].join(', ');
  const what = [list && `the arrays each iteration makes (${list})`, values && `the costly values it computes (${values})`].filter(Boolean).join(' and ');
  const choice =
    `${what}:\n` +
    `kept for every iteration if trip count × (state + these) ≤ ${budget.toLocaleString('en-US')} numbers (${mb} MB),\n` +
    `and the reverse sweep reads them back instead of running their statements again; else one\n` +
    `iteration's, which each iteration reuses and the reverse sweep recomputes`;
  parts.forEach((part, k) => {
    unitOf(part.length);
    tapes.lengths.set(part.name, part.length);
    const length = op('select', stored, op('mul', iterations, part.length), part.length);
    const allocation = arrays.find((a) => a.target === part.name);
    const costlyOp = part.op;
    const note =
      k === 0
        ? choice
        : part.name === scalarArray
          ? `the ${scalars.length} costly number${scalars.length === 1 ? '' : 's'} (${costlyOp}) of each iteration, for the reverse sweep`
          : costlyOp && `${costlyOp} values for the reverse sweep (a store and a load cost less than an ${costlyOp})`;
    out.push(allocation ? { ...allocation, length, note } : { kind: 'array', target: part.name, length, overwritten: true, note, origin });
  });
  tapes.loops.set(loop.index, { stored, arrays: new Set(parts.map((a) => a.name)) });
  // In the body: o = (t - from)·u for each length, then every access to a kept array at o + i.
  const top: Instr[] = [];
  const slot = loop.from.kind === 'const' && loop.from.value === 0 ? variable(loop.index) : emitOp(top, names, origin, 'sub', variable(loop.index), loop.from);
  const offsets = new Map<string, Operand>();
  const lengthOf = new Map(arrays.map((a) => [a.target, a.length]));
  const offsetOf = (length: Operand) => {
    const key = JSON.stringify(length);
    let offset = offsets.get(key);
    if (!offset) {
      offset = emitOp(top, names, origin, 'mul', slot, unitOf(length));
      offsets.set(key, offset);
    }
    return offset;
  };
  const at = (before: Instr[], array: string, index: Operand, where: Instr['origin']): Operand => {
    const target = names.temp();
    tapes.indices.add(target);
    before.push({ kind: 'const', target, expr: { op: 'add', args: [offsetOf(lengthOf.get(array)!), index] }, origin: where });
    return variable(target);
  };
  const redirect = (e: Expr, before: Instr[], where: Instr['origin']): Expr =>
    e.op === 'load' && e.args[0].kind === 'var' && lengthOf.has(e.args[0].name) ? { ...e, args: [e.args[0], at(before, e.args[0].name, e.args[1], where)] } : e;
  /** An inner loop's body with its costly values stored after they are computed, at o + (i - from). */
  const keepCostly = (inner: Loop): Instr[] => {
    const c = costly.get(inner);
    if (!c) return [...inner.body];
    const head: Instr[] = [];
    const element = inner.from.kind === 'const' && inner.from.value === 0 ? variable(inner.index) : emitOp(head, names, origin, 'sub', variable(inner.index), inner.from);
    const position = emitOp(head, names, origin, 'add', offsetOf(c.extent), element);
    return [
      ...head,
      ...inner.body.flatMap((i): Instr[] => {
        const array = i.kind === 'const' ? c.saved.get(i.target) : undefined;
        if (!array || i.kind !== 'const') return [i];
        return [i, { kind: 'store', array, index: position, expr: { op: 'copy', args: [variable(i.target)] }, accumulate: false, origin: i.origin }];
      }),
    ];
  };
  const rewrite = (block: readonly Instr[]): Instr[] =>
    block.flatMap((i): Instr[] => {
      const before: Instr[] = [];
      let instr: Instr;
      switch (i.kind) {
        case 'const':
        case 'set':
        case 'add':
          instr = { ...i, expr: redirect(i.expr, before, i.origin) };
          break;
        case 'let':
          instr = i.expr ? { ...i, expr: redirect(i.expr, before, i.origin) } : i;
          break;
        case 'store': {
          const expr = redirect(i.expr, before, i.origin);
          instr = { ...i, expr, ...(lengthOf.has(i.array) && { index: at(before, i.array, i.index, i.origin) }) };
          break;
        }
        case 'if':
          instr = { ...i, then: rewrite(i.then), else: rewrite(i.else) };
          break;
        case 'loop':
          instr = i.carried ? i : { ...i, body: rewrite(keepCostly(i)) };
          break;
        default:
          instr = i;
      }
      return [...before, instr];
    });
  // Each costly number of the body stored after it is computed, at o + j (its position computed before it).
  const withScalars = loop.body.flatMap((i): Instr[] => {
    const j = scalars.indexOf(i as (typeof scalars)[number]);
    if (j < 0 || !scalarArray || i.kind !== 'const') return [i];
    const position = names.temp();
    const index: Instr = { kind: 'const', target: position, expr: { op: 'add', args: [offsetOf(constant(scalars.length)), constant(j)] }, origin: i.origin };
    return [index, i, { kind: 'store', array: scalarArray, index: variable(position), expr: { op: 'copy', args: [variable(i.target)] }, accumulate: false, origin: i.origin }];
  });
  const body = rewrite(withScalars);
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
