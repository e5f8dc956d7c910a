// Hand-written gradient of the generated let chain (bench/chain.ts): v0 = x·y, then for i ≥ 1
// step i % 4 of
//   1: v = v·y + x/4     2: v = cos(v + z)·y - x     3: v = v/2 - y·z     0: v = sin(v)·x + z
// With three inputs, forward mode (v and its three partials carried through one loop) needs no
// storage and no second sweep. makeChainGrad(n) is the gradient of the n-statement chain.
export function makeChainGrad(n) {
  return function chainGrad(x, y, z) {
    let v = x * y;
    let vx = y;
    let vy = x;
    let vz = 0;
    for (let i = 1; i < n; i += 4) {
      // step 1
      vx = vx * y + 0.25;
      vy = vy * y + v;
      vz = vz * y;
      v = v * y + x * 0.25;
      if (i + 1 >= n) break;
      // step 2
      {
        const a = v + z;
        const c = Math.cos(a);
        const g = -Math.sin(a) * y;
        vx = g * vx - 1;
        vy = g * vy + c;
        vz = g * (vz + 1);
        v = c * y - x;
      }
      if (i + 2 >= n) break;
      // step 3
      vx = vx * 0.5;
      vy = vy * 0.5 - z;
      vz = vz * 0.5 - y;
      v = v * 0.5 - y * z;
      if (i + 3 >= n) break;
      // step 0
      {
        const s = Math.sin(v);
        const g = Math.cos(v) * x;
        vx = g * vx + s;
        vy = g * vy;
        vz = g * vz + 1;
        v = s * x + z;
      }
    }
    return { value: v, gradient: { x: vx, y: vy, z: vz } };
  };
}
