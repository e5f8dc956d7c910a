import { reverseMode } from '../ad/reverse.ts';
import { constants, isBuiltin } from '../ir/builtins.ts';
import type { IrFunction, Op } from '../ir/ir.ts';
import { lowerFunction } from '../ir/lower.ts';
import { optimize } from '../ir/optimize.ts';
import { assertNever, type BinaryOp, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import type { Graph } from './graph.ts';
import { evaluateExpr, run } from './interpret.ts';
import { rulePartial, type Arg } from './partials.ts';

/** What an expression evaluates to: a node of the graph, a constant of the source, or a condition. */
type Value =
  | { readonly kind: 'node'; readonly id: string; readonly value: number; readonly active: boolean }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean };

// The same spelling-to-operation map as src/ir/lower.ts.
const arithmetic: Partial<Record<BinaryOp, Op>> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '^': 'pow' };
const comparison: Partial<Record<BinaryOp, Op>> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' };
const aliases: Record<string, Op> = { ln: 'log', pow: 'pow' };

/**
 * The seed's view (Fig. 2.1): one node per user-function call and per built-in or operator in the
 * explained function's own body; constants are folded into the partials. A call's value and
 * partials come from the callee's gradient as the compiler generates it (every parameter
 * differentiated), run at the argument values. Only the branch of an `if` that is taken is evaluated.
 */
export function buildCollapsed(
  g: Graph,
  fn: FunctionDecl,
  table: ReadonlyMap<string, FunctionDecl>,
  point: readonly number[],
): { output: string; inputs: string[] } {
  const gradients = new Map<string, IrFunction>();
  const gradientOf = (callee: FunctionDecl): IrFunction => {
    let ir = gradients.get(callee.name);
    if (!ir) {
      // Every parameter differentiated: a `const` parameter of the callee can still receive an active argument.
      const allActive: FunctionDecl = { ...callee, params: callee.params.map((p) => ({ ...p, isConst: false })) };
      const lowered = lowerFunction(allActive, table);
      ir = optimize(reverseMode(lowered.ir, lowered.names), lowered.names);
      gradients.set(callee.name, ir);
    }
    return ir;
  };

  const scope = new Map<string, Value>();
  fn.params.forEach((p, i) => {
    g.add({ id: p.name, kind: 'input', label: p.name, span: p.span, op: 'param', value: point[i], active: !p.isConst });
    scope.set(p.name, { kind: 'node', id: p.name, value: point[i], active: !p.isConst });
  });

  const num = (v: Value): number => v.value as number;
  const asArg = (v: Value): Arg => ({ value: num(v), isConstant: v.kind !== 'node' });

  /** A built-in or an operator: a node, unless every argument is a constant (the compiler folds those). */
  const operation = (op: Op, args: readonly Value[], e: Expr): Value => {
    const operands = args.map((a, i) => (a.kind === 'node' ? { kind: 'var' as const, name: `a${i}` } : { kind: 'const' as const, value: num(a) }));
    const env = new Map(args.map((a, i) => [`a${i}`, num(a)] as const));
    const value = evaluateExpr({ op, args: operands }, env) as number;
    if (args.every((a) => a.kind !== 'node')) return { kind: 'const', value };
    const active = args.some((a) => a.kind === 'node' && a.active);
    const id = g.nextId();
    g.add({ id, kind: e.kind === 'call' ? 'builtin' : 'operator', label: g.label(e.span), span: e.span, op, value, active });
    args.forEach((a, k) => {
      if (a.kind !== 'node') return;
      const partial = active && a.active ? rulePartial(op, args.map(asArg), k, value) : undefined;
      g.edge({ from: id, to: a.id, argIndex: k, partial });
    });
    return { kind: 'node', id, value, active };
  };

  const call = (callee: FunctionDecl, args: readonly Value[], e: Expr): Value => {
    const { value, gradient } = run(gradientOf(callee), args.map(num));
    const active = args.some((a) => a.kind === 'node' && a.active);
    const id = g.nextId();
    g.add({ id, kind: 'call', label: callee.name, span: e.span, op: callee.name, value, active });
    args.forEach((a, k) => {
      if (a.kind !== 'node') return;
      const parameter = callee.params[k].name;
      g.edge({ from: id, to: a.id, argIndex: k, parameter, partial: active && a.active ? gradient.get(parameter) : undefined });
    });
    return { kind: 'node', id, value, active };
  };

  const evaluate = (e: Expr): Value => {
    switch (e.kind) {
      case 'number':
        return { kind: 'const', value: e.value };
      case 'name':
        return scope.get(e.name) ?? { kind: 'const', value: constants.get(e.name)! };
      case 'unary': {
        const v = evaluate(e.operand);
        if (e.op === '+') return v;
        if (e.op === 'not') return { kind: 'bool', value: !v.value };
        return operation('neg', [v], e);
      }
      case 'binary': {
        // Both sides are always evaluated, as in the generated code (`and`/`or` do not short-circuit).
        const l = evaluate(e.left);
        const r = evaluate(e.right);
        const op = arithmetic[e.op];
        if (op) return operation(op, [l, r], e);
        const cmp = comparison[e.op];
        if (cmp) return { kind: 'bool', value: evaluateExpr({ op: cmp, args: [{ kind: 'const', value: num(l) }, { kind: 'const', value: num(r) }] }, new Map()) as boolean };
        return { kind: 'bool', value: e.op === 'and' ? (l.value as boolean) && (r.value as boolean) : (l.value as boolean) || (r.value as boolean) };
      }
      case 'call': {
        const args = e.args.map(evaluate);
        const alias = aliases[e.callee];
        if (alias) return operation(alias, args, e);
        if (isBuiltin(e.callee)) return operation(e.callee, args, e);
        return call(table.get(e.callee)!, args, e);
      }
      case 'if':
        return evaluate(evaluate(e.condition).value ? e.then : e.else);
      default:
        return assertNever(e);
    }
  };

  for (const s of fn.body) {
    const v = evaluate(s.value);
    if (s.kind === 'let') {
      scope.set(s.name, v);
      if (v.kind === 'node') {
        const node = g.nodes.find((n) => n.id === v.id)!;
        if (node.kind !== 'input' && node.variable === undefined) node.variable = s.name;
      }
      continue;
    }
    let output: string;
    if (v.kind === 'node') output = v.id;
    else {
      // A constant result: a node of its own, so the graph has an output.
      output = g.nextId();
      g.add({ id: output, kind: 'constant', label: g.label(s.value.span), span: s.value.span, op: 'const', value: num(v), active: false });
    }
    return { output, inputs: fn.params.filter((p) => !p.isConst).map((p) => p.name) };
  }
  throw new Error(`internal error: '${fn.name}' has no return`);
}
