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
import { definesOf, forEachInstr, readsOf, type Expr, type Instr, type Operand } from '../../ir/ir.ts';
import type { Selector } from './select.ts';
import { vectorizable } from './vectorize.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

const variable = (name: string): Operand => ({ kind: 'var', name });

/**
 * A split: instructions to run in place of the loop. With `scratch`, they allocate a work array
 * that is dead after them: the selector resets the heap pointer after them.
 */
export interface Split {
  readonly instrs: readonly Instr[];
  readonly scratch: boolean;
}

/** The loop split (see the file's comment), or undefined when no split applies. */
export function splitMathLoop(s: Selector, loop: Loop): Split | undefined {
  const after = splitAfter(s, loop);
  if (after) return { instrs: after, scratch: false };
  const before = splitBefore(s, loop);
  return before ? { instrs: before, scratch: true } : undefined;
}

/**
 * The names a loop defines or changes: its index, what its body declares, assigns or adds into
 * (variables declared outside it that it assigns vary too), and what inner loops define.
 */
function definedIn(loop: Loop): Set<string> {
  const defined = new Set<string>([loop.index]);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'const' || i.kind === 'let' || i.kind === 'set' || i.kind === 'add' || i.kind === 'array') defined.add(i.target);
    if (i.kind === 'loop') {
      defined.add(i.index);
      for (const n of definesOf(i)) defined.add(n);
    }
  });
  return defined;
}

/** The loop, then an element-wise loop of f over what it stored. */
function splitAfter(s: Selector, loop: Loop): Instr[] | undefined {
  if (loop.exit || (loop.carried && loop.carried.length > 0) || (loop.carriedArrays && loop.carriedArrays.length > 0)) return undefined;
  // Names defined anywhere in the loop (its index too): the rest are fixed during it.
  const defined = definedIn(loop);
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
  // The loop's own reduction: its term, and the tape it may write.
  if (loop.reduction) count(loop.reduction.value);
  if (loop.reduction?.tape) count(variable(loop.reduction.tape.array));
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
    // The loop without f sums as the loop did (Selector.sumsInLanes: f made the sum costly).
    const first: Loop = { ...loop, body };
    s.derived(first, loop);
    return [first, second];
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

/** The arithmetic a value computed ahead (splitBefore) may take: pure, and vectorize.ts's. */
const aheadOps = new Set(['load', 'copy', 'add', 'sub', 'mul', 'div', 'neg', 'abs', 'sqrt', 'min', 'max']);

/**
 * The reverse sweep's form: a loop that cannot vectorise computes f(v) (an MLP's cosh of its
 * saved pre-activation), perhaps only under a branch, from values at its index. The values f(v)
 * are computed ahead, in an element-wise loop into a work array (two vectors per call of the
 * two-lane routine), and the loop reads them. f is pure, so computing it where the branch would
 * skip it changes nothing but time; each element is f of the same v, so the same bits. It applies
 * when v comes from instructions at the top of the loop's body (before anything else it does)
 * that are arithmetic on values fixed before the loop and on elements of arrays the loop does not
 * write, the loop starts at 0 (the work array is indexed by the loop's index), allocates nothing, and
 * the ahead loop vectorises.
 */
function splitBefore(s: Selector, loop: Loop): Instr[] | undefined {
  if (loop.exit || (loop.carried && loop.carried.length > 0) || (loop.carriedArrays && loop.carriedArrays.length > 0)) return undefined;
  if (!(loop.from.kind === 'const' && loop.from.value === 0)) return undefined;
  let allocates = false;
  const written = new Set<string>();
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'array') allocates = true;
    if (i.kind === 'store') written.add(s.arrayRoot(i.array));
    if (i.kind === 'loop' && i.reduction?.tape) written.add(s.arrayRoot(i.reduction.tape.array));
  });
  if (loop.reduction?.tape) written.add(s.arrayRoot(loop.reduction.tape.array));
  if (allocates) return undefined;
  const defined = definedIn(loop);
  // The leading consts of the body: the instructions v may come from.
  const lead = new Map<string, Extract<Instr, { kind: 'const' }>>();
  for (const i of loop.body) {
    if (i.kind !== 'const') break;
    lead.set(i.target, i);
  }
  // A call of f at the top of the body or in its branches (not in nested loops).
  const calls: Extract<Instr, { kind: 'const' }>[] = [];
  const find = (body: readonly Instr[]) => {
    for (const i of body) {
      if (i.kind === 'const' && i.expr.args.length === 1 && s.module.hasMath2(i.expr.op) && !lead.has(i.target)) calls.push(i);
      if (i.kind === 'if') {
        find(i.then);
        find(i.else);
      }
    }
  };
  find(loop.body);
  for (const call of calls) {
    // The slice of v: leading consts, in body order; those that depend on the index, and those fixed (hoisted before).
    const need = new Set<string>();
    let ok = true;
    const visit = (o: Operand) => {
      if (o.kind !== 'var' || !defined.has(o.name) || o.name === loop.index || need.has(o.name)) return;
      const d = lead.get(o.name);
      if (!d || !aheadOps.has(d.expr.op) || (d.expr.op === 'load' && (d.expr.args[0].kind !== 'var' || written.has(s.arrayRoot(d.expr.args[0].name)) || defined.has(d.expr.args[0].name)))) {
        ok = false;
        return;
      }
      need.add(o.name);
      d.expr.args.forEach(visit);
    };
    visit(call.expr.args[0]);
    if (!ok) continue;
    const rename = new Map<string, string>();
    const name = (base: string) => {
      let k = 1;
      while (s.kinds.has(`${base}$ahead${k}`)) k++;
      const n = `${base}$ahead${k}`;
      s.kinds.set(n, 'f64');
      return n;
    };
    const index = name(loop.index);
    rename.set(loop.index, index);
    s.ints.set(index, s.ints.get(loop.index) ?? Infinity);
    const varying = new Set<string>([loop.index]);
    const hoisted: Instr[] = [];
    const body: Instr[] = [];
    const operand = (o: Operand): Operand => (o.kind === 'var' && rename.has(o.name) ? variable(rename.get(o.name)!) : o);
    for (const [target, d] of lead) {
      if (!need.has(target)) continue;
      const n = name(target);
      s.kinds.set(n, s.kinds.get(target) ?? 'f64');
      rename.set(target, n);
      if (s.ints.has(target)) s.ints.set(n, s.ints.get(target)!);
      const copy = { ...d, target: n, expr: { ...d.expr, args: d.expr.args.map(operand) } } as Instr;
      if (d.expr.args.some((a) => a.kind === 'var' && varying.has(a.name))) {
        varying.add(target);
        body.push(copy);
      } else {
        hoisted.push(copy);
        // Its i32 twin (set where it is computed, before the ahead loop) addresses elements there.
        if (s.ints.has(n)) s.shadowOf(n);
      }
    }
    const scratch = name(`${loop.index}$${call.expr.op}`);
    s.kinds.set(scratch, 'ptr');
    const result = name(call.target);
    body.push({ ...call, target: result, expr: { op: call.expr.op, args: [operand(call.expr.args[0])] } } as Instr);
    body.push({ kind: 'store', array: scratch, index: variable(index), expr: { op: 'copy', args: [variable(result)] }, accumulate: false, origin: call.origin } as Instr);
    const ahead: Loop = { kind: 'loop', index, from: loop.from, to: loop.to, descending: false, body, origin: loop.origin, note: `${call.expr.op} of each iteration's value, ahead, two vectors at a time` };
    if (!vectorizable(s, ahead)) continue;
    const replace = (b: readonly Instr[]): Instr[] =>
      b.map((i) => (i === call ? ({ ...call, expr: { op: 'load', args: [variable(scratch), variable(loop.index)] } } as Instr) : i.kind === 'if' ? { ...i, then: replace(i.then), else: replace(i.else) } : i));
    const array = { kind: 'array', target: scratch, length: loop.to, overwritten: true, origin: loop.origin } as Instr;
    // The loop reading f's values sums as the loop did (Selector.sumsInLanes).
    const rest: Loop = { ...loop, body: replace(loop.body) };
    s.derived(rest, loop);
    return [...hoisted, array, ahead, rest];
  }
  return undefined;
}
