import { Builder, simplify } from '../ir/builder.ts';
import { constant, readsOf, variable, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import type { NameSupply } from '../ir/builder.ts';
import { assertNever } from '../syntax/ast.ts';
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
  const mayBeZero = new Set<string>();
  // Changes to `adjoints` inside a block being built, to undo when the block ends (its adjoints
  // go out of scope with it). A journal, not a copy of the map: nested ifs stay linear.
  const journals: Map<string, Adjoint | undefined>[] = [];
  const setAdjoint = (name: string, value: Adjoint | undefined) => {
    const journal = journals[journals.length - 1];
    if (journal && !journal.has(name)) journal.set(name, adjoints.get(name));
    if (value) adjoints.set(name, value);
    else adjoints.delete(name);
  };
  const scoped = (build: () => void): Instr[] => {
    journals.push(new Map());
    const block = b.block(build);
    journals.pop()!.forEach((previous, name) => setAdjoint(name, previous));
    return block;
  };

  const accumulate = (name: string, contribution: Expr | Operand) => {
    const existing = adjoints.get(name);
    const c = simplify(contribution);
    // A contribution of exactly 0 changes nothing, and must not be multiplied by an infinite partial later.
    if (!('op' in c) && c.kind === 'const' && c.value === 0) return;
    if (!existing) {
      if (!('op' in c)) {
        setAdjoint(name, { value: c, owned: false });
        return;
      }
      const target = names.adjoint(name);
      b.emit({ kind: 'let', target, expr: c, origin: b.origin });
      setAdjoint(name, { value: variable(target), owned: true });
      // min and max give the argument they did not select an adjoint of exactly 0.
      if (c.op === 'select') mayBeZero.add(target);
    } else if (existing.owned && existing.value.kind === 'var') {
      b.emit({ kind: 'add', target: existing.value.name, expr: 'op' in c ? c : { op: 'copy', args: [c] }, origin: b.origin });
    } else {
      const target = names.adjoint(name);
      const addend = 'op' in c ? b.op(c.op, ...c.args) : c;
      b.emit({ kind: 'let', target, expr: { op: 'add', args: [existing.value, addend] }, origin: b.origin });
      setAdjoint(name, { value: variable(target), owned: true });
    }
  };

  /**
   * Builds reverse code that runs only sometimes (a branch of an `if`, or a guard). Adjoints of
   * the given outer variables may be added to inside it, so they must be declared before it: each
   * gets a placeholder while the code is built, and only those actually used are declared
   * (`let d$v = <its adjoint so far, or 0>`). One declared from 0 may stay 0 (the branch was not
   * taken): it is remembered in `mayBeZero`.
   */
  const conditionally = (outerReads: Iterable<string>, builders: (() => void)[]): Instr[][] => {
    const placeholders = new Map<string, Adjoint | undefined>();
    for (const name of outerReads) {
      const existing = adjoints.get(name);
      if (existing?.owned || placeholders.has(name)) continue;
      placeholders.set(name, existing);
      setAdjoint(name, { value: variable(names.adjoint(name)), owned: true });
    }
    const used = new Set<string>();
    const blocks = builders.map(scoped);
    const declared = new Set([...placeholders.keys()].map((n) => names.adjoint(n)));
    for (const block of blocks) forEachInstr(block, (i) => i.kind === 'add' && declared.has(i.target) && used.add(i.target));
    for (const [name, previous] of placeholders) {
      const target = names.adjoint(name);
      if (!used.has(target)) {
        setAdjoint(name, previous);
        continue;
      }
      b.emit({ kind: 'let', target, expr: { op: 'copy', args: [previous?.value ?? constant(0)] }, origin: b.origin });
      if (!previous) mayBeZero.add(target);
    }
    return blocks;
  };

  const reverseBlock = (block: readonly Instr[]) => {
    for (let i = block.length - 1; i >= 0; i--) {
      const instr = block[i];
      b.origin = instr.origin;
      switch (instr.kind) {
        case 'if': {
          const inside = [...instr.then, ...instr.else];
          const local = definedIn(inside);
          const outerReads = new Set<string>();
          forEachInstr(inside, (inner) => {
            for (const r of readsOf(inner)) if (r.kind === 'var' && active.has(r.name) && !local.has(r.name)) outerReads.add(r.name);
          });
          const [thenBlock, elseBlock] = conditionally(outerReads, [() => reverseBlock(instr.then), () => reverseBlock(instr.else)]);
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
          const contribute = () =>
            args.forEach((arg, k) => {
              const partial = partials[k];
              if (!partial || arg.kind !== 'var' || !active.has(arg.name)) return;
              accumulate(arg.name, partial({ b, args, y, g: g.value }));
            });
          if (g.value.kind === 'var' && mayBeZero.has(g.value.name)) {
            // An adjoint that may be exactly 0 (its uses were in branches not taken) contributes
            // nothing, even where a partial is infinite: 0·∞ would otherwise make the gradient NaN.
            const reads = args.flatMap((a) => (a.kind === 'var' && active.has(a.name) ? [a.name] : []));
            const [guarded] = conditionally(reads, [contribute]);
            if (guarded.length > 0) {
              const nonzero = b.op('ne', g.value, constant(0));
              b.emit({ kind: 'if', condition: nonzero, then: guarded, else: [], origin: instr.origin });
            }
          } else {
            contribute();
          }
          break;
        }
        case 'add':
          throw new Error('internal error: reverse mode over accumulations is not supported');
        default:
          assertNever(instr);
      }
    }
  };

  if (fn.value.kind === 'var' && active.has(fn.value.name)) setAdjoint(fn.value.name, { value: constant(1), owned: false });
  reverseBlock(forward);

  const gradient = fn.params.filter((p) => !p.isConst).map((param) => ({ param, adjoint: adjoints.get(param.name)?.value ?? constant(0) }));
  return { ...fn, body: forward, reverse: b.current, gradient };
}

/** The variables an instruction list defines or assigns, at any depth. */
function definedIn(body: readonly Instr[]): Set<string> {
  const names = new Set<string>();
  forEachInstr(body, (inner) => {
    if (inner.kind !== 'if') names.add(inner.target);
  });
  return names;
}
