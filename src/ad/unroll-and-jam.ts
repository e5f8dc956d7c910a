import type { NameSupply } from '../ir/builder.ts';
import { constant, forEachInstr, hasLoop, readsOf, variable, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { isRunningPowerName } from '../emit/names.ts';
import { addOncePerElement } from './accumulate-once.ts';
import { renameVariables } from '../ir/rename.ts';
import { jamPairs } from './jam-pairs.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * Unroll-and-jam by four of a reverse sweep's loop nest (issue 16). In GMM's reversed loop over the
 * rows j of L_k, the inner loop over c < j adds into μ's adjoint at c, `$dμ[c] += ḡ_j·L[j, c]`: an
 * element indexed by the inner loop only, so it is read and written once per (j, c), D²/2 times,
 * and V8 keeps none of it in a register. Here four outer iterations, j down to j − 3, run per pass:
 * their values are computed one after the other, then one inner loop runs the four bodies over
 * their common range (c < j − 3 for the triangular `c < j`; each higher row's terms from j − 3 on
 * run alone, row by row), and the four additions into the same element become one
 * (addOncePerElement): `$dμ[c] += ḡ_j·L[j, c] + … + ḡ_{j−3}·L[j − 3, c]`, a quarter of the loads
 * and stores. The iterations left over (the count modulo four) run alone after the groups, as the
 * loop was. polyfit's reversed loop over k (inner j, `d$c[j] += r_k·t_k^j`) has the same shape.
 * (Session 8 jammed by two; four measured faster, FACTOR below.)
 *
 * Legal because every effect of the loop nest is an addition into memory (or a number) the nest
 * never reads: the iterations then compute the same values in any order, and only the order of
 * the additions changes (rounding, as accumulateOnce's). So the pass takes a loop only when
 *   - its body is plain code (definitions, additions, branches of them) around exactly one inner
 *     loop of plain code: no other loop, no check, no call, no allocation (so an inner loop under a
 *     zero guard, `if (ḡ !== 0) for …`, is not taken: the rows' guards differ); the outer loop
 *     carries no state, and neither exits early or reduces (the inner loop may carry a running
 *     power of its own: each copy carries its own);
 *   - every store is an accumulation (`+=`) into an array no instruction of the nest reads, a row of
 *     a matrix counting as the matrix (`row(d$mu, k)` is d$mu under another name), and every number
 *     assigned outside the body is only added to, never read nor set;
 *   - the inner loop's start does not change with the outer index, and its end either does not or is
 *     the outer index itself (the triangular `c < j`);
 *   - the inner loop adds into an element indexed by its own index in an array every copy shares
 *     (else there is nothing to merge and the pass is not worth its code).
 * Run on the optimised reverse sweep of fGrad (and fGradInto), on both targets (the wasm target
 * vectorises the jammed inner loop: its `let` of the rows' terms and their additions into rows of
 * one matrix, emit/wasm/vectorize.ts; and twins `floor(n / 4)` as an i32, emit/wasm/select.ts):
 * never on a sweep that is differentiated again (fHvp, fHessian, nested gradients), whose sums must
 * keep their order to equal fGrad's bits; the compile driver does not call it there. With
 * `pairs` (the compile driver asks on both targets), a loop it does not take whose body holds such nests may first
 * run two iterations per pass, fused (jam-pairs.ts), and the fused nests are then jammed here.
 */
export function unrollAndJam(fn: IrFunction, names: NameSupply, options: { readonly pairs?: boolean } = {}): IrFunction {
  if (!fn.reverse) return fn;
  // (Nothing to jam or pair without a loop: straight-line code is returned unwalked.)
  if (!hasLoop(fn.body) && !hasLoop(fn.reverse)) return fn;
  // Work arrays allocated at the function's top level, and the second copies jamPairs gives them.
  const allocations = new Map<string, Extract<Instr, { kind: 'array' }>>();
  for (const i of [...fn.body, ...fn.reverse]) if (i.kind === 'array' && i.overwritten) allocations.set(i.target, i);
  const scratchCopies = new Map<string, string>();
  let inPairs = false;
  const everything = [...fn.body, ...fn.reverse];
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
  // (Instructions other than ifs and loops, most, are pushed as they are: flatMap made an array for each.)
  const visit = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (const instr of block) {
      if (instr.kind === 'if' || instr.kind === 'loop') out.push(...visitNested(instr));
      else out.push(instr);
    }
    return out;
  };
  const visitNested = (instr: Instr): Instr[] => {
    if (instr.kind === 'if') return [{ ...instr, then: visit(instr.then), else: visit(instr.else) }];
    if (instr.kind !== 'loop') return [instr];
    const nest = jammable(instr, root);
    if (nest) return jam(nest, names);
    // Two iterations fused through their whole body (jam-pairs.ts), then their loops jammed here.
    // (The pairs' loop and the one left over are not taken again; what they contain is visited.)
    // (Once per nest: a loop inside the pairs is not paired again, which would copy its body four times.)
    const paired = options.pairs && !inPairs ? jamPairs(instr, everything, root, allocations, names, scratchCopies) : undefined;
    if (paired) {
      inPairs = true;
      const visited = paired.map((i) => (i.kind === 'loop' ? { ...i, body: visit(i.body) } : i));
      inPairs = false;
      return visited;
    }
    if (instr.exit) return [{ ...instr, exit: { ...instr.exit, body: visit(instr.exit.body) }, body: visit(instr.body) }];
    return [{ ...instr, body: visit(instr.body) }];
  };
  const reverse = visit(fn.reverse);
  if (scratchCopies.size === 0) return { ...fn, reverse };
  // Each work array a pair's second copy fills gets its own, allocated beside the first.
  const allocate = (block: readonly Instr[]): Instr[] =>
    block.flatMap((i) => {
      const copy = i.kind === 'array' ? scratchCopies.get(i.target) : undefined;
      return copy && i.kind === 'array' ? [i, { ...i, target: copy }] : [i];
    });
  return { ...fn, body: allocate(fn.body), reverse: allocate(reverse) };
}

interface Nest {
  readonly outer: Loop;
  readonly before: readonly Instr[];
  readonly inner: Loop;
  readonly after: readonly Instr[];
  /** The inner loop ends at the outer index (`c < j`): each higher row has more terms than the lowest. */
  readonly triangular: boolean;
  /** The names the outer body defines (its index included): renamed in each copy. */
  readonly local: ReadonlySet<string>;
  /** The arrays the inner loop adds into at its own index, shared by every copy (for the comment). */
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

/**
 * How many outer iterations run per pass: four. Measured against two (session 9, GMM N = 1000,
 * interleaved in one process, medians of per-round ratios; the generated code edited by hand):
 * the gradient took 0.93× its time at D = 20, K = 50 and 0.85× at D = 32, K = 50, since μ's
 * adjoint at c and the shared load x_c are then read once per four rows instead of two, while the
 * adjoint stores of L (one per term) stay. README "Arrays" has the figures of the built pass.
 */
const FACTOR = 4;
const factorWord = 'four';

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
  // Trip count n (never below 0), n/F groups of F rows, and the rows left (rest, 0 to F − 1).
  const zeroFrom = outer.from.kind === 'const' && outer.from.value === 0;
  const span = zeroFrom ? outer.to : emit({ op: 'sub', args: [outer.to, outer.from] });
  const trips = emit({ op: 'max', args: [span, constant(0)] });
  const groups = emit({ op: 'floor', args: [emit({ op: 'div', args: [trips, constant(FACTOR)] })] });
  const rest = emit({ op: 'sub', args: [trips, emit({ op: 'mul', args: [groups, constant(FACTOR)] })] });
  // A group's rows, visited in the loop's own order: a descending loop's groups from the end down
  // (the top row from + rest + F − 1 + F·g, g counting down, then the rows below it; the rows left,
  // from .. from + rest − 1, last), an ascending one's from the start up (from + F·g and the rows
  // above it; the rows left, to − rest .. to − 1, last).
  const group = names.temp();
  const body: Instr[] = [];
  const at = (e: Expr): Operand => {
    const d = def(e);
    body.push(d.instr);
    return variable(d.name);
  };
  const fg = at({ op: 'mul', args: [variable(group), constant(FACTOR)] });
  const rows: Operand[] = [];
  if (outer.descending) {
    const past = emit({ op: 'add', args: [rest, constant(FACTOR - 1)] });
    const base = zeroFrom ? past : emit({ op: 'add', args: [outer.from, past] });
    rows.push(at({ op: 'add', args: [base, fg] }));
  } else {
    rows.push(zeroFrom ? fg : at({ op: 'add', args: [outer.from, fg] }));
  }
  for (let k = 1; k < FACTOR; k++) rows.push(at({ op: outer.descending ? 'sub' : 'add', args: [rows[0], constant(k)] }));
  // One renaming per copy of the outer body, the outer index bound to that copy's row.
  const copy = (row: Operand) => {
    const renames = new Map<string, string>();
    freshNames([...before, ...after], renames, names);
    freshNames(inner.body, renames, names);
    const index = freshLike(outer.index, names);
    renames.set(outer.index, index);
    return { renames, index, row };
  };
  const copies = rows.map(copy);
  const [first] = copies;
  for (const c of copies) body.push({ kind: 'const', target: c.index, expr: { op: 'copy', args: [c.row] }, origin });
  for (const c of copies) body.push(...renameBlock(before, c.renames));
  // The jammed inner loop: every row's body per index, over the range all rows have.
  const shared = freshLike(inner.index, names);
  const split = stateUpdates(inner)!;
  // A load every row makes of the same element (`x[c]`: an array the nest does not write, at the
  // inner index or an unchanging one) is made once, by the first row's body, and the others read it.
  const sameInAll = new Set<string>();
  for (const i of split.work) {
    if (i.kind === 'const' && i.expr.op === 'load' && i.expr.args.every((o) => o.kind === 'const' || o.name === inner.index || !nest.local.has(o.name))) sameInAll.add(i.target);
  }
  for (const c of copies.slice(1)) for (const t of sameInAll) c.renames.set(t, first.renames.get(t)!);
  const renamer = (c: ReturnType<typeof copy>, index: string) => new Map([...c.renames, [inner.index, index]]);
  const carriedOf = (c: ReturnType<typeof copy>) => (inner.carried ?? []).map((v) => c.renames.get(v) ?? v);
  // The lowest row (the last a descending loop visits, the first of an ascending one's group).
  const lowest = outer.descending ? copies[FACTOR - 1] : first;
  const merged = nest.merged.join(', ');
  const jammed: Loop = {
    ...inner,
    index: shared,
    to: triangular ? variable(lowest.index) : inner.to,
    // (Each copy's state updates last, after every copy's work, as a loop with state has them.)
    body: addOncePerElement(
      copies
        .flatMap((c, k) => renameBlock(k === 0 ? split.work : split.work.filter((i) => !(i.kind === 'const' && sameInAll.has(i.target))), renamer(c, shared)))
        .concat(copies.flatMap((c) => renameBlock(split.updates, renamer(c, shared)))),
      names,
    ),
    ...(inner.carried && { carried: copies.flatMap(carriedOf) }),
    note: [renameNote(inner.note, copies.map((c) => renamer(c, shared))), `the ${factorWord} rows' terms per index: ${merged} read and written once for the ${factorWord}`].filter(Boolean).join(';\n').replace(/^./, (c) => c.toUpperCase()),
  };
  if (triangular) {
    // Each higher row's terms past the lowest row's range (indices lowest .. row − 1) run alone,
    // row by row: first when the inner loop counts down, last when it counts up, so each row's
    // terms keep their order.
    const start = at({ op: 'max', args: [inner.from, variable(lowest.index)] });
    const alone = copies
      .filter((c) => c !== lowest)
      .map((c): Loop => {
        const index = freshLike(inner.index, names);
        // (Its own names for what the inner body defines: each name is defined once in the function.)
        const restRenames = new Map(c.renames);
        freshNames(inner.body, restRenames, names);
        restRenames.set(inner.index, index);
        return { ...inner, index, from: start, to: variable(c.index), body: renameBlock(inner.body, restRenames), ...(inner.carried && { carried: carriedOf(c) }), note: [renameNote(inner.note, [restRenames]), "a higher row's terms past the lowest row's range, alone"].filter(Boolean).join(';\n').replace(/^./, (ch) => ch.toUpperCase()) };
      });
    body.push(...(inner.descending ? [...alone, jammed] : [jammed, ...alone]));
  } else {
    body.push(jammed);
  }
  for (const c of copies) body.push(...renameBlock(after, c.renames));
  const said =
    `Unrolled and jammed by ${factorWord} (its effects are additions into arrays it never reads, so any order ` +
    `adds the same terms): ${FACTOR} rows per pass, ${outer.descending ? 'j down to j − 3' : 'j up to j + 3'}, their inner loops run as one, so ` +
    `${merged} (indexed by the inner loop only) is read and written once per ${factorWord} rows; the rows left over run alone after`;
  out.push({
    kind: 'loop',
    index: group,
    from: constant(0),
    to: groups,
    descending: outer.descending,
    body,
    note: outer.note ? `${outer.note};\n${said}` : said,
    origin,
  });
  // The rows left (0 to F − 1): the loop as it was, over the last indices it visits.
  const single = new Map<string, string>();
  freshNames([...before, inner, ...after], single, names);
  const index = freshLike(outer.index, names);
  single.set(outer.index, index);
  const restFrom = outer.descending ? outer.from : emit({ op: 'sub', args: [outer.to, rest] });
  const restTo = outer.descending ? (zeroFrom ? rest : emit({ op: 'add', args: [outer.from, rest] })) : outer.to;
  out.push({ ...outer, index, from: restFrom, to: restTo, body: renameBlock([...before, inner, ...after], single), note: renameNote(outer.note, [single]) });
  return out;
}
