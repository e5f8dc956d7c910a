import { definesOf, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';

/**
 * Common-subexpression elimination and copy propagation, across the forward and the reverse sweep
 * (the reverse sweep runs after the body, so it sees the body's values): `cos(x)` computed for the
 * value and again for a derivative is computed once. Only operations on unchanging operands are
 * shared; a value computed inside a branch is visible only inside that branch. `a + b` and
 * `b + a` are the same (IEEE addition and multiplication are commutative).
 */
export function eliminateCommon(fn: IrFunction): IrFunction {
  const mutable = new Set<string>();
  forEachInstr([...fn.body, ...(fn.reverse ?? [])], (i) => {
    if (i.kind === 'let' || i.kind === 'set' || i.kind === 'add') mutable.add(i.target);
    // An array written anywhere is not read twice as one value: a store may come between.
    if (i.kind === 'store') mutable.add(i.array);
    // A reduction's state changes during its loop.
    if (i.kind === 'loop') for (const name of definesOf(i)) mutable.add(name);
  });
  const replaced = new Map<string, Operand>();
  const scopes: Map<string, Operand>[] = [new Map()];
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
  const lookup = (key: string) => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const hit = scopes[i].get(key);
      if (hit) return hit;
    }
    return undefined;
  };

  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    const nested = (b: readonly Instr[]) => {
      scopes.push(new Map());
      const r = rewrite(b);
      scopes.pop();
      return r;
    };
    for (const instr of block) {
      switch (instr.kind) {
        case 'if':
          out.push({ ...instr, condition: sub(instr.condition), then: nested(instr.then), else: nested(instr.else) });
          continue;
        case 'loop': {
          // The body is a scope of its own: its values do not outlive an iteration.
          // A while's condition is computed in a scope of its own too, before the body.
          const exit = instr.exit && (() => {
            scopes.push(new Map());
            const r = { ...instr.exit, body: rewrite(instr.exit.body), condition: sub(instr.exit.condition) };
            scopes.pop();
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
      if (instr.kind === 'const' && expr.args.every(stable)) {
        if (expr.op === 'copy') {
          replaced.set(instr.target, expr.args[0]);
          continue;
        }
        const key = keyOf(expr);
        const hit = lookup(key);
        if (hit) {
          replaced.set(instr.target, hit);
          continue;
        }
        scopes[scopes.length - 1].set(key, { kind: 'var', name: instr.target });
      }
      out.push(expr === instr.expr ? instr : { ...instr, expr });
    }
    return out;
  };

  const body = rewrite(fn.body);
  const reverse = fn.reverse && rewrite(fn.reverse);
  const gradient = fn.gradient?.map((g) => ({ ...g, adjoint: sub(g.adjoint) }));
  return { ...fn, body, ...(reverse && { reverse }), ...(gradient && { gradient }), value: sub(fn.value), ...(fn.result?.rows && { result: { ...fn.result, rows: sub(fn.result.rows) } }), ...(fn.tangent && { tangent: { ...fn.tangent, value: fn.tangent.value && sub(fn.tangent.value), ...(fn.tangent.gradient && { gradient: fn.tangent.gradient.map((o) => o && sub(o)) }) } }) };
}

/** The key of an operation: `add(a,x)`; operands in order, sorted for the commutative add and mul. */
function keyOf(e: Expr): string {
  const args = e.args;
  // Calls are pure: two calls of one function's form with the same arguments are one.
  const op = e.callee ? `call ${e.callee.kind} ${e.callee.fn}` : e.op;
  // One or two operands (nearly all): no array to sort.
  if (args.length === 1) return `${op}(${operandKey(args[0])})`;
  if (args.length === 2) {
    const a = operandKey(args[0]);
    const b = operandKey(args[1]);
    return (e.op === 'add' || e.op === 'mul') && b < a ? `${op}(${b},${a})` : `${op}(${a},${b})`;
  }
  const keys = args.map(operandKey);
  if (e.op === 'add' || e.op === 'mul') keys.sort();
  return `${op}(${keys.join(',')})`;
}

function operandKey(a: Operand): string {
  return a.kind === 'const' ? `#${Object.is(a.value, -0) ? '-0' : a.value}` : a.name;
}
