import type { NameSupply } from '../ir/builder.ts';
import { constant, declaredIn, forEachInstr, variable, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { isAdjointName, isTangentName, nestedAdjointBase, nestedTangentBase } from '../emit/names.ts';
import type { NestedHow } from '../ir/lower.ts';
import { renameVariables } from '../ir/rename.ts';
import { reverseMode } from './reverse.ts';
import { forwardMode } from './forward.ts';

/**
 * `grad(f, x)(args)` and `jvp(f, x)(args, v)` inside the language. Lowering builds f's body at the
 * call site (as it inlines a call) into an IR function of one differentiated parameter, x (the
 * other arguments are constants to it); this pass turns that function into its derivative and
 * returns it as instructions to splice where the expression stands, with the operand holding it:
 * - without `direction`, the reverse-mode gradient, the same forward and reverse sweeps as
 *   `fGrad`: ∂f/∂x, a number or the adjoint array of an array parameter;
 * - with `direction` (v: a variable, a number or an array of x's shape), forward mode seeded with
 *   v as x's tangent, the same code as `fJvp`: ∂f/∂x·v, a number or a tangent array of the
 *   value's shape (undefined where the value does not depend on x: 0).
 * The spliced code is ordinary IR (adjoints declared with `let` and accumulated with `+=`, adjoint
 * arrays accumulated with `d$x[i] += …`, descending loops; tangents, a product's running product
 * carried by a loop), so the caller's own derivatives (reverse.ts, forward.ts) differentiate
 * through it again: nested derivatives are exact, never finite differences.
 *
 * The derivative's variables are renamed (`d$x` → `dx`, `t$x` → `tx`, `$dt4`, `$tt4` → new
 * temporaries): the caller's own derivatives take adjoints and tangents of the same variables and
 * would name them the same.
 */
export function nestedDerivative(fn: IrFunction, names: NameSupply, how?: NestedHow): { readonly instrs: Instr[]; readonly result: Operand | undefined } {
  const differentiated = fn.params.filter((p) => !p.isConst);
  if (differentiated.length !== 1) throw new Error(`internal error: a nested derivative of '${fn.name}' with ${differentiated.length} differentiated parameters`);
  if (how?.direction) return nestedTangent(fn, names, how.direction);
  if (how?.columns) return nestedJacobian(fn, names, how.columns);
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
  return { instrs, result: gradient };
}

/**
 * `jvp(f, x)(args, v)`: forward mode (forward.ts) with x's tangent read from v, which stands for
 * it: x is a parameter, so its tangent is only ever read. Tangents the transformation defines are
 * renamed apart from the caller's, accumulators split as for the gradient.
 */
function nestedTangent(fn: IrFunction, names: NameSupply, direction: Operand): { readonly instrs: Instr[]; readonly result: Operand | undefined } {
  if (direction.kind !== 'var') throw new Error('internal error: a jvp direction that is not a variable');
  const forward = forwardMode(fn, names);
  const [seed] = forward.tangent!.seeds;
  const primal = new Set(declaredIn(fn.body));
  const renames = new Map<string, string>([[seed.tangent, direction.name]]);
  for (const name of declaredIn(forward.body)) {
    if (renames.has(name) || primal.has(name) || !isTangentName(name)) continue;
    renames.set(name, name.startsWith('$') ? names.temp() : names.user(nestedTangentBase(name)));
  }
  const instrs = renameVariables(valuesApart(forward.body, names), renames);
  const value = forward.tangent!.value;
  const result = value?.kind === 'var' && renames.has(value.name) ? variable(renames.get(value.name)!) : value;
  return { instrs, result };
}

/**
 * `jacobian(f, x)(args)` for f returning a vec of m numbers and x a vec of n: forward mode by
 * columns, J[i, j] = ∂f_i/∂x_j, one column per iteration of a loop over j whose body is `fJvp`'s
 * code along the unit direction e_j (row j of an identity made once). Every array the body makes
 * (f's arrays and their tangents) gets one region per column, `a[j·L + k]` for `a[k]`, allocated
 * once before the loop: each element is then written once over the whole loop, as in an array
 * let, so the caller's own derivatives reverse the loop as they reverse any loop storing arrays
 * (recomputing an iteration never overwrites what another one stored). n columns each cost about
 * a value and a tangent of f; reverse rows (m reverse sweeps) are not built here.
 */
function nestedJacobian(fn: IrFunction, names: NameSupply, { inputs: n, outputs: m }: { readonly inputs: Operand; readonly outputs: Operand }): { readonly instrs: Instr[]; readonly result: Operand | undefined } {
  const origin = { span: fn.span, statement: fn.span };
  const out: Instr[] = [];
  const op = (block: Instr[], o: Expr['op'], ...args: Operand[]): Operand => {
    const target = names.temp();
    block.push({ kind: 'const', target, expr: { op: o, args }, origin });
    return variable(target);
  };
  const jacobian = names.temp();
  const forward = forwardMode(fn, names);
  const [seed] = forward.tangent!.seeds;
  const identity = names.temp();
  const primal = new Set(declaredIn(fn.body));
  const renames = new Map<string, string>([[seed.tangent, identity]]);
  for (const name of declaredIn(forward.body)) {
    if (renames.has(name) || primal.has(name) || !isTangentName(name)) continue;
    renames.set(name, name.startsWith('$') ? names.temp() : names.user(nestedTangentBase(name)));
  }
  const tangentValue = forward.tangent!.value;
  const tangent = tangentValue?.kind === 'var' ? renames.get(tangentValue.name) ?? tangentValue.name : undefined;
  // Zeros where the value does not depend on x; else every element is written by a column.
  out.push({ kind: 'array', target: jacobian, length: op(out, 'mul', m, n), ...(tangent && { overwritten: true }), note: 'the Jacobian, m rows of n, by columns', origin });
  if (!tangent) return { instrs: out, result: variable(jacobian) };
  out.push({ kind: 'array', target: identity, length: op(out, 'mul', n, n), note: 'the unit directions: row j is column j’s', origin });
  const d = names.user('j');
  const diagonal: Instr[] = [];
  diagonal.push({ kind: 'store', array: identity, index: op(diagonal, 'add', op(diagonal, 'mul', variable(d), n), variable(d)), expr: { op: 'copy', args: [constant(1)] }, accumulate: false, origin });
  out.push({ kind: 'loop', index: d, from: constant(0), to: n, descending: false, body: diagonal, origin });

  const body = renameVariables(valuesApart(forward.body, names), renames);
  // The arrays the body makes, and the constants their lengths need (over sizes only), before the loop.
  const moved = new Set<string>();
  const regions = new Map<string, Operand>([[identity, n]]);
  const declared = declaredIn(body);
  const outside = (o: Operand) => o.kind === 'const' || !declared.has(o.name) || moved.has(o.name);
  for (const instr of body) {
    if (instr.kind === 'const' && instr.expr.op !== 'load' && instr.expr.op !== 'call' && instr.expr.args.every(outside)) {
      moved.add(instr.target);
      out.push(instr);
    }
  }
  forEachInstr(body, (instr) => {
    if (instr.kind !== 'array') return;
    if (!outside(instr.length) || instr.rows) throw new Error(`internal error: the Jacobian's array ${instr.target} cannot be made before its columns`);
    regions.set(instr.target, instr.length);
    out.push({ ...instr, length: op(out, 'mul', instr.length, n), note: `${instr.note ?? `the array ${instr.target}`}, one region per column of the Jacobian` });
  });
  const column = names.user('j');
  const offsets = new Map<string, Operand>();
  const loopBody: Instr[] = [];
  for (const [array, length] of regions) offsets.set(array, op(loopBody, 'mul', variable(column), length));
  /** An index into an array's region for this column. */
  const at = (pre: Instr[], array: string, index: Operand): Operand => (regions.has(array) ? op(pre, 'add', offsets.get(array)!, index) : index);
  const expr = (pre: Instr[], e: Expr): Expr => {
    if (e.op === 'load' && e.args[0].kind === 'var') return { ...e, args: [e.args[0], at(pre, e.args[0].name, e.args[1])] };
    if (e.args.some((a) => a.kind === 'var' && regions.has(a.name))) throw new Error(`internal error: an array used whole (${e.op}) in a Jacobian's column`);
    return e;
  };
  const widen = (block: readonly Instr[]): Instr[] =>
    block.flatMap((i): Instr[] => {
      const pre: Instr[] = [];
      switch (i.kind) {
        case 'array':
          return [];
        case 'const': {
          if (moved.has(i.target)) return [];
          const e = expr(pre, i.expr);
          return [...pre, { ...i, expr: e }];
        }
        case 'let': {
          if (!i.expr) return [i];
          const e = expr(pre, i.expr);
          return [...pre, { ...i, expr: e }];
        }
        case 'set':
        case 'add': {
          const e = expr(pre, i.expr);
          return [...pre, { ...i, expr: e }];
        }
        case 'store': {
          const e = expr(pre, i.expr);
          const index = at(pre, i.array, i.index);
          return [...pre, { ...i, index, expr: e }];
        }
        case 'if':
          return [{ ...i, then: widen(i.then), else: widen(i.else) }];
        case 'loop':
          return [{ ...i, body: widen(i.body), ...(i.exit && { exit: { ...i.exit, body: widen(i.exit.body) } }) }];
        case 'check':
          return [i];
      }
    });
  loopBody.push(...widen(body));
  // Column j of the Jacobian: the tangent of the value along e_j.
  const row = names.user('i');
  const copyOut: Instr[] = [];
  const element = op(copyOut, 'load', variable(tangent), at(copyOut, tangent, variable(row)));
  copyOut.push({ kind: 'store', array: jacobian, index: op(copyOut, 'add', op(copyOut, 'mul', variable(row), n), variable(column)), expr: { op: 'copy', args: [element] }, accumulate: false, origin });
  loopBody.push({ kind: 'loop', index: row, from: constant(0), to: m, descending: false, body: copyOut, origin });
  out.push({ kind: 'loop', index: column, from: constant(0), to: n, descending: false, body: loopBody, note: 'the Jacobian by columns: forward mode along each unit direction', origin });
  return { instrs: out, result: variable(jacobian) };
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
