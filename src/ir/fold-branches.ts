import { fold } from './builder.ts';
import { mapBodies } from './constify.ts';
import { constant, mapNested, type Instr, type IrFunction, type Operand } from './ir.ts';

/**
 * Constants carried forward and branches they decide, taken: `const c = copy(0)` (a state adjoint
 * that is 0 in every iteration, declared from 0 and never added to), `const z = ne(c, 0)`, `if z
 * { … }` becomes nothing; a branch whose condition is a constant other than 0 becomes its `then`
 * block. Only `const`s are followed (never reassigned), and an operation is folded only when every
 * argument is then a constant (IEEE arithmetic, evaluate.ts: the same number the program would
 * compute). The names are unique, so the instructions of a branch taken keep their meaning where
 * they are spliced. Runs after constify, which makes such zeros `const`s.
 */
export function foldBranches(fn: IrFunction): IrFunction {
  const known = new Map<string, number>();
  const value = (o: Operand): Operand => (o.kind === 'var' && known.has(o.name) ? constant(known.get(o.name)!) : o);
  const isKnown = (o: Operand) => o.kind === 'const' || known.has(o.name);
  let changed = false;
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      if (instr.kind === 'const') {
        // (Folded only when every argument is a constant, so nothing is allocated for the others, most.)
        if (instr.expr.op !== 'call' && instr.expr.args.every(isKnown)) {
          const args = instr.expr.args.map(value);
          const folded = instr.expr.op === 'copy' ? (args[0] as { value: number }).value : fold({ ...instr.expr, args });
          if (folded !== undefined) known.set(instr.target, folded);
        }
        out.push(instr);
        continue;
      }
      if (instr.kind === 'if') {
        const condition = value(instr.condition);
        if (condition.kind === 'const') {
          changed = true;
          // JavaScript's truthiness, as the emitted `if (c)`: 0, −0 and NaN take the else block.
          out.push(...rewrite(condition.value !== 0 && !Number.isNaN(condition.value) ? instr.then : instr.else));
          continue;
        }
      }
      out.push(mapNested(instr, rewrite));
    }
    return out;
  };
  const result = mapBodies(fn, rewrite);
  return changed ? result : fn;
}
