// Imports an .ad file directly, compiled on import by the adc loader:
//
//   node --import adc-compiler/register examples/node-loader/app.js
//
// (add --enable-source-maps and a stack frame inside the model points at model.ad's line and
// column). It minimises the Rosenbrock function with gradient descent and a backtracking line
// search, using the exact gradient from rosenbrockGrad.
import { rosenbrock, rosenbrockGrad } from './model.ad';

let x = -1.2;
let y = 1;
let step = 1e-3;
let iterations = 0;
for (; iterations < 20000; iterations++) {
  const { value, gradient } = rosenbrockGrad(x, y);
  const norm = Math.hypot(gradient.x, gradient.y);
  if (norm < 1e-8) break;
  // Backtracking (Armijo): halve the step until it decreases the function enough; then try a larger one.
  step *= 2;
  while (rosenbrock(x - step * gradient.x, y - step * gradient.y) > value - 0.5 * step * norm * norm) step /= 2;
  x -= step * gradient.x;
  y -= step * gradient.y;
}

console.log(`minimum of rosenbrock after ${iterations} steps: f(${x.toFixed(6)}, ${y.toFixed(6)}) = ${rosenbrock(x, y).toExponential(3)}`);
console.log('gradient there:', rosenbrockGrad(x, y).gradient);
