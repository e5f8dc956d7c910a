import { forEachInstr, mapNested, type Instr, type IrFunction } from './ir.ts';

/** A `let` that is never assigned again is a `const`: the passes after it may then move or share it. */
export function constify(fn: IrFunction): IrFunction {
  const assigned = new Set<string>();
  const note = (i: Instr) => {
    if (i.kind === 'set' || i.kind === 'add') assigned.add(i.target);
  };
  forEachInstr(fn.body, note);
  if (fn.reverse) forEachInstr(fn.reverse, note);
  const rewrite = (block: readonly Instr[]): Instr[] =>
    block.map((i): Instr => {
      if (i.kind === 'if' || i.kind === 'loop') return mapNested(i, rewrite);
      if (i.kind === 'let' && i.expr && !assigned.has(i.target)) return { kind: 'const', target: i.target, expr: i.expr, origin: i.origin };
      return i;
    });
  return mapBodies(fn, rewrite);
}

/** Applies a block rewrite to the body and, for a gradient, the reverse sweep. */
export function mapBodies(fn: IrFunction, rewrite: (block: readonly Instr[]) => Instr[]): IrFunction {
  return fn.reverse ? { ...fn, body: rewrite(fn.body), reverse: rewrite(fn.reverse) } : { ...fn, body: rewrite(fn.body) };
}
