import { isBooleanOp, type Instr, type IrFunction } from '../ir/ir.ts';

/**
 * Forward activity analysis: the variables whose value depends on a differentiated (non-`const`)
 * parameter. Only they get adjoints; everything else is a constant to the reverse sweep.
 */
export function activeVariables(fn: IrFunction): Set<string> {
  const active = new Set(fn.params.filter((p) => !p.isConst).map((p) => p.name));
  const visit = (body: readonly Instr[]) => {
    for (const instr of body) {
      if (instr.kind === 'if') {
        visit(instr.then);
        visit(instr.else);
      } else if (instr.expr && !isBooleanOp(instr.expr.op) && instr.expr.args.some((a) => a.kind === 'var' && active.has(a.name))) {
        active.add(instr.target);
      }
    }
  };
  visit(fn.body);
  return active;
}
