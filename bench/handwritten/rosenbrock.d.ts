/** Types for rosenbrock.js. */
export function rosenbrockGrad(x: number, y: number): { value: number; gradient: Record<string, number> };
