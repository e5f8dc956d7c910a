/** Types for seed-forward.js. */
export function fGrad(x: number): { value: number; gradient: Record<string, number> };
