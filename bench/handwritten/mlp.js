// Hand-written objective and reverse-mode gradient of the one-hidden-layer perceptron of the array
// benchmarks: the benchmark's hand-written competitor.
//   z[k][j] = tanh(b1[j] + Σ_i W1[j][i] X[k][i]),  out[k] = b2 + Σ_j w2[j] z[k][j],
//   loss = Σ_k (out[k] - y[k])² / m.
// The gradient runs one row of X at a time: forward to z and out, then back through w2, tanh, W1.
// Scratch Float64Arrays are allocated once per call.

export function mlp(W1, b1, w2, b2, X, y) {
  const m = X.length;
  const h = b1.length;
  let total = 0;
  for (let k = 0; k < m; k++) {
    const xk = X[k];
    const d = xk.length;
    let out = b2;
    for (let j = 0; j < h; j++) {
      const wj = W1[j];
      let a = b1[j];
      for (let i = 0; i < d; i++) a += wj[i] * xk[i];
      out += w2[j] * Math.tanh(a);
    }
    const r = out - y[k];
    total += r * r;
  }
  return total / m;
}

export function mlpGrad(W1, b1, w2, b2, X, y) {
  const m = X.length;
  const h = b1.length;
  const d = h > 0 ? W1[0].length : m > 0 ? X[0].length : 0;
  const z = new Float64Array(h);
  const dW1 = new Float64Array(h * d);
  const db1 = new Float64Array(h);
  const dw2 = new Float64Array(h);
  let db2 = 0;
  let total = 0;
  for (let k = 0; k < m; k++) {
    const xk = X[k];
    let out = b2;
    for (let j = 0; j < h; j++) {
      const wj = W1[j];
      let a = b1[j];
      for (let i = 0; i < d; i++) a += wj[i] * xk[i];
      const zj = Math.tanh(a);
      z[j] = zj;
      out += w2[j] * zj;
    }
    const r = out - y[k];
    total += r * r;
    // Backward: loss adjoint 1, so out's adjoint is 2 r / m.
    const dout = (2 * r) / m;
    db2 += dout;
    for (let j = 0; j < h; j++) {
      const zj = z[j];
      dw2[j] += dout * zj;
      const da = dout * w2[j] * (1 - zj * zj);
      db1[j] += da;
      const o = j * d;
      for (let i = 0; i < d; i++) dW1[o + i] += da * xk[i];
    }
  }
  const rows = new Array(h);
  for (let j = 0; j < h; j++) rows[j] = dW1.slice(j * d, j * d + d);
  return { value: total / m, gradient: { W1: rows, b1: db1, w2: dw2, b2: db2 } };
}
