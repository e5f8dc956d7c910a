import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, readsOf, variable, type Expr, type Instr, type Operand } from '../ir/ir.ts';
import { renameVariables } from '../ir/rename.ts';
import { addOncePerElement } from './accumulate-once.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * Unroll-and-jam by two of a reverse sweep's loop through its whole body (issue 16, GMM at D = 64).
 * GMM's reversed loop over the points i runs, per component k, a triangular loop nest over the rows
 * j of L_k and their terms c < j that reads L[k, j, c] and adds into L's adjoint at the same
 * element: `$dL[k, j, c] += -ḡ_{ij}·(x_i − μ_k)_c`. Nothing in that element depends on i, so every
 * point reads and writes it again, D²/2 loads, loads and stores per (point, component) term, and
 * at D = 64 that traffic is the gradient's cost (the row jam of unroll-and-jam.ts shares μ's
 * adjoint between rows, not L's between points). Here two iterations, i and i − 1, run per pass
 * and their bodies are fused level by level: straight code one after the other, a loop whose
 * bounds do not depend on i run once with both bodies, a branch on a condition that does (a zero
 * guard) taken fused when both copies take it and as two copies otherwise, and a value that does
 * not depend on i (an address, `L[k, j, c]`) computed once for both. So the two additions into
 * `$dL[k, j, c]` meet in one loop body with one address, where the row jam merges them (one load
 * and store per two points) and the load of L is made once. The iteration left over (an odd count)
 * runs alone after the pairs, as the loop was.
 *
 * Legal because every effect of the loop is an addition into memory (or a number) it never reads,
 * as for the row jam: the iterations compute the same values in any order and only the order of
 * the additions changes. Besides those, a work array the body overwrites whole before reading it
 * each iteration (buffer-elements.ts's `x_i − μ_k`, filled by one loop from 0 to its length before
 * any load) is taken, each copy given its own. So the pass takes a loop only when
 *   - its body is plain code, branches and loops (no check, call, allocation, reduction, carried
 *     state or early exit anywhere in it), with a loop inside a loop (the work worth fusing);
 *   - every store is an accumulation into an array nothing in the loop reads (a row of a matrix
 *     counting as the matrix), or fills such a work array as above, which is used nowhere else;
 *     a number assigned outside the body is only added to;
 *   - an innermost loop loads or adds into an element whose address does not depend on the index
 *     (else there is nothing to share, and the pass is not worth its code).
 * Only on fGrad's optimised reverse sweep, of both targets (compile.ts; the wasm target's gradient
 * took 0.87–0.95× its time before at GMM's sizes), called by
 * unrollAndJam on each loop it does not jam itself, before the row jam, which then jams the fused
 * loops; once per nest (a loop inside the pairs is not paired again: four copies of its body);
 * never on a sweep differentiated again. What it costs is code: the fused body, each copy alone
 * beside it (the guard's other case) and the iteration left over (gmm.js 62 KB → 105 KB, its
 * wasm binary 22 KB → 47 KB).
 */
export function jamPairs(outer: Loop, body: readonly Instr[], root: (name: string) => string, allocations: ReadonlyMap<string, Extract<Instr, { kind: 'array' }>>, names: NameSupply, scratchCopies: Map<string, string>): Instr[] | undefined {
  const plan = pairable(outer, body, root, allocations);
  if (!plan) return undefined;
  return fusePairs(outer, plan, names, scratchCopies);
}

interface Plan {
  /** Work arrays the body overwrites before reading them: each copy gets its own. */
  readonly scratch: ReadonlySet<string>;
  /** The names whose values depend on the outer index (or on a work array's contents). */
  readonly dependent: ReadonlySet<string>;
  /** The names the body defines (its index included). */
  readonly local: ReadonlySet<string>;
}

const isPlain = (l: Loop) => !l.carried && !l.carriedArrays && !l.exit && !l.reduction && !l.schedule && !l.declared;
const sameOperand = (a: Operand, b: Operand) => (a.kind === 'const' ? b.kind === 'const' && Object.is(a.value, b.value) : b.kind === 'var' && a.name === b.name);

/** Whether `loop` is `for (i = 0; i < length; i++) array[i] = e`, e computed by definitions before it (none reading `array`). */
function fills(loop: Loop, array: string, length: Operand): boolean {
  if (loop.body.length === 0 || !(loop.from.kind === 'const' && loop.from.value === 0) || !sameOperand(loop.to, length)) return false;
  const s = loop.body[loop.body.length - 1];
  const notArray = (o: Operand) => o.kind !== 'var' || o.name !== array;
  return (
    loop.body.slice(0, -1).every((i) => i.kind === 'const' && i.expr.args.every(notArray)) &&
    s.kind === 'store' && s.array === array && !s.accumulate && !s.old && s.index.kind === 'var' && s.index.name === loop.index && s.expr.args.every(notArray)
  );
}

function pairable(outer: Loop, fnBlocks: readonly Instr[], root: (name: string) => string, allocations: ReadonlyMap<string, Extract<Instr, { kind: 'array' }>>): Plan | undefined {
  if (!isPlain(outer)) return undefined;
  let ok = true;
  let deep = false;
  const local = new Set<string>([outer.index]);
  const stored = new Set<string>();
  const scratch = new Set<string>();
  forEachInstr(outer.body, (i) => {
    if (i.kind === 'check' || i.kind === 'array') ok = false;
    else if (i.kind === 'loop') {
      if (!isPlain(i)) ok = false;
      if (i.body.some((j) => j.kind === 'loop' || (j.kind === 'if' && [...j.then, ...j.else].some((k) => k.kind === 'loop')))) deep = true;
      local.add(i.index);
    } else if (i.kind === 'const' || i.kind === 'let') {
      local.add(i.target);
      if (i.expr?.op === 'call') ok = false;
    } else if ((i.kind === 'set' || i.kind === 'add') && i.expr.op === 'call') ok = false;
    if (i.kind === 'store') {
      if (i.old) ok = false;
      else if (i.accumulate) stored.add(root(i.array));
      else scratch.add(i.array);
    }
  });
  // (A loop directly in the body with another inside it: the nest whose innermost loop is shared.)
  deep = deep && outer.body.some((i) => i.kind === 'loop' || i.kind === 'if');
  if (!ok || !deep) return undefined;
  // Work arrays: allocated at the function's top, used nowhere but here, filled whole before each read.
  for (const s of scratch) {
    const a = allocations.get(s);
    if (!a || a.rows || a.returned || stored.has(s) || root(s) !== s) return undefined;
    const inside = new Set<Instr>();
    forEachInstr([outer], (i) => inside.add(i));
    let outside = false;
    forEachInstr(fnBlocks, (i) => {
      if (i.kind !== 'array' && !inside.has(i) && mentions(i, s)) outside = true;
    });
    if (outside) return undefined;
    if (!filledBeforeRead(outer.body, s, a.length, false)) return undefined;
  }
  const read = new Set<string>();
  forEachInstr(outer.body, (i) => {
    if (i.kind === 'store') {
      for (const o of [i.index, ...i.expr.args]) if (o.kind === 'var') read.add(root(o.name));
      return;
    }
    if ((i.kind === 'set' || i.kind === 'add') && !local.has(i.target)) {
      if (i.kind === 'set') ok = false;
      stored.add(i.target);
    }
    const reads = (i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr?.op === 'row' ? i.expr.args.slice(1) : readsOf(i);
    for (const o of reads) if (o.kind === 'var' && !scratch.has(o.name)) read.add(root(o.name));
  });
  if (!ok || [...stored].some((a) => read.has(a))) return undefined;
  const dependent = dependentNames(outer, scratch);
  // Worth it only if an innermost loop touches an element both copies share.
  let shared = false;
  const innermost = (block: readonly Instr[], depth: number) => {
    for (const i of block) {
      if (i.kind === 'if') {
        innermost(i.then, depth);
        innermost(i.else, depth);
      } else if (i.kind === 'loop') innermost(i.body, depth + 1);
      else if (depth >= 2) {
        const independent = (o: Operand) => o.kind === 'const' || !dependent.has(o.name);
        if (i.kind === 'store' && i.accumulate && !scratch.has(i.array) && independent(variable(i.array)) && independent(i.index)) shared = true;
        if (i.kind === 'const' && i.expr.op === 'load' && i.expr.args[0].kind === 'var' && !scratch.has(i.expr.args[0].name) && i.expr.args.every(independent)) shared = true;
      }
    }
  };
  innermost(outer.body, 0);
  return shared ? { scratch, dependent, local } : undefined;
}

function mentions(i: Instr, name: string): boolean {
  const ops = i.kind === 'store' ? [variable(i.array), i.index, ...i.expr.args] : readsOf(i);
  return ops.some((o) => o.kind === 'var' && o.name === name);
}

/** Every load of `array` in `block` comes after (or inside a later sibling of) a loop filling it whole, at the same or an enclosing level. */
function filledBeforeRead(block: readonly Instr[], array: string, length: Operand, filledAbove: boolean): boolean {
  let filled = filledAbove;
  for (const i of block) {
    if (i.kind === 'loop' && i.body.some((s) => s.kind === 'store' && s.array === array)) {
      if (!fills(i, array, length)) return false;
      filled = true;
      continue;
    }
    if (i.kind === 'loop') {
      if (!filledBeforeRead(i.body, array, length, filled)) return false;
    } else if (i.kind === 'if') {
      if (!filledBeforeRead(i.then, array, length, filled) || !filledBeforeRead(i.else, array, length, filled)) return false;
      if (mentions(i, array)) return false;
    } else if (i.kind === 'store') {
      if (i.array === array) return false;
      if (!filled && mentions(i, array)) return false;
    } else if (!filled && mentions(i, array)) return false;
  }
  return true;
}

/** The names whose values depend on the outer index: computed from it or from a work array's contents, or assigned in a branch on such a value or in a loop whose bounds are such values. */
function dependentNames(outer: Loop, scratch: ReadonlySet<string>): Set<string> {
  const dependent = new Set<string>([outer.index, ...scratch]);
  const isDep = (o: Operand) => o.kind === 'var' && dependent.has(o.name);
  for (let changed = true; changed; ) {
    changed = false;
    const mark = (name: string) => {
      if (!dependent.has(name)) {
        dependent.add(name);
        changed = true;
      }
    };
    const walk = (block: readonly Instr[], control: boolean) => {
      for (const i of block) {
        if (i.kind === 'const' || i.kind === 'let') {
          // (A definition in a branch has its value wherever it is computed: only an assignment
          // to a variable declared outside the branch depends on whether the branch is taken.)
          if (i.expr && i.expr.args.some(isDep)) mark(i.target);
        } else if (i.kind === 'set' || i.kind === 'add') {
          if (control || i.expr.args.some(isDep)) mark(i.target);
        } else if (i.kind === 'if') {
          const c = control || isDep(i.condition);
          walk(i.then, c);
          walk(i.else, c);
        } else if (i.kind === 'loop') {
          // (A loop whose bounds depend on the index runs its body a number of times that does:
          // an addition in it into a variable declared outside it depends on the index, even of a
          // constant, as in a branch on such a value.)
          const bounded = isDep(i.from) || isDep(i.to);
          if (bounded) mark(i.index);
          walk(i.body, control || bounded);
        }
      }
    };
    walk(outer.body, false);
  }
  return dependent;
}

/** A fresh name like `name` (as unroll-and-jam's copies). */
const freshLike = (name: string, names: NameSupply) => (name.startsWith('$') ? names.temp() : names.user(name.replace(/\$.*$/, '')));

function fusePairs(outer: Loop, plan: Plan, names: NameSupply, scratchCopies: Map<string, string>): Instr[] {
  const origin = outer.origin;
  const out: Instr[] = [];
  const emit = (e: Expr): Operand => {
    const name = names.temp();
    out.push({ kind: 'const', target: name, expr: e, origin });
    return variable(name);
  };
  // Copy B's names: its own for what depends on the index, the shared ones for the rest.
  const second = freshLike(outer.index, names);
  const rB = new Map<string, string>([[outer.index, second]]);
  for (const s of plan.scratch) {
    if (!scratchCopies.has(s)) scratchCopies.set(s, names.temp());
    rB.set(s, scratchCopies.get(s)!);
  }
  forEachInstr(outer.body, (i) => {
    if ((i.kind === 'const' || i.kind === 'let') && plan.dependent.has(i.target)) rB.set(i.target, freshLike(i.target, names));
    if (i.kind === 'loop' && plan.dependent.has(i.index)) rB.set(i.index, freshLike(i.index, names));
  });
  const renameOne = (i: Instr, renames: ReadonlyMap<string, string>): Instr => renameVariables([i], renames)[0];
  // A whole instruction for one copy alone, every name it defines inside made new (it may stand twice).
  const alone = (i: Instr, renames: ReadonlyMap<string, string>): Instr => {
    const own = new Map(renames);
    forEachInstr([i], (j) => {
      if (j.kind === 'const' || j.kind === 'let') own.set(j.target, freshLike(j.target, names));
      if (j.kind === 'loop') own.set(j.index, freshLike(j.index, names));
    });
    // (The instruction's own definition, if it is one, keeps the name later siblings read.)
    if (i.kind === 'const' || i.kind === 'let') own.set(i.target, renames.get(i.target) ?? i.target);
    return renameOne(i, own);
  };
  const hasLoop = (i: Instr) => {
    let found = false;
    forEachInstr([i], (j) => {
      if (j !== i && j.kind === 'loop') found = true;
    });
    return found;
  };
  const fuse = (block: readonly Instr[], into: Instr[]): Instr[] => {
    for (const x of block) {
      switch (x.kind) {
        case 'const':
        case 'let':
          into.push(x);
          if (plan.dependent.has(x.target)) into.push(renameOne(x, rB));
          break;
        case 'set':
        case 'add':
          into.push(x);
          // (A number outside the body is added to by both; a local one is copy B's if it depends on the index.)
          if (plan.dependent.has(x.target) || !plan.local.has(x.target)) into.push(renameOne(x, rB));
          break;
        case 'store':
          into.push(x, renameOne(x, rB));
          break;
        case 'loop': {
          if (!plan.dependent.has(x.index)) into.push({ ...x, body: fuse(x.body, []) });
          else into.push(alone(x, new Map()), alone(x, rB));
          break;
        }
        case 'if': {
          const cB = renameOne(x, rB) as typeof x;
          if (sameOperand(x.condition, cB.condition)) into.push({ ...x, then: fuse(x.then, []), else: fuse(x.else, []) });
          else if (!hasLoop(x)) into.push(x, renameOne(x, rB));
          else {
            // Both copies take the branch (a zero guard's usual case): fused; else each alone.
            const both = names.temp();
            into.push({ kind: 'const', target: both, expr: { op: 'and', args: [x.condition, cB.condition] }, origin: x.origin });
            into.push({ kind: 'if', condition: variable(both), then: fuse(x.then, []), else: [alone(x, new Map()), alone(x, rB)], origin: x.origin });
          }
          break;
        }
        default:
          into.push(x, renameOne(x, rB));
      }
    }
    return into;
  };
  // Trip count n (never below 0), n/2 pairs, and the iteration left (0 or 1), as the row jam's groups.
  const zeroFrom = outer.from.kind === 'const' && outer.from.value === 0;
  const span = zeroFrom ? outer.to : emit({ op: 'sub', args: [outer.to, outer.from] });
  const trips = emit({ op: 'max', args: [span, constant(0)] });
  const pairs = emit({ op: 'floor', args: [emit({ op: 'div', args: [trips, constant(2)] })] });
  const rest = emit({ op: 'sub', args: [trips, emit({ op: 'mul', args: [pairs, constant(2)] })] });
  const pair = names.temp();
  const body: Instr[] = [];
  const at = (e: Expr): Operand => {
    const name = names.temp();
    body.push({ kind: 'const', target: name, expr: e, origin });
    return variable(name);
  };
  const twice = at({ op: 'mul', args: [variable(pair), constant(2)] });
  let first: Operand;
  if (outer.descending) {
    const past = emit({ op: 'add', args: [rest, constant(1)] });
    const base = zeroFrom ? past : emit({ op: 'add', args: [outer.from, past] });
    first = at({ op: 'add', args: [base, twice] });
  } else first = zeroFrom ? twice : at({ op: 'add', args: [outer.from, twice] });
  body.push({ kind: 'const', target: outer.index, expr: { op: 'copy', args: [first] }, origin });
  body.push({ kind: 'const', target: second, expr: { op: outer.descending ? 'sub' : 'add', args: [first, constant(1)] }, origin });
  // (The two copies' additions into one element, side by side in a fused block, made one.)
  body.push(...addOncePerElement(fuse(outer.body, []), names));
  // (In lines: the printer cuts each line of a note at the print width.)
  const said =
    `Two iterations per pass (${outer.descending ? `${outer.index} and ${outer.index} − 1` : `${outer.index} and ${outer.index} + 1`}), their bodies fused:\n` +
    `its effects are additions into arrays it never reads, so any order adds the same terms;\n` +
    `what does not depend on ${outer.index} is computed once, and an element both add into\n` +
    `is read and written once per pair; the iteration left over runs alone after`;
  out.push({ kind: 'loop', index: pair, from: constant(0), to: pairs, descending: outer.descending, body, note: outer.note ? `${outer.note};\n${said}` : said, origin });
  // The iteration left (0 or 1): the loop as it was, over the last index it visits.
  const single = new Map<string, string>();
  forEachInstr(outer.body, (i) => {
    if (i.kind === 'const' || i.kind === 'let') single.set(i.target, freshLike(i.target, names));
    if (i.kind === 'loop') single.set(i.index, freshLike(i.index, names));
  });
  single.set(outer.index, freshLike(outer.index, names));
  const restFrom = outer.descending ? outer.from : emit({ op: 'sub', args: [outer.to, rest] });
  const restTo = outer.descending ? (zeroFrom ? rest : emit({ op: 'add', args: [outer.from, rest] })) : outer.to;
  out.push({ ...outer, index: single.get(outer.index)!, from: restFrom, to: restTo, body: renameVariables(outer.body, single) });
  return out;
}
