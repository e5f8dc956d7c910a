// A TypeScript program using a compiled .ad model with its declarations:
//
//   npx adc compile --dts examples/typescript/model.ad    # writes model.js and model.d.ts
//   npx tsc -p examples/typescript                        # type-checks and writes main.js
//   node examples/typescript/main.js
//
// model.d.ts gives each export its exact type, e.g.
//   logloss(w1: number, w2: number, b: number, x1: number, x2: number, y: number): number
//   loglossGrad(...): { value: number; gradient: { w1: number; w2: number; b: number } }
// so a misspelt gradient key, a const parameter's "gradient" or a missing argument is a type error.
import { loglossGrad, predict } from './model.js';

type Weights = { w1: number; w2: number; b: number };
type Example = { x1: number; x2: number; y: 0 | 1 };

// Two clusters: label 1 around (1, 1), label 0 around (-1, -1).
const data: Example[] = [];
for (let i = 0; i < 50; i++) {
  const angle = (2 * Math.PI * i) / 50;
  const r = 0.6 * ((i * 37) % 50) / 50;
  data.push({ x1: 1 + r * Math.cos(angle), x2: 1 + r * Math.sin(angle), y: 1 });
  data.push({ x1: -1 + r * Math.sin(angle), x2: -1 + r * Math.cos(angle), y: 0 });
}

function meanLoss(w: Weights): { value: number; gradient: Weights } {
  const total = { value: 0, gradient: { w1: 0, w2: 0, b: 0 } };
  for (const { x1, x2, y } of data) {
    const { value, gradient } = loglossGrad(w.w1, w.w2, w.b, x1, x2, y);
    total.value += value / data.length;
    total.gradient.w1 += gradient.w1 / data.length;
    total.gradient.w2 += gradient.w2 / data.length;
    total.gradient.b += gradient.b / data.length;
  }
  return total;
}

const w: Weights = { w1: 0, w2: 0, b: 0 };
const first = meanLoss(w).value;
for (let step = 0; step < 200; step++) {
  const { gradient } = meanLoss(w);
  w.w1 -= 0.5 * gradient.w1;
  w.w2 -= 0.5 * gradient.w2;
  w.b -= 0.5 * gradient.b;
}
const accuracy = data.filter(({ x1, x2, y }) => (predict(w.w1, w.w2, w.b, x1, x2) > 0.5 ? 1 : 0) === y).length / data.length;
console.log(`loss ${first.toFixed(4)} → ${meanLoss(w).value.toFixed(4)}, accuracy ${(100 * accuracy).toFixed(0)}%, weights`, w);
