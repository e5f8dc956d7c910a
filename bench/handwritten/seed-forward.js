// Hand-written gradient of the seed's §1 example: f(x) = f1(sin x, √x + eˣ), f1(a, b) = 3a² + 5ab + 4b².
export function fGrad(x) {
  const s = Math.sin(x);
  const r = Math.sqrt(x);
  const e = Math.exp(x);
  const b = r + e;
  const value = 3 * s * s + 5 * s * b + 4 * b * b;
  const da = 6 * s + 5 * b; // ∂f1/∂a
  const db = 5 * s + 8 * b; // ∂f1/∂b
  return { value, gradient: { x: da * Math.cos(x) + db * (0.5 / r + e) } };
}
