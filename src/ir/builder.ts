import { adjointName, duplicateName, localName, partialProductName, runningPowerName, savedName, tangentName, temporaryName } from '../emit/names.ts';
import { evaluateOp } from './evaluate.ts';
import { constant, definesOf, variable, type Expr, type Callee, type Instr, type Op, type Operand, type Origin } from './ir.ts';

/** Hands out the variable names of one generated function, through src/emit/names.ts. */
export class NameSupply {
  private readonly used = new Map<string, number>();
  private temps = 0;

  /** A variable for a user name: the name itself the first time, then name$2, name$3... */
  user(sourceName: string): string {
    const base = localName(sourceName);
    const n = (this.used.get(base) ?? 0) + 1;
    this.used.set(base, n);
    return n === 1 ? base : duplicateName(base, n);
  }

  temp(): string {
    return temporaryName(++this.temps);
  }

  /** An array the reverse sweep reads: a reduction's results stored per iteration. */
  saved(): string {
    return savedName(++this.temps);
  }

  /** A product's partial products before (`prefix`) or after (`suffix`) each term, for its reverse sweep. */
  partialProducts(which: 'prefix' | 'suffix'): string {
    return partialProductName(which, ++this.temps);
  }

  /** A loop's running power of a value (base^index), updated once per iteration. */
  power(): string {
    return runningPowerName(++this.temps);
  }

  adjoint(name: string): string {
    return adjointName(name);
  }

  tangent(name: string): string {
    return tangentName(name);
  }
}

/**
 * Builds instruction lists, folding operations whose operands are all constants. With `hoist`,
 * an operation goes to the outermost block where its operands are defined, but never out of an
 * `if` branch: a value that does not depend on a loop's index is computed once, before the loop
 * (lowering uses this; the reverse sweep, which reads variables it changes, does not).
 */
export class Builder {
  private blocks: Instr[][] = [[]];
  /** For each open block, whether it is a loop body (else the function or an `if` branch). */
  private loops: boolean[] = [false];
  /** The block depth where each variable was defined (absent: outside every block, e.g. a parameter). */
  private readonly homes = new Map<string, number>();

  constructor(
    readonly names: NameSupply,
    public origin: Origin,
    private readonly hoist = false,
  ) {}

  get current(): Instr[] {
    return this.blocks[this.blocks.length - 1];
  }

  emit(instr: Instr): void {
    this.current.push(instr);
    if (this.hoist) this.noteHomes(instr, this.blocks.length - 1);
  }

  /**
   * Records the depth where an instruction's variables are defined (definesOf's, without making
   * its array). Only a hoisting builder reads homes: the others (the reverse sweep's, forward
   * mode's) keep none, which saves a Map write per instruction they build.
   */
  private noteHomes(instr: Instr, depth: number): void {
    if (instr.kind === 'const' || instr.kind === 'let' || instr.kind === 'array') this.home(instr.target, depth);
    else if (instr.kind === 'loop' && instr.reduction) for (const name of definesOf(instr)) this.home(name, depth);
  }

  /** Depth 0 is kept as no entry (homeOf reads a missing one as 0): straight-line code writes none. */
  private home(name: string, depth: number): void {
    if (depth > 0) this.homes.set(name, depth);
    else if (this.homes.size > 0) this.homes.delete(name);
  }

  /** Runs fn with a fresh block and returns the instructions it emitted. */
  block(fn: () => void, loop = false): Instr[] {
    this.blocks.push([]);
    this.loops.push(loop);
    fn();
    this.loops.pop();
    return this.blocks.pop()!;
  }

  /** The body of a loop over `index`: a block that operations not reading the index leave. */
  loopBody(index: string, fn: () => void): Instr[] {
    return this.block(() => {
      this.home(index, this.blocks.length - 1);
      fn();
    }, true);
  }

  /**
   * Where an instruction reading these operands may go: the deepest block defining one of them,
   * and at least the innermost `if` branch. Without hoisting, the current block.
   */
  depthFor(reads: readonly Operand[]): number {
    const current = this.blocks.length - 1;
    if (!this.hoist) return current;
    let depth = 0;
    for (let d = current; d > 0 && !this.anywhere; d--) {
      if (!this.loops[d]) {
        depth = d;
        break;
      }
    }
    return Math.max(depth, this.homeOf(reads));
  }

  /** The deepest block where one of these operands is defined (0: outside every block). */
  homeOf(reads: readonly Operand[]): number {
    let depth = 0;
    for (const r of reads) if (r.kind === 'var') depth = Math.max(depth, this.homes.get(r.name) ?? 0);
    return depth;
  }

  /** While set, operations may also leave `if` branches (see `outside`). */
  private anywhere = false;

  /**
   * Builds with operations free to leave `if` branches as well as loops: for arithmetic on sizes
   * (an array's length), which is safe to compute anywhere, so that an array made in a block can
   * be allocated once, before every block around it.
   */
  outside<T>(build: () => T): T {
    const was = this.anywhere;
    this.anywhere = true;
    try {
      return build();
    } finally {
      this.anywhere = was;
    }
  }

  /**
   * Makes `name` belong to the block being built: operations reading it are not moved out of it.
   * A loop's carried state changes in every iteration, so it is pinned inside the loop's body
   * (and pinned again where it is declared once the loop is built).
   */
  pin(name: string): void {
    this.home(name, this.blocks.length - 1);
  }

  /** The depth of the block being built. */
  get depth(): number {
    return this.blocks.length - 1;
  }

  /** Emits an instruction at a depth from `depthFor`. */
  emitAt(depth: number, instr: Instr): void {
    this.blocks[depth].push(instr);
    if (this.hoist) this.noteHomes(instr, depth);
  }

  /**
   * `c ? then() : otherwise()` where only the side taken is computed: a declared temporary set in
   * each branch of an `if`. A constant condition keeps only its side.
   */
  choose(condition: Operand, then: () => Operand, otherwise: () => Operand, target = this.names.temp()): Operand {
    if (condition.kind === 'const') return condition.value !== 0 ? then() : otherwise();
    const branch = (side: () => Operand) =>
      this.block(() => this.emit({ kind: 'set', target, expr: { op: 'copy', args: [side()] }, origin: this.origin }));
    this.emit({ kind: 'let', target, expr: undefined, origin: this.origin });
    const thenBlock = branch(then);
    const elseBlock = branch(otherwise);
    this.emit({ kind: 'if', condition, then: thenBlock, else: elseBlock, origin: this.origin });
    return variable(target);
  }

  /** `const $tN = callee(args)`: a call that stays a call (pure, so it may leave a loop it does not depend on). */
  call(callee: Callee, args: readonly Operand[]): Operand {
    const target = this.names.temp();
    this.emitAt(this.depthFor(args), { kind: 'const', target, expr: { op: 'call', args, callee }, origin: this.origin });
    return variable(target);
  }

  /** `const $tN = op(args)`, or the operand it simplifies to. */
  op(op: Op, ...args: Operand[]): Operand {
    const s = simplify({ op, args });
    if (!('op' in s)) return s;
    const target = this.names.temp();
    this.emitAt(this.depthFor(s.args), { kind: 'const', target, expr: s, origin: this.origin });
    return variable(target);
  }
}

const isConst = (a: Operand, value: number) => a.kind === 'const' && Object.is(a.value, value);

/**
 * Rewrites that are exact in IEEE arithmetic, applied as code is built: constant folding, x·1,
 * 1·x, x/1, -(-x) is left to the optimiser. Returns an operand when no operation is needed.
 */
export function simplify(e: Expr | Operand): Expr | Operand {
  if (!('op' in e)) return e;
  const folded = fold(e);
  if (folded !== undefined) return constant(folded);
  const [a, b] = e.args;
  switch (e.op) {
    case 'copy':
      return a;
    case 'mul':
      if (isConst(a, 1)) return b;
      if (isConst(b, 1)) return a;
      if (isConst(a, -1)) return { op: 'neg', args: [b] };
      if (isConst(b, -1)) return { op: 'neg', args: [a] };
      return e;
    case 'sub':
      // x - 0 is x, -0 included (x + 0 is not: -0 + 0 is +0).
      return isConst(b, 0) ? a : e;
    case 'div':
      return isConst(b, 1) ? a : e;
    case 'pow':
      return isConst(b, 1) ? a : e;
    default:
      return e;
  }
}

/** The value of an expression whose operands are all constants, else undefined. */
export function fold(expr: Expr): number | undefined {
  // A call is not folded (its value is the callee's code, run when the program runs).
  if (expr.op === 'call') return undefined;
  // (Loops, not every/map: this runs on every instruction built and optimised.)
  for (const a of expr.args) if (a.kind !== 'const') return undefined;
  const values: number[] = [];
  for (const a of expr.args) values.push((a as { value: number }).value);
  return evaluateOp(expr.op, values);
}
