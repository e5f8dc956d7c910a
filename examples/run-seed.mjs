// Runs the module `adc compile examples/seed.ad` writes, and prints its gradients beside
// the published numbers of docs/worked-examples.md.
import { forwardGrad, graphGrad, appendixGrad } from './seed.js';

console.log('forward  f\'(1)       =', forwardGrad(1).gradient.x, '  (published: 122.045158140265)');
const g = graphGrad(2, 3).gradient;
console.log('graph    ∂f/∂x1(2,3) =', g.x1, '  (published: 18260.7627311899)');
console.log('graph    ∂f/∂x2(2,3) =', g.x2, '  (published: 6689.544469)');
const a = appendixGrad(2, 3).gradient;
console.log('appendix ∇f(2,3)     =', a, '  (published: {x1: 0.299580760323820, x2: -0.0846987477622259})');
