import { isDifferentiable, rules } from '../ad/rules.ts';
import { Builder, NameSupply } from '../ir/builder.ts';
import { constant, variable, type Op, type Operand } from '../ir/ir.ts';
import { evaluateExpr, execute, operandValue, type Env } from './interpret.ts';

/** An argument of an operation: its value, and whether it is a variable (a node) or a constant of the source. */
export interface Arg {
  readonly value: number;
  readonly isConstant: boolean;
}

const origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };

/**
 * ∂op(args)/∂args[k] at the point, from the compiler's own derivative table (src/ad/rules.ts)
 * evaluated with ḡ = 1: the code the reverse sweep would write is built and interpreted. Returns
 * undefined when the table has no entry for the argument (its derivative is zero everywhere).
 * Constants are passed as constants, so the rules see what the reverse sweep sees.
 */
export function rulePartial(op: Op, args: readonly Arg[], k: number, y: number): number | undefined {
  if (!isDifferentiable(op)) return undefined;
  const partial = rules[op][k];
  if (!partial) return undefined;
  // Argument and result names without `$`, so they cannot meet the builder's temporaries ($tN).
  const env: Env = new Map([['y', y]]);
  const operands: Operand[] = args.map((a, i) => {
    if (a.isConstant) return constant(a.value);
    env.set(`a${i}`, a.value);
    return variable(`a${i}`);
  });
  const b = new Builder(new NameSupply(), origin);
  const result = partial({ b, args: operands, y: variable('y'), g: constant(1) });
  execute(b.current, env);
  return ('op' in result ? evaluateExpr(result, env) : operandValue(result, env)) as number;
}
