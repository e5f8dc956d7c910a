/** Types for seed-graph.js. */
export function fGrad(x1: number, x2: number): { value: number; gradient: Record<string, number> };
