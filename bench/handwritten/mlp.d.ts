/** Types for mlp.js: the hand-written one-hidden-layer perceptron loss and its reverse-mode gradient. */
type Vec = ArrayLike<number>;
type Mat = readonly ArrayLike<number>[];

export function mlp(W1: Mat, b1: Vec, w2: Vec, b2: number, X: Mat, y: Vec): number;
export function mlpGrad(
  W1: Mat,
  b1: Vec,
  w2: Vec,
  b2: number,
  X: Mat,
  y: Vec,
): { value: number; gradient: { W1: Float64Array[]; b1: Float64Array; w2: Float64Array; b2: number } };
