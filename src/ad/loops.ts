import type { NameSupply } from '../ir/builder.ts';
import { constant, declaredIn, definesOf, forEachInstr, isTwoPassLogsumexp, variable, type Expr, type Instr, type Op, type Operand } from '../ir/ir.ts';

export type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * A value the forward sweep stores, one per iteration of the loops around it: a nested reduction's
 * results, or a costly value (an exp, a tanh) computed in a loop's body.
 */
export interface Saved {
  /** The loops around it, outermost first: index (as in the forward sweep), start, and iteration count. */
  readonly enclosing: readonly { readonly index: string; readonly from: Operand; readonly extent: Operand }[];
  /** Each result (the reduction's value, and its state the reverse sweep reads) and the array holding it. */
  readonly values: readonly { readonly name: string; readonly array: string }[];
}

/**
 * Store-or-recompute. The reverse of a loop recomputes its body, which is cheap for arithmetic
 * but not for a reduction nested in it: that would run the inner loop once more per iteration.
 * So the forward sweep stores each nested reduction's results in an array indexed by the
 * iteration of the loops around it, allocated once per call, and the reverse sweep reads them.
 * This needs the loops around to have bounds known before the outermost one starts (rectangular
 * loops); a reduction inside a triangular loop (`j in 0..i`) is recomputed instead. Results the
 * reverse sweep turns out not to read are removed again by dead-code elimination.
 *
 * The same holds, less sharply, for one costly operation in a loop's body (exp, log, tanh, a power
 * with a variable exponent…): `worthStoring` weighs recomputing it against a store and a load.
 * Those values are stored the same way, in loops without state (a loop with state stores its
 * states instead, checkpoint.ts), when they are computed in the body itself, not in a branch.
 */
export function saveNestedReductions(body: readonly Instr[], names: NameSupply, saved: Map<string, Saved>, logsumexpTapes = false): Instr[] {
  // Names defined inside some loop body (branch locals there are declared in the body too).
  const loopLocal = new Set<string>();
  forEachInstr(body, (i) => {
    if (i.kind !== 'loop') return;
    loopLocal.add(i.index);
    for (const name of declaredIn(i.body)) loopLocal.add(name);
  });
  const known = (o: Operand) => o.kind === 'const' || !loopLocal.has(o.name);
  const temp = (out: Instr[], origin: Instr['origin'], op: 'sub' | 'mul' | 'add' | 'max', a: Operand, b: Operand): Operand => {
    const target = names.temp();
    out.push({ kind: 'const', target, expr: { op, args: [a, b] }, origin });
    return variable(target);
  };

  const top: Instr[] = [];
  for (const instr of body) {
    if (instr.kind !== 'loop') {
      top.push(instr);
      continue;
    }
    const prelude: Instr[] = [];
    // The iteration count of each loop, computed once before the outermost loop (if all are known there).
    const extents = new Map<Loop, Operand>();
    const extentOf = (loop: Loop): Operand => {
      let extent = extents.get(loop);
      if (!extent) {
        extent = temp(prelude, loop.origin, 'max', temp(prelude, loop.origin, 'sub', loop.to, loop.from), constant(0));
        extents.set(loop, extent);
      }
      return extent;
    };
    // (Instructions other than ifs and loops, most, are pushed as they are: flatMap made an array for each.)
    const rewrite = (block: readonly Instr[], around: readonly Loop[], inBranch: boolean): Instr[] => {
      const out: Instr[] = [];
      for (const i of block) {
        if (i.kind === 'if' || i.kind === 'loop') out.push(...rewriteNested(i, around, inBranch));
        else out.push(i);
      }
      return out;
    };
    const rewriteNested = (i: Instr, around: readonly Loop[], inBranch: boolean): Instr[] => {
      if (i.kind === 'if') return [{ ...i, then: rewrite(i.then, around, true), else: rewrite(i.else, around, true) }];
      if (i.kind !== 'loop') return [i];
      const rewritten: Loop = { ...i, body: rewrite(i.body, [...around, i], inBranch) };
      const [offset, loop] = tapeLogsumexp(saveCostlyValues(rewritten, around), around, inBranch);
      if (!loop.reduction || around.length === 0 || !around.every((l) => known(l.from) && known(l.to))) return [...offset, loop];
      const enclosing = around.map((l) => ({ index: l.index, from: l.from, extent: extentOf(l) }));
      let length: Operand = enclosing[0].extent;
      for (const e of enclosing.slice(1)) length = temp(prelude, loop.origin, 'mul', length, e.extent);
      const values = definesOf(loop).map((name) => ({ name, array: names.saved() }));
      for (const v of values) prelude.push({ kind: 'array', target: v.array, length, overwritten: true, note: 'results of a nested loop, for the reverse sweep', origin: loop.origin });
      saved.set(loop.reduction.target, { enclosing, values });
      const after: Instr[] = [];
      let position: Operand | undefined;
      for (const e of enclosing) {
        const offset = temp(after, loop.origin, 'sub', variable(e.index), e.from);
        position = position === undefined ? offset : temp(after, loop.origin, 'add', temp(after, loop.origin, 'mul', position, e.extent), offset);
      }
      for (const v of values) {
        const note = 'stored for the reverse sweep, which would otherwise run this loop again';
        after.push({ kind: 'store', array: v.array, index: position!, expr: { op: 'copy', args: [variable(v.name)] }, accumulate: false, note, origin: loop.origin });
      }
      return [...offset, loop, ...after];
    };
    /**
     * A logsumexp emitted in two passes (isTwoPassLogsumexp) keeps its terms' exp(term - maximum)
     * for the reverse sweep, whose ∂R/∂term = exp(term - R) is then one load and a multiplication
     * by the loop's scale instead of an exp: one array of the loop's iterations, for every
     * iteration of the loops around (rectangular ones, outside any branch, as for stored values).
     * Returns the instructions computing the loop's offset in that array, and the loop.
     */
    const tapeLogsumexp = (loop: Loop, around: readonly Loop[], inBranch: boolean): [Instr[], Loop] => {
      const r = loop.reduction;
      if (!logsumexpTapes || !r || inBranch || loop.declared || !isTwoPassLogsumexp(loop)) return [[], loop];
      const nest = [...around, loop];
      if (!nest.every((l) => known(l.from) && known(l.to) && !l.carried && !l.exit)) return [[], loop];
      const enclosing = nest.map((l) => ({ index: l.index, from: l.from, extent: extentOf(l) }));
      let length: Operand = enclosing[0].extent;
      for (const e of enclosing.slice(1)) length = temp(prelude, loop.origin, 'mul', length, e.extent);
      const array = names.saved();
      const note = "a logsumexp's exp(term - maximum) per term, for the reverse sweep (a load and a multiplication cost less than an exp)";
      prelude.push({ kind: 'array', target: array, length, overwritten: true, note, origin: loop.origin });
      // The element of iteration `index` is offset + index: (position of the iterations around) · extent - from.
      const offsetInstrs: Instr[] = [];
      let position: Operand = constant(0);
      for (const e of enclosing.slice(0, -1)) {
        const step = temp(offsetInstrs, loop.origin, 'sub', variable(e.index), e.from);
        position = position.kind === 'const' ? step : temp(offsetInstrs, loop.origin, 'add', temp(offsetInstrs, loop.origin, 'mul', position, e.extent), step);
      }
      const own = enclosing[enclosing.length - 1].extent;
      const start = position.kind === 'const' ? constant(0) : temp(offsetInstrs, loop.origin, 'mul', position, own);
      const offset = loop.from.kind === 'const' && loop.from.value === 0 ? start : temp(offsetInstrs, loop.origin, 'sub', start, loop.from);
      return [offsetInstrs, { ...loop, reduction: { ...r, tape: { array, offset, scale: names.temp() } } }];
    };
    /** The loop with each costly value of its body stored after it is computed (see worthStoring). */
    const saveCostlyValues = (loop: Loop, around: readonly Loop[]): Loop => {
      const nest = [...around, loop];
      if (!nest.every((l) => known(l.from) && known(l.to) && !l.carried && !l.exit)) return loop;
      // (A value stored into an array let is read back from it already.)
      const inArrays = new Set(loop.body.flatMap((i) => (i.kind === 'store' && i.expr.op === 'copy' && i.expr.args[0].kind === 'var' ? [i.expr.args[0].name] : [])));
      // (A power of the loop's own index, t^j or t^(j + c), is a running product after optimisation:
      // one multiplication, see reduce-strength.ts.)
      const fromIndex = new Set([loop.index]);
      for (const i of loop.body) if (i.kind === 'const' && (i.expr.op === 'add' || i.expr.op === 'sub') && i.expr.args.some((a) => a.kind === 'var' && a.name === loop.index)) fromIndex.add(i.target);
      const runningPower = (e: Expr) => e.op === 'pow' && e.args[1].kind === 'var' && fromIndex.has(e.args[1].name);
      const costly = new Set(loop.body.filter((i) => i.kind === 'const' && !inArrays.has(i.target) && !runningPower(i.expr) && worthStoring(i.expr.op, i.expr.args)));
      if (costly.size === 0) return loop;
      const enclosing = nest.map((l) => ({ index: l.index, from: l.from, extent: extentOf(l) }));
      let length: Operand = enclosing[0].extent;
      for (const e of enclosing.slice(1)) length = temp(prelude, loop.origin, 'mul', length, e.extent);
      // The position of the iteration: computed once, at the top of the body.
      const position: Instr[] = [];
      let at: Operand | undefined;
      for (const e of enclosing) {
        const offset = temp(position, loop.origin, 'sub', variable(e.index), e.from);
        at = at === undefined ? offset : temp(position, loop.origin, 'add', temp(position, loop.origin, 'mul', at, e.extent), offset);
      }
      const body: Instr[] = [...position];
      for (const i of loop.body) {
        body.push(i);
        if (!costly.has(i) || i.kind !== 'const') continue;
        const array = names.saved();
        const note = `${i.expr.op} values for the reverse sweep (a store and a load cost less than an ${i.expr.op})`;
        prelude.push({ kind: 'array', target: array, length, overwritten: true, note, origin: i.origin });
        saved.set(i.target, { enclosing, values: [{ name: i.target, array }] });
        body.push({ kind: 'store', array, index: at!, expr: { op: 'copy', args: [variable(i.target)] }, accumulate: false, origin: i.origin });
      }
      return { ...loop, body };
    };
    const rewritten = rewrite([instr], [], false);
    top.push(...prelude, ...rewritten);
  }
  return top;
}

/** What cloneBody needs of a set of names: a Set, or a layer over one (`layered`). */
export interface NameSet {
  has(name: string): boolean;
  add(name: string): unknown;
}

/**
 * Names added here stay here; `has` also sees `under`. For a copy whose new names must not reach
 * `under`, without copying it (a copy per loop made compile time quadratic in the number of loops).
 */
export function layered(under: ReadonlySet<string>): NameSet {
  const added = new Set<string>();
  return { has: (name) => added.has(name) || under.has(name), add: (name) => added.add(name) };
}

/**
 * The cost model of store-or-recompute for one value, in multiplications: the reverse sweep
 * either computes it again or reads it back from an array the forward sweep wrote (a store, a
 * load and the memory they move: about STORE_COST). Measured on V8 (Node 20): Math.exp, log, sin,
 * tanh and a power with a variable exponent cost 10–40 multiplications; sqrt, abs, floor and the
 * arithmetic are cheaper than a store and a load, so they are recomputed.
 */
const RECOMPUTE_COST: Partial<Record<Op, number>> = {
  exp: 20,
  expm1: 20,
  log: 20,
  log1p: 20,
  log2: 20,
  log10: 20,
  sin: 20,
  cos: 20,
  tan: 25,
  asin: 25,
  acos: 25,
  atan: 20,
  atan2: 30,
  sinh: 25,
  cosh: 25,
  tanh: 25,
  cbrt: 15,
  hypot: 15,
};
const STORE_COST = 4;

/** Whether storing a value for the reverse sweep is cheaper than recomputing it (a power: with a variable exponent). */
export function worthStoring(op: Op, args: readonly Operand[]): boolean {
  const cost = op === 'pow' ? (args[1]?.kind === 'const' ? 0 : 30) : (RECOMPUTE_COST[op] ?? 0);
  return cost > STORE_COST;
}

/** A loop body copied under fresh names, for the reverse sweep's recomputation. */
export interface Clone {
  readonly instrs: Instr[];
  readonly renamed: (o: Operand) => Operand;
}

/**
 * Copies a block, giving every variable it defines a fresh name (`renames` gives the first ones,
 * e.g. the loop index). The copy's names inherit activity and array-ness, and remember which
 * forward name they were made from (`original`).
 */
export function cloneBody(
  block: readonly Instr[],
  renames: Map<string, string>,
  names: NameSupply,
  active: Set<string>,
  arrays: NameSet,
  original: Map<string, string>,
): Clone {
  const fresh = (name: string): string => {
    // (A product's partial products keep their kind of name: recomputing fills them again.)
    const partial = /^\$(prefix|suffix)\d+$/.exec(name);
    const made = partial ? names.partialProducts(partial[1] as 'prefix' | 'suffix') : name.startsWith('$') ? names.temp() : names.user(name.replace(/\$.*$/, ''));
    renames.set(name, made);
    if (active.has(name)) active.add(made);
    if (arrays.has(name)) arrays.add(made);
    original.set(made, original.get(name) ?? name);
    return made;
  };
  const ren = (o: Operand): Operand => (o.kind === 'var' && renames.has(o.name) ? variable(renames.get(o.name)!) : o);
  const renName = (n: string) => renames.get(n) ?? n;
  const expr = <E extends { op: string; args: readonly Operand[] }>(e: E): E => ({ ...e, args: e.args.map(ren) });
  const copy = (b: readonly Instr[]): Instr[] =>
    b.map((i): Instr => {
      switch (i.kind) {
        case 'const':
          return { ...i, expr: expr(i.expr), target: fresh(i.target) };
        case 'let':
          return { ...i, ...(i.expr && { expr: expr(i.expr) }), target: fresh(i.target) };
        case 'set':
        case 'add':
          return { ...i, target: renName(i.target), expr: expr(i.expr) };
        case 'if':
          return { ...i, condition: ren(i.condition), then: copy(i.then), else: copy(i.else) };
        case 'loop': {
          const from = ren(i.from);
          const to = ren(i.to);
          const index = fresh(i.index);
          const body = copy(i.body);
          const r = i.reduction;
          // A reduction in a branch assigns variables declared (and so renamed) before it.
          const state = (name: string) => (i.declared ? renName(name) : fresh(name));
          const reduction = r && {
            ...r,
            value: ren(r.value),
            target: state(r.target),
            ...(r.arg && { arg: state(r.arg) }),
            ...(r.nonzero && { nonzero: state(r.nonzero) }),
            ...(r.zeros && { zeros: state(r.zeros) }),
            ...(r.tape && { tape: { ...r.tape, offset: ren(r.tape.offset), scale: state(r.tape.scale) } }),
          };
          // A while's condition block comes before the body; its trip count and the carried state
          // are declared before the loop (renamed with it when the loop is in the block copied).
          const exit = i.exit && { body: copy(i.exit.body), condition: ren(i.exit.condition), trips: renName(i.exit.trips) };
          const carried = i.carried?.map(renName);
          const carriedArrays = i.carriedArrays?.map((a) => ({ name: renName(a.name), length: ren(a.length) }));
          return { ...i, index, from, to, body, ...(reduction && { reduction }), ...(exit && { exit }), ...(carried && { carried }), ...(carriedArrays && { carriedArrays }) };
        }
        case 'store':
          return { ...i, array: renName(i.array), index: ren(i.index), expr: expr(i.expr), ...(i.old && { old: ren(i.old) }) };
        case 'array':
          return { ...i, length: ren(i.length), ...(i.rows && { rows: ren(i.rows) }), target: i.declared ? renName(i.target) : fresh(i.target) };
        case 'check':
          return { ...i, index: ren(i.index), length: ren(i.length), ...(i.from && { from: ren(i.from) }) };
      }
    });
  return { instrs: copy(block), renamed: ren };
}
