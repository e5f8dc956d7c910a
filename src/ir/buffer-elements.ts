import type { NameSupply } from './builder.ts';
import { declaredIn, forEachInstr, mapNested, variable, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';

/**
 * Element-wise differences computed once per element instead of once per use. In a loop over j
 * from 0 whose body computes `d = a[j] - b[j]` (or `+`, `·`) from two arrays the loop does not
 * change, and whose inner loop over c (from 0 up to j, or up to the same end) computes
 * `a[c] - b[c]` again, every element of the difference is computed about n/2 times: the GMM's
 * `x[i, c] - mu[k, c]` in `sum(j: (Qdiag[k, j] * (x[i, j] - mu[k, j]) + sum(c in 0..j: L[k, j, c] *
 * (x[i, c] - mu[k, c])))^2)`, once per (j, c), in the forward sweep and again in the reverse one.
 * Here the differences are written into a buffer by a loop just before the outer loop, and both
 * uses read it: one load instead of two loads and an operation, in the innermost loop.
 *
 * The same operations on the same operands, so every result is the same to the bit (the value,
 * each derivative export, and the wasm target, which gets the same IR). The buffer is read only
 * where the outer loop's body reads both arrays at every j in 0..end itself, unconditionally and
 * with no run-time check in the loop that could stop it first, so it reads no element the code
 * did not read; it is allocated once, at the top of the function (its length is the outer loop's
 * end, a size or a constant), and filled each time the outer loop runs.
 */
export function bufferElements(fn: IrFunction, names: NameSupply): IrFunction {
  // Only a loop inside a loop is ever buffered: code without one is returned as it is, unwalked.
  if (!hasNestedLoop(fn.body) && !(fn.reverse && hasNestedLoop(fn.reverse))) return fn;
  // The buffer is allocated at the top of the function: its length, the outer loop's end, must be
  // a size (an array's length) or a constant there, never a number a check before the loop refuses.
  const sizes = new Set<string>();
  for (const p of fn.params) for (const s of p.shape?.sizes ?? []) if (typeof s !== 'number') sizes.add(s.name);
  const atTop = (o: Operand) => (o.kind === 'const' ? Number.isSafeInteger(o.value) && o.value >= 0 : sizes.has(o.name));

  // Arrays written anywhere, and the matrices one of whose rows is written (two reads of a row of
  // one may be two names for the same row): never buffered, a store may come between.
  const written = new Set<string>();
  const rowOf = new Map<string, string>();
  for (const block of [fn.body, fn.reverse ?? []]) {
    forEachInstr(block, (i) => {
      if (i.kind === 'store') written.add(i.array);
      if (i.kind === 'const' && i.expr.op === 'row' && i.expr.args[0].kind === 'var') rowOf.set(i.target, i.expr.args[0].name);
    });
  }
  for (const [row, matrix] of rowOf) if (written.has(row)) written.add(matrix);
  const changing = (array: string) => written.has(array) || written.has(rowOf.get(array) ?? '');

  const allocations: Instr[] = [];
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      const nestedDone = mapNested(instr, rewrite);
      if (nestedDone.kind !== 'loop') {
        out.push(nestedDone);
        continue;
      }
      const found = buffered(nestedDone, atTop, changing, names);
      if (!found) {
        out.push(nestedDone);
        continue;
      }
      allocations.push(found.allocation);
      out.push(found.fill, found.loop);
    }
    return out;
  };
  const body = rewrite(fn.body);
  const reverse = fn.reverse ? rewrite(fn.reverse) : undefined;
  if (allocations.length === 0) return fn;
  return { ...fn, body: [...allocations, ...body], ...(reverse && { reverse }) };
}

/** Whether a block holds, at any depth, a loop in a loop (walks branches, stops at the first loop in a loop). */
function hasNestedLoop(block: readonly Instr[], inLoop = false): boolean {
  for (let k = 0; k < block.length; k++) {
    const i = block[k];
    if (i.kind === 'if' && (hasNestedLoop(i.then, inLoop) || hasNestedLoop(i.else, inLoop))) return true;
    if (i.kind === 'loop' && (inLoop || hasNestedLoop(i.body, true) || (i.exit !== undefined && hasNestedLoop(i.exit.body, true)))) return true;
  }
  return false;
}

type Loop = Extract<Instr, { kind: 'loop' }>;
const ELEMENT_OPS = new Set(['sub', 'add', 'mul']);

/** The outer loop with its difference read from a buffer, the loop filling the buffer, and its allocation; undefined when the pattern is not there. */
function buffered(outer: Loop, atTop: (o: Operand) => boolean, changing: (array: string) => boolean, names: NameSupply): { loop: Loop; fill: Instr; allocation: Instr } | undefined {
  if (outer.exit || outer.carried || outer.schedule || outer.from.kind !== 'const' || outer.from.value !== 0 || !atTop(outer.to)) return undefined;
  let checked = false;
  forEachInstr(outer.body, (i) => (checked ||= i.kind === 'check'));
  if (checked) return undefined;
  const inside = declaredIn(outer.body);
  inside.add(outer.index);
  const unchanged = (o: Operand) => o.kind === 'var' && !inside.has(o.name) && !changing(o.name);

  // `const x = load(a, index)` at the top of a body, by target.
  const loadsAt = (body: readonly Instr[], index: string) => {
    const loads = new Map<string, string>();
    for (const i of body) {
      if (i.kind !== 'const' || i.expr.op !== 'load') continue;
      const [array, at] = i.expr.args;
      if (at.kind === 'var' && at.name === index && unchanged(array)) loads.set(i.target, (array as { name: string }).name);
    }
    return loads;
  };
  // The element-wise operations of a body: `d = op(load(a, index), load(b, index))`, keyed by op and arrays.
  const elementOps = (body: readonly Instr[], index: string) => {
    const loads = loadsAt(body, index);
    const ops = new Map<string, string>();
    for (const i of body) {
      if (i.kind !== 'const' || !ELEMENT_OPS.has(i.expr.op)) continue;
      const [x, y] = i.expr.args;
      const a = x.kind === 'var' ? loads.get(x.name) : undefined;
      const b = y.kind === 'var' ? loads.get(y.name) : undefined;
      if (a !== undefined && b !== undefined && !ops.has(`${i.expr.op} ${a} ${b}`)) ops.set(`${i.expr.op} ${a} ${b}`, i.target);
    }
    return ops;
  };
  const outerOps = elementOps(outer.body, outer.index);
  if (outerOps.size === 0) return undefined;
  // Inner loops at the top of the outer body over 0..j or 0..end, computing the same operation.
  const sameEnd = (o: Operand) => (o.kind === 'var' && (o.name === outer.index || (outer.to.kind === 'var' && o.name === outer.to.name))) || (o.kind === 'const' && outer.to.kind === 'const' && o.value <= outer.to.value);
  let chosen: { key: string; inner: Map<Loop, string> } | undefined;
  for (const key of outerOps.keys()) {
    const inner = new Map<Loop, string>();
    for (const i of outer.body) {
      if (i.kind !== 'loop' || i.exit || i.carried || i.from.kind !== 'const' || i.from.value < 0 || !sameEnd(i.to)) continue;
      const target = elementOps(i.body, i.index).get(key);
      if (target) inner.set(i, target);
    }
    if (inner.size > 0) {
      chosen = { key, inner };
      break;
    }
  }
  if (!chosen) return undefined;
  const [op, a, b] = chosen.key.split(' ') as [Expr['op'], string, string];
  const buffer = names.temp();
  const at = names.user('i');
  const origin = outer.origin;
  const left = names.temp();
  const right = names.temp();
  const value = names.temp();
  const fill: Instr = {
    kind: 'loop',
    index: at,
    from: outer.from,
    to: outer.to,
    // In the direction of the outer loop (a reverse sweep's loops all count down).
    descending: outer.descending,
    note: 'each element once, read by the loop below at every index and by its inner loop',
    body: [
      { kind: 'const', target: left, expr: { op: 'load', args: [variable(a), variable(at)] }, origin },
      { kind: 'const', target: right, expr: { op: 'load', args: [variable(b), variable(at)] }, origin },
      { kind: 'const', target: value, expr: { op, args: [variable(left), variable(right)] }, origin },
      { kind: 'store', array: buffer, index: variable(at), expr: { op: 'copy', args: [variable(value)] }, accumulate: false, origin },
    ],
    origin,
  };
  const readAt = (i: Instr, target: string, index: string): Instr =>
    i.kind === 'const' && i.target === target ? { ...i, expr: { op: 'load', args: [variable(buffer), variable(index)] } } : i;
  const outerTarget = outerOps.get(chosen.key)!;
  const body = outer.body.map((i) => {
    const inner = i.kind === 'loop' ? chosen.inner.get(i) : undefined;
    if (inner && i.kind === 'loop') return { ...i, body: i.body.map((x) => readAt(x, inner, i.index)) };
    return readAt(i, outerTarget, outer.index);
  });
  const allocation: Instr = { kind: 'array', target: buffer, length: outer.to, overwritten: true, note: 'element-wise values read by a loop and its inner loop', origin };
  return { loop: { ...outer, body }, fill, allocation };
}
