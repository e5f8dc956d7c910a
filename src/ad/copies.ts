import { forEachInstr, type Instr } from '../ir/ir.ts';

/**
 * Array lets that are element-for-element copies of another array let: `let k1[i] = rhs(p, y)[i]`
 * copies the callee's result f into k1. Their adjoint is the source's (∂k1[i]/∂f[i] = 1), so the
 * reverse sweep gives k1 no adjoint array of its own and skips the copy loop's reverse (a loop that
 * would move each element of d$k1 into d$f and zero it). Returns, for each copy A, its source B
 * and the index variable of the copying loop.
 *
 * Only when nothing else writes either array (one store each: B's fill, A's copy), both have the
 * same length, the loop covers all of it (0..length), and neither is a loop's array state.
 */
export function copyAliases(body: readonly Instr[]): Map<string, { readonly source: string; readonly loop: string }> {
  const stores = new Map<string, number>();
  const allocations = new Map<string, Extract<Instr, { kind: 'array' }>>();
  const state = new Set<string>();
  const loops: Extract<Instr, { kind: 'loop' }>[] = [];
  forEachInstr(body, (i) => {
    if (i.kind === 'store') stores.set(i.array, (stores.get(i.array) ?? 0) + 1);
    if (i.kind === 'array') allocations.set(i.target, allocations.has(i.target) ? { ...i, rows: i.length } : i);
    if (i.kind === 'loop') {
      for (const a of i.carriedArrays ?? []) state.add(a.name);
      loops.push(i);
    }
  });
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const aliases = new Map<string, { source: string; loop: string }>();
  for (const loop of loops) {
    if (loop.reduction || loop.carried || loop.exit || loop.descending || !(loop.from.kind === 'const' && loop.from.value === 0) || loop.body.length !== 2) continue;
    const [read, write] = loop.body;
    if (read.kind !== 'const' || read.expr.op !== 'load' || write.kind !== 'store' || write.accumulate || write.old) continue;
    const [source, at] = read.expr.args;
    if (source.kind !== 'var' || !(at.kind === 'var' && at.name === loop.index) || !(write.index.kind === 'var' && write.index.name === loop.index)) continue;
    if (write.expr.op !== 'copy' || !(write.expr.args[0].kind === 'var' && write.expr.args[0].name === read.target)) continue;
    const a = allocations.get(write.array);
    const b = allocations.get(source.name);
    if (!a || !b || a === b || a.rows || b.rows || a.returned || b.returned || state.has(a.target) || state.has(b.target)) continue;
    if (stores.get(a.target) !== 1 || stores.get(b.target) !== 1 || aliases.has(b.target)) continue;
    if (!same(a.length, b.length) || !same(loop.to, a.length)) continue;
    aliases.set(a.target, { source: b.target, loop: loop.index });
  }
  // (A copy of a copy: its source's own source.)
  for (const [name, alias] of aliases) {
    let source = alias.source;
    while (aliases.has(source)) source = aliases.get(source)!.source;
    aliases.set(name, { ...alias, source });
  }
  return aliases;
}
