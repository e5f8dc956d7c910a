import type { NameSupply } from '../ir/builder.ts';
import { declaredIn, forEachInstr, variable, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { isAdjointName, nestedAdjointBase } from '../emit/names.ts';
import { reverseMode } from './reverse.ts';

/**
 * `grad(f, x)(args)` inside the language. Lowering builds f's body at the call site (as it inlines
 * a call) into an IR function of one differentiated parameter, x (the other arguments are
 * constants to it); this pass turns that function into its reverse-mode gradient, the same
 * forward and reverse sweeps as `fGrad`, and returns them as instructions to splice where the
 * expression stands, with the operand holding ∂f/∂x: a number, or the adjoint array of an array
 * parameter. The spliced code is ordinary IR (adjoints declared with `let` and accumulated with
 * `+=`, adjoint arrays accumulated with `d$x[i] += …`, descending loops), so the caller's own
 * derivatives (reverse.ts, forward.ts) differentiate through it again: nested derivatives are
 * exact, never finite differences.
 *
 * The reverse sweep's variables are renamed (`d$x` → `dx`, `$dt4` → a new temporary): the
 * caller's own derivatives take adjoints of the same variables and would name them the same.
 */
export function nestedGradient(fn: IrFunction, names: NameSupply): { readonly instrs: Instr[]; readonly gradient: Operand } {
  const differentiated = fn.params.filter((p) => !p.isConst);
  if (differentiated.length !== 1) throw new Error(`internal error: a nested gradient of '${fn.name}' with ${differentiated.length} differentiated parameters`);
  // No zero guards: `if (d$v !== 0)` would make the gradient's derivative miss d(d$v·p)/d(d$v) = p
  // where d$v is exactly 0 (a weight at 0). The price: 0·∞ = NaN where a partial is infinite there.
  const reversed = reverseMode(fn, names, { guardZeros: false });
  const [{ adjoint }] = reversed.gradient!;
  // Every variable the reverse sweep defines is renamed: the caller's own derivatives take
  // adjoints of the same primal variables, under the same names (d$x, $dt4).
  // (Other names come from the NameSupply, unique already.)
  const renames = new Map<string, string>();
  for (const name of declaredIn(reversed.reverse!)) {
    if (renames.has(name) || !isAdjointName(name)) continue;
    renames.set(name, name.startsWith('$') ? names.temp() : names.user(nestedAdjointBase(name)));
  }
  const instrs = [...reversed.body, ...renameVariables(valuesApart(reversed.reverse!, names), renames)];
  const gradient = adjoint.kind === 'var' && renames.has(adjoint.name) ? variable(renames.get(adjoint.name)!) : adjoint;
  return { instrs, gradient };
}

/**
 * An accumulator's terms as values of their own: `let d = a / b; d += e * f` becomes
 * `const $t1 = a / b; let d = $t1; const $t2 = e * f; d += $t2`. Reverse mode's rules may reuse an
 * instruction's result (∂(a/b)/∂b = −y/b, ∂exp(x) = y); the result of `let d = a / b` is not what d
 * holds once terms are added, so the caller's sweep must see a / b under a name of its own.
 */
function valuesApart(block: readonly Instr[], names: NameSupply): Instr[] {
  const accumulated = new Set<string>();
  forEachInstr(block, (i) => i.kind === 'add' && accumulated.add(i.target));
  const split = (b: readonly Instr[]): Instr[] =>
    b.flatMap((i): Instr[] => {
      if (i.kind === 'if') return [{ ...i, then: split(i.then), else: split(i.else) }];
      if (i.kind === 'loop') return [{ ...i, body: split(i.body) }];
      if ((i.kind !== 'let' && i.kind !== 'set' && i.kind !== 'add') || !i.expr || i.expr.op === 'copy' || !accumulated.has(i.target)) return [i];
      const value = names.temp();
      return [
        { kind: 'const', target: value, expr: i.expr, origin: i.origin },
        { ...i, expr: { op: 'copy', args: [variable(value)] } },
      ];
    });
  return split(block);
}

/** The instructions with every definition and use of some variables renamed. */
function renameVariables(block: readonly Instr[], renames: ReadonlyMap<string, string>): Instr[] {
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
          };
        }
        case 'store':
          return { ...i, array: name(i.array), index: operand(i.index), expr: expr(i.expr) };
        case 'array':
          return { ...i, target: name(i.target), length: operand(i.length), ...(i.rows && { rows: operand(i.rows) }) };
        case 'check':
          return { ...i, index: operand(i.index), length: operand(i.length), ...(i.from && { from: operand(i.from) }) };
      }
    });
  return rename(block);
}
