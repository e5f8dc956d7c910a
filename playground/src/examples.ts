/** The examples menu: each a program, the function to open and a point (as a link would give it). */
export interface Example {
  readonly title: string;
  readonly code: string;
  readonly fn: string;
  readonly at: Readonly<Record<string, string>>;
}

export const examples: readonly Example[] = [
  {
    title: 'Expression graph (seed §2.3)',
    code: `# The expression-graph example of docs/worked-examples.md (seed §2.3).
# At (2, 3): ∂f/∂x1 = 18260.7627311899, ∂f/∂x2 = 6689.544469.
fn g1(x, y) = sin(pi * x) + cos(pi * y)
fn g2(x, y) = x ^ y
fn graph(x1, x2) = g1(g2(x1, g2(x2, x1)), log(x1))
`,
    fn: 'graph',
    at: { x1: '2', x2: '3' },
  },
  {
    title: 'Rosenbrock',
    code: `# Rosenbrock's banana function: its minimum is 0 at (1, 1), at the end of a long curved valley.
fn rosen(x, y) = (1 - x)^2 + 100 * (y - x^2)^2
`,
    fn: 'rosen',
    at: { x: '-1.2', y: '1' },
  },
  {
    title: 'Least squares',
    code: `# Least squares: the mean squared residual of a linear model with weights w and bias b.
fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) =
  sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2) / m
`,
    fn: 'lsq',
    at: { w: '[0.5, -0.25]', b: '0.1', X: '[[1, 2], [3, 4], [5, 6]]', y: '[1, 2, 4]' },
  },
  {
    title: 'MLP loss',
    code: `# A one-hidden-layer network (tanh) and its mean squared error on the data (X, y).
fn mlp(W1: mat[h, d], b1: vec[h], w2: vec[h], b2, const X: mat[m, d], const y: vec[m]) {
  let z[k, j] = tanh(b1[j] + sum(i: W1[j, i] * X[k, i]))    # an array defined by index notation
  let out[k] = b2 + sum(j: w2[j] * z[k, j])
  return sum(k: (out[k] - y[k])^2) / m
}
`,
    fn: 'mlp',
    at: { W1: '[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]', b1: '[0, 0.1, -0.1]', w2: '[0.7, -0.8, 0.9]', b2: '0.05', X: '[[1, 0], [0, 1], [1, 1], [-1, 2]]', y: '[0.5, -0.5, 1, 0]' },
  },
  {
    title: 'Loop: harmonic oscillator',
    code: `# From examples/loops.ad: a harmonic oscillator x'' = -k x, integrated by symplectic Euler.
# Returns the position after \`steps\` steps of \`dt\`; the gradient is exact through every step.
fn oscillate(k, x0, v0, const dt, const steps) {
  var x = x0
  var v = v0
  for t in 0..steps {
    x = x + dt * v
    let a = -k * x
    v = v + dt * a
  }
  return x
}
`,
    fn: 'oscillate',
    at: { k: '2', x0: '1', v0: '0', dt: '0.01', steps: '300' },
  },
];
