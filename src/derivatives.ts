/**
 * The derivative exports a compile may ask for, and the parser of their comma-separated list. In a
 * module of its own, importing nothing: the CLI reads `--derivatives` before loading the compiler.
 */

export const derivativeKinds = ['grad', 'jvp', 'vjp', 'jacobian', 'hessian', 'hvp'] as const;
export type Derivative = (typeof derivativeKinds)[number];
/**
 * `grad,jvp,hessian` (the CLI's `--derivatives`, the loader's ADC_DERIVATIVES) as a list, or the
 * message for a word that is not a derivative.
 */
export function parseDerivatives(text: string): Derivative[] | string {
  const words = text.split(',').map((w) => w.trim()).filter((w) => w.length > 0);
  const wrong = words.find((w) => !(derivativeKinds as readonly string[]).includes(w));
  if (wrong !== undefined) return `unknown derivative '${wrong}' (one of ${derivativeKinds.join(', ')})`;
  return words as Derivative[];
}
