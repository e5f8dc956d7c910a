import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, mapNested, readsOf, variable, type Instr, type Operand } from '../ir/ir.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;
type Store = Extract<Instr, { kind: 'store' }>;

/**
 * Adjoints added into one element of an array by every iteration of a reversed loop: `d$p[0] +=
 * ḡ·y[i]` in the reverse of `let f[i] = p[0] * y[i] …` (the adjoint of a parameter that each
 * element reads). The reverse sweep writes the element once per iteration: a load and a store of
 * memory, which V8 does not keep in a register across iterations. Here they are summed in a local
 * (`let $t = 0` before the loop, `$t += ḡ·y[i]` inside) and added to the element once, after the
 * loop. Applied to the reverse sweep's IR, innermost loops first, so that a sum made after an
 * inner loop is itself summed by the loop around it where its element does not change there either.
 *
 * Only for an element whose index the loop does not change (a constant, or a variable defined
 * before the loop), of an adjoint array the loop does nothing else with (no read, no plain store,
 * no other use as an operand): then nothing could see the element between the iterations, and
 * only the order of the additions changes (the sum is rounded once per loop, not per iteration).
 * Loops with state, `while` loops, reductions and the checkpoint schedule's loops are left alone.
 */
export function accumulateOnce(block: readonly Instr[], names: NameSupply): Instr[] {
  // Rows of matrices (`row(d$A, k)`): an element of one is also the matrix's, under another name.
  const rows = new Set<string>();
  forEachInstr(block, (i) => {
    if ((i.kind === 'const' || i.kind === 'set') && i.expr.op === 'row') rows.add(i.target);
  });
  // (A loop, not flatMap: an array per instruction of the sweep was garbage.)
  const visit = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      if (instr.kind === 'if') out.push({ ...instr, then: visit(instr.then), else: visit(instr.else) });
      else if (instr.kind !== 'loop') out.push(instr);
      else {
        const loop: Loop = { ...instr, body: visit(instr.body) };
        if (loop.carried || loop.carriedArrays || loop.exit || loop.reduction || loop.schedule) out.push(loop);
        else out.push(...sumInLocals(loop, names, rows));
      }
    }
    return out;
  };
  return visit(block);
}

function sumInLocals(loop: Loop, names: NameSupply, rows: ReadonlySet<string>): Instr[] {
  // What the loop defines (its index, its lets and consts, what it assigns): an index reading one changes.
  const local = new Set<string>([loop.index]);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'const' || i.kind === 'let' || i.kind === 'set' || i.kind === 'add') local.add(i.target);
    if (i.kind === 'loop') local.add(i.index);
    if (i.kind === 'loop' && i.reduction) local.add(i.reduction.target);
  });
  const invariant = (o: Operand) => o.kind === 'const' || !local.has(o.name);
  // Arrays used otherwise than by an accumulation into them at an unchanging element.
  const excluded = new Set<string>();
  const candidates: Store[] = [];
  // (`plain`: inside a loop with state or a `while`, whose iterations the sum would cross, nothing is a candidate.)
  const walk = (block: readonly Instr[], plain: boolean) =>
    block.forEach((i) => {
      if (i.kind === 'store') {
        if (plain && i.accumulate && invariant(i.index) && !local.has(i.array) && !rows.has(i.array)) candidates.push(i);
        else excluded.add(i.array);
        for (const o of [i.index, ...i.expr.args]) if (o.kind === 'var') excluded.add(o.name);
        return;
      }
      for (const o of readsOf(i)) if (o.kind === 'var') excluded.add(o.name);
      if (i.kind === 'if') {
        walk(i.then, plain);
        walk(i.else, plain);
      } else if (i.kind === 'loop') {
        const inner = plain && !i.carried && !i.carriedArrays && !i.exit && !i.schedule;
        if (i.exit) walk(i.exit.body, false);
        walk(i.body, inner);
      }
    });
  walk(loop.body, true);
  const chosen = candidates.filter((s) => !excluded.has(s.array));
  if (chosen.length === 0) return [loop];
  // One local per element (array and index), in the order the loop first adds to them.
  const sums = new Map<string, { array: string; index: Operand; local: string; origin: Instr['origin'] }>();
  const keyOf = (s: Store) => `${s.array}\u0000${JSON.stringify(s.index)}`;
  for (const s of chosen) if (!sums.has(keyOf(s))) sums.set(keyOf(s), { array: s.array, index: s.index, local: names.temp(), origin: s.origin });
  const replaced = new Set<Instr>(chosen);
  const rewrite = (block: readonly Instr[]): Instr[] =>
    block.map((i): Instr => {
      if (i.kind === 'store' && replaced.has(i)) return { kind: 'add', target: sums.get(keyOf(i))!.local, expr: i.expr, origin: i.origin };
      if (i.kind === 'if') return { ...i, then: rewrite(i.then), else: rewrite(i.else) };
      if (i.kind === 'loop') return { ...i, body: rewrite(i.body) };
      return i;
    });
  const elements = [...sums.values()].map((s) => describe(s.array, s.index)).join(', ');
  const said = `${elements}: summed in ${sums.size === 1 ? 'a local' : 'locals'}, added once after the loop`;
  const before: Instr[] = [...sums.values()].map((s) => ({ kind: 'let', target: s.local, expr: { op: 'copy', args: [constant(0)] }, origin: s.origin }));
  const after: Instr[] = [...sums.values()].map((s) => ({ kind: 'store', array: s.array, index: s.index, expr: { op: 'copy', args: [variable(s.local)] }, accumulate: true, origin: s.origin }));
  return [...before, { ...loop, body: rewrite(loop.body), note: loop.note ? `${loop.note};\n${said}` : said }, ...after];
}

/**
 * Several additions into the same element in one block (`d$y[i] += a; … d$y[i] += b; … d$y[i] += c`,
 * the reverse of `p0·y[i]·(1 - y[i]) - p1·y[i]·s` adds one per read of y[i]): summed in a local,
 * `let $t = a; … $t += b; … $t += c`, and the element is written once, `d$y[i] += $t`, where the last
 * one was. Only where nothing between the first and the last uses the array otherwise (a read, a store,
 * another element, a call); the sum is rounded in another order, as accumulateOnce's.
 */
export function addOncePerElement(block: readonly Instr[], names: NameSupply): Instr[] {
  const nested = block.map((i): Instr => (i.kind === 'if' || i.kind === 'loop' ? mapNested(i, (b) => addOncePerElement(b, names)) : i));
  const groups = new Map<string, number[]>();
  nested.forEach((i, k) => {
    if (i.kind !== 'store' || !i.accumulate) return;
    const key = `${i.array}\u0000${JSON.stringify(i.index)}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  });
  const replace = new Map<number, Instr>();
  for (const positions of groups.values()) {
    if (positions.length < 2) continue;
    const first = nested[positions[0]] as Store;
    const members = new Set(positions);
    let clear = true;
    for (let k = positions[0]; k <= positions[positions.length - 1] && clear; k++) {
      if (members.has(k)) continue;
      forEachInstr([nested[k]], (i) => {
        const operands = i.kind === 'store' ? [variable(i.array), i.index, ...i.expr.args] : readsOf(i);
        if (operands.some((o) => o.kind === 'var' && o.name === first.array)) clear = false;
      });
    }
    // (The index must not change in between: it is a constant, or a variable nothing in between assigns.)
    if (!clear || (first.index.kind === 'var' && assignedBetween(nested, positions[0], positions[positions.length - 1], first.index.name))) continue;
    if (positions.some((k) => replace.has(k))) continue;
    const sum = names.temp();
    positions.forEach((k, j) => {
      const s = nested[k] as Store;
      if (j === 0) replace.set(k, { kind: 'let', target: sum, expr: s.expr, origin: s.origin });
      else replace.set(k, { kind: 'add', target: sum, expr: s.expr, origin: s.origin });
      if (j === positions.length - 1) replace.set(-k - 1, { kind: 'store', array: s.array, index: s.index, expr: { op: 'copy', args: [variable(sum)] }, accumulate: true, origin: s.origin });
    });
  }
  if (replace.size === 0) return nested;
  return nested.flatMap((i, k) => [replace.get(k) ?? i, ...(replace.has(-k - 1) ? [replace.get(-k - 1)!] : [])]);
}

function assignedBetween(block: readonly Instr[], from: number, to: number, name: string): boolean {
  let assigned = false;
  forEachInstr(block.slice(from, to + 1), (i) => {
    if ((i.kind === 'set' || i.kind === 'add' || i.kind === 'let' || i.kind === 'const') && i.target === name) assigned = true;
  });
  return assigned;
}

/** `d$p[0]` or `d$p[k]`, for the loop's comment. */
function describe(array: string, index: Operand): string {
  return `${array}[${index.kind === 'const' ? index.value : index.name}]`;
}
