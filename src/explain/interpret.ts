import type { Span } from '../diagnostics/span.ts';
import type { NameSupply } from '../ir/builder.ts';
import { evaluateOp } from '../ir/evaluate.ts';
import { isBooleanOp, variable, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import { reduceStrength } from '../ir/reduce-strength.ts';

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
  // A copy keeps what it copies (a condition stays a boolean); everything else is computed as
  // the generated code computes it (src/ir/evaluate.ts), conditions coming back as booleans.
  if (e.op === 'copy') return v[0];
  const r = evaluateOp(e.op, v.map(Number));
  return isBooleanOp(e.op) ? r !== 0 : r;
}

/** A scope on top of another: reads fall through, writes stay here. */
export class Overlay extends Map<string, Scalar> {
  constructor(private readonly base: ReadonlyMap<string, Scalar>) {
    super();
  }

  override get(key: string): Scalar | undefined {
    return super.has(key) ? super.get(key) : this.base.get(key);
  }

  override has(key: string): boolean {
    return super.has(key) || this.base.has(key);
  }
}

const nowhere = { start: 0, end: 0 };

/**
 * Code as the generated JavaScript computes it: the optimiser's strength reduction
 * (src/ir/reduce-strength.ts) rewrites x^0.5 as sqrt(x) and x^3 as x·x·x, which differ from the
 * IR at -0 and -Infinity and in the last bit. Returns the code's value in a scope. `names` must be
 * the supply the code's own temporaries came from, so new ones cannot meet them.
 */
export function generatedForm(body: readonly Instr[], result: Expr | Operand, names: NameSupply): (env: ReadonlyMap<string, Scalar>) => Scalar {
  const origin = { span: nowhere, statement: nowhere };
  const last: Instr = { kind: 'const', target: '$result', expr: 'op' in result ? result : { op: 'copy', args: [result] }, origin };
  const reduced = reduceStrength({ name: '', params: [], body: [...body, last], value: variable('$result'), span: nowhere }, names);
  return (env) => {
    const scope = new Overlay(env);
    execute(reduced.body, scope);
    return scope.get('$result')!;
  };
}

export interface Hooks {
  /** How to compute an operation (default: `evaluateExpr`). */
  readonly evaluate?: (expr: Expr, env: Env) => Scalar;
  /** Every assignment executed (not those of branches skipped), in order, with its value. */
  readonly set?: (instr: Extract<Instr, { kind: 'const' | 'let' | 'set' | 'add' }>, expr: Expr, value: Scalar) => void;
}

/** Runs a block. */
export function execute(body: readonly Instr[], env: Env, hooks: Hooks = {}): void {
  for (const instr of body) {
    if (instr.kind === 'if') {
      execute(operandValue(instr.condition, env) ? instr.then : instr.else, env, hooks);
      continue;
    }
    if (instr.kind !== 'const' && instr.kind !== 'let' && instr.kind !== 'set' && instr.kind !== 'add') throw new Error(`internal error: explain cannot run '${instr.kind}'`);
    if (!instr.expr) continue;
    let value = (hooks.evaluate ?? evaluateExpr)(instr.expr, env);
    if (instr.kind === 'add') value = (env.get(instr.target) as number) + (value as number);
    env.set(instr.target, value);
    hooks.set?.(instr, instr.expr, value);
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

/**
 * The adjoints a reverse sweep (the IR `reverseMode` writes, before optimisation) starts in a way
 * that may leave them exactly 0 — `let d$v = 0` before an `if` or a guard, or `let d$v = select(…)`
 * from a min or max — and that it therefore guards (`if (d$v != 0)`): while 0, they send nothing.
 * Returns each such variable with where it comes from (the `if` or guard, or the min/max).
 */
export function zeroStartedAdjoints(reverse: readonly Instr[]): Map<string, Span> {
  const found = new Map<string, Span>();
  const scan = (block: readonly Instr[]) =>
    block.forEach((i, k) => {
      if (i.kind === 'if') {
        scan(i.then);
        scan(i.else);
        return;
      }
      if (i.kind !== 'let' || !i.expr) return;
      if (i.expr.op === 'select') found.set(i.target, i.origin.span);
      else if (i.expr.op === 'copy' && i.expr.args[0].kind === 'const' && i.expr.args[0].value === 0) {
        const next = block.slice(k + 1).find((x) => x.kind === 'if');
        found.set(i.target, (next ?? i).origin.span);
      }
    });
  scan(reverse);
  return found;
}
