/** Types for logistic.js: weights w0..w9, bias b, then features x0..x9 and label y. */
export function nllGrad(...args: number[]): { value: number; gradient: Record<string, number> };
