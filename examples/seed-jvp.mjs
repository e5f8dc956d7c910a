// The seed document's §1 by forward mode: fJvp carries the tangent dx = 1 through f(x) = f1(f2(x), f3(x)).
// Compile first: npx adc compile examples/derivatives.ad --derivatives grad,jvp,hvp,hessian && node examples/seed-jvp.mjs
import { forwardJvp } from './derivatives.js';

const { value, tangent } = forwardJvp({ x: 1 }, 1);
console.log(`f(1) = ${value}, f'(1) = ${tangent} (the seed: 122.045158140265)`);
