import { declaredIn, definesOf, forEachInstr, readsOf, type Instr, type IrFunction, type Operand } from './ir.ts';

/**
 * Removes instructions whose results nobody reads: unused `let`s, and the branches of an `if`
 * that compute nothing needed, loops whose results and stores nobody reads, stores into arrays
 * nobody reads. Names are unique per function, so liveness is a set of names.
 */
export function eliminateDead(fn: IrFunction): IrFunction {
  const live = new Set<string>();
  const use = (ops: readonly Operand[]) => ops.forEach((o) => o.kind === 'var' && live.add(o.name));
  use([fn.value, ...(fn.result?.rows ? [fn.result.rows] : []), ...(fn.gradient ?? []).map((g) => g.adjoint)]);
  // A forward-mode function also returns tangents.
  const t = fn.tangent;
  if (t) use([t.value, ...(t.gradient ?? [])].filter((o): o is Operand => o !== undefined));
  // A row of a matrix is the matrix's memory: a store into it is live when the matrix is.
  const matrixOf = new Map<string, string>();
  forEachInstr([...fn.body, ...(fn.reverse ?? [])], (i) => {
    // (`set`: a row read in a branch, its declaration hoisted; a nested gradient stores into one.)
    if ((i.kind === 'const' || i.kind === 'set') && i.expr.op === 'row' && i.expr.args[0].kind === 'var') matrixOf.set(i.target, i.expr.args[0].name);
  });
  const isLive = (array: string): boolean => live.has(array) || (matrixOf.has(array) && isLive(matrixOf.get(array)!));
  // The reverse sweep runs after the body, so it is swept first.
  const reverse = fn.reverse && sweep(fn.reverse, isLive, live, use);
  const body = sweep(fn.body, isLive, live, use);
  return reverse ? { ...fn, body, reverse } : { ...fn, body };
}

function sweep(body: readonly Instr[], isLive: (array: string) => boolean, live: Set<string>, use: (ops: readonly Operand[]) => void): Instr[] {
  const kept: Instr[] = [];
  for (let i = body.length - 1; i >= 0; i--) {
    const instr = body[i];
    switch (instr.kind) {
      case 'if': {
        const thenBlock = sweep(instr.then, isLive, live, use);
        const elseBlock = sweep(instr.else, isLive, live, use);
        if (thenBlock.length === 0 && elseBlock.length === 0) continue;
        use([instr.condition]);
        kept.push({ ...instr, then: thenBlock, else: elseBlock });
        continue;
      }
      case 'loop': {
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
          return { ...instr.exit, body: sweep(instr.exit.body, isLive, live, use) };
        };
        if (instr.carried) {
          for (let size = -1; size !== live.size; ) {
            size = live.size;
            sweep(instr.body, isLive, live, use);
            exitSweep();
          }
        }
        const body = sweep(instr.body, isLive, live, use);
        const exit = exitSweep();
        // The reverse sweep's loops add into adjoints declared outside them.
        const effects = containsStore(body) || assignsOuter(body);
        if (!needed && !effects) continue;
        // A kept reduction assigns all its state, which may be declared before it (hoisted out of a branch).
        if (needed) use(definesOf(instr).map((name) => ({ kind: 'var' as const, name })));
        use([instr.from, instr.to]);
        const swept = { ...instr, body, ...(exit && { exit }) };
        kept.push(needed ? swept : { ...swept, reduction: undefined });
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
    if (instr.expr) use(instr.expr.args);
    kept.push(instr);
  }
  return kept.reverse();
}

function containsStore(body: readonly Instr[]): boolean {
  return body.some((i) => i.kind === 'store' || (i.kind === 'loop' && containsStore(i.body)) || (i.kind === 'if' && (containsStore(i.then) || containsStore(i.else))));
}

/** Whether a block assigns (`=`, `+=`) a variable it does not define itself. */
function assignsOuter(body: readonly Instr[]): boolean {
  const local = declaredIn(body);
  let outer = false;
  forEachInstr(body, (i) => {
    if ((i.kind === 'add' || i.kind === 'set') && !local.has(i.target)) outer = true;
  });
  return outer;
}
