// Hand-written gradient of the logistic-regression negative log-likelihood
// log(1 + e^z) - y z, z = b + Σ wᵢ xᵢ: ∂/∂z = σ(z) - y, ∂/∂wᵢ = (σ(z) - y) xᵢ, ∂/∂b = σ(z) - y.
export function nllGrad(w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, y) {
  const z =
    b + w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4 + w5 * x5 + w6 * x6 + w7 * x7 + w8 * x8 + w9 * x9;
  const e = Math.exp(z);
  const ope = 1 + e;
  const dz = e / ope - y;
  return {
    value: Math.log(ope) - y * z,
    gradient: {
      w0: dz * x0,
      w1: dz * x1,
      w2: dz * x2,
      w3: dz * x3,
      w4: dz * x4,
      w5: dz * x5,
      w6: dz * x6,
      w7: dz * x7,
      w8: dz * x8,
      w9: dz * x9,
      b: dz,
    },
  };
}
