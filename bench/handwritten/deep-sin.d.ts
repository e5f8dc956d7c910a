/** Types for deep-sin.js. */
export function deepGrad(x: number, y: number): { value: number; gradient: Record<string, number> };
