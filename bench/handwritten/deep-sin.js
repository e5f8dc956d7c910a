// Hand-written gradient of the deep composition u ← x, then 24 times u ← sin(u·y + x).
// With two inputs, forward mode is the natural expert choice: carry (u, ∂u/∂x, ∂u/∂y) through
// the loop, no storage and no second sweep.
export function deepGrad(x, y) {
  let u = x;
  let ux = 1;
  let uy = 0;
  for (let i = 0; i < 24; i++) {
    const a = u * y + x;
    const c = Math.cos(a);
    ux = c * (ux * y + 1);
    uy = c * (uy * y + u);
    u = Math.sin(a);
  }
  return { value: u, gradient: { x: ux, y: uy } };
}
