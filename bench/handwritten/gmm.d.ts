/** Types for gmm.js: the hand-written GMM objective of examples/gmm.ad and its reverse-mode gradient. */
type Vec = ArrayLike<number>;
type Mat = readonly ArrayLike<number>[];

export function gmm(alpha: Vec, mu: Mat, q: Mat, l: Mat, x: Mat, gamma: number, m: number): number;
export function gmmGrad(
  alpha: Vec,
  mu: Mat,
  q: Mat,
  l: Mat,
  x: Mat,
  gamma: number,
  m: number,
): { value: number; gradient: { alpha: Float64Array; mu: Float64Array[]; q: Float64Array[]; l: Float64Array[] } };
