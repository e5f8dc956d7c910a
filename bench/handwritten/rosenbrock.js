// Hand-written gradient of the Rosenbrock function (1 - x)² + 100 (y - x²)².
export function rosenbrockGrad(x, y) {
  const a = 1 - x;
  const b = y - x * x;
  const db = 200 * b;
  return { value: a * a + 100 * b * b, gradient: { x: -2 * a - 2 * x * db, y: db } };
}
