import { Builder, type NameSupply } from '../ir/builder.ts';
import { constant, declaredIn, forEachInstr, isBooleanOp, variable, type Expr, type Instr, type IrFunction, type Operand, type Reduction } from '../ir/ir.ts';
import { assertNever } from '../syntax/ast.ts';
import { tangentRules } from './rules.ts';
import { isFlat } from './activity.ts';
import { directionTangentName } from '../emit/names.ts';
import { tangentOfCall } from './calls.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * Forward mode by source transformation, IR → IR. Each variable that depends on a seeded
 * parameter gets a tangent (`t$x`, `$tt5`: its derivative along the direction the caller gives),
 * computed right after it with the entries of `tangentRules` (rules.ts); this module knows no
 * particular operation. Every instruction kind is covered, so the transformation applies to any IR
 * function, its own output and reverse mode's included: applied to a gradient function (forward
 * sweep, then reverse sweep with its `+=` accumulations, descending loops and accumulating
 * stores), it gives Hessian-vector products (forward over reverse).
 *
 * - An array gets a tangent array of the same shape; a load reads the tangent array at the same
 *   index, a store writes it (0 where the value does not depend on the seeds).
 * - An `if` keeps its condition (tangents follow the branch taken); a loop its bounds.
 * - A sum adds its terms' tangents in the same loop. A product, max, min or logsumexp needs its
 *   result first: a second loop after it recomputes each term with its tangent and adds
 *   ṫ·∂R/∂t (exp(t - R); for max and min the selected iteration only), as reverse mode seeds its
 *   terms; a product's runs the product rule along the running product of the terms.
 * - `set x = e` and `x += e` are split into `const $t = e` and the assignment, so the tangent is
 *   computed from the values before the assignment.
 *
 * `seeds` are the parameters with tangents (default: the differentiated ones). With `directions`
 * K > 1, each active variable gets K tangents (`t$x`, `t$x$c2`, …), one per direction, all
 * computed from the one primal computation: the value, and every intermediate the tangents read,
 * is computed once for K directions (fJacobian's forward columns, K at a time; `tangent.directions`
 * lists each direction's seeds and result tangent).
 */
export function forwardMode(fn: IrFunction, names: NameSupply, seeds: readonly string[] = fn.params.filter((p) => !p.isConst).map((p) => p.name), directions = 1): IrFunction {
  const program = [...fn.body, ...(fn.reverse ?? [])];
  const active = activeAlong(program, seeds);
  const origin = { span: fn.span, statement: fn.span };
  const b = new Builder(names, origin);
  const ds = Array.from({ length: directions }, (_, d) => d);
  // A variable's tangent along direction d (d = 0: the only one, unless asked for more).
  const tangentOfName = (name: string, d: number) => (d === 0 ? names.tangent(name) : directionTangentName(name, d));
  const dotOf = (o: Operand, d = 0): Operand | undefined => (o.kind === 'var' && active.has(o.name) ? variable(tangentOfName(o.name, d)) : undefined);
  // Tangents returned to the caller are new arrays, never work arrays.
  const returned = new Set<string>();
  for (const g of fn.gradient ?? []) if (g.adjoint.kind === 'var') returned.add(g.adjoint.name);
  if (fn.result && fn.value.kind === 'var') returned.add(fn.value.name);

  /** The tangent of `op(args)` with result y, emitted before it is used. */
  const tangentOf = (expr: Expr, y: Operand, d: number): Operand | undefined => {
    const dots = expr.args.map((a) => dotOf(a, d));
    if (dots.every((x) => x === undefined)) return undefined;
    if (expr.op === 'load' || expr.op === 'row') return b.op(expr.op, dots[0]!, expr.args[1]);
    if (isBooleanOp(expr.op)) return undefined;
    // A call that stays a call: the callee's tangent function (calls.ts).
    if (expr.op === 'call') return tangentOfCall(b, expr, dots);
    const rule = tangentRules[expr.op as keyof typeof tangentRules];
    if (!rule) throw new Error(`internal error: no tangent rule for '${expr.op}'`);
    return rule({ b, args: expr.args, y, dots });
  };
  /** `e` as a variable of its own (for assignments, whose tangent reads the values before them). */
  const named = (expr: Expr, at: Instr['origin']): Operand => {
    if (expr.op === 'copy') return expr.args[0];
    const target = names.temp();
    b.emit({ kind: 'const', target, expr, origin: at });
    return variable(target);
  };

  const visit = (block: readonly Instr[]): void => {
    for (const instr of block) {
      b.origin = instr.origin;
      switch (instr.kind) {
        case 'const':
        case 'let': {
          b.emit(instr);
          if (!active.has(instr.target)) break;
          for (const d of ds) {
            const t = tangentOfName(instr.target, d);
            if (!instr.expr) {
              b.emit({ kind: 'let', target: t, expr: undefined, origin: instr.origin });
              continue;
            }
            const dot = tangentOf(instr.expr, variable(instr.target), d) ?? constant(0);
            b.emit({ kind: instr.kind, target: t, expr: { op: 'copy', args: [dot] }, origin: instr.origin });
          }
          break;
        }
        case 'set':
        case 'add': {
          if (!active.has(instr.target)) {
            b.emit(instr);
            break;
          }
          const value = named(instr.expr, instr.origin);
          // The tangents first: `x = x * x` must differentiate the old x.
          for (const d of ds) {
            const dot = instr.expr.op === 'copy' ? dotOf(value, d) : tangentOf(instr.expr, value, d);
            const t = tangentOfName(instr.target, d);
            if (instr.kind === 'set') b.emit({ kind: 'set', target: t, expr: { op: 'copy', args: [dot ?? constant(0)] }, origin: instr.origin });
            else if (dot) b.emit({ kind: 'add', target: t, expr: { op: 'copy', args: [dot] }, origin: instr.origin });
          }
          b.emit({ ...instr, expr: { op: 'copy', args: [value] } });
          break;
        }
        case 'if': {
          const then = b.block(() => visit(instr.then));
          const otherwise = b.block(() => visit(instr.else));
          b.emit({ ...instr, then, else: otherwise });
          break;
        }
        case 'loop':
          visitLoop(instr);
          break;
        case 'store': {
          if (!active.has(instr.array)) {
            b.emit(instr);
            break;
          }
          const value = named(instr.expr, instr.origin);
          for (const d of ds) {
            const dot = instr.expr.op === 'copy' ? dotOf(value, d) : tangentOf(instr.expr, value, d);
            const t = tangentOfName(instr.array, d);
            if (dot || !instr.accumulate) b.emit({ ...instr, array: t, expr: { op: 'copy', args: [dot ?? constant(0)] } });
          }
          b.emit({ ...instr, expr: { op: 'copy', args: [value] } });
          break;
        }
        case 'array':
          b.emit(instr);
          if (active.has(instr.target)) {
            for (const d of ds) b.emit({ ...instr, target: tangentOfName(instr.target, d), note: undefined, ...(returned.has(instr.target) && { returned: true }) });
          }
          break;
        case 'check':
          b.emit(instr);
          break;
        default:
          assertNever(instr);
      }
    }
  };

  const visitLoop = (loop: Loop) => {
    const r = loop.reduction;
    const term = r && dotOf(r.value) ? r.value : undefined;
    if (!r || !term || !active.has(r.target)) {
      b.emit({ ...loop, body: b.block(() => visit(loop.body)) });
      return;
    }
    const ts = ds.map((d) => tangentOfName(r.target, d));
    // Declared before (hoisted out of a branch) like the result itself, or here.
    const start = (target: string) =>
      b.emit({ kind: loop.declared ? 'set' : 'let', target, expr: { op: 'copy', args: [constant(0)] }, origin: loop.origin });
    for (const t of ts) start(t);
    if (r.op === 'sum') {
      const body = b.block(() => {
        visit(loop.body);
        for (const d of ds) b.emit({ kind: 'add', target: ts[d], expr: { op: 'copy', args: [dotOf(r.value, d)!] }, origin: loop.origin });
      });
      b.emit({ ...loop, body });
      return;
    }
    b.emit({ ...loop, body: b.block(() => visit(loop.body)) });
    // The second pass: each term again, with its tangent times ∂R/∂term.
    const index = names.user(loop.index.replace(/\$.*$/, ''));
    const { body: clone, renamed, map } = renameLocals(loop.body, loop.index, index, names);
    for (const [from, to] of map) if (active.has(from)) active.add(to);
    if (r.op === 'prod') {
      // The product rule along a running product q of the terms so far: ṫ_R ← ṫ_R·b + q·ḃ, then
      // q ← q·b. No division and no count of zero factors: exact at zeros, and differentiable again.
      const running = names.temp();
      b.emit({ kind: 'let', target: running, expr: { op: 'copy', args: [constant(1)] }, origin: loop.origin });
      const body = b.block(() => {
        visit(clone);
        const value = renamed(r.value);
        const tangents = ds.map((d) => b.op('add', b.op('mul', variable(ts[d]), value), b.op('mul', variable(running), dotOf(value, d) ?? constant(0))));
        const next = b.op('mul', variable(running), value);
        // (Carried state is assigned in the body's last instructions only, one each.)
        for (const d of ds) b.emit({ kind: 'set', target: ts[d], expr: { op: 'copy', args: [tangents[d]] }, origin: loop.origin });
        b.emit({ kind: 'set', target: running, expr: { op: 'copy', args: [next] }, origin: loop.origin });
      });
      const note = 'the tangent of the prod: the product rule along the terms, recomputed';
      b.emit({ kind: 'loop', index, from: loop.from, to: loop.to, descending: false, body, carried: [...ts, running], note, origin: loop.origin });
      return;
    }
    const body = b.block(() => {
      visit(clone);
      const value = renamed(r.value);
      // ∂R/∂term once, for every direction.
      const seed = dotOf(value) && seedOf(r, value, b);
      for (const d of ds) {
        const dot = dotOf(value, d);
        if (dot) b.emit({ kind: 'add', target: ts[d], expr: { op: 'mul', args: [dot, seed!] }, origin: loop.origin });
      }
    });
    const single = r.op === 'max' || r.op === 'min';
    const from = single ? variable(r.arg!) : loop.from;
    const to = single ? b.op('add', from, constant(1)) : loop.to;
    const note = single ? `the tangent of the ${r.op}: its selected term, recomputed` : `the tangent of the ${r.op}: each term recomputed, times ∂${r.op}/∂term`;
    const second: Instr = { kind: 'loop', index, from, to, descending: false, body, note, origin: loop.origin };
    b.emit(single ? { kind: 'if', condition: b.op('ge', from, constant(0)), then: [second], else: [], origin: loop.origin } : second);
  };

  visit(program);
  const seeded = fn.params.filter((p) => seeds.includes(p.name));
  const tangentSeeds = seeded.map((param) => ({ param, tangent: names.tangent(param.name) }));
  const more = directions > 1 && { directions: ds.map((d) => ({ seeds: seeded.map((p) => tangentOfName(p.name, d)), value: dotOf(fn.value, d) })) };
  return {
    ...fn,
    body: b.current,
    reverse: undefined,
    tangent: { seeds: tangentSeeds, value: dotOf(fn.value), ...(fn.gradient && { gradient: fn.gradient.map((g) => dotOf(g.adjoint)) }), ...more },
  };
}

/** ∂R/∂term for one term of a reduction R (its result and state already computed). */
function seedOf(r: Reduction, value: Operand, b: Builder): Operand {
  switch (r.op) {
    case 'sum':
    case 'max':
    case 'min':
      return constant(1);
    case 'logsumexp':
      return b.op('exp', b.op('sub', value, variable(r.target)));
    case 'prod':
      throw new Error('internal error: a product\'s tangent is its running product rule');
  }
}

/** A loop body with every name it defines (and its index) renamed, for a second pass over it. */
function renameLocals(
  body: readonly Instr[],
  index: string,
  newIndex: string,
  names: NameSupply,
): { body: Instr[]; renamed: (o: Operand) => Operand; map: ReadonlyMap<string, string> } {
  const map = new Map<string, string>([[index, newIndex]]);
  for (const name of declaredIn(body)) map.set(name, name.startsWith('$') ? names.temp() : names.user(name.replace(/\$.*$/, '')));
  const ren = (o: Operand): Operand => (o.kind === 'var' && map.has(o.name) ? variable(map.get(o.name)!) : o);
  const n = (name: string) => map.get(name) ?? name;
  const expr = (e: Expr): Expr => ({ ...e, args: e.args.map(ren) });
  const copy = (block: readonly Instr[]): Instr[] =>
    block.map((i): Instr => {
      switch (i.kind) {
        case 'const':
          return { ...i, target: n(i.target), expr: expr(i.expr) };
        case 'let':
          return { ...i, target: n(i.target), ...(i.expr && { expr: expr(i.expr) }) };
        case 'set':
        case 'add':
          return { ...i, target: n(i.target), expr: expr(i.expr) };
        case 'if':
          return { ...i, condition: ren(i.condition), then: copy(i.then), else: copy(i.else) };
        case 'loop': {
          const r = i.reduction;
          const reduction = r && { ...r, target: n(r.target), value: ren(r.value), ...(r.arg && { arg: n(r.arg) }), ...(r.nonzero && { nonzero: n(r.nonzero) }), ...(r.zeros && { zeros: n(r.zeros) }) };
          return { ...i, index: n(i.index), from: ren(i.from), to: ren(i.to), body: copy(i.body), ...(reduction && { reduction }) };
        }
        case 'store':
          return { ...i, array: n(i.array), index: ren(i.index), expr: expr(i.expr) };
        case 'array':
          return { ...i, target: n(i.target), length: ren(i.length), ...(i.rows && { rows: ren(i.rows) }) };
        case 'check':
          return { ...i, index: ren(i.index), length: ren(i.length), ...(i.from && { from: ren(i.from) }) };
        default:
          return assertNever(i);
      }
    });
  return { body: copy(body), renamed: ren, map };
}

/**
 * The variables whose values depend on the seeds, to a fixed point: a loop may carry a dependence
 * backwards (an accumulation read in a later iteration), and the reverse sweep's `+=` on adjoints
 * declared before it does.
 */
function activeAlong(program: readonly Instr[], seeds: readonly string[]): Set<string> {
  const active = new Set(seeds);
  const isActive = (a: Operand) => a.kind === 'var' && active.has(a.name);
  for (let changed = true; changed; ) {
    const before = active.size;
    forEachInstr(program, (i) => {
      switch (i.kind) {
        case 'loop':
          if (i.reduction && isActive(i.reduction.value)) active.add(i.reduction.target);
          break;
        // sign, floor and ceil carry no tangent (isFlat): their results stay constants, as in
        // reverse mode, never a tangent of 0 that a product with an infinite value makes NaN
        // (floor(x) · exp(x) at x = 1000: fGrad's ∞, where fJvp gave 0·∞ + … = NaN).
        case 'store':
          if (!isFlat(i.expr.op) && i.expr.args.some(isActive)) active.add(i.array);
          break;
        case 'if':
        case 'array':
        case 'check':
          break;
        default:
          if (i.expr && !isBooleanOp(i.expr.op) && !isFlat(i.expr.op) && i.expr.args.some(isActive)) active.add(i.target);
          // A row is the matrix's memory: a row written with tangents makes the whole matrix active.
          if (i.kind === 'const' && i.expr.op === 'row' && active.has(i.target) && i.expr.args[0].kind === 'var') active.add(i.expr.args[0].name);
      }
    });
    changed = active.size !== before;
  }
  return active;
}
