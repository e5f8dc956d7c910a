import type { Instr, IrFunction, Operand } from './ir.ts';

/**
 * Removes instructions whose results nobody reads: unused `let`s, and the branches of an `if`
 * that compute nothing needed. Names are unique per function, so liveness is a set of names.
 */
export function eliminateDead(fn: IrFunction): IrFunction {
  const live = new Set<string>();
  const use = (ops: readonly Operand[]) => ops.forEach((o) => o.kind === 'var' && live.add(o.name));
  use([fn.value, ...(fn.gradient ?? []).map((g) => g.adjoint)]);
  // The reverse sweep runs after the body, so it is swept first.
  const reverse = fn.reverse && sweep(fn.reverse, live, use);
  const body = sweep(fn.body, live, use);
  return reverse ? { ...fn, body, reverse } : { ...fn, body };
}

function sweep(body: readonly Instr[], live: Set<string>, use: (ops: readonly Operand[]) => void): Instr[] {
  const kept: Instr[] = [];
  for (let i = body.length - 1; i >= 0; i--) {
    const instr = body[i];
    if (instr.kind === 'if') {
      const thenBlock = sweep(instr.then, live, use);
      const elseBlock = sweep(instr.else, live, use);
      if (thenBlock.length === 0 && elseBlock.length === 0) continue;
      use([instr.condition]);
      kept.push({ ...instr, then: thenBlock, else: elseBlock });
      continue;
    }
    if (!live.has(instr.target)) continue;
    if (instr.expr) use(instr.expr.args);
    kept.push(instr);
  }
  return kept.reverse();
}
