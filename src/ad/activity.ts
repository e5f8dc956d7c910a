import { forEachInstr, isBooleanOp, readsWhatItStores, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { isDifferentiable, rules } from './rules.ts';

/** sign, floor, ceil: every partial is zero, so their results carry no derivative. */
export const isFlat = (op: string) => flat.has(op);
// (Found once from the rules: asked for every instruction of activity analysis and forward mode.)
const flat = new Set(Object.keys(rules).filter((op) => isDifferentiable(op as never) && rules[op as keyof typeof rules].every((r) => r === null)));

/**
 * Forward activity analysis: the variables whose value depends on a differentiated (non-`const`)
 * parameter. Only they get adjoints; everything else is a constant to the reverse sweep.
 */
export function activeVariables(fn: IrFunction): Set<string> {
  const active = new Set(fn.params.filter((p) => !p.isConst).map((p) => p.name));
  const isActive = (a: Operand) => a.kind === 'var' && active.has(a.name);
  // The matrix each row variable was read from.
  const rowsOf = new Map<string, string>();
  forEachInstr(fn.body, (i) => {
    if ((i.kind === 'const' || i.kind === 'set') && i.expr.op === 'row' && i.expr.args[0].kind === 'var') rowsOf.set(i.target, i.expr.args[0].name);
  });
  const visit = (body: readonly Instr[]) => {
    for (const instr of body) {
      switch (instr.kind) {
        case 'if':
          visit(instr.then);
          visit(instr.else);
          break;
        case 'loop':
          if (instr.carried || readsWhatItStores(instr.body)) {
            // State carried from one iteration to the next (in variables, or in an array an
            // iteration reads after an earlier one stored it, as a product's partial products):
            // visit until nothing more becomes active.
            for (let size = -1; size !== active.size; ) {
              size = active.size;
              visit(instr.body);
            }
          } else visit(instr.body);
          // The result depends on the terms (a max's index does not: it is a position).
          if (instr.reduction && isActive(instr.reduction.value)) active.add(instr.reduction.target);
          break;
        case 'store':
          // An array holding an active value is active as a whole; so is the matrix of a row
          // (a nested gradient accumulates into the rows of a matrix's adjoint).
          if (instr.expr.args.some(isActive)) {
            active.add(instr.array);
            const matrix = rowsOf.get(instr.array);
            if (matrix) active.add(matrix);
          }
          break;
        case 'array':
        case 'check':
          break;
        default:
          // `load` and `row` of an active array are active: the index argument is never active.
          if (instr.expr && !isBooleanOp(instr.expr.op) && !isFlat(instr.expr.op) && instr.expr.args.some(isActive)) active.add(instr.target);
      }
    }
  };
  visit(fn.body);
  return active;
}
