// Gauss–Newton with fJacobian: fits y ≈ a·exp(b·x) to data made with a = 2, b = -0.7, each step
// solving (JᵀJ) d = -Jᵀr from the residuals' Jacobian. Compile first:
//   npx adc compile examples/derivatives.ad --derivatives grad,jvp,jacobian,hvp,hessian && node examples/gauss-newton.mjs
import { residJacobian } from './derivatives.js';

const x = Array.from({ length: 20 }, (_, k) => k / 5);
const y = x.map((t, k) => 2 * Math.exp(-0.7 * t) + 0.01 * Math.sin(7 * k)); // a little deterministic noise
let [a, b] = [1, 0];
let step = 0;
for (; step < 30; step++) {
  const { value: r, jacobian: J } = residJacobian(a, b, x, y);
  // The normal equations of the two parameters.
  let [aa, ab, bb, ga, gb] = [0, 0, 0, 0, 0];
  for (let k = 0; k < r.length; k++) {
    aa += J.a[k] * J.a[k];
    ab += J.a[k] * J.b[k];
    bb += J.b[k] * J.b[k];
    ga += J.a[k] * r[k];
    gb += J.b[k] * r[k];
  }
  const det = aa * bb - ab * ab;
  const da = (-ga * bb + gb * ab) / det;
  const db = (-gb * aa + ga * ab) / det;
  a += da;
  b += db;
  if (Math.hypot(da, db) < 1e-12) break;
}
console.log(`gauss-newton: a = ${a.toFixed(4)}, b = ${b.toFixed(4)} after ${step} steps`);
