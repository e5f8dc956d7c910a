// Trains the network of examples/arrays.ad to fit y = sin(3x) by gradient descent, with
// mlpGradInto writing the gradient into arrays allocated once. Compile the model first:
//   npx adc compile examples/arrays.ad && node examples/fit-mlp.mjs
import { mlp, mlpGradInto } from './arrays.js';

const m = 200; // data points
const d = 2; // features: x and a constant 1
const h = 16; // hidden units
const X = Array.from({ length: m }, (_, k) => [-1 + (2 * k) / (m - 1), 1]);
const y = X.map(([x]) => Math.sin(3 * x));

// A deterministic start (a small linear congruential generator), so every run prints the same.
let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const W1 = Array.from({ length: h }, () => Float64Array.from({ length: d }, random));
const b1 = Float64Array.from({ length: h }, random);
const w2 = Float64Array.from({ length: h }, () => random() / 4);
let b2 = 0;

const g = { W1: W1.map((row) => new Float64Array(row.length)), b1: new Float64Array(h), w2: new Float64Array(h), b2: 0 };
const rate = 0.1;
const first = mlp(W1, b1, w2, b2, X, y);
for (let step = 1; step <= 3000; step++) {
  const loss = mlpGradInto(g, W1, b1, w2, b2, X, y);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < d; i++) W1[j][i] -= rate * g.W1[j][i];
    b1[j] -= rate * g.b1[j];
    w2[j] -= rate * g.w2[j];
  }
  b2 -= rate * g.b2;
  if (step % 1000 === 0) console.log(`step ${step}: loss ${loss.toPrecision(4)}`);
}
const last = mlp(W1, b1, w2, b2, X, y);
console.log(`mean squared error: ${first.toPrecision(4)} at the start, ${last.toPrecision(4)} after training`);
