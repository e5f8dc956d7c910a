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
  /** Whether a crossing value is an array (or a row of a matrix): then the scratch array is a plain one. */
  readonly holdsArrays: boolean;
}

export function countInstructions(body: readonly Instr[]): number {
  let n = 0;
  forEachInstr(body, () => n++);
  return n;
}

/**
 * What splitting knows of one variable: each is looked up by name once per mention, and
 * everything else is a field (a few Map and Set operations per mention, over names by the
 * hundred thousand, were a quarter of the emitter's time).
 */
interface Crossing {
  readonly name: string;
  /** The first chunk declaring it, and the last one reading or writing it (-1: none). */
  declaredIn: number;
  lastTouch: number;
  /** The last chunk where it was counted among the reads, the writes, the declarations (dedupes each chunk's lists). */
  readIn: number;
  writtenIn: number;
  declaredHere: number;
  slot: number;
  /** An array, or a row of a matrix. */
  array: boolean;
}

/** One chunk's mentions, each variable once, in order of first mention. */
interface Touched {
  readonly reads: Crossing[];
  readonly writes: Crossing[];
  readonly declared: Crossing[];
}

/** Splits top-level instructions into chunks; params are passed to every chunk, never stored. */
export function splitFunction(top: readonly Instr[], params: ReadonlySet<string>, results: readonly Operand[]): Split {
  const groups: Instr[][] = [[]];
  let size = 0;
  for (const instr of top) {
    const n = instr.kind === 'if' || instr.kind === 'loop' ? countInstructions([instr]) : 1;
    if (size + n > instructionsPerChunk && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(instr);
    size += n;
  }
  const known = new Map<string, Crossing>();
  const crossing = (name: string): Crossing => {
    let v = known.get(name);
    if (!v) known.set(name, (v = { name, declaredIn: -1, lastTouch: -1, readIn: -1, writtenIn: -1, declaredHere: -1, slot: -1, array: false }));
    return v;
  };
  const booleans = new Set<string>();
  // Where each variable is declared, and the last chunk that touches it: one pass, so splitting
  // stays linear in the size of the function.
  const touched = groups.map((g, c): Touched => {
    const t: Touched = { reads: [], writes: [], declared: [] };
    const read = (name: string) => {
      if (params.has(name)) return;
      const v = crossing(name);
      v.lastTouch = c;
      if (v.readIn !== c) {
        v.readIn = c;
        t.reads.push(v);
      }
    };
    const write = (name: string, declares: boolean) => {
      const v = crossing(name);
      v.lastTouch = c;
      if (v.writtenIn !== c) {
        v.writtenIn = c;
        t.writes.push(v);
      }
      if (declares) declare(v);
    };
    const declare = (v: Crossing) => {
      if (v.declaredIn < 0) v.declaredIn = c;
      if (v.declaredHere !== c) {
        v.declaredHere = c;
        t.declared.push(v);
      }
    };
    forEachInstr(g, (i) => {
      if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr && isBooleanOp(i.expr.op)) booleans.add(i.target);
      if (i.kind === 'const') {
        // Nearly every instruction: its operands, and the name it declares.
        for (const r of i.expr.args) if (r.kind === 'var') read(r.name);
        write(i.target, true);
        if (i.expr.op === 'row') crossing(i.target).array = true;
        return;
      }
      for (const r of readsOf(i)) if (r.kind === 'var') read(r.name);
      // Arrays and reductions' results are declared where they stand (a loop's index is its own).
      // (One hoisted out of a branch is declared before it, and only assigned here.)
      const hoisted = (i.kind === 'loop' || i.kind === 'array') && i.declared === true;
      for (const d of definesOf(i)) write(d, !hoisted);
      if (i.kind === 'array') crossing(i.target).array = true;
      if (i.kind === 'loop') declare(crossing(i.index));
      if (i.kind !== 'set' && i.kind !== 'add') return;
      write(i.target, false);
      if (i.kind === 'add') read(i.target);
    });
    return t;
  });
  const resultNames = new Set(results.flatMap((r) => (r.kind === 'var' ? [r.name] : [])));
  const slots = new Map<string, number>();
  let holdsArrays = false;
  const chunks = groups.map((instrs, c): Chunk => {
    const { reads, writes, declared } = touched[c];
    for (const v of declared) v.declaredHere = c;
    const earlier = (v: Crossing) => v.declaredHere !== c && (v.declaredIn < 0 ? c : v.declaredIn) < c;
    // Reads first, then writes not read, each in order of first mention.
    for (const v of reads) v.readIn = c;
    const liveIn = [...reads.filter(earlier), ...writes.filter((v) => v.readIn !== c && earlier(v))];
    for (const v of writes) v.writtenIn = c;
    const liveOut = writes.filter((v) => resultNames.has(v.name) || v.lastTouch > c);
    for (const v of [...liveIn, ...liveOut]) {
      if (v.slot >= 0) continue;
      slots.set(v.name, (v.slot = slots.size));
      if (v.array) holdsArrays = true;
    }
    return { instrs, liveIn: liveIn.map((v) => v.name), liveOut: liveOut.map((v) => v.name), updated: new Set(liveIn.filter((v) => v.writtenIn === c).map((v) => v.name)) };
  });
  return { chunks, slots, booleans, holdsArrays };
}
