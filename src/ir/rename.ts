import { variable, type Expr, type Instr, type Operand } from './ir.ts';

/**
 * The instructions with every definition and use of some variables renamed (targets, operands,
 * loop indices, reductions' names and tapes, `while` exits' names, carried states and arrays, a
 * store's `old`). Used where one block is copied beside itself: the nested derivatives' sweeps
 * (ad/nested.ts), the four rows of an unroll-and-jam (ad/unroll-and-jam.ts) and the reverse
 * sweep's recomputed loop bodies (ad/loops.ts's cloneBody). `note`, if given, rewrites a loop's
 * comment (unroll-and-jam names the copies there); without it comments are kept as they are.
 *
 * `define`, if given, names each variable the block defines (a const's or let's target, a loop's
 * index, the state a reduction defines when its loop does not declare it, an array not declared
 * before), in the order the copy meets them, each after the operands it is computed from; it is
 * expected to put its new name in `renames`, so the uses after it read it. Without it a definition
 * is renamed like a use.
 */
export function renameVariables(
  block: readonly Instr[],
  renames: ReadonlyMap<string, string>,
  note?: (text: string | undefined) => string | undefined,
  define?: (name: string) => string,
): Instr[] {
  const name = (n: string) => renames.get(n) ?? n;
  const defined = define ?? name;
  const operand = (o: Operand): Operand => (o.kind === 'var' && renames.has(o.name) ? variable(renames.get(o.name)!) : o);
  const expr = (e: Expr): Expr => ({ ...e, args: e.args.map(operand) });
  const rename = (b: readonly Instr[]): Instr[] =>
    b.map((i): Instr => {
      switch (i.kind) {
        case 'const':
          return { ...i, expr: expr(i.expr), target: defined(i.target) };
        case 'let':
          return { ...i, ...(i.expr && { expr: expr(i.expr) }), target: defined(i.target) };
        case 'set':
        case 'add':
          return { ...i, target: name(i.target), expr: expr(i.expr) };
        case 'if':
          return { ...i, condition: operand(i.condition), then: rename(i.then), else: rename(i.else) };
        case 'loop': {
          const from = operand(i.from);
          const to = operand(i.to);
          const index = defined(i.index);
          const body = rename(i.body);
          const r = i.reduction;
          // A reduction in a branch assigns variables declared (and so renamed) before its loop.
          const state = (n: string) => (i.declared ? name(n) : defined(n));
          const reduction = r && {
            ...r,
            value: operand(r.value),
            target: state(r.target),
            ...(r.arg && { arg: state(r.arg) }),
            ...(r.nonzero && { nonzero: state(r.nonzero) }),
            ...(r.zeros && { zeros: state(r.zeros) }),
            ...(r.tape && { tape: { array: name(r.tape.array), offset: operand(r.tape.offset), scale: state(r.tape.scale) } }),
          };
          // A while's condition block comes before the body; its trip count and the carried state
          // are declared before the loop (renamed with it when the loop is in the block copied).
          const exit = i.exit && { body: rename(i.exit.body), condition: operand(i.exit.condition), trips: name(i.exit.trips) };
          const carried = i.carried?.map(name);
          const carriedArrays = i.carriedArrays?.map((a) => ({ name: name(a.name), length: operand(a.length) }));
          return {
            ...i,
            index,
            from,
            to,
            body,
            ...(reduction && { reduction }),
            ...(exit && { exit }),
            ...(carried && { carried }),
            ...(carriedArrays && { carriedArrays }),
            ...(note && i.note && { note: note(i.note) }),
          };
        }
        case 'store':
          return { ...i, array: name(i.array), index: operand(i.index), expr: expr(i.expr), ...(i.old && { old: operand(i.old) }) };
        case 'array':
          return { ...i, length: operand(i.length), ...(i.rows && { rows: operand(i.rows) }), target: i.declared ? name(i.target) : defined(i.target) };
        case 'check':
          return { ...i, index: operand(i.index), length: operand(i.length), ...(i.from && { from: operand(i.from) }) };
      }
    });
  return rename(block);
}
