import { isDifferentiable, rules } from '../ad/rules.ts';
import { Builder, NameSupply, simplify } from '../ir/builder.ts';
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
  /** The code is ḡ itself (`a + b`, a copy): the argument may share the user's adjoint. */
  readonly passThrough: boolean;
  /** The code is a `select` (min, max): an adjoint it starts may be exactly 0, so it is guarded. */
  readonly selects: boolean;
  /** The code when ḡ is a compile-time constant c (the output's 1): it may fold. */
  readonly withConstant: (c: number) => Folded;
}

/**
 * Code with a constant ḡ, as the reverse sweep simplifies it: `dropped` when it is the constant 0
 * (no term at all), otherwise its value, and whether that is a constant (which the argument's
 * adjoint then is too, when it is its only term).
 */
export type Folded = 'dropped' | { readonly value: number; readonly constant: boolean };

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
  const simplified = simplify(result);
  // The reverse sweep drops a contribution that is the constant 0 (x^0): no derivative at all.
  if (!('op' in simplified) && simplified.kind === 'const' && simplified.value === 0) return undefined;
  const passThrough = b.current.length === 0 && !('op' in simplified) && simplified.kind === 'var' && simplified.name === 'g';
  const selects = 'op' in simplified && simplified.op === 'select';
  const withConstant = (c: number): Folded => {
    const folded = simplify(partial({ b: new Builder(new NameSupply(), origin), args: operands, y: variable('y'), g: constant(c) }));
    if ('op' in folded || folded.kind === 'var') return { value: contribution(c), constant: false };
    return folded.value === 0 ? 'dropped' : { value: folded.value, constant: true };
  };
  return { partial: contribution(1), blocked: !Number.isNaN(contribution(NaN)), contribution, passThrough, selects, withConstant };
}
