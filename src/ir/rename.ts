import { variable, type Expr, type Instr, type Operand } from './ir.ts';

/**
 * The instructions with every definition and use of some variables renamed (targets, operands,
 * loop indices, reductions' and `while` exits' names, carried states, a store's `old`). Used where
 * one block is copied beside itself: the nested derivatives' sweeps (ad/nested.ts) and the two
 * rows of an unroll-and-jam (ad/unroll-and-jam.ts). `note`, if given, rewrites a loop's comment
 * (unroll-and-jam names the copies there); without it comments are kept as they are.
 */
export function renameVariables(
  block: readonly Instr[],
  renames: ReadonlyMap<string, string>,
  note?: (text: string | undefined) => string | undefined,
): Instr[] {
  const name = (n: string) => renames.get(n) ?? n;
  const operand = (o: Operand): Operand => (o.kind === 'var' && renames.has(o.name) ? variable(renames.get(o.name)!) : o);
  const expr = (e: Expr): Expr => ({ ...e, args: e.args.map(operand) });
  const rename = (b: readonly Instr[]): Instr[] =>
    b.map((i): Instr => {
      switch (i.kind) {
        case 'const':
        case 'set':
        case 'add':
          return { ...i, target: name(i.target), expr: expr(i.expr) };
        case 'let':
          return { ...i, target: name(i.target), ...(i.expr && { expr: expr(i.expr) }) };
        case 'if':
          return { ...i, condition: operand(i.condition), then: rename(i.then), else: rename(i.else) };
        case 'loop': {
          const r = i.reduction;
          const reduction = r && {
            ...r,
            value: operand(r.value),
            target: name(r.target),
            ...(r.arg && { arg: name(r.arg) }),
            ...(r.nonzero && { nonzero: name(r.nonzero) }),
            ...(r.zeros && { zeros: name(r.zeros) }),
          };
          return {
            ...i,
            index: name(i.index),
            from: operand(i.from),
            to: operand(i.to),
            body: rename(i.body),
            ...(reduction && { reduction }),
            ...(i.exit && { exit: { body: rename(i.exit.body), condition: operand(i.exit.condition), trips: name(i.exit.trips) } }),
            ...(i.carried && { carried: i.carried.map(name) }),
            ...(note && i.note && { note: note(i.note) }),
          };
        }
        case 'store':
          return { ...i, array: name(i.array), index: operand(i.index), expr: expr(i.expr), ...(i.old && { old: operand(i.old) }) };
        case 'array':
          return { ...i, target: name(i.target), length: operand(i.length), ...(i.rows && { rows: operand(i.rows) }) };
        case 'check':
          return { ...i, index: operand(i.index), length: operand(i.length), ...(i.from && { from: operand(i.from) }) };
      }
    });
  return rename(block);
}
