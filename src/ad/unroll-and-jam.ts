import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, readsOf, variable, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { isRunningPowerName } from '../emit/names.ts';
import { addOncePerElement } from './accumulate-once.ts';
import { renameVariables } from '../ir/rename.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * Unroll-and-jam by two of a reverse sweep's loop nest (issue 16). In GMM's reversed loop over the
 * rows j of L_k, the inner loop over c < j adds into μ's adjoint at c, `$dμ[c] += ḡ_j·L[j, c]`: an
 * element indexed by the inner loop only, so it is read and written once per (j, c), D²/2 times,
 * and V8 keeps none of it in a register. Here two outer iterations, j and j − 1, run per pass:
 * their values are computed one after the other, then one inner loop runs both bodies over their
 * common range (c < j − 1 for the triangular `c < j`; c = j − 1 of row j runs alone), and the two
 * additions into the same element become one (addOncePerElement): `$dμ[c] += ḡ_j·L[j, c] +
 * ḡ_{j−1}·L[j − 1, c]`, half the loads and stores. An odd iteration count leaves the last one,
 * run alone after the pairs. polyfit's reversed loop over k (inner j, `d$c[j] += r_k·t_k^j`) has the
 * same shape.
 *
 * Legal because every effect of the loop nest is an addition into memory (or a number) the nest
 * never reads: the iterations then compute the same values in any order, and only the order of
 * the additions changes (rounding, as accumulateOnce's). So the pass takes a loop only when
 *   - its body is plain code (definitions, additions, branches of them) around exactly one inner
 *     loop of plain code: no other loop, no check, no call, no allocation (so an inner loop under a
 *     zero guard, `if (ḡ !== 0) for …`, is not taken: the two rows' guards differ); the outer loop
 *     carries no state, and neither exits early or reduces (the inner loop may carry a running
 *     power of its own: each copy carries its own);
 *   - every store is an accumulation (`+=`) into an array no instruction of the nest reads, a row of
 *     a matrix counting as the matrix (`row(d$mu, k)` is d$mu under another name), and every number
 *     assigned outside the body is only added to, never read nor set;
 *   - the inner loop's start does not change with the outer index, and its end either does not or is
 *     the outer index itself (the triangular `c < j`);
 *   - the inner loop adds into an element indexed by its own index in an array both copies share
 *     (else there is nothing to merge and the pass is not worth its code).
 * Run on the optimised reverse sweep of fGrad (and fGradInto), on both targets (the wasm target
 * vectorises the jammed inner loop: its `let` of both rows' terms and its two rows' additions into
 * one matrix, emit/wasm/vectorize.ts; and twins `floor(n / 2)` as an i32, emit/wasm/select.ts):
 * never on a sweep that is differentiated again (fHvp, fHessian, nested gradients), whose sums must
 * keep their order to equal fGrad's bits; the compile driver does not call it there.
 */
export function unrollAndJam(fn: IrFunction, names: NameSupply): IrFunction {
  if (!fn.reverse) return fn;
  // Rows of matrices, anywhere in the function: a name for part of another array.
  const rowOf = new Map<string, string>();
  for (const block of [fn.body, fn.reverse]) {
    forEachInstr(block, (i) => {
      if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr?.op === 'row' && i.expr.args[0].kind === 'var') rowOf.set(i.target, i.expr.args[0].name);
    });
  }
  const root = (name: string): string => {
    const seen = new Set<string>();
    while (rowOf.has(name) && !seen.has(name)) {
      seen.add(name);
      name = rowOf.get(name)!;
    }
    return name;
  };
  const visit = (block: readonly Instr[]): Instr[] =>
    block.flatMap((instr): Instr[] => {
      if (instr.kind === 'if') return [{ ...instr, then: visit(instr.then), else: visit(instr.else) }];
      if (instr.kind !== 'loop') return [instr];
      const nest = jammable(instr, root);
      if (nest) return jam(nest, names);
      if (instr.exit) return [{ ...instr, exit: { ...instr.exit, body: visit(instr.exit.body) }, body: visit(instr.body) }];
      return [{ ...instr, body: visit(instr.body) }];
    });
  return { ...fn, reverse: visit(fn.reverse) };
}

interface Nest {
  readonly outer: Loop;
  readonly before: readonly Instr[];
  readonly inner: Loop;
  readonly after: readonly Instr[];
  /** The inner loop ends at the outer index (`c < j`): the higher of the two rows has one more term. */
  readonly triangular: boolean;
  /** The names the outer body defines (its index included): renamed in each copy. */
  readonly local: ReadonlySet<string>;
  /** The arrays the inner loop adds into at its own index, shared by both copies (for the comment). */
  readonly merged: readonly string[];
}

const plainKinds = new Set<Instr['kind']>(['const', 'let', 'set', 'add', 'store']);
/** Straight-line code, maybe in branches (a power's derivative at 0, a zero guard): no loop, check, call or allocation. */
const isPlainCode = (i: Instr): boolean => plainKinds.has(i.kind) || (i.kind === 'if' && [...i.then, ...i.else].every(isPlainCode));
const isPlain = (l: Loop) => !l.carried && !l.carriedArrays && !l.exit && !l.reduction && !l.schedule && !l.declared;

function jammable(outer: Loop, root: (name: string) => string): Nest | undefined {
  if (!isPlain(outer)) return undefined;
  const loops = outer.body.filter((i) => i.kind === 'loop');
  if (loops.length !== 1) return undefined;
  const inner = loops[0] as Loop;
  // (The inner loop may carry state of its own, a running power: its copies carry theirs.)
  if (!isPlain({ ...inner, carried: undefined })) return undefined;
  const position = outer.body.indexOf(inner);
  const before = outer.body.slice(0, position);
  const after = outer.body.slice(position + 1);
  if (![...before, ...after, ...inner.body].every(isPlainCode)) return undefined;
  const all = [...before, inner, ...after];

  const local = new Set<string>([outer.index, inner.index]);
  forEachInstr(all, (i) => {
    if (i.kind === 'const' || i.kind === 'let') local.add(i.target);
  });
  // What the nest reads (a row's matrix counts as read only through the row's loads) and what it adds into.
  const read = new Set<string>();
  const added = new Set<string>();
  let plain = true;
  forEachInstr(all, (i) => {
    if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set' || i.kind === 'add') && i.expr?.op === 'call') plain = false;
    if (i.kind === 'store') {
      if (!i.accumulate || i.old) plain = false;
      added.add(root(i.array));
      for (const o of [i.index, ...i.expr.args]) if (o.kind === 'var') read.add(root(o.name));
      return;
    }
    if ((i.kind === 'set' || i.kind === 'add') && !local.has(i.target)) {
      if (i.kind === 'set') plain = false;
      added.add(i.target);
    }
    const reads = (i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr?.op === 'row' ? i.expr.args.slice(1) : readsOf(i);
    for (const o of reads) if (o.kind === 'var') read.add(root(o.name));
  });
  if (!plain || [...added].some((a) => read.has(a))) return undefined;

  const invariant = (o: Operand) => o.kind === 'const' || !local.has(o.name);
  if (!(inner.carried ?? []).every((c) => local.has(c)) || stateUpdates(inner) === undefined) return undefined;
  if (!invariant(inner.from)) return undefined;
  const triangular = inner.to.kind === 'var' && inner.to.name === outer.index;
  if (!triangular && !invariant(inner.to)) return undefined;
  const merged = new Set<string>();
  for (const i of inner.body) if (i.kind === 'store' && !local.has(i.array) && i.index.kind === 'var' && i.index.name === inner.index) merged.add(i.array);
  if (merged.size === 0) return undefined;
  return { outer, before, inner, after, triangular, local, merged: [...merged] };
}

/**
 * A loop body split into its work and its state updates: the `set`s of its carried variables, the
 * body's last instructions (checkpoint.ts's form; reduce-strength.ts appends a running power's).
 * Undefined when a carried variable is set elsewhere.
 */
function stateUpdates(loop: Loop): { work: Instr[]; updates: Instr[] } | undefined {
  const carried = new Set(loop.carried ?? []);
  let k = loop.body.length;
  while (k > 0 && loop.body[k - 1].kind === 'set' && carried.has((loop.body[k - 1] as { target: string }).target)) k--;
  const work = loop.body.slice(0, k);
  if (work.some((i) => i.kind === 'set' && carried.has(i.target))) return undefined;
  return { work, updates: loop.body.slice(k) };
}

/** A fresh name like `name`: a temporary for a temporary, `j$12` for `j$9` (as loops.ts's clones). */
const freshLike = (name: string, names: NameSupply) =>
  isRunningPowerName(name) ? names.power() : name.startsWith('$') ? names.temp() : names.user(name.replace(/\$.*$/, ''));

/** A loop's comment with the names it mentions replaced by their copies' (`$power30` → `$power47 and $power56`). */
function renameNote(note: string | undefined, copies: readonly ReadonlyMap<string, string>[]): string | undefined {
  return note?.replace(/[\w$]+/g, (word) => {
    const made = [...new Set(copies.map((c) => c.get(word)).filter((n): n is string => n !== undefined))];
    return made.length ? made.join(' and ') : word;
  });
}

/** The names a block defines, each given a fresh one (added to `renames`). */
function freshNames(block: readonly Instr[], renames: Map<string, string>, names: NameSupply): void {
  forEachInstr(block, (i) => {
    if (i.kind === 'const' || i.kind === 'let') renames.set(i.target, freshLike(i.target, names));
    if (i.kind === 'loop') renames.set(i.index, freshLike(i.index, names));
  });
}

/** A block with some variables renamed; its loops' comments name the copies (`renameNote`). */
function renameBlock(block: readonly Instr[], renames: ReadonlyMap<string, string>): Instr[] {
  return renameVariables(block, renames, (note) => renameNote(note, [renames]));
}

function jam(nest: Nest, names: NameSupply): Instr[] {
  const { outer, before, inner, after, triangular } = nest;
  const origin = outer.origin;
  const def = (expr: Expr): { name: string; instr: Instr } => {
    const name = names.temp();
    return { name, instr: { kind: 'const', target: name, expr, origin } };
  };
  const out: Instr[] = [];
  const emit = (e: Expr): Operand => {
    const d = def(e);
    out.push(d.instr);
    return variable(d.name);
  };
  // Trip count n (never below 0), n/2 pairs, and whether one iteration is left (rest = 0 or 1).
  const zeroFrom = outer.from.kind === 'const' && outer.from.value === 0;
  const span = zeroFrom ? outer.to : emit({ op: 'sub', args: [outer.to, outer.from] });
  const trips = emit({ op: 'max', args: [span, constant(0)] });
  const pairs = emit({ op: 'floor', args: [emit({ op: 'div', args: [trips, constant(2)] })] });
  const rest = emit({ op: 'sub', args: [trips, emit({ op: 'mul', args: [pairs, constant(2)] })] });
  // The pair's rows, hi and lo = hi − 1, visited in the loop's own order: a descending loop's
  // pairs from the end down (hi = from + rest + 1 + 2p, p counting down, the odd row `from` last),
  // an ascending one's from the start up (lo = from + 2p, the odd row to − 1 last).
  const pair = names.temp();
  const body: Instr[] = [];
  const at = (e: Expr): Operand => {
    const d = def(e);
    body.push(d.instr);
    return variable(d.name);
  };
  const twoP = at({ op: 'mul', args: [variable(pair), constant(2)] });
  let hi: Operand;
  let lo: Operand;
  if (outer.descending) {
    const past = emit({ op: 'add', args: [rest, constant(1)] });
    const base = zeroFrom ? past : emit({ op: 'add', args: [outer.from, past] });
    hi = at({ op: 'add', args: [base, twoP] });
    lo = at({ op: 'sub', args: [hi, constant(1)] });
  } else {
    lo = zeroFrom ? twoP : at({ op: 'add', args: [outer.from, twoP] });
    hi = at({ op: 'add', args: [lo, constant(1)] });
  }
  // One renaming per copy of the outer body, the outer index bound to that copy's row.
  const copy = (row: Operand) => {
    const renames = new Map<string, string>();
    freshNames([...before, ...after], renames, names);
    freshNames(inner.body, renames, names);
    const index = freshLike(outer.index, names);
    renames.set(outer.index, index);
    return { renames, index, row };
  };
  const first = copy(outer.descending ? hi : lo);
  const second = copy(outer.descending ? lo : hi);
  for (const c of [first, second]) body.push({ kind: 'const', target: c.index, expr: { op: 'copy', args: [c.row] }, origin });
  body.push(...renameBlock(before, first.renames), ...renameBlock(before, second.renames));
  // The jammed inner loop: both bodies per index, over the range both rows have.
  const shared = freshLike(inner.index, names);
  const split = stateUpdates(inner)!;
  // A load both rows make of the same element (`x[c]`: an array the nest does not write, at the inner
  // index or an unchanging one) is made once, by the first row's body, and the second reads it.
  const sameInBoth = new Set<string>();
  for (const i of split.work) {
    if (i.kind === 'const' && i.expr.op === 'load' && i.expr.args.every((o) => o.kind === 'const' || o.name === inner.index || !nest.local.has(o.name))) sameInBoth.add(i.target);
  }
  for (const t of sameInBoth) second.renames.set(t, first.renames.get(t)!);
  const renamer = (c: ReturnType<typeof copy>, index: string) => new Map([...c.renames, [inner.index, index]]);
  const carriedOf = (c: ReturnType<typeof copy>) => (inner.carried ?? []).map((v) => c.renames.get(v) ?? v);
  const hiCopy = outer.descending ? first : second;
  const loCopy = outer.descending ? second : first;
  const jammedTo = triangular ? variable(loCopy.index) : inner.to;
  const merged = nest.merged.join(', ');
  const jammed: Loop = {
    ...inner,
    index: shared,
    to: jammedTo,
    // (Each copy's state updates last, after both copies' work, as a loop with state has them.)
    body: addOncePerElement(
      [
        ...renameBlock(split.work, renamer(first, shared)),
        ...renameBlock(
          split.work.filter((i) => !(i.kind === 'const' && sameInBoth.has(i.target))),
          renamer(second, shared),
        ),
      ].concat([first, second].flatMap((c) => renameBlock(split.updates, renamer(c, shared)))),
      names,
    ),
    ...(inner.carried && { carried: [...carriedOf(first), ...carriedOf(second)] }),
    note: [renameNote(inner.note, [renamer(first, shared), renamer(second, shared)]), `both rows' terms per index: ${merged} read and written once for the two`].filter(Boolean).join(';\n').replace(/^./, (c) => c.toUpperCase()),
  };
  if (triangular) {
    // Row hi's last term (index lo, where row lo's range ends) runs alone: first when the inner
    // loop counts down, last when it counts up, so each row's terms keep their order.
    const alone = freshLike(inner.index, names);
    const start = at({ op: 'max', args: [inner.from, variable(loCopy.index)] });
    // (Its own names for what the inner body defines: each name is defined once in the function.)
    const restRenames = new Map(hiCopy.renames);
    freshNames(inner.body, restRenames, names);
    restRenames.set(inner.index, alone);
    const rest: Loop = { ...inner, index: alone, from: start, to: variable(hiCopy.index), body: renameBlock(inner.body, restRenames), ...(inner.carried && { carried: carriedOf(hiCopy) }), note: [renameNote(inner.note, [restRenames]), "the higher row's term past the lower row's range, alone"].filter(Boolean).join(';\n').replace(/^./, (c) => c.toUpperCase()) };
    body.push(...(inner.descending ? [rest, jammed] : [jammed, rest]));
  } else {
    body.push(jammed);
  }
  body.push(...renameBlock(after, first.renames), ...renameBlock(after, second.renames));
  const said =
    `Unrolled and jammed by two (its effects are additions into arrays it never reads, so any order ` +
    `adds the same terms): rows ${outer.descending ? 'j and j − 1' : 'j and j + 1'} per pass, their inner loops run as one, so ` +
    `${merged} (indexed by the inner loop only) is read and written once per two rows; an odd last row runs alone after`;
  out.push({
    kind: 'loop',
    index: pair,
    from: constant(0),
    to: pairs,
    descending: outer.descending,
    body,
    note: outer.note ? `${outer.note};\n${said}` : said,
    origin,
  });
  // The odd row left: the loop's body as it was, at the last index the loop visits.
  const last = outer.descending ? outer.from : emit({ op: 'sub', args: [outer.to, constant(1)] });
  const single = new Map<string, string>();
  freshNames([...before, inner, ...after], single, names);
  const index = freshLike(outer.index, names);
  single.set(outer.index, index);
  out.push({
    kind: 'if',
    condition: emit({ op: 'gt', args: [rest, constant(0)] }),
    then: [{ kind: 'const', target: index, expr: { op: 'copy', args: [last] }, origin }, ...renameBlock([...before, inner, ...after], single)],
    else: [],
    origin,
  });
  return out;
}
