// Hand-written JavaScript gradients of the two kernels of bench/arrays-c.ts, line for line the C
// reference's (bench/.generated/kernels.c): the benchmark's hand-written JS competitor, so that
// adc's gradient / objective can be read beside what the same algorithm costs written by hand in
// the same language. Each writes the gradient into `g` (zeroed first) and returns the value.

/**
 * Σ_k (Σ_j c[j] t[k]^j − y[k])² / m and its gradient with respect to c, in one pass over k: the
 * inner sum with a running power, then, for the same k, the adjoints with the power run again.
 */
export function polyfitGradInto(g, c, t, y) {
  const n = c.length;
  const m = t.length;
  g.fill(0);
  let total = 0;
  for (let k = 0; k < m; k++) {
    const tk = t[k];
    let p = 1;
    let s = 0;
    for (let j = 0; j < n; j++) {
      s += c[j] * p;
      p *= tk;
    }
    const r = s - y[k];
    total += r * r;
    const w = (2 * r) / m;
    p = 1;
    for (let j = 0; j < n; j++) {
      g[j] += w * p;
      p *= tk;
    }
  }
  return total / m;
}

/** log Σ exp(x[i]) (shifted by the maximum) and its gradient, the softmax, into g. */
export function lseGradInto(g, x) {
  const n = x.length;
  let top = -Infinity;
  for (let i = 0; i < n; i++) if (x[i] > top) top = x[i];
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[i] - top);
    g[i] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let i = 0; i < n; i++) g[i] *= inv;
  return top + Math.log(s);
}
