import { cotangentParameterName } from '../emit/names.ts';
import { declaredIn, forEachInstr, readsOf, type IrFunction } from '../ir/ir.ts';

/**
 * Whether a reverse-mode function's reverse sweep can run several times after one forward sweep
 * (fJacobian's reverse rows: one forward sweep, then one reverse sweep per output, each seeded
 * with a unit cotangent). It can when the reverse sweep only reads what the forward sweep made:
 * it assigns (`set`, `+=`) no variable and stores into no array the forward sweep declared, nor a
 * parameter, and the arrays it accumulates the gradient into are its own (declared in it, so each
 * run starts them from zero). Loops with state break this: their reverse puts the values an
 * update in place overwrote back into the state's arrays, and pops the snapshots of a
 * checkpointed loop (`top`), so a second run would read other values; those keep one forward
 * sweep per row.
 */
export function reverseSweepRepeatable(fn: IrFunction): boolean {
  const reverse = fn.reverse;
  if (!reverse || !fn.gradient) return false;
  const forward = declaredIn(fn.body);
  for (const p of fn.params) forward.add(p.name);
  const own = declaredIn(reverse);
  // A row of a matrix, or a copy of an array, is that array's memory: a store into it writes there.
  const memory = new Map<string, string>();
  const ownerOf = (name: string): string => {
    for (let seen = 0, at = name; seen < 1000; seen++) {
      const next = memory.get(at);
      if (next === undefined) return at;
      at = next;
    }
    return name;
  };
  forEachInstr([...fn.body, ...reverse], (i) => {
    if (i.kind === 'const' && (i.expr.op === 'row' || i.expr.op === 'copy') && i.expr.args[0]?.kind === 'var') memory.set(i.target, i.expr.args[0].name);
  });
  let repeatable = true;
  const writes = (name: string) => {
    if (forward.has(name) || forward.has(ownerOf(name))) repeatable = false;
  };
  forEachInstr(reverse, (i) => {
    if (i.kind === 'set' || i.kind === 'add') writes(i.target);
    else if (i.kind === 'store') writes(i.array);
    else if (i.kind === 'loop' && i.reduction?.tape) writes(i.reduction.tape.array);
  });
  // The forward sweep must not read the cotangent (it is set per row after the forward sweep).
  forEachInstr(fn.body, (i) => {
    if (readsOf(i).some((a) => a.kind === 'var' && a.name === cotangentParameterName)) repeatable = false;
  });
  // Each gradient array is made by the reverse sweep itself (zeros at the start of each run).
  for (const g of fn.gradient) if (g.param.shape && (g.adjoint.kind !== 'var' || !own.has(g.adjoint.name))) repeatable = false;
  return repeatable;
}
