import { Builder, simplify } from '../ir/builder.ts';
import { constant, readsOf, variable, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import type { NameSupply } from '../ir/builder.ts';
import { activeVariables } from './activity.ts';
import { hoistBranchLocals } from './hoist.ts';
import { isDifferentiable, rules } from './rules.ts';

/** What the reverse sweep knows about one variable's adjoint. */
interface Adjoint {
  readonly value: Operand;
  /** False when `value` is borrowed (another variable's adjoint, or a constant): it must not be added to in place. */
  readonly owned: boolean;
}

/**
 * Reverse mode by source transformation. The result is an IR function whose body is the forward
 * sweep (the primal code, values kept) followed by the reverse sweep: the primal instructions
 * visited last to first, each adding ḡ·∂/∂arg to its arguments' adjoints with the entries of
 * rules.ts. This module knows no particular operation.
 *
 * Adjoints are created at their first contribution (`let d$x = …`) and added to afterwards
 * (`d$x += …`); an adjoint that is only passed through (ḡ of `a + b`) is shared, not copied.
 * Nobody's adjoint is computed unless it reaches a differentiated parameter (activity analysis).
 */
export function reverseMode(fn: IrFunction, names: NameSupply): IrFunction {
  const active = activeVariables(fn);
  const forward = hoistBranchLocals(fn.body, { span: fn.span, statement: fn.span });
  const b = new Builder(names, { span: fn.span, statement: fn.span });
  const adjoints = new Map<string, Adjoint>();

  const accumulate = (name: string, contribution: Expr | Operand) => {
    const existing = adjoints.get(name);
    const c = simplify(contribution);
    if (!existing) {
      if (!('op' in c)) {
        adjoints.set(name, { value: c, owned: false });
        return;
      }
      const target = names.adjoint(name);
      b.emit({ kind: 'let', target, expr: c, origin: b.origin });
      adjoints.set(name, { value: variable(target), owned: true });
    } else if (existing.owned && existing.value.kind === 'var') {
      b.emit({ kind: 'add', target: existing.value.name, expr: 'op' in c ? c : { op: 'copy', args: [c] }, origin: b.origin });
    } else {
      const target = names.adjoint(name);
      const addend = 'op' in c ? b.op(c.op, ...c.args) : c;
      b.emit({ kind: 'let', target, expr: { op: 'add', args: [existing.value, addend] }, origin: b.origin });
      adjoints.set(name, { value: variable(target), owned: true });
    }
  };

  const reverseBlock = (block: readonly Instr[]) => {
    for (let i = block.length - 1; i >= 0; i--) {
      const instr = block[i];
      b.origin = instr.origin;
      switch (instr.kind) {
        case 'if': {
          // Adjoints of outer variables that a branch contributes to must exist before the `if`.
          forEachInstr([...instr.then, ...instr.else], (inner) => {
            for (const r of readsOf(inner)) {
              if (r.kind !== 'var' || !active.has(r.name) || isLocalTo(r.name, instr)) continue;
              const existing = adjoints.get(r.name);
              if (existing?.owned) continue;
              const target = names.adjoint(r.name);
              b.emit({ kind: 'let', target, expr: { op: 'copy', args: [existing?.value ?? constant(0)] }, origin: instr.origin });
              adjoints.set(r.name, { value: variable(target), owned: true });
            }
          });
          const outer = new Map(adjoints);
          const branch = (body: readonly Instr[]) =>
            b.block(() => {
              reverseBlock(body);
              // Branch-local adjoints go out of scope with the branch.
              adjoints.clear();
              outer.forEach((v, k) => adjoints.set(k, v));
            });
          const thenBlock = branch(instr.then);
          const elseBlock = branch(instr.else);
          if (thenBlock.length > 0 || elseBlock.length > 0) {
            b.emit({ kind: 'if', condition: instr.condition, then: thenBlock, else: elseBlock, origin: instr.origin });
          }
          break;
        }
        case 'let':
        case 'const':
        case 'set': {
          const g = adjoints.get(instr.target);
          if (!g || !instr.expr || !active.has(instr.target)) break;
          const { op, args } = instr.expr;
          if (!isDifferentiable(op)) throw new Error(`internal error: no derivative rule for '${op}'`);
          const partials = rules[op];
          const y = variable(instr.target);
          args.forEach((arg, k) => {
            const partial = partials[k];
            if (!partial || arg.kind !== 'var' || !active.has(arg.name)) return;
            accumulate(arg.name, partial({ b, args, y, g: g.value }));
          });
          break;
        }
        case 'add':
          throw new Error('internal error: reverse mode over accumulations is not supported');
      }
    }
  };

  if (fn.value.kind === 'var' && active.has(fn.value.name)) adjoints.set(fn.value.name, { value: constant(1), owned: false });
  reverseBlock(forward);

  const gradient = fn.params.filter((p) => !p.isConst).map((param) => ({ param, adjoint: adjoints.get(param.name)?.value ?? constant(0) }));
  return { ...fn, body: forward, reverse: b.current, gradient };
}

/** Whether a variable is defined inside one of the `if`'s branches. */
function isLocalTo(name: string, instr: Extract<Instr, { kind: 'if' }>): boolean {
  let found = false;
  forEachInstr([...instr.then, ...instr.else], (inner) => {
    if (inner.kind !== 'if' && inner.target === name) found = true;
  });
  return found;
}
