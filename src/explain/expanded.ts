import { activeVariables } from '../ad/activity.ts';
import { isBuiltin } from '../ir/builtins.ts';
import { reverseMode } from '../ad/reverse.ts';
import type { Span } from '../diagnostics/span.ts';
import { adjointName } from '../emit/names.ts';
import { definesOf, forEachInstr, isBooleanOp } from '../ir/ir.ts';
import { lowerFunction } from '../ir/lower.ts';
import { nestedDerivative } from '../ad/nested.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import type { Graph } from './graph.ts';
import { execute, generatedForm, operandValue, zeroStartedAdjoints, type Env } from './interpret.ts';
import { ruleDerivative } from './partials.ts';

/**
 * One node per operation of the primal IR (`lowerFunction`, callees inlined), as the reverse sweep
 * differentiates it: the instructions the forward sweep executes, in order, each named after the
 * source expression it comes from. Partials are the rules of src/ad/rules.ts with ḡ = 1, and only
 * variables the compiler's activity analysis marks active get them.
 */
export function buildExpanded(
  g: Graph,
  fn: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  point: readonly number[],
): { output: string; inputs: string[] } {
  const { ir, names } = lowerFunction(fn, table, nestedDerivative);
  const active = activeVariables(ir);
  const nodeOf = new Map<string, string>();
  const env: Env = new Map();
  ir.params.forEach((p, i) => {
    const decl = fn.params[i];
    g.add({ id: p.sourceName, kind: 'input', label: p.sourceName, span: decl.span, op: 'param', variable: p.name, value: point[i], active: active.has(p.name) });
    nodeOf.set(p.name, p.sourceName);
    env.set(p.name, point[i]);
  });

  execute(ir.body, env, {
    // Each operation as the generated code computes it (after strength reduction).
    evaluate: (expr, scope) => generatedForm([], expr, names)(scope),
    set: (instr, { op, args }, value) => {
      if (typeof value !== 'number' || isBooleanOp(op)) return;
      const id = g.nextId();
      const isActive = active.has(instr.target);
      const span = instr.origin.span;
      const kind = op === 'copy' ? 'copy' : isBuiltin(op) ? 'builtin' : 'operator';
      g.add({ id, kind, label: g.label(span), span, op, variable: instr.target, value, active: isActive });
      nodeOf.set(instr.target, id);
      const values = args.map((a) => ({ value: operandValue(a, env) as number, isConstant: a.kind === 'const' }));
      args.forEach((a, k) => {
        if (a.kind !== 'var') return;
        const d = isActive && active.has(a.name) ? ruleDerivative(op, values, k, value) : undefined;
        g.edge({ from: id, to: nodeOf.get(a.name)!, argIndex: k, partial: d?.partial, ...(d?.blocked ? { blocked: true } : {}) }, { contribution: d?.contribution, passThrough: d?.passThrough, withConstant: d?.withConstant });
      });
    },
  });

  // The adjoints the compiled reverse sweep guards (started at 0, or by a min/max), read off the
  // compiler's own reverse sweep of this IR.
  const primal = new Map<string, string>();
  for (const p of ir.params) primal.set(adjointName(p.name), p.name);
  forEachInstr(ir.body, (i) => {
    for (const target of definesOf(i)) primal.set(adjointName(target), target);
  });
  const zeroStarted = new Map<string, Span>();
  for (const [adjoint, at] of zeroStartedAdjoints(reverseMode(ir, names).reverse!)) {
    const v = primal.get(adjoint);
    const node = v === undefined ? undefined : nodeOf.get(v);
    if (node !== undefined) zeroStarted.set(node, at);
  }
  g.zeroStarted = zeroStarted;

  let output: string;
  if (ir.value.kind === 'var') output = nodeOf.get(ir.value.name)!;
  else {
    const last = fn.body[fn.body.length - 1];
    if (last.kind !== 'return') throw new Error('internal error: a function that does not end in a return');
    const ret = last.value;
    output = g.nextId();
    g.add({ id: output, kind: 'constant', label: g.label(ret.span), span: ret.span, op: 'const', value: ir.value.value, active: false });
  }
  return { output, inputs: ir.params.filter((p) => !p.isConst).map((p) => p.sourceName) };
}
