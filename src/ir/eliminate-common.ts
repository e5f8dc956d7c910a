import { NameMap, NameSet } from './name-set.ts';
import { definesOf, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';

/**
 * Common-subexpression elimination and copy propagation, across the forward and the reverse sweep
 * (the reverse sweep runs after the body, so it sees the body's values): `cos(x)` computed for the
 * value and again for a derivative is computed once. Only operations on unchanging operands are
 * shared; a value computed inside a branch is visible only inside that branch. `a + b` and
 * `b + a` are the same (IEEE addition and multiplication are commutative).
 */
export function eliminateCommon(fn: IrFunction): IrFunction {
  const mutable = new NameSet();
  const note = (i: Instr) => {
    if (i.kind === 'let' || i.kind === 'set' || i.kind === 'add') mutable.add(i.target);
    // An array written anywhere is not read twice as one value: a store may come between.
    if (i.kind === 'store') mutable.add(i.array);
    // A reduction's state changes during its loop.
    if (i.kind === 'loop') for (const name of definesOf(i)) mutable.add(name);
  };
  // (Each sweep on its own: spreading both into one array makes an iterator result per instruction in code not yet optimised.)
  forEachInstr(fn.body, note);
  if (fn.reverse) forEachInstr(fn.reverse, note);
  const replaced = new NameMap<Operand>();
  // The values computed so far in the enclosing scopes, keyed by operation then operands (below);
  // leaving a scope deletes what it added (`added`), so one table serves every depth.
  const table = new ValueTable();
  const sub = (o: Operand): Operand => (o.kind === 'var' ? (replaced.get(o.name) ?? o) : o);
  // The same expression when no operand is replaced (most are not), so unchanged instructions are kept as they are.
  const subExpr = (e: Expr): Expr => {
    let args: Operand[] | undefined;
    for (let k = 0; k < e.args.length; k++) {
      const o = e.args[k];
      const r = o.kind === 'var' ? replaced.get(o.name) : undefined;
      if (r) (args ??= [...e.args])[k] = r;
    }
    return args ? { ...e, args } : e;
  };
  const stable = (o: Operand) => o.kind === 'const' || !mutable.has(o.name);

  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    const nested = (b: readonly Instr[]) => {
      const scope = table.open();
      const r = rewrite(b);
      table.close(scope);
      return r;
    };
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      switch (instr.kind) {
        case 'if':
          out.push({ ...instr, condition: sub(instr.condition), then: nested(instr.then), else: nested(instr.else) });
          continue;
        case 'loop': {
          // The body is a scope of its own: its values do not outlive an iteration.
          // A while's condition is computed in a scope of its own too, before the body.
          const exit = instr.exit && (() => {
            const scope = table.open();
            const r = { ...instr.exit, body: rewrite(instr.exit.body), condition: sub(instr.exit.condition) };
            table.close(scope);
            return r;
          })();
          const body = nested(instr.body);
          const tape = instr.reduction?.tape && { ...instr.reduction.tape, offset: sub(instr.reduction.tape.offset) };
          const reduction = instr.reduction && { ...instr.reduction, value: sub(instr.reduction.value), ...(tape && { tape }) };
          out.push({ ...instr, from: sub(instr.from), to: sub(instr.to), body, ...(reduction && { reduction }), ...(exit && { exit }) });
          continue;
        }
        case 'store': {
          // The array may be a row that has been merged with an equal one.
          const array = sub({ kind: 'var', name: instr.array });
          out.push({ ...instr, array: array.kind === 'var' ? array.name : instr.array, index: sub(instr.index), expr: subExpr(instr.expr) });
          continue;
        }
        case 'array':
          out.push({ ...instr, length: sub(instr.length), ...(instr.rows && { rows: sub(instr.rows) }) });
          continue;
        case 'check':
          out.push({ ...instr, index: sub(instr.index), length: sub(instr.length), ...(instr.from && { from: sub(instr.from) }) });
          continue;
      }
      if (!instr.expr) {
        out.push(instr);
        continue;
      }
      const expr = subExpr(instr.expr);
      if (instr.kind === 'const' && (expr.args.length === 1 ? stable(expr.args[0]) : expr.args.every(stable))) {
        if (expr.op === 'copy') {
          replaced.set(instr.target, expr.args[0]);
          continue;
        }
        const hit = table.find(expr, instr.target);
        if (hit) {
          replaced.set(instr.target, hit);
          continue;
        }
      }
      out.push(expr === instr.expr ? instr : { ...instr, expr });
    }
    return out;
  };

  const body = rewrite(fn.body);
  const reverse = fn.reverse && rewrite(fn.reverse);
  const gradient = fn.gradient?.map((g) => ({ ...g, adjoint: sub(g.adjoint) }));
  return { ...fn, body, ...(reverse && { reverse }), ...(gradient && { gradient }), value: sub(fn.value), ...(fn.result?.rows && { result: { ...fn.result, rows: sub(fn.result.rows) } }), ...(fn.tangent && { tangent: { ...fn.tangent, value: fn.tangent.value && sub(fn.tangent.value), ...(fn.tangent.gradient && { gradient: fn.tangent.gradient.map((o) => o && sub(o)) }), ...(fn.tangent.directions && { directions: fn.tangent.directions.map((d) => ({ ...d, value: d.value && sub(d.value) })) }) } }) };
}

/**
 * Values by operation, found from their first operand: for each first operand (its name, or for a
 * constant one interned string per value), a short list of (operation, second operand, the
 * variable holding it); the second operand is '' for an operation of one operand. Looking an
 * instruction up is one lookup in a large Map and a scan of a few entries: no string is built and
 * no Map made per instruction. Past `listed` entries, a first operand's further entries go to a
 * Map of its own, so a variable that is the first operand of thousands of
 * operations costs no quadratic scan (by operation, then second operand). Other arities and calls, rare, are keyed by one string.
 * `add` and `mul` take their two operands in sorted order (IEEE addition and multiplication are
 * commutative).
 */
class ValueTable {
  private readonly byFirst = new NameMap<(string | Operand)[]>();
  /** A first operand's entries past its list: by operation, then second operand. */
  private readonly wide = new Map<string, Map<string, Map<string, Operand>>>();
  private readonly other = new Map<string, Operand>();
  private readonly constants = new Map<number, string>();
  /**
   * Where each entry was added, in order, so a scope can delete its own: a list (its last entry
   * is the one to remove: entries are removed last in, first out) or a Map and the key.
   */
  private readonly addedTo: ((string | Operand)[] | Map<string, Operand>)[] = [];
  private readonly addedKeys: string[] = [];

  open(): number {
    return this.addedKeys.length;
  }

  close(scope: number): void {
    while (this.addedKeys.length > scope) {
      const to = this.addedTo.pop()!;
      const key = this.addedKeys.pop()!;
      if (Array.isArray(to)) to.length -= 3;
      else to.delete(key);
    }
  }

  /** The variable holding `e` already, or undefined after recording that `target` holds it. */
  find(e: Expr, target: string): Operand | undefined {
    const args = e.args;
    if (e.callee || args.length === 0 || args.length > 2) return this.findOther(e, target);
    let a = this.operandKey(args[0]);
    let b = args.length === 2 ? this.operandKey(args[1]) : '';
    if ((e.op === 'add' || e.op === 'mul') && b < a) [a, b] = [b, a];
    const op = e.op;
    const list = this.byFirst.get(a);
    const value: Operand = { kind: 'var', name: target };
    if (list === undefined) {
      // (A literal: exactly three elements, where pushing into [] would make room for seventeen.)
      const made = [op, b, value];
      this.byFirst.set(a, made);
      this.addedTo.push(made);
      this.addedKeys.push('');
      return undefined;
    }
    for (let k = 0; k < list.length; k += 3) if (list[k] === op && list[k + 1] === b) return list[k + 2] as Operand;
    if (list.length < listed * 3) {
      list.push(op, b, value);
      this.addedTo.push(list);
      this.addedKeys.push('');
      return undefined;
    }
    let byOp = this.wide.get(a);
    if (byOp === undefined) this.wide.set(a, (byOp = new Map()));
    let wide = byOp.get(op);
    if (wide === undefined) byOp.set(op, (wide = new Map()));
    const hit = wide.get(b);
    if (hit) return hit;
    wide.set(b, value);
    this.addedTo.push(wide);
    this.addedKeys.push(b);
    return undefined;
  }

  private findOther(e: Expr, target: string): Operand | undefined {
    const key = this.keyOf(e);
    const hit = this.other.get(key);
    if (hit) return hit;
    this.other.set(key, { kind: 'var', name: target });
    this.addedTo.push(this.other);
    this.addedKeys.push(key);
    return undefined;
  }

  /** `#2`, `#-0`: a constant's key, made once per value (no variable name starts with `#`). */
  private operandKey(a: Operand): string {
    if (a.kind === 'var') return a.name;
    if (Object.is(a.value, -0)) return '#-0';
    let key = this.constants.get(a.value);
    if (key === undefined) this.constants.set(a.value, (key = `#${a.value}`));
    return key;
  }

  /** The key of an operation: `add(a,x)`; operands in order, sorted for the commutative add and mul. */
  private keyOf(e: Expr): string {
    // Calls are pure: two calls of one function's form with the same arguments are one.
    const op = e.callee ? `call ${e.callee.kind} ${e.callee.fn}` : e.op;
    const keys = e.args.map((a) => this.operandKey(a));
    if (e.op === 'add' || e.op === 'mul') keys.sort();
    return `${op}(${keys.join(',')})`;
  }
}

/** How many operations of one first operand are kept in its list (scanned) before a Map of its own. */
const listed = 8;
