import { definesOf, forEachInstr, isBooleanOp, readsOf, type Instr, type Operand } from '../../ir/ir.ts';

/**
 * V8 stops optimising a function whose bytecode passes a size limit (about 60 KB): a gradient of
 * a few thousand statements then runs several times slower per statement. Such a body is split
 * into chunks of top-level instructions, each printed as its own function; values that cross a
 * chunk boundary travel through a module-level Float64Array (conditions as 0/1). Splitting only
 * changes where values live, never what is computed.
 */
/** Measured (bench/v8.ts): a gradient passes V8's limit near 450 chain statements, ~3,000 instructions. */
export const maxInstructionsPerFunction = 2500;
export const instructionsPerChunk = 1800;

export interface Chunk {
  readonly instrs: readonly Instr[];
  /** Crossing values this chunk reads (or updates) but an earlier chunk defined. */
  readonly liveIn: readonly string[];
  /** Crossing values this chunk defines or updates that a later chunk, or the result, reads. */
  readonly liveOut: readonly string[];
  /** Live-in values this chunk assigns to (they are loaded into a `let`). */
  readonly updated: ReadonlySet<string>;
}

export interface Split {
  readonly chunks: readonly Chunk[];
  /** The scratch slot of each crossing value. */
  readonly slots: ReadonlyMap<string, number>;
  /** Crossing values that are conditions (stored as 0 or 1). */
  readonly booleans: ReadonlySet<string>;
}

export function countInstructions(body: readonly Instr[]): number {
  let n = 0;
  forEachInstr(body, () => n++);
  return n;
}

/** Splits top-level instructions into chunks; params are passed to every chunk, never stored. */
export function splitFunction(top: readonly Instr[], params: ReadonlySet<string>, results: readonly Operand[]): Split {
  const groups: Instr[][] = [[]];
  let size = 0;
  for (const instr of top) {
    const n = countInstructions([instr]);
    if (size + n > instructionsPerChunk && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(instr);
    size += n;
  }
  const touched = groups.map((g) => {
    const reads = new Set<string>();
    const writes = new Set<string>();
    const declared = new Set<string>();
    forEachInstr(g, (i) => {
      for (const r of readsOf(i)) if (r.kind === 'var' && !params.has(r.name)) reads.add(r.name);
      // Arrays and reductions' results are declared where they stand (a loop's index is its own).
      // (One hoisted out of a branch is declared before it, and only assigned here.)
      const hoisted = (i.kind === 'loop' || i.kind === 'array') && i.declared === true;
      for (const d of definesOf(i)) {
        writes.add(d);
        if (!hoisted) declared.add(d);
      }
      if (i.kind === 'loop') declared.add(i.index);
      if (i.kind !== 'set' && i.kind !== 'add') return;
      writes.add(i.target);
      if (i.kind === 'add') reads.add(i.target);
    });
    return { reads, writes, declared };
  });
  const booleans = new Set<string>();
  forEachInstr(top, (i) => {
    if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr && isBooleanOp(i.expr.op)) booleans.add(i.target);
  });
  const resultNames = new Set(results.flatMap((r) => (r.kind === 'var' ? [r.name] : [])));
  // Where each variable is declared, and the last chunk that touches it: one pass, so splitting
  // stays linear in the size of the function.
  const declaredIn = new Map<string, number>();
  const lastTouch = new Map<string, number>();
  touched.forEach(({ reads, writes, declared }, c) => {
    for (const v of declared) if (!declaredIn.has(v)) declaredIn.set(v, c);
    for (const v of reads) lastTouch.set(v, c);
    for (const v of writes) lastTouch.set(v, c);
  });
  const slots = new Map<string, number>();
  const chunks = groups.map((instrs, c): Chunk => {
    const { reads, writes, declared } = touched[c];
    const liveIn = [...new Set([...reads, ...writes])].filter((v) => !declared.has(v) && (declaredIn.get(v) ?? c) < c);
    const laterUse = (v: string) => resultNames.has(v) || (lastTouch.get(v) ?? -1) > c;
    const liveOut = [...writes].filter(laterUse);
    for (const v of [...liveIn, ...liveOut]) if (!slots.has(v)) slots.set(v, slots.size);
    return { instrs, liveIn, liveOut, updated: new Set(liveIn.filter((v) => writes.has(v))) };
  });
  return { chunks, slots, booleans };
}
