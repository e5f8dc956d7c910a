import { definesOf, forEachInstr, isBooleanOp, readsOf, type Instr, type Operand } from '../../ir/ir.ts';
import { hasReferences, isArray, isBoolean, isParam, VariableTable } from './variables.ts';

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
  /** Crossing values this chunk reads (or updates) but an earlier chunk defined (numbers in the table). */
  readonly liveIn: readonly number[];
  /** Crossing values this chunk defines or updates that a later chunk, or the result, reads. */
  readonly liveOut: readonly number[];
  /** Live-in values this chunk assigns to (they are loaded into a `let`). */
  readonly updated: ReadonlySet<number>;
}

export interface Split {
  readonly chunks: readonly Chunk[];
  /**
   * Every variable of the function: each crossing value's scratch slot (`slot`), whether it is a
   * condition (`isBoolean`: stored as 0 or 1), and the references of each chunk's instructions.
   */
  readonly table: VariableTable;
  /** How many scratch slots the crossing values take. */
  readonly slots: number;
  /** Whether a crossing value is an array (or a row of a matrix): then the scratch array is a plain one. */
  readonly holdsArrays: boolean;
}

export function countInstructions(body: readonly Instr[]): number {
  let n = 0;
  forEachInstr(body, () => n++);
  return n;
}

/** One chunk's mentions, each variable once, in order of first mention. */
interface Touched {
  readonly reads: number[];
  readonly writes: number[];
  readonly declared: number[];
}

/** Splits top-level instructions into chunks; params are passed to every chunk, never stored. */
export function splitFunction(top: readonly Instr[], params: ReadonlySet<string>, results: readonly Operand[]): Split {
  const groups: Instr[][] = [[]];
  let size = 0;
  // (Indexed: this loop runs once, unoptimised, where for-of makes an object per instruction.)
  for (let k = 0; k < top.length; k++) {
    const instr = top[k];
    const n = instr.kind === 'if' || instr.kind === 'loop' ? countInstructions([instr]) : 1;
    if (size + n > instructionsPerChunk && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(instr);
    size += n;
  }
  // What splitting knows of each variable is in the table, by its number, found once per mention
  // (the table's walk), so that splitting stays linear in the size of the function.
  const table = new VariableTable();
  for (const p of params) table.flags[table.variable(p)] |= isParam;
  // Where each variable is declared, and the last chunk that touches it: one pass.
  const touched = groups.map((g, c): Touched => {
    const t: Touched = { reads: [], writes: [], declared: [] };
    const read = (v: number) => {
      if (table.flags[v] & isParam) return;
      table.lastTouch[v] = c;
      if (table.readIn[v] !== c) {
        table.readIn[v] = c;
        t.reads.push(v);
      }
    };
    const write = (v: number, declares: boolean) => {
      table.lastTouch[v] = c;
      if (table.writtenIn[v] !== c) {
        table.writtenIn[v] = c;
        t.writes.push(v);
      }
      if (declares) declare(v);
    };
    const declare = (v: number) => {
      if (table.declaredIn[v] < 0) table.declaredIn[v] = c;
      if (table.declaredHere[v] !== c) {
        table.declaredHere[v] = c;
        t.declared.push(v);
      }
    };
    table.walk(g, (i, at) => {
      const { refs } = table;
      if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr && isBooleanOp(i.expr.op)) table.flags[refs[at]] |= isBoolean;
      if (hasReferences(i)) {
        // Nearly every instruction (const, let, set, add): its operands, and the name it declares
        // or assigns, by their numbers.
        const n = i.expr ? i.expr.args.length : 0;
        for (let k = 1; k <= n; k++) {
          const r = refs[at + k];
          if (r >= 0) read(r);
        }
        const target = refs[at];
        write(target, i.kind === 'const' || i.kind === 'let');
        if (i.kind === 'const' && i.expr.op === 'row') table.flags[target] |= isArray;
        if (i.kind === 'add') read(target);
        return;
      }
      for (const r of readsOf(i)) if (r.kind === 'var') read(table.variable(r.name));
      // Arrays and reductions' results are declared where they stand (a loop's index is its own).
      // (One hoisted out of a branch is declared before it, and only assigned here.)
      const hoisted = (i.kind === 'loop' || i.kind === 'array') && i.declared === true;
      for (const d of definesOf(i)) write(table.variable(d), !hoisted);
      if (i.kind === 'array') table.flags[table.variable(i.target)] |= isArray;
      if (i.kind === 'loop') declare(table.variable(i.index));
    });
    return t;
  });
  // The results are read after the last chunk.
  for (const r of results) if (r.kind === 'var') table.lastTouch[table.variable(r.name)] = groups.length;
  let slots = 0;
  let holdsArrays = false;
  const { declaredHere, declaredIn, readIn, writtenIn, lastTouch, slot, flags } = table;
  const chunks = groups.map((instrs, c): Chunk => {
    // (Indexed loops: this runs once per chunk, unoptimised, where for-of makes an object per element.)
    const { reads, writes, declared } = touched[c];
    for (let k = 0; k < declared.length; k++) declaredHere[declared[k]] = c;
    const earlier = (v: number) => declaredHere[v] !== c && (declaredIn[v] < 0 ? c : declaredIn[v]) < c;
    // Reads first, then writes not read, each in order of first mention.
    for (let k = 0; k < reads.length; k++) readIn[reads[k]] = c;
    const liveIn: number[] = [];
    for (let k = 0; k < reads.length; k++) if (earlier(reads[k])) liveIn.push(reads[k]);
    for (let k = 0; k < writes.length; k++) if (readIn[writes[k]] !== c && earlier(writes[k])) liveIn.push(writes[k]);
    for (let k = 0; k < writes.length; k++) writtenIn[writes[k]] = c;
    const liveOut: number[] = [];
    for (let k = 0; k < writes.length; k++) if (lastTouch[writes[k]] > c) liveOut.push(writes[k]);
    const updated = new Set<number>();
    for (const live of [liveIn, liveOut]) {
      for (let k = 0; k < live.length; k++) {
        const v = live[k];
        if (live === liveIn && writtenIn[v] === c) updated.add(v);
        if (slot[v] >= 0) continue;
        slot[v] = slots++;
        if (flags[v] & isArray) holdsArrays = true;
      }
    }
    return { instrs, liveIn, liveOut, updated };
  });
  return { chunks, table, slots, holdsArrays };
}
