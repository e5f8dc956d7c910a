/**
 * Loop fission for the transcendental functions that have two-lane versions (simd-math.ts): a
 * loop that cannot run as vectors (it has a nested loop, a branch, …) but stores `f(v)` into an
 * array at its index, such as an MLP's `let z[k, j] = tanh(b1[j] + sum(i: W1[j, i] * X[k, i]))`
 * (a dot product, then tanh, per j), becomes the same loop storing `v`, then an element-wise loop
 * `A[i] = f(A[i])` over the same range, which vectorize.ts runs two vectors at a time through the
 * two-lane routine. Each element gets f of the same v, so the same bits.
 *
 * It applies when nothing else in the loop touches the array's memory (so no iteration reads the
 * stored v before it becomes f(v)), the index is the loop's index plus values fixed before the
 * loop (distinct elements per iteration), the loop carries no state and has no exit, and the new
 * loop vectorises (else nothing is changed).
 */
import { forEachInstr, readsOf, type Expr, type Instr, type Operand } from '../../ir/ir.ts';
import type { Selector } from './select.ts';
import { vectorizable } from './vectorize.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

const variable = (name: string): Operand => ({ kind: 'var', name });

/** The loop split in two (the loop, then the element-wise loop), or undefined when it does not apply. */
export function splitMathLoop(s: Selector, loop: Loop): Instr[] | undefined {
  if (loop.exit || (loop.carried && loop.carried.length > 0) || (loop.carriedArrays && loop.carriedArrays.length > 0)) return undefined;
  // Names defined anywhere in the loop (its index too): the rest are fixed during it.
  const defined = new Set<string>([loop.index]);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'const' || i.kind === 'let' || i.kind === 'array') defined.add(i.target);
    if (i.kind === 'loop') {
      defined.add(i.index);
      if (i.reduction) defined.add(i.reduction.target);
    }
  });
  const top = new Map<string, Extract<Instr, { kind: 'const' }>>();
  for (const i of loop.body) if (i.kind === 'const') top.set(i.target, i);
  // The index as the loop's index plus fixed integer operands (a chain of adds), or undefined.
  const offsets = (o: Operand, depth = 0): Operand[] | undefined => {
    if (o.kind !== 'var' || depth > 8) return undefined;
    if (o.name === loop.index) return [];
    const d = top.get(o.name);
    if (!d || !s.ints.has(o.name)) return undefined;
    const [a, b] = d.expr.args;
    if (d.expr.op === 'copy') return offsets(a, depth + 1);
    if (d.expr.op !== 'add') return undefined;
    const fixed = (x: Operand) => (x.kind === 'const' ? Number.isSafeInteger(x.value) : !defined.has(x.name) && s.ints.has(x.name) && s.shadows.has(x.name));
    const left = fixed(b) ? offsets(a, depth + 1) : undefined;
    if (left) return [...left, b];
    const right = fixed(a) ? offsets(b, depth + 1) : undefined;
    return right ? [...right, a] : undefined;
  };
  // Every variable the loop reads, at any depth, with how often.
  const reads = new Map<string, number>();
  const count = (o: Operand) => {
    if (o.kind === 'var') reads.set(o.name, (reads.get(o.name) ?? 0) + 1);
  };
  forEachInstr(loop.body, (i) => readsOf(i).forEach(count));
  if (loop.reduction) count(loop.reduction.value);
  for (const [n, i] of loop.body.entries()) {
    if (i.kind !== 'const' || i.expr.args.length !== 1 || !s.module.hasMath2(i.expr.op)) continue;
    const target = i.target;
    const store = loop.body.find((x, m): x is Extract<Instr, { kind: 'store' }> => m > n && x.kind === 'store' && !x.accumulate && !x.old && x.expr.op === 'copy' && x.expr.args[0].kind === 'var' && x.expr.args[0].name === target);
    if (!store || reads.get(target) !== 1) continue;
    if (defined.has(store.array) || s.kinds.get(store.array) !== 'ptr') continue;
    const offs = offsets(store.index);
    if (!offs) continue;
    // No other access to the array's memory in the loop (the store itself reads its name once).
    const root = s.arrayRoot(store.array);
    let others = 0;
    for (const [name, k] of reads) if (s.kinds.get(name) === 'ptr' && s.arrayRoot(name) === root) others += k;
    if (others !== 1) continue;
    const second = elementWise(s, loop, store.array, offs, i.expr.op);
    if (!second) continue;
    const body = loop.body.filter((x) => x !== i).map((x) => (x === store ? { ...store, expr: { op: 'copy', args: [i.expr.args[0]] } as Expr } : x));
    return [{ ...loop, body }, second];
  }
  return undefined;
}

/** `A[index + offsets] = f(A[index + offsets])` over the loop's range, if it vectorises. */
function elementWise(s: Selector, loop: Loop, array: string, offsets: readonly Operand[], f: string): Loop | undefined {
  // New names: the loop index's with a suffix no variable has yet.
  const name = (what: string) => {
    let k = 1;
    while (s.kinds.has(`${loop.index}$${what}${k}`)) k++;
    const n = `${loop.index}$${what}${k}`;
    s.kinds.set(n, 'f64');
    return n;
  };
  const index = name('split');
  let bound = s.ints.get(loop.index) ?? Infinity;
  s.ints.set(index, bound);
  const body: Instr[] = [];
  let at = variable(index);
  for (const o of offsets) {
    const next = name('at');
    bound += o.kind === 'const' ? Math.abs(o.value) : (s.ints.get(o.name) ?? Infinity);
    s.ints.set(next, bound);
    body.push({ kind: 'const', target: next, expr: { op: 'add', args: [at, o] }, origin: loop.origin } as Instr);
    at = variable(next);
  }
  const [value, result] = [name('v'), name('f')];
  body.push({ kind: 'const', target: value, expr: { op: 'load', args: [variable(array), at] }, origin: loop.origin } as Instr);
  body.push({ kind: 'const', target: result, expr: { op: f, args: [variable(value)] }, origin: loop.origin } as Instr);
  body.push({ kind: 'store', array, index: at, expr: { op: 'copy', args: [variable(result)] }, accumulate: false, origin: loop.origin } as Instr);
  const second: Loop = { kind: 'loop', index, from: loop.from, to: loop.to, descending: loop.descending, body, origin: loop.origin, note: `${f} of the elements the loop before stored, two vectors at a time` };
  return vectorizable(s, second) ? second : undefined;
}
