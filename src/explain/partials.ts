import { isDifferentiable, rules } from '../ad/rules.ts';
import { Builder, NameSupply } from '../ir/builder.ts';
import { constant, variable, type Op, type Operand } from '../ir/ir.ts';
import { generatedForm, type Env } from './interpret.ts';

/** An argument of an operation: its value, and whether it is a constant of the source rather than a variable. */
export interface Arg {
  readonly value: number;
  readonly isConstant: boolean;
}

/** What flows along an edge: its partial (ḡ = 1), and its contribution to the adjoint for any ḡ. */
export interface EdgeDerivative {
  readonly partial: number;
  /** The rule sends nothing along the edge at this point, whatever the adjoint (its contribution is exactly 0). */
  readonly blocked: boolean;
  /** ḡ ↦ what the generated code adds to the argument's adjoint when the user's adjoint is ḡ. */
  readonly contribution: (g: number) => number;
}

const origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };

/**
 * The derivative along one edge, from the compiler's own derivative table (src/ad/rules.ts): the
 * code the reverse sweep writes for ḡ·∂op(args)/∂args[k] is built and interpreted. Returns
 * undefined when the table has no entry for the argument (its derivative is zero everywhere).
 * Constants are passed as constants, so the rules see what the reverse sweep sees.
 *
 * The partial is that code at ḡ = 1. The reverse sweep runs it at the real ḡ, which is not always
 * ḡ × partial: ḡ/b when 1/b overflows, or min and max, which give the argument not selected exactly
 * 0 even when ḡ is NaN (the edge is then `blocked`).
 */
export function ruleDerivative(op: Op, args: readonly Arg[], k: number, y: number): EdgeDerivative | undefined {
  if (!isDifferentiable(op)) return undefined;
  const partial = rules[op][k];
  if (!partial) return undefined;
  // Names without `$`, so they cannot meet the builder's temporaries ($tN).
  const env: Env = new Map([['y', y]]);
  const operands: Operand[] = args.map((a, i) => {
    if (a.isConstant) return constant(a.value);
    env.set(`a${i}`, a.value);
    return variable(`a${i}`);
  });
  const names = new NameSupply();
  const b = new Builder(names, origin);
  const result = partial({ b, args: operands, y: variable('y'), g: variable('g') });
  const code = generatedForm(b.current, result, names);
  const contribution = (g: number) => code(new Map([...env, ['g', g]])) as number;
  return { partial: contribution(1), blocked: !Number.isNaN(contribution(NaN)), contribution };
}
