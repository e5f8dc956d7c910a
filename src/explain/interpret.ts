import { builtins, isBuiltin } from '../ir/builtins.ts';
import type { Expr, Instr, IrFunction, Operand } from '../ir/ir.ts';

/**
 * A small interpreter for the IR, over plain doubles (and booleans for conditions). It computes
 * exactly what the emitted JavaScript computes: the same operations, with built-ins evaluated by
 * the table in src/ir/builtins.ts (the `Math` functions the generated code calls).
 */
export type Scalar = number | boolean;
export type Env = Map<string, Scalar>;

export function operandValue(a: Operand, env: ReadonlyMap<string, Scalar>): Scalar {
  if (a.kind === 'const') return a.value;
  const v = env.get(a.name);
  if (v === undefined) throw new Error(`internal error: '${a.name}' read before it was set`);
  return v;
}

export function evaluateExpr(e: Expr, env: ReadonlyMap<string, Scalar>): Scalar {
  const v = e.args.map((a) => operandValue(a, env));
  const n = v as number[];
  switch (e.op) {
    case 'add':
      return n[0] + n[1];
    case 'sub':
      return n[0] - n[1];
    case 'mul':
      return n[0] * n[1];
    case 'div':
      return n[0] / n[1];
    case 'neg':
      return -n[0];
    case 'pow':
      return n[0] ** n[1];
    case 'lt':
      return n[0] < n[1];
    case 'le':
      return n[0] <= n[1];
    case 'gt':
      return n[0] > n[1];
    case 'ge':
      return n[0] >= n[1];
    case 'eq':
      return n[0] === n[1];
    case 'ne':
      return n[0] !== n[1];
    case 'and':
      return (v[0] as boolean) && (v[1] as boolean);
    case 'or':
      return (v[0] as boolean) || (v[1] as boolean);
    case 'not':
      return !(v[0] as boolean);
    case 'copy':
      return v[0];
    case 'select':
      return v[0] ? v[1] : v[2];
    default:
      if (isBuiltin(e.op)) return (builtins[e.op].evaluate as (...a: number[]) => number)(...n);
      throw new Error(`internal error: cannot evaluate '${String(e.op)}'`);
  }
}

/** Runs a block; `onSet` sees every assignment executed (not the branches skipped), in order. */
export function execute(body: readonly Instr[], env: Env, onSet?: (instr: Exclude<Instr, { kind: 'if' }>, value: Scalar) => void): void {
  for (const instr of body) {
    if (instr.kind === 'if') {
      execute(operandValue(instr.condition, env) ? instr.then : instr.else, env, onSet);
      continue;
    }
    if (!instr.expr) continue;
    let value = evaluateExpr(instr.expr, env);
    if (instr.kind === 'add') value = (env.get(instr.target) as number) + (value as number);
    env.set(instr.target, value);
    onSet?.(instr, value);
  }
}

/** Runs a value or gradient function: the value, and the gradient when the function has one. */
export function run(fn: IrFunction, args: readonly number[]): { value: number; gradient: Map<string, number> } {
  const env: Env = new Map(fn.params.map((p, i) => [p.name, args[i]] as const));
  execute(fn.body, env);
  const value = operandValue(fn.value, env) as number;
  if (fn.reverse) execute(fn.reverse, env);
  const gradient = new Map((fn.gradient ?? []).map((g) => [g.param.sourceName, operandValue(g.adjoint, env) as number] as const));
  return { value, gradient };
}
