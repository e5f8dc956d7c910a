/**
 * The benchmark cases: for each, the .ad file in bench/cases/, the function benchmarked, the point,
 * and the competitors: a hand-written gradient (bench/handwritten/), a math.js expression (derived
 * symbolically by math.derivative) and a TensorFlow.js model (differentiated by tf.valueAndGrads).
 */
import type * as TF from '@tensorflow/tfjs';
import * as math from 'mathjs';
import type { MathNode } from 'mathjs';
import { CHAIN_STEPS, chainSource } from './chain.ts';
import { fGrad as seedForwardGrad } from './handwritten/seed-forward.js';
import { fGrad as seedGraphGrad } from './handwritten/seed-graph.js';
import { rosenbrockGrad } from './handwritten/rosenbrock.js';
import { nllGrad } from './handwritten/logistic.js';
import { deepGrad } from './handwritten/deep-sin.js';
import { makeChainGrad } from './handwritten/chain.js';

export interface GradResult {
  value: number;
  gradient: Record<string, number>;
}

export interface BenchCase {
  /** The file bench/cases/<id>.ad and the row label. */
  readonly id: string;
  /** The function benchmarked (its twin `<fn>Grad` is the gradient). */
  readonly fn: string;
  /** Every parameter, in order; `diff` are the differentiated ones (the gradient's keys). */
  readonly params: readonly string[];
  readonly diff: readonly string[];
  readonly point: readonly number[];
  /** For generated cases: the source text written to bench/cases/<id>.ad before compiling. */
  readonly generate?: () => string;
  readonly handwritten?: (...args: number[]) => GradResult;
  /** The expression math.js differentiates, with the data (const params) as plain scope values. */
  readonly mathjs?: { readonly expr: () => string | MathNode; readonly simplify: boolean };
  /** The model as TensorFlow.js ops over one scalar per parameter (in `params` order). */
  readonly tfjs?: (tf: typeof TF, p: TF.Scalar[]) => TF.Scalar;
  /** Why a competitor is left out ("—" in the table). */
  readonly skip?: { readonly handwritten?: string; readonly mathjs?: string; readonly tfjs?: string };
  /** Published values (the seed's worked examples) the compiled gradient must reproduce. */
  readonly expected?: { readonly gradient: Record<string, number> };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function deepExpression(levels: number): string {
  let e = 'x';
  for (let i = 0; i < levels; i++) e = `sin(${e} * y + x)`;
  return e;
}

function tfChain(tf: typeof TF, n: number, [x, y, z]: TF.Scalar[]): TF.Scalar {
  let v: TF.Tensor = tf.mul(x!, y!);
  for (let i = 1; i < n; i++) {
    switch (i % 4) {
      case 1: v = tf.add(tf.mul(v, y!), tf.mul(x!, 0.25)); break;
      case 2: v = tf.sub(tf.mul(tf.cos(tf.add(v, z!)), y!), x!); break;
      case 3: v = tf.sub(tf.mul(v, 0.5), tf.mul(y!, z!)); break;
      default: v = tf.add(tf.mul(tf.sin(v), x!), z!); break;
    }
  }
  return v as TF.Scalar;
}

const logisticZ = 'b + ' + range(10).map((i) => `w${i} * x${i}`).join(' + ');

export const cases: readonly BenchCase[] = [
  {
    id: 'seed-forward',
    fn: 'f',
    params: ['x'],
    diff: ['x'],
    point: [1],
    handwritten: seedForwardGrad,
    mathjs: { expr: () => '3 * sin(x)^2 + 5 * sin(x) * (sqrt(x) + exp(x)) + 4 * (sqrt(x) + exp(x))^2', simplify: true },
    tfjs: (tf, [x]) => {
      const a = tf.sin(x!);
      const b = tf.add(tf.sqrt(x!), tf.exp(x!));
      return tf.addN([tf.mul(3, tf.square(a)), tf.mul(tf.mul(5, a), b), tf.mul(4, tf.square(b))]) as TF.Scalar;
    },
    expected: { gradient: { x: 122.045158140265 } },
  },
  {
    id: 'seed-graph',
    fn: 'f',
    params: ['x1', 'x2'],
    diff: ['x1', 'x2'],
    point: [2, 3],
    handwritten: seedGraphGrad,
    mathjs: { expr: () => 'sin(pi * x1 ^ (x2 ^ x1)) + cos(pi * log(x1))', simplify: true },
    tfjs: (tf, [x1, x2]) =>
      tf.add(tf.sin(tf.mul(Math.PI, tf.pow(x1!, tf.pow(x2!, x1!)))), tf.cos(tf.mul(Math.PI, tf.log(x1!)))) as TF.Scalar,
    expected: { gradient: { x1: 18260.7627311899, x2: 6689.544469 } },
  },
  {
    id: 'rosenbrock',
    fn: 'rosenbrock',
    params: ['x', 'y'],
    diff: ['x', 'y'],
    point: [-1.2, 1],
    handwritten: rosenbrockGrad,
    mathjs: { expr: () => '(1 - x)^2 + 100 * (y - x^2)^2', simplify: true },
    tfjs: (tf, [x, y]) => tf.add(tf.square(tf.sub(1, x!)), tf.mul(100, tf.square(tf.sub(y!, tf.square(x!))))) as TF.Scalar,
  },
  {
    id: 'logistic',
    fn: 'nll',
    params: [...range(10).map((i) => `w${i}`), 'b', ...range(10).map((i) => `x${i}`), 'y'],
    diff: [...range(10).map((i) => `w${i}`), 'b'],
    point: [...range(10).map((i) => 0.3 * Math.cos(i + 1)), 0.1, ...range(10).map((i) => Math.sin(i + 1)), 1],
    handwritten: nllGrad,
    mathjs: { expr: () => `log(1 + exp(${logisticZ})) - y * (${logisticZ})`, simplify: true },
    tfjs: (tf, p) => {
      let z: TF.Tensor = p[10]!;
      for (let i = 0; i < 10; i++) z = tf.add(z, tf.mul(p[i]!, p[11 + i]!));
      return tf.sub(tf.log(tf.add(1, tf.exp(z))), tf.mul(p[21]!, z)) as TF.Scalar;
    },
  },
  {
    id: 'deep-sin',
    fn: 'deep',
    params: ['x', 'y'],
    diff: ['x', 'y'],
    point: [0.7, 0.9],
    handwritten: deepGrad,
    // math.simplify does not finish in minutes on the 24-level derivative: derived unsimplified.
    mathjs: { expr: () => deepExpression(24), simplify: false },
    tfjs: (tf, [x, y]) => {
      let u: TF.Tensor = x!;
      for (let i = 0; i < 24; i++) u = tf.sin(tf.add(tf.mul(u, y!), x!));
      return u as TF.Scalar;
    },
  },
  {
    id: 'chain-200',
    fn: 'chain',
    params: ['x', 'y', 'z'],
    diff: ['x', 'y', 'z'],
    point: [0.7, 0.9, 0.3],
    generate: () => chainSource(200),
    handwritten: makeChainGrad(200),
    mathjs: { expr: () => chainMathjs(200), simplify: false },
    tfjs: (tf, p) => tfChain(tf, 200, p),
  },
  {
    id: 'chain-10000',
    fn: 'chain',
    params: ['x', 'y', 'z'],
    diff: ['x', 'y', 'z'],
    point: [0.7, 0.9, 0.3],
    generate: () => chainSource(10_000),
    // The loop in handwritten/chain.js is generic in n, so the expert version costs nothing extra here.
    handwritten: makeChainGrad(10_000),
    tfjs: (tf, p) => tfChain(tf, 10_000, p),
    skip: {
      mathjs:
        'math.js cannot take the 10,000-deep expression: its parser already overflows the stack at depth 200 (the tree is built node by node there), ' +
        'and its unshared symbolic derivative grows as n² (≈100 ms per evaluation at n = 200, so ≈4 min per evaluation extrapolated here).',
    },
  },
];

/**
 * The same function as one math.js expression tree, the lets substituted (each step reads the
 * previous value once, so the tree stays linear in n). Built node by node: math.js's parser
 * overflows the stack on a 200-deep expression string.
 */
export function chainMathjs(n: number): math.MathNode {
  const steps = CHAIN_STEPS.map((s) => math.parse(s));
  let node: math.MathNode = math.parse('x * y');
  for (let i = 1; i < n; i++) {
    const prev = node;
    node = steps[i % 4]!.transform((nd) => ((nd as math.SymbolNode).isSymbolNode && (nd as math.SymbolNode).name === 'p' ? prev : nd));
  }
  return node;
}
