import { NameSet } from './name-set.ts';
import { definesOf, forEachInstr, readsOf, readsWhatItStores, type Instr, type IrFunction, type Operand, type Reduction } from './ir.ts';

/**
 * Removes instructions whose results nobody reads: unused `let`s, and the branches of an `if`
 * that compute nothing needed, loops whose results and stores nobody reads, stores into arrays
 * nobody reads. Names are unique per function, so liveness is a set of names.
 */
export function eliminateDead(fn: IrFunction): IrFunction {
  const live = new NameSet();
  const use = (ops: readonly Operand[]) => {
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k];
      if (o.kind === 'var') live.add(o.name);
    }
  };
  use([fn.value, ...(fn.result?.rows ? [fn.result.rows] : []), ...(fn.gradient ?? []).map((g) => g.adjoint)]);
  // A forward-mode function also returns tangents.
  const t = fn.tangent;
  if (t) use([t.value, ...(t.gradient ?? []), ...(t.directions ?? []).map((d) => d.value)].filter((o): o is Operand => o !== undefined));
  // A row of a matrix is the matrix's memory: a store into it is live when the matrix is.
  const matrixOf = new Map<string, string>();
  const noteRow = (i: Instr) => {
    // (`set`: a row read in a branch, its declaration hoisted; a nested gradient stores into one.)
    if ((i.kind === 'const' || i.kind === 'set') && i.expr.op === 'row' && i.expr.args[0].kind === 'var') matrixOf.set(i.target, i.expr.args[0].name);
  };
  // (Each sweep on its own: spreading both into one array makes an iterator result per instruction in code not yet optimised.)
  forEachInstr(fn.body, noteRow);
  if (fn.reverse) forEachInstr(fn.reverse, noteRow);
  const isLive = (array: string): boolean => live.has(array) || (matrixOf.has(array) && isLive(matrixOf.get(array)!));
  // Where names are declared matters only to loops: numbered on the first loop swept.
  let scopes: Scopes | undefined;
  const context: Context = { isLive, live, use, settled: new Map(), effects: new WeakMap(), scopes: () => (scopes ??= scopesOf([...fn.body, ...(fn.reverse ?? [])])) };
  // The reverse sweep runs after the body, so it is swept first.
  const reverse = fn.reverse && sweep(fn.reverse, context);
  const body = sweep(fn.body, context);
  return reverse ? { ...fn, body, reverse } : { ...fn, body };
}

interface Context {
  readonly isLive: (array: string) => boolean;
  readonly live: NameSet;
  readonly use: (ops: readonly Operand[]) => void;
  /**
   * What sweeping a loop gave when that changed nothing live: the same live set gives the same
   * result. A carried loop's body is swept until its live set settles, and a loop nested in it is
   * swept once per round: without this, loops nested d deep cost 3^d sweeps of the innermost.
   */
  readonly settled: Map<Instr, { readonly size: number; readonly kept: Instr | undefined }>;
  /** What each kept `if` and loop does outside itself, so a loop around it need not walk it again. */
  readonly effects: WeakMap<Instr, Effects>;
  readonly scopes: () => Scopes;
}

interface Scopes {
  /** Where each variable is declared: positions in a pre-order numbering of the instructions. */
  readonly declaredAt: ReadonlyMap<string, number | readonly number[]>;
  /** Each loop's body (its exit condition's block too): the positions it spans. */
  readonly spans: ReadonlyMap<Instr, { readonly body: readonly [number, number]; readonly all: readonly [number, number] }>;
}

/** What a block does outside itself: stores (into any array), and assigns (`=`, `+=`) to variables it does not declare. */
interface Effects {
  readonly stores: boolean;
  readonly assigns: ReadonlySet<string>;
}

/**
 * Numbers the instructions in pre-order (a loop, then its exit block, then its body; an if, then
 * its branches): a variable is declared inside a loop's body when one of its declarations is
 * numbered inside the body's span. Names are unique per function (a few are declared twice:
 * before a branch and in it).
 */
function scopesOf(body: readonly Instr[]): Scopes {
  const declaredAt = new Map<string, number | number[]>();
  const spans = new Map<Instr, { body: [number, number]; all: [number, number] }>();
  let next = 0;
  const declare = (name: string, at: number) => {
    const known = declaredAt.get(name);
    if (known === undefined) declaredAt.set(name, at);
    else if (typeof known === 'number') declaredAt.set(name, [known, at]);
    else known.push(at);
  };
  const walk = (block: readonly Instr[]) => {
    for (const instr of block) {
      const at = next++;
      for (const d of definesOf(instr)) declare(d, at);
      if (instr.kind === 'if') {
        walk(instr.then);
        walk(instr.else);
      } else if (instr.kind === 'loop') {
        declare(instr.index, at);
        if (instr.exit) walk(instr.exit.body);
        const bodyStart = next;
        walk(instr.body);
        spans.set(instr, { body: [bodyStart, next - 1], all: [at + 1, next - 1] });
      }
    }
  };
  walk(body);
  return { declaredAt, spans };
}

/** The effects of a kept block, from its own instructions and those recorded for the ifs and loops in it. */
function effectsOf(block: readonly Instr[], context: Context): Effects {
  let stores = false;
  const assigns = new Set<string>();
  for (const i of block) {
    if (i.kind === 'store') stores = true;
    else if (i.kind === 'set' || i.kind === 'add') assigns.add(i.target);
    else if (i.kind === 'if' || i.kind === 'loop') {
      const inner = context.effects.get(i)!;
      stores ||= inner.stores;
      for (const name of inner.assigns) assigns.add(name);
    }
  }
  return { stores, assigns };
}

/** The names not declared within a span of positions. */
function declaredOutside(names: ReadonlySet<string>, [from, to]: readonly [number, number], scopes: Scopes): Set<string> {
  const outside = new Set<string>();
  const within = (at: number) => at >= from && at <= to;
  for (const name of names) {
    const at = scopes.declaredAt.get(name);
    if (at === undefined || (typeof at === 'number' ? !within(at) : !at.some(within))) outside.add(name);
  }
  return outside;
}

function sweep(body: readonly Instr[], context: Context): Instr[] {
  const { isLive, live, use, settled } = context;
  const kept: Instr[] = [];
  for (let i = body.length - 1; i >= 0; i--) {
    const instr = body[i];
    switch (instr.kind) {
      case 'if': {
        const thenBlock = sweep(instr.then, context);
        const elseBlock = sweep(instr.else, context);
        if (thenBlock.length === 0 && elseBlock.length === 0) continue;
        use([instr.condition]);
        const swept = { ...instr, then: thenBlock, else: elseBlock };
        const [a, b] = [effectsOf(thenBlock, context), effectsOf(elseBlock, context)];
        context.effects.set(swept, { stores: a.stores || b.stores, assigns: new Set([...a.assigns, ...b.assigns]) });
        kept.push(swept);
        continue;
      }
      case 'loop': {
        // Live names only accumulate, so the same number of them is the same set.
        const before = live.size;
        const known = settled.get(instr);
        if (known && known.size === before) {
          if (known.kept) kept.push(known.kept);
          continue;
        }
        const swept = sweepLoop(instr, context);
        if (live.size === before) settled.set(instr, { size: before, kept: swept });
        if (swept) kept.push(swept);
        continue;
      }
      case 'store':
        if (!isLive(instr.array)) continue;
        use(readsOf(instr));
        kept.push(instr);
        continue;
      case 'check':
        use(readsOf(instr));
        kept.push(instr);
        continue;
      case 'array':
        if (!live.has(instr.target)) continue;
        use(readsOf(instr));
        kept.push(instr);
        continue;
    }
    if (!live.has(instr.target)) continue;
    if (instr.expr) {
      // (use(), inlined: the instructions most functions are made of.)
      const args = instr.expr.args;
      for (let k = 0; k < args.length; k++) {
        const o = args[k];
        if (o.kind === 'var') live.add(o.name);
      }
    }
    kept.push(instr);
  }
  return kept.reverse();
}

/** A loop swept: kept (its body swept), or undefined when nothing it does is needed. */
function sweepLoop(instr: Extract<Instr, { kind: 'loop' }>, context: Context): Instr | undefined {
  const { live, use } = context;
  // A loop is kept for its reduction's result or for a store its body keeps. Its body is
  // swept with the reduction's term live; iterations share nothing but outer variables,
  // which a body only reads or accumulates into (an `add` keeps its target's declaration).
  const r = instr.reduction;
  const needed = r !== undefined && definesOf(instr).some((n) => live.has(n));
  if (needed) use([r.value]);
  // Carried state is read by the next iteration, before the `set`s that write it: sweep
  // until no more variables become live, then keep what the last sweep kept.
  // A while's condition (computed at the start of each iteration) is always kept: it decides
  // how many iterations run.
  const exitSweep = () => {
    if (!instr.exit) return undefined;
    use([instr.exit.condition]);
    return { ...instr.exit, body: sweep(instr.exit.body, context) };
  };
  // (So is a body reading an array it stores into: a store is live for a later iteration's load.)
  if (instr.carried || readsWhatItStores(instr.body)) {
    for (let size = -1; size !== live.size; ) {
      size = live.size;
      sweep(instr.body, context);
      exitSweep();
    }
  }
  const body = sweep(instr.body, context);
  const exit = exitSweep();
  // The reverse sweep's loops add into adjoints declared outside them.
  const scopes = context.scopes();
  const spans = scopes.spans.get(instr)!;
  const inBody = effectsOf(body, context);
  if (!needed && !inBody.stores && declaredOutside(inBody.assigns, spans.body, scopes).size === 0) return undefined;
  // A kept reduction assigns all its state, which may be declared before it (hoisted out of a branch).
  if (needed) use(definesOf(instr).map((name) => ({ kind: 'var' as const, name })));
  use([instr.from, instr.to]);
  const swept = { ...instr, body, ...(exit && { exit }) };
  // A logsumexp's tape (its terms' exps, for the reverse sweep) is kept while something reads it.
  // (Its array and scale go together: the loop writes the one and defines the other.)
  const tape = r?.tape;
  const tapeRead = tape !== undefined && (live.has(tape.array) || live.has(tape.scale));
  if (needed && tape && tapeRead) use([{ kind: 'var', name: tape.array }, tape.offset]);
  const reduction = needed && tape && !tapeRead ? withoutTape(r) : r;
  const kept = needed ? { ...swept, reduction } : { ...swept, reduction: undefined };
  // Seen from outside: the stores of its body (a while's condition block stores nothing), and what it and its condition block assign.
  const assigns = exit ? new Set([...inBody.assigns, ...effectsOf(exit.body, context).assigns]) : inBody.assigns;
  context.effects.set(kept, { stores: inBody.stores, assigns: declaredOutside(assigns, spans.all, scopes) });
  return kept;
}

/** A reduction without its tape (the loop then defines no scale either). */
function withoutTape(r: Reduction): Reduction {
  const { tape: _unread, ...rest } = r;
  return rest;
}
