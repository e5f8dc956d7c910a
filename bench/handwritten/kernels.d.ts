/** Types for kernels.js: hand-written gradients of bench/arrays-c.ts's kernels, each into g. */
export function polyfitGradInto(g: Float64Array, c: ArrayLike<number>, t: ArrayLike<number>, y: ArrayLike<number>): number;
export function lseGradInto(g: Float64Array, x: ArrayLike<number>): number;
