// Newton's method with fHessian (forward over reverse): minimises Rosenbrock's function from
// (-1.2, 1), and a smooth objective over a vector, each step solving H·d = -∇f. Compile first:
//   npx adc compile examples/derivatives.ad --derivatives grad,jvp,hvp,hessian && node examples/newton.mjs
import { energyHessian, rosenHessian } from './derivatives.js';

/** Solves A x = b by Gaussian elimination with partial pivoting (A: rows; small systems). */
function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

// Rosenbrock: two scalar parameters, hessian.x.y and so on are numbers.
let [x, y] = [-1.2, 1];
let steps = 0;
for (; steps < 50; steps++) {
  const { gradient: g, hessian: H } = rosenHessian(x, y);
  if (Math.hypot(g.x, g.y) < 1e-12) break;
  const [dx, dy] = solve([[H.x.x, H.x.y], [H.y.x, H.y.y]], [-g.x, -g.y]);
  x += dx;
  y += dy;
}
console.log(`rosenbrock: Newton reaches (${x.toFixed(6)}, ${y.toFixed(6)}) in ${steps} steps`);

// A vector parameter: hessian.x.x is an array of Float64Array rows.
let v = Float64Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? 3 : -2));
let k = 0;
for (; k < 50; k++) {
  const { gradient, hessian } = energyHessian(v);
  if (Math.hypot(...gradient.x) < 1e-12) break;
  const d = solve(hessian.x.x.map((row) => [...row]), [...gradient.x].map((g) => -g));
  v = v.map((vi, i) => vi + d[i]);
}
console.log(`energy: Newton converges in ${k} steps to [${[...v].map((t) => t.toFixed(6)).join(', ')}]`);
