/**
 * Reference implementations of the loop examples (examples/loops.ad), written as plain JavaScript
 * loops over the arithmetic interface of arrays.ts: with numbers they give the values, with dual
 * numbers forward-mode derivatives (the oracle for the compiler's reverse mode). Independent of src/.
 */
import type { Arith } from './arrays.ts';

export function oscillateT<T>(A: Arith<T>, k: T, x0: T, v0: T, dt: number, steps: number): T {
  let x = x0;
  let v = v0;
  for (let t = 0; t < steps; t++) {
    x = A.add(x, A.mul(A.lift(dt), v));
    const a = A.sub(A.lift(0), A.mul(k, x));
    v = A.add(v, A.mul(A.lift(dt), a));
  }
  return x;
}

/** Lotka–Volterra, u' = a u - b u w, w' = d u w - c w, by classical Runge–Kutta 4; returns w. */
export function predatorsT<T>(A: Arith<T>, a: T, b: T, c: T, d: T, u0: T, w0: T, h: number, steps: number): T {
  const f = (u: T, w: T): [T, T] => [A.sub(A.mul(a, u), A.mul(A.mul(b, u), w)), A.sub(A.mul(A.mul(d, u), w), A.mul(c, w))];
  const axpy = (x: T, s: number, y: T) => A.add(x, A.mul(A.lift(s), y));
  let u = u0;
  let w = w0;
  for (let s = 0; s < steps; s++) {
    const [k1u, k1w] = f(u, w);
    const [k2u, k2w] = f(axpy(u, h / 2, k1u), axpy(w, h / 2, k1w));
    const [k3u, k3w] = f(axpy(u, h / 2, k2u), axpy(w, h / 2, k2w));
    const [k4u, k4w] = f(axpy(u, h, k3u), axpy(w, h, k3w));
    const two = A.lift(2);
    u = axpy(u, h / 6, A.add(A.add(A.add(k1u, A.mul(two, k2u)), A.mul(two, k3u)), k4u));
    w = axpy(w, h / 6, A.add(A.add(A.add(k1w, A.mul(two, k2w)), A.mul(two, k3w)), k4w));
  }
  return w;
}

export interface LstmWeights<T> {
  wf: T; uf: T; bf: T; wi: T; ui: T; bi: T; wo: T; uo: T; bo: T; wc: T; uc: T; bc: T; v: T;
}

/** One hidden unit with an LSTM's gates over xs; the squared error of predicting xs[t + 1] from h. */
export function lstmT<T>(A: Arith<T>, p: LstmWeights<T>, xs: readonly number[]): T {
  const one = A.lift(1);
  const sigmoid = (z: T) => A.div(one, A.add(one, A.exp(A.sub(A.lift(0), z))));
  const gate = (w: T, u: T, b: T, x: number, h: T) => A.add(A.add(A.mul(w, A.lift(x)), A.mul(u, h)), b);
  let h = A.lift(0);
  let c = A.lift(0);
  let loss = A.lift(0);
  for (let t = 0; t < xs.length - 1; t++) {
    const f = sigmoid(gate(p.wf, p.uf, p.bf, xs[t], h));
    const i = sigmoid(gate(p.wi, p.ui, p.bi, xs[t], h));
    const o = sigmoid(gate(p.wo, p.uo, p.bo, xs[t], h));
    const g = A.tanh(gate(p.wc, p.uc, p.bc, xs[t], h));
    c = A.add(A.mul(f, c), A.mul(i, g));
    h = A.mul(o, A.tanh(c));
    const e = A.sub(A.mul(p.v, h), A.lift(xs[t + 1]));
    loss = A.add(loss, A.mul(e, e));
  }
  return loss;
}

/** Newton's iteration for sqrt(a), stopping as examples/loops.ad does; also returns the iterations run. */
export function newtonSqrtT<T>(A: Arith<T>, a: T): { x: T; iterations: number } {
  let x = a;
  let iterations = 0;
  while (iterations < 100 && Math.abs(A.value(x) * A.value(x) - A.value(a)) > 1e-12 * A.value(a)) {
    x = A.mul(A.lift(0.5), A.add(x, A.div(a, x)));
    iterations++;
  }
  return { x, iterations };
}

export function bounceT<T>(A: Arith<T>, x0: T, r: T, steps: number): T {
  let x = x0;
  let flips = 0;
  for (let t = 0; t < steps; t++) {
    if (A.value(x) > 1) {
      x = A.sub(A.lift(2), A.mul(x, r));
      flips++;
    } else {
      x = A.mul(x, A.add(A.lift(1), r));
    }
  }
  return A.add(x, A.lift(flips));
}

/** examples/loops.ad's rhs: logistic growth of n species competing for one resource. */
function rhsT<T>(A: Arith<T>, p: readonly T[], y: readonly T[]): T[] {
  const n = y.length;
  const total = y.reduce((s, v) => A.add(s, v), A.lift(0));
  return y.map((v) => A.sub(A.mul(A.mul(p[0], v), A.sub(A.lift(1), v)), A.div(A.mul(A.mul(p[1], v), total), A.lift(n))));
}

/** Runge–Kutta 4 over a vector state with rhsT; returns the last element, as rk4 does. */
export function rk4VecT<T>(A: Arith<T>, h: number, p: readonly T[], y0: readonly T[], steps: number): T {
  const axpy = (y: readonly T[], s: number, k: readonly T[]) => y.map((v, i) => A.add(v, A.mul(A.lift(s), k[i])));
  let y = [...y0];
  for (let s = 0; s < steps; s++) {
    const k1 = rhsT(A, p, y);
    const k2 = rhsT(A, p, axpy(y, h / 2, k1));
    const k3 = rhsT(A, p, axpy(y, h / 2, k2));
    const k4 = rhsT(A, p, axpy(y, h, k3));
    const two = A.lift(2);
    y = y.map((v, i) => A.add(v, A.mul(A.lift(h / 6), A.add(A.add(A.add(k1[i], A.mul(two, k2[i])), A.mul(two, k3[i])), k4[i]))));
  }
  return y[y.length - 1];
}

/**
 * The ADBench LSTM objective with one layer (its C++ reference, lstm.h, transcribed): element-wise
 * weights W (4 gates), biases B, extra X (input scale, output scale, output bias), a sequence of
 * rows; the negative mean log-likelihood of each next row under a softmax of the prediction.
 */
export function lstmVecT<T>(A: Arith<T>, W: readonly (readonly T[])[], B: readonly (readonly T[])[], X: readonly (readonly T[])[], h0: readonly T[], c0: readonly T[], seq: readonly (readonly number[])[]): T {
  const one = A.lift(1);
  const sigmoid = (z: T) => A.div(one, A.add(one, A.exp(A.sub(A.lift(0), z))));
  const b = h0.length;
  let hidden = [...h0];
  let cell = [...c0];
  let total = A.lift(0);
  for (let t = 0; t < seq.length - 1; t++) {
    const input = seq[t].map((v, k) => A.mul(A.lift(v), X[0][k]));
    const forget = input.map((x, k) => sigmoid(A.add(A.mul(x, W[0][k]), B[0][k])));
    const ingate = hidden.map((h, k) => sigmoid(A.add(A.mul(h, W[1][k]), B[1][k])));
    const outgate = input.map((x, k) => sigmoid(A.add(A.mul(x, W[2][k]), B[2][k])));
    const change = hidden.map((h, k) => A.tanh(A.add(A.mul(h, W[3][k]), B[3][k])));
    cell = cell.map((c, k) => A.add(A.mul(c, forget[k]), A.mul(ingate[k], change[k])));
    hidden = cell.map((c, k) => A.mul(outgate[k], A.tanh(c)));
    const ypred = hidden.map((h, k) => A.add(A.mul(h, X[1][k]), X[2][k]));
    // log Σ exp, shifted by the largest value.
    const top = ypred.reduce((m, v) => Math.max(m, A.value(v)), -Infinity);
    const lse = A.add(A.lift(top), A.log(ypred.reduce((s, v) => A.add(s, A.exp(A.sub(v, A.lift(top)))), A.lift(0))));
    ypred.forEach((v, k) => (total = A.add(total, A.mul(A.lift(seq[t + 1][k]), A.sub(v, lse)))));
  }
  return A.div(A.sub(A.lift(0), total), A.lift(Math.max(seq.length - 1, 1) * b));
}
