/** Types for chain.js. */
export function makeChainGrad(n: number): (x: number, y: number, z: number) => { value: number; gradient: Record<string, number> };
