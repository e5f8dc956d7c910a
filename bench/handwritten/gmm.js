// Hand-written objective and reverse-mode gradient of the Gaussian-mixture model of
// examples/gmm.ad (ADBench's "manual" GMM, in plain JS): the benchmark's hand-written competitor.
// Q_k is lower triangular with diagonal exp(q[k][j]) and strict lower part filled column by column
// from l[k]. Per data point i and component k: xc = x_i - mu_k, Qxc = Q_k xc,
// beta[k] = alpha[k] + Σ_j q[k][j] - ½‖Qxc‖²; the objective adds logsumexp_k beta and the prior.
// The gradient backpropagates through the same loops; scratch Float64Arrays are allocated once per call.

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

function dims(alpha, mu, x) {
  const K = alpha.length;
  const N = x.length;
  const D = N > 0 ? x[0].length : K > 0 ? mu[0].length : 0;
  return { K, N, D };
}

/** logsumexp of v[0..n-1]: -Infinity when n is 0. */
function logsumexp(v, n) {
  let M = -Infinity;
  for (let k = 0; k < n; k++) if (v[k] > M) M = v[k];
  if (M === -Infinity || M === Infinity) return M;
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.exp(v[k] - M);
  return M + Math.log(s);
}

/**
 * xc = x_i - mu_k into xc[o..o+D), Qxc = Q_k xc into qxc[o..o+D); returns ‖Qxc‖².
 * expq[o..o+D) holds exp(q[k][·]).
 */
function mahalanobis(xi, muk, expq, lk, D, o, xc, qxc) {
  for (let j = 0; j < D; j++) {
    const v = xi[j] - muk[j];
    xc[o + j] = v;
    qxc[o + j] = expq[o + j] * v;
  }
  let t = 0;
  for (let c = 0; c < D; c++) {
    const xcc = xc[o + c];
    for (let r = c + 1; r < D; r++) qxc[o + r] += lk[t++] * xcc;
  }
  let s = 0;
  for (let j = 0; j < D; j++) s += qxc[o + j] * qxc[o + j];
  return s;
}

/** The part of the objective that does not depend on x: prior and -N logsumexp(alpha); fills sumq and expq. */
function prepare(alpha, q, l, K, D, N, gamma, m, sumq, expq) {
  let prior = 0;
  for (let k = 0; k < K; k++) {
    const qk = q[k];
    const lk = l[k];
    let sq = 0;
    let squares = 0;
    for (let j = 0; j < D; j++) {
      const e = Math.exp(qk[j]);
      expq[k * D + j] = e;
      sq += qk[j];
      squares += e * e;
    }
    for (let t = 0; t < lk.length; t++) squares += lk[t] * lk[t];
    sumq[k] = sq;
    prior += -0.5 * gamma * gamma * squares + m * sq;
  }
  return -N * D * HALF_LOG_2PI - N * logsumexp(alpha, K) + prior;
}

export function gmm(alpha, mu, q, l, x, gamma, m) {
  const { K, N, D } = dims(alpha, mu, x);
  const sumq = new Float64Array(K);
  const expq = new Float64Array(K * D);
  const beta = new Float64Array(K);
  const xcs = new Float64Array(K * D);
  const qxcs = new Float64Array(K * D);
  let value = prepare(alpha, q, l, K, D, N, gamma, m, sumq, expq);
  for (let i = 0; i < N; i++) {
    const xi = x[i];
    for (let k = 0; k < K; k++) {
      beta[k] = alpha[k] + sumq[k] - 0.5 * mahalanobis(xi, mu[k], expq, l[k], D, k * D, xcs, qxcs);
    }
    value += logsumexp(beta, K);
  }
  return value;
}

export function gmmGrad(alpha, mu, q, l, x, gamma, m) {
  const { K, N, D } = dims(alpha, mu, x);
  const T = K > 0 ? l[0].length : 0;
  const sumq = new Float64Array(K);
  const expq = new Float64Array(K * D);
  const beta = new Float64Array(K);
  // Per data point: xc and Qxc for every component (kept from the forward sweep for the backward one).
  const xcs = new Float64Array(K * D);
  const qxcs = new Float64Array(K * D);
  const dxc = new Float64Array(D);
  const dAlpha = new Float64Array(K);
  const dMu = new Float64Array(K * D);
  const dQ = new Float64Array(K * D);
  const dL = new Float64Array(K * T);

  let value = prepare(alpha, q, l, K, D, N, gamma, m, sumq, expq);
  for (let i = 0; i < N; i++) {
    const xi = x[i];
    for (let k = 0; k < K; k++) {
      beta[k] = alpha[k] + sumq[k] - 0.5 * mahalanobis(xi, mu[k], expq, l[k], D, k * D, xcs, qxcs);
    }
    const lse = logsumexp(beta, K);
    value += lse;
    for (let k = 0; k < K; k++) {
      // ∂ logsumexp / ∂ beta[k] = softmax weight w; beta's adjoint is w.
      const w = Math.exp(beta[k] - lse);
      const o = k * D;
      const lk = l[k];
      dAlpha[k] += w;
      // beta = ... + Σ_j q[k][j] - ½‖v‖², v = Q_k xc: the adjoint of v is -w v.
      for (let j = 0; j < D; j++) {
        const dv = -w * qxcs[o + j];
        dQ[o + j] += w + dv * expq[o + j] * xcs[o + j];
        dxc[j] = dv * expq[o + j];
      }
      let t = 0;
      const lo = k * T;
      for (let c = 0; c < D; c++) {
        const xcc = xcs[o + c];
        let acc = 0;
        for (let r = c + 1; r < D; r++) {
          const dv = -w * qxcs[o + r];
          dL[lo + t] += dv * xcc;
          acc += dv * lk[t];
          t++;
        }
        dxc[c] += acc;
      }
      // xc = x_i - mu_k.
      for (let j = 0; j < D; j++) dMu[o + j] -= dxc[j];
    }
  }

  // -N logsumexp(alpha): adjoint -N softmax(alpha).
  const lseAlpha = logsumexp(alpha, K);
  for (let k = 0; k < K; k++) dAlpha[k] -= N * Math.exp(alpha[k] - lseAlpha);
  // Prior: -(γ²/2)(Σ_j exp(q)² + Σ_t l²) + m Σ_j q.
  const g2 = gamma * gamma;
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < D; j++) {
      const e = expq[k * D + j];
      dQ[k * D + j] += -g2 * e * e + m;
    }
    const lk = l[k];
    for (let t = 0; t < T; t++) dL[k * T + t] += -g2 * lk[t];
  }

  const rows = (flat, cols) => {
    const out = new Array(K);
    for (let k = 0; k < K; k++) out[k] = flat.slice(k * cols, k * cols + cols);
    return out;
  };
  return { value, gradient: { alpha: dAlpha, mu: rows(dMu, D), q: rows(dQ, D), l: rows(dL, T) } };
}
