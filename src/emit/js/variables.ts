import type { Expr, Instr } from '../../ir/ir.ts';

/**
 * The variables of one generated function, numbered, and what the emitter learns of each:
 * splitting (split-function.ts), choosing the temporaries to inline and printing (emit-js.ts) all
 * read every mention of every variable, and a lookup in a Map of 10⁵ names costs about 100 ns.
 * A name is looked up once per mention, when the function's blocks are walked (`walk`): for each
 * `const`, `let`, `set` and `add` instruction (nearly every one), the numbers of its target and of
 * its operands are recorded by position (`refs`), and the passes after it read them from there.
 *
 * What is known of a variable is an element of typed arrays indexed by its number, not an object
 * per variable: a function of 10⁵ variables would otherwise make 10⁵ objects that live as long as
 * it is emitted, which every garbage collection until then copies.
 */
export class VariableTable {
  private readonly numbers = new Map<string, number>();
  /** Each variable's name, by number. */
  readonly names: string[] = [];
  private capacity = 256;

  // Splitting: the first chunk declaring it and the last one reading or writing it (-1: none); the
  // last chunk where it was counted among the reads, the writes, the declarations (dedupes each
  // chunk's lists); its scratch slot (-1: none).
  declaredIn = new Int32Array(this.capacity);
  lastTouch = new Int32Array(this.capacity);
  readIn = new Int32Array(this.capacity);
  writtenIn = new Int32Array(this.capacity);
  declaredHere = new Int32Array(this.capacity);
  slot = new Int32Array(this.capacity);
  /** `isArray`, `isBoolean`, `isParam`, and the inlining facts `isMutable`, `isKept`. */
  flags = new Uint8Array(this.capacity);

  // Inlining, as found by the analysis numbered `facts` (one per chunk of a split function: the
  // facts of another analysis are stale, reset on the variable's first mention in a new one).
  facts = new Int32Array(this.capacity);
  /** The loop depth of its one read, `readMoreThanOnce`, or `notRead`. */
  reads = new Int32Array(this.capacity);
  /** How many operations its inlined expression nests (0: not inlined). */
  nesting = new Int32Array(this.capacity);
  /** Where its inlined definition's references start in `refs` (-1: look its operands up by name). */
  def = new Int32Array(this.capacity);
  /** The expression printed in its place, when it is inlined. */
  readonly inlined: (Expr | undefined)[] = [];

  /**
   * Per instruction with references (`hasReferences`), in the order walked: its target's number,
   * then one per operand of its expression (-1: a constant). `refsLength` are in use.
   */
  refs = new Int32Array(1024);
  refsLength = 0;
  /** For each block walked, where each of its instructions' references start in `refs` (-1: none). */
  private readonly starts = new Map<readonly Instr[], Int32Array>();
  private analyses = 0;

  /** A variable's number (a new one on its first mention). */
  variable(name: string): number {
    const known = this.numbers.get(name);
    if (known !== undefined) return known;
    const v = this.names.length;
    if (v === this.capacity) this.grow();
    this.numbers.set(name, v);
    this.names.push(name);
    this.declaredIn[v] = -1;
    this.lastTouch[v] = -1;
    this.readIn[v] = -1;
    this.writtenIn[v] = -1;
    this.declaredHere[v] = -1;
    this.slot[v] = -1;
    this.facts[v] = -1;
    this.inlined.push(undefined);
    return v;
  }

  /** A variable's number, if it was ever mentioned (-1: never). */
  find(name: string): number {
    return this.numbers.get(name) ?? -1;
  }

  /** A new number for an analysis whose facts the table keeps (`facts`): those of another are stale. */
  newAnalysis(): number {
    return this.analyses++;
  }

  /**
   * Records the references of every instruction of `block` and of the blocks in it, and calls
   * `visit` on each instruction in forEachInstr's order (an instruction, then the blocks in it)
   * with where its references start (-1: an instruction of another kind).
   */
  walk(block: readonly Instr[], visit?: (instr: Instr, at: number) => void): void {
    const starts = new Int32Array(block.length);
    this.starts.set(block, starts);
    for (let k = 0; k < block.length; k++) {
      const i = block[k];
      let at = -1;
      if (hasReferences(i)) {
        const args = i.expr ? i.expr.args : [];
        at = this.refsLength;
        if (at + 1 + args.length > this.refs.length) {
          const refs = new Int32Array(2 * this.refs.length + args.length);
          refs.set(this.refs);
          this.refs = refs;
        }
        this.refs[at] = this.variable(i.target);
        for (let j = 0; j < args.length; j++) {
          const a = args[j];
          this.refs[at + 1 + j] = a.kind === 'var' ? this.variable(a.name) : -1;
        }
        this.refsLength = at + 1 + args.length;
      }
      starts[k] = at;
      visit?.(i, at);
      if (i.kind === 'if') {
        this.walk(i.then, visit);
        this.walk(i.else, visit);
      } else if (i.kind === 'loop') {
        if (i.exit) this.walk(i.exit.body, visit);
        this.walk(i.body, visit);
      }
    }
  }

  /** Where the references of each instruction of a walked block start (undefined: a block not walked). */
  startsOf(block: readonly Instr[]): Int32Array | undefined {
    return this.starts.get(block);
  }

  private grow(): void {
    const n = 2 * this.capacity;
    const grown = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.declaredIn = grown(this.declaredIn);
    this.lastTouch = grown(this.lastTouch);
    this.readIn = grown(this.readIn);
    this.writtenIn = grown(this.writtenIn);
    this.declaredHere = grown(this.declaredHere);
    this.slot = grown(this.slot);
    this.flags = grown(this.flags);
    this.facts = grown(this.facts);
    this.reads = grown(this.reads);
    this.nesting = grown(this.nesting);
    this.def = grown(this.def);
    this.capacity = n;
  }
}

/** Bits of `VariableTable.flags`: an array (or a row of a matrix); a condition; a parameter of a split function (passed to every chunk, never stored). */
export const isArray = 1;
export const isBoolean = 2;
export const isParam = 4;
/** Inlining facts: assigned after its definition (a `let`, a loop's state, an array written into); never inlined (a chunk's live-out value, an array, what a check prints twice). */
export const isMutable = 8;
export const isKept = 16;

/** Not a loop depth: a variable read more than once, or not read. */
export const readMoreThanOnce = -1;
export const notRead = -2;

/** The instructions whose references the table records (nearly every instruction). */
export const hasReferences = (i: Instr): i is Extract<Instr, { kind: 'const' | 'let' | 'set' | 'add' }> =>
  i.kind === 'const' || i.kind === 'let' || i.kind === 'set' || i.kind === 'add';
