/**
 * `adc explain` of functions with arrays (issue 17, item 14) and with `var`, `for`, `while` and
 * `if` blocks (issue 13): the computation run at the point, unrolled; and `--forward x1` (issue
 * 14), forward-mode tangents along the graph. Numbers are checked against the seed's worked
 * examples, plain JavaScript written here, central finite differences and the compiled module.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { explain, ExplainError, formatExplain, parsePoint, toDot, type ExplainResult } from '../src/explain/index.ts';
import { maxUnrolledNodes, maxUnrolledSteps } from '../src/explain/unrolled.ts';
import { compileAndInstantiate } from './support/instantiate.ts';
import { arrayCaseArb } from './support/array-programs.ts';
import { checkExplainArrayCase, checkExplainLoopCase } from './support/explain-programs.ts';
import { loopCaseArb } from './support/loop-programs.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const seed = read('../examples/seed.ad');
const loops = read('../examples/loops.ad');

/** Equal to `tol` relative (1e-9 by default). */
function close(actual: number, expected: number, what: string, tol = 1e-9): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}
/** Central difference of a function of one number. */
const central = (f: (x: number) => number, x: number, h = 1e-6) => (f(x + h) - f(x - h)) / (2 * h);
const adjoint = (r: ExplainResult, input: string) => r.inputs.find((p) => p.input === input)!.adjoint;
const node = (r: ExplainResult, id: string) => r.nodes.find((n) => n.id === id)!;

async function cli(source: string, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'adc-explain-unrolled-'));
  const file = join(dir, 'f.ad');
  writeFileSync(file, source);
  const out: string[] = [];
  const err: string[] = [];
  const t0 = performance.now();
  const code = await main(['explain', file, ...args], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - t0, dir };
}

describe('--forward: tangents along the graph (the seed’s §1 picture)', () => {
  it('gives the seed §1 derivative, 122.045158140265, at x = 1, in both views, as fJvp does', () => {
    for (const expand of [false, true]) {
      const r = explain(seed, 'forward', { x: 1 }, { forward: 'x', expand });
      expect(r.forward!.input).toBe('x');
      expect(Number(r.forward!.tangent.toPrecision(15))).toBe(122.045158140265);
      expect(Number(r.forward!.compiled.toPrecision(15))).toBe(122.045158140265);
      // The output's tangent is its node's; the input's is the seed.
      expect(node(r, r.output).tangent).toBe(r.forward!.tangent);
      expect(node(r, 'x').tangent).toBe(1);
    }
    // Collapsed: f2 = sin and f3 get the tangents cos 1 and 1/(2√1) + e, as the seed writes them.
    const r = explain(seed, 'forward', { x: 1 }, { forward: 'x' });
    expect(r.nodes.map((n) => [n.label, n.tangent])).toEqual([
      ['x', 1],
      ['sin(x)', Math.cos(1)],
      ['f3', 0.5 + Math.E],
      ['f1', r.forward!.tangent],
    ]);
  });

  it('gives the seed §2 partial derivatives, one input at a time, equal to the reverse sweep', () => {
    const x1 = explain(seed, 'graph', { x1: 2, x2: 3 }, { forward: 'x1' });
    const x2 = explain(seed, 'graph', { x1: 2, x2: 3 }, { forward: 'x2' });
    expect(Number(x1.forward!.tangent.toPrecision(15))).toBe(18260.7627311899);
    // π × 354.891356446692 × 6, multiplied from the input up rather than from the output down:
    // the last of 15 digits may differ by rounding.
    close(x2.forward!.tangent, 6689.54446941267, 'seed §2 ∂f/∂x2', 1e-14);
    close(x1.forward!.tangent, adjoint(x1, 'x1'), 'forward = reverse for x1', 1e-14);
    // Nodes that do not depend on x2 have no tangent: g3 = log(x1) and the x1 input.
    expect(x2.nodes.filter((n) => n.tangent === undefined).map((n) => n.label)).toEqual(['x1', 'log(x1)']);
  });

  it('prints the sweep and labels the drawing with the tangents', () => {
    const r = explain(seed, 'forward', { x: 1 }, { forward: 'x' });
    const text = formatExplain(r);
    expect(text).toContain("Forward mode: tangent = Σ partial × tangent(argument), with respect to x (its tangent 1, the other inputs' 0)");
    expect(text).toContain('n3  f1      122.045158140265  = 23.6402350511426 × 0.54030230586814 [n1] + 33.9536095517118 × 3.21828182845905 [n2]');
    expect(text).toContain("∂forward/∂x = 122.045158140265 (the output's tangent); generated forwardJvp: 122.045158140265");
    const dot = toDot(r);
    expect(dot).toContain('"n3" [label="f1\\n= 73.0708\\ntangent 122.045\\nadjoint 1"');
    expect(dot).toContain('tangents with respect to x: ∂forward/∂x = 122.045');
    // Without --forward, nothing changes.
    expect(formatExplain(explain(seed, 'forward', { x: 1 }))).not.toContain('tangent');
  });

  it('prints what the README shows for it', () => {
    const readme = read('../README.md');
    const start = readme.indexOf('$ adc explain examples/seed.ad forward --at x=1 --forward x\n');
    expect(start).toBeGreaterThan(0);
    const block = readme.slice(start, readme.indexOf('```', start)).split('\n').slice(1, -1);
    const text = formatExplain(explain(seed, 'forward', { x: 1 }, { forward: 'x' }), 'examples/seed.ad').split('\n');
    expect(block.filter((l) => l !== '…')).toHaveLength(6);
    for (const line of block) if (line !== '…') expect(text).toContain(line);
  });

  it('refuses an input that is not a differentiated one, naming those there are (exit 2)', async () => {
    const source = 'fn f(x, const c, v: vec[n]) = x * c + sum(i: v[i])\n';
    const at = { x: 1, c: 2, v: [1, 2] };
    const usage = (forward: string, message: string) => expect(() => explain(source, 'f', at, { forward })).toThrow(new ExplainError(message, [], true));
    usage('y', "--forward takes a differentiated input of 'f', not 'y' (one of x, v)");
    usage('c', "--forward takes a differentiated input of 'f': 'c' is const, not differentiated");
    usage('v', "--forward takes a differentiated input of 'f': 'v' is an array; name one element, such as v[0]");
    usage('v[2]', "--forward takes a differentiated input of 'f': 'v[2]' is not an element of 'v' (indices 0..1)");
    expect(explain(source, 'f', at, { forward: 'v[ 1 ]' }).forward!.tangent).toBe(1);
    const r = await cli(source, 'f', '--at', 'x=1,c=2,v=[1,2]', '--forward', 'c');
    expect([r.code, r.err]).toEqual([2, "adc: error: --forward takes a differentiated input of 'f': 'c' is const, not differentiated"]);
  });
});

describe('loops with state: the iterations run, unrolled', () => {
  /** examples/loops.ad's oscillator in plain JavaScript. */
  const oscillate = (k: number, x0: number, v0: number, dt: number, steps: number) => {
    let x = x0;
    let v = v0;
    for (let t = 0; t < steps; t++) {
      x = x + dt * v;
      v = v + dt * (-k * x);
    }
    return x;
  };
  const at = { k: 2, x0: 1, v0: 0.5, dt: 0.1, steps: 3 };
  const r = explain(loops, 'oscillate', at, { forward: 'k' });

  it('has a node per operation of each iteration, labelled with the iteration, and says how many ran', () => {
    expect(r.view).toBe('unrolled');
    expect(r.value).toBe(oscillate(2, 1, 0.5, 0.1, 3));
    // x = x + dt * v, once per iteration (t = 0, 1, 2), each a node.
    expect(r.nodes.filter((n) => n.source === 'x + dt * v').map((n) => n.label)).toEqual(['t=0: x + dt * v', 't=1: x + dt * v', 't=2: x + dt * v']);
    expect(r.control).toEqual([{ kind: 'loop', text: 'for t in 0..steps', location: { line: 10, column: 3 }, reached: 1, iterations: 3 }]);
    expect(formatExplain(r)).toContain('10:3  for t in 0..steps  3 iterations');
  });

  it('gives the gradient of the generated code and of finite differences, by both sweeps', () => {
    const mod = compileAndInstantiate(loops);
    const g = mod.oscillateGrad(2, 1, 0.5, 0.1, 3) as { value: number; gradient: Record<string, number> };
    for (const p of ['k', 'x0', 'v0']) {
      close(adjoint(r, p), g.gradient[p], `adjoint of ${p} vs oscillateGrad`, 1e-14);
      expect(r.inputs.find((i) => i.input === p)!.compiled).toBe(g.gradient[p]);
    }
    close(adjoint(r, 'k'), central((k) => oscillate(k, 1, 0.5, 0.1, 3), 2), '∂/∂k vs finite differences', 1e-7);
    close(adjoint(r, 'x0'), central((x0) => oscillate(2, x0, 0.5, 0.1, 3), 1), '∂/∂x0 vs finite differences', 1e-7);
    close(r.forward!.tangent, adjoint(r, 'k'), 'forward = reverse', 1e-14);
    close(r.forward!.compiled, r.forward!.tangent, 'oscillateJvp', 1e-14);
    // Every path is listed (few here), and they sum to the adjoint.
    for (const p of r.inputs) close(p.sum, p.adjoint, `paths to ${p.input}`, 1e-14);
  });

  it('runs a while loop as far as its condition lets it, or to its max', () => {
    const source = `fn newton_sqrt(a) {
  var x = a
  while abs(x * x - a) > 1e-12 * a max 100 {
    x = 0.5 * (x + a / x)
  }
  return x
}
fn countdown(x) {
  var y = x
  while y > 0 max 3 {
    y = y - 1.5 * y
  }
  return y
}
`;
    const sqrt = explain(source, 'newton_sqrt', { a: 2 }, { forward: 'a' });
    // Newton from a = 2: 1.5, 1.41667, 1.414215686…, 1.41421356237469, 1.4142135623731.
    expect(sqrt.control).toEqual([{ kind: 'while', text: 'while abs(x * x - a) > 1e-12 * a max 100', location: { line: 3, column: 3 }, reached: 1, iterations: 5 }]);
    close(sqrt.value, Math.SQRT2, 'value');
    // The derivative of the iterations run: close to 1/(2√2), equal to the generated code's.
    close(adjoint(sqrt, 'a'), 1 / (2 * Math.SQRT2), 'd sqrt(a)/da', 1e-6);
    close(adjoint(sqrt, 'a'), sqrt.inputs[0].compiled, 'vs generated', 1e-14);
    close(sqrt.forward!.tangent, sqrt.forward!.compiled, 'tangent vs generated', 1e-14);
    // The condition's operations are nodes that do not reach the output.
    expect(sqrt.nodes.filter((n) => n.source === 'abs(x * x - a)').every((n) => !n.reachesOutput)).toBe(true);

    const down = explain(source, 'countdown', { x: 1 });
    // y: 1, -0.5 (stops: not > 0) — one iteration; from x = -1 none.
    expect(down.control![0]).toMatchObject({ kind: 'while', iterations: 1 });
    expect(down.value).toBe(-0.5);
    expect(adjoint(down, 'x')).toBe(-0.5);
    const none = explain(source, 'countdown', { x: -1 });
    expect(none.control![0]).toMatchObject({ iterations: 0 });
    expect(none.output).toBe('x');
    // A while that reaches its max says so.
    const capped = explain('fn f(x) {\n  var y = x\n  while y < 100 max 3 {\n    y = y * 2\n  }\n  return y\n}\n', 'f', { x: 1 });
    expect(capped.control![0]).toMatchObject({ kind: 'while', iterations: 3, reachedMax: 1 });
    expect(formatExplain(capped)).toContain('3 iterations; reached its max');
    expect(adjoint(capped, 'x')).toBe(8);
  });

  it('shows only the branch taken of an if, and the branch decides the derivative', () => {
    const source = `fn f(x) {
  var y = x
  if x > 0 {
    y = y * y
  } else {
    y = -3 * y
  }
  return y
}
`;
    const pos = explain(source, 'f', { x: 2 }, { forward: 'x' });
    expect(pos.nodes.map((n) => n.label)).toEqual(['x', 'y * y']);
    expect([pos.value, adjoint(pos, 'x'), pos.forward!.tangent]).toEqual([4, 4, 4]);
    expect(pos.control).toEqual([{ kind: 'if', text: 'if x > 0', location: { line: 3, column: 3 }, reached: 1, then: 1 }]);
    const neg = explain(source, 'f', { x: -2 });
    expect(neg.nodes.map((n) => n.label)).toEqual(['x', '-3 * y']);
    expect([neg.value, adjoint(neg, 'x')]).toEqual([6, -3]);
    expect(formatExplain(neg)).toContain('3:3  if x > 0  took the else branch');
  });

  it('counts the branches of an if inside a loop', () => {
    const source = 'fn f(x, const n) {\n  var s = x\n  for t in 0..n {\n    if t < 2 { s = s * x } else { s = s + x }\n  }\n  return s\n}\n';
    const r = explain(source, 'f', { x: 3, n: 5 });
    expect(r.control).toEqual([
      { kind: 'loop', text: 'for t in 0..n', location: { line: 3, column: 3 }, reached: 1, iterations: 5 },
      { kind: 'if', text: 'if t < 2', location: { line: 4, column: 5 }, reached: 5, then: 2, else: 3 },
    ]);
    // s = x³ + 3x: 3x² + 3 = 30.
    expect([r.value, adjoint(r, 'x')]).toEqual([36, 30]);
  });
});

describe('array functions: a node per element', () => {
  const lsq = 'fn lsq(w: vec[n], b, const X: mat[m, n], const y: vec[m]) = sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2) / m\n';
  const X = [
    [1, 2],
    [3, 4],
    [5, 6],
  ];
  const y = [1, 0, 2];
  const at = { w: [0.5, -1], b: 0.25, X, y };

  it('gives each element its input node and the gradient a hand-written formula gives', () => {
    const r = explain(lsq, 'lsq', at);
    expect(r.view).toBe('unrolled');
    expect(r.point.map((p) => p.value)).toEqual([[0.5, -1], 0.25, X, y]);
    expect(r.nodes.filter((n) => n.kind === 'input').map((n) => n.id)).toEqual(['w[0]', 'w[1]', 'b', 'X[0,0]', 'X[0,1]', 'X[1,0]', 'X[1,1]', 'X[2,0]', 'X[2,1]', 'y[0]', 'y[1]', 'y[2]']);
    // Residuals r_k = b + X_k·w − y_k; ∂/∂w_i = 2/m Σ r_k X_ki, ∂/∂b = 2/m Σ r_k.
    const res = X.map((row, k) => 0.25 + row[0] * 0.5 + row[1] * -1 - y[k]);
    close(r.value, res.reduce((s, q) => s + q * q, 0) / 3, 'value');
    for (const i of [0, 1]) close(adjoint(r, `w[${i}]`), (2 / 3) * res.reduce((s, q, k) => s + q * X[k][i], 0), `∂/∂w[${i}]`, 1e-14);
    close(adjoint(r, 'b'), (2 / 3) * res.reduce((s, q) => s + q, 0), '∂/∂b', 1e-14);
    expect(r.inputs.map((p) => p.input)).toEqual(['w[0]', 'w[1]', 'b']);
    for (const p of r.inputs) close(p.adjoint, p.compiled, `${p.input} vs generated`, 1e-14);
    // Reductions are nodes with an edge to each term; nested loops label both indices.
    expect(r.nodes.filter((n) => n.kind === 'reduction').map((n) => n.label)).toEqual([
      'k=0: sum(i: X[k, i] * w[i])',
      'k=1: sum(i: X[k, i] * w[i])',
      'k=2: sum(i: X[k, i] * w[i])',
      'sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2)',
    ]);
    expect(r.nodes.some((n) => n.label === 'k=2,i=1: X[k, i] * w[i]')).toBe(true);
    expect(r.control).toEqual([
      { kind: 'loop', text: 'sum(k: (b + sum(i: X[k, i] * w[i]) - y[k])^2)', location: { line: 1, column: 61 }, reached: 1, iterations: 3 },
      { kind: 'loop', text: 'sum(i: X[k, i] * w[i])', location: { line: 1, column: 73 }, reached: 3, iterations: 6 },
    ]);
  });

  it('differentiates every reduction as the generated code does, and as finite differences say', () => {
    const source = `fn r(x: vec[n], A: mat[n, n]) {
  let ex[i] = exp(x[i]) * A[i, i]
  return log(sum(i: ex[i])) + max(i: x[i]) * min(i: A[0, i]) + prod(i: x[i]) + logsumexp(i: x[i] * A[i, 0])
}
`;
    const x = [0.3, -0.7, 1.1];
    const A = [
      [1, 2, 0.5],
      [0.25, 1.5, -1],
      [2, -0.5, 0.75],
    ];
    const r = explain(source, 'r', { x, A }, { forward: 'A[1,0]' });
    const mod = compileAndInstantiate(source);
    const rGrad = mod.rGrad as unknown as (x: Float64Array, A: Float64Array[]) => unknown;
    const grad = rGrad(Float64Array.from(x), A.map((row) => Float64Array.from(row))) as { value: number; gradient: { x: Float64Array; A: Float64Array[] } };
    expect(r.value).toBe(grad.value);
    const plain = (xs: number[], As: number[][]) =>
      Math.log(xs.reduce((s, v, i) => s + Math.exp(v) * As[i][i], 0)) +
      Math.max(...xs) * Math.min(...As[0]) +
      xs.reduce((p, v) => p * v, 1) +
      Math.log(xs.reduce((s, v, i) => s + Math.exp(v * As[i][0]), 0));
    close(r.value, plain(x, A), 'value vs plain JavaScript', 1e-14);
    x.forEach((_, i) => {
      close(adjoint(r, `x[${i}]`), grad.gradient.x[i], `x[${i}] vs rGrad`, 1e-13);
      const fd = central((v) => plain(x.map((o, j) => (j === i ? v : o)), A), x[i]);
      close(adjoint(r, `x[${i}]`), fd, `x[${i}] vs finite differences`, 1e-7);
    });
    A.forEach((row, i) =>
      row.forEach((_, j) => {
        close(adjoint(r, `A[${i},${j}]`), grad.gradient.A[i][j], `A[${i},${j}] vs rGrad`, 1e-13);
        const fd = central((v) => plain(x, A.map((o, k) => (k === i ? o.map((c, l) => (l === j ? v : c)) : o))), A[i][j]);
        close(adjoint(r, `A[${i},${j}]`), fd, `A[${i},${j}] vs finite differences`, 1e-7);
      }),
    );
    close(r.forward!.tangent, adjoint(r, 'A[1,0]'), 'forward = reverse', 1e-13);
    close(r.forward!.compiled, r.forward!.tangent, 'rJvp', 1e-13);
    // max and min send the adjoint to the term selected only: the others' edges are blocked.
    const max = r.nodes.find((n) => n.op === 'max')!;
    expect(r.edges.filter((e) => e.from === max.id).map((e) => [e.to, e.partial, e.blocked ?? false])).toEqual([
      ['x[0]', 0, true],
      ['x[1]', 0, true],
      ['x[2]', 1, false],
    ]);
  });

  it('takes --at arrays as the REPL writes them, and says what is wrong with the shapes (exit 2)', async () => {
    expect(parsePoint('x=[1, 2.5, -3e2],b=3')).toEqual({ x: [1, 2.5, -300], b: 3 });
    expect(parsePoint('A=[[1,2],[3,4]],v=[]')).toEqual({ A: [[1, 2], [3, 4]], v: [] });
    expect(parsePoint('[1,2],3')).toEqual([[1, 2], 3]);
    expect(() => parsePoint('x=[1,2')).toThrow("a '[' without its ']' in 'x=[1,2'");
    expect(() => parsePoint('x=1,2]')).toThrow("a ']' without its '[' in 'x=1,2]'");
    expect(() => parsePoint('A=[[1,2],3]')).toThrow("'[[1,2],3]' mixes numbers and rows (A): a matrix is rows, [[1, 2], [3, 4]]");
    expect(() => parsePoint('A=[[[1]]]')).toThrow("'[[[1]]]' nests arrays deeper than a matrix (A)");
    expect(() => parsePoint('x=[1,a]')).toThrow("'a' is not a number (x)");
    expect(() => parsePoint('x=[1]2')).toThrow("'[1]2' is not an array (x): write it as [1, 2, 3]");

    const ok = await cli(lsq, 'lsq', '--at', 'w=[0.5,-1],b=0.25,X=[[1,2],[3,4],[5,6]],y=[1,0,2]');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('lsq(w = [0.5, -1], b = 0.25, X = [[1, 2], [3, 4], [5, 6]], y = [1, 0, 2]) = ');
    const mismatch = await cli(lsq, 'lsq', '--at', 'w=[1,2,3],b=0,X=[[1,2],[3,4]],y=[1,0]');
    expect([mismatch.code, mismatch.err]).toEqual([2, "adc: error: 'X' has 2 columns, but n is 3 (from 'w')"]);
    const ragged = await cli(lsq, 'lsq', '--at', 'w=[1,2],b=0,X=[[1,2],[3]],y=[1,0]');
    expect([ragged.code, ragged.err]).toEqual([2, "adc: error: 'X' has 1 columns, but n is 2 (from 'w')"]);
    const flat = await cli(lsq, 'lsq', '--at', 'w=[1,2],b=0,X=[1,2],y=[1,0]');
    expect([flat.code, flat.err]).toEqual([2, "adc: error: 'X' of lsq(w, b, X, y) takes a matrix, as rows ([[1, 2], [3, 4]]): pass --at w=[…],b=…,X=[[…], […]],y=[…]"]);
    const bad = await cli(lsq, 'lsq', '--at', 'w=[1,x]');
    expect([bad.code, bad.err]).toEqual([2, "adc: error: --at: 'x' is not a number (w)"]);
  });

  it('stops where the generated code throws (exit 1), and refuses functions returning arrays (exit 1)', async () => {
    const pick = 'fn pick(x: vec[n], const j) = x[j] * 2\nfn double(x: vec[n]) {\n  let y[i] = 2 * x[i]\n  return y\n}\n';
    const out = await cli(pick, 'pick', '--at', 'x=[1,2],j=5');
    expect(out.code).toBe(1);
    expect(out.err).toBe("adc: error: 'pick' throws a RangeError at this point (pick, line 1: x[j] is 5, outside 0..1)");
    expect(explain(pick, 'pick', { x: [1, 2], j: 1 }).inputs.map((p) => p.adjoint)).toEqual([0, 2]);
    const vector = await cli(pick, 'double', '--at', 'x=[1,2]');
    expect(vector.code).toBe(1);
    expect(vector.err).toBe("adc: error: 'double' returns a vector, and adc explain shows the graph of one number; explain a function returning one of its elements or a sum of them (fn g(…) = double(…)[0])");
  });
});

describe('size limits: a clear message, never a hang', () => {
  it('a loop of a million iterations answers at once with the limit (exit 2)', async () => {
    const source = 'fn f(x, const n) {\n  var s = x\n  for t in 0..n {\n    s = s + sin(s)\n  }\n  return s\n}\n';
    const r = await cli(source, 'f', '--at', 'x=1,n=1000000');
    expect(r.ms).toBeLessThan(10_000);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `adc: error: the computation of 'f' at this point has more than ${maxUnrolledNodes} nodes (one per operation run and per array element), too many to explain (at most ${maxUnrolledNodes} nodes and ${maxUnrolledSteps} operations run); explain it with smaller arrays or fewer iterations`,
    );
    expect(r.out).toBe('');
    // The largest size allowed works: 2 nodes an iteration (s + sin(s)), 2 inputs.
    const largest = explain(source, 'f', { x: 1, n: (maxUnrolledNodes - 2) / 2 });
    expect(largest.nodes).toHaveLength(maxUnrolledNodes);
    expect(() => explain(source, 'f', { x: 1, n: (maxUnrolledNodes - 2) / 2 + 1 })).toThrow(ExplainError);
  });

  it('a loop that makes no nodes (on constants only) stops at the operations limit, quickly', async () => {
    const source = 'fn f(x, const n) {\n  var c = 0\n  for t in 0..n {\n    c = c + t\n  }\n  return x * c\n}\n';
    const t0 = performance.now();
    expect(() => explain(source, 'f', { x: 1, n: 1e9 })).toThrow(`the computation of 'f' at this point runs more than ${maxUnrolledSteps} operations`);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(explain(source, 'f', { x: 2, n: 4 }).inputs[0].adjoint).toBe(6);
  });

  it('a vector longer than the limit is refused before anything runs', () => {
    const source = 'fn f(x: vec[n]) = sum(i: x[i])\n';
    expect(() => explain(source, 'f', { x: new Array(maxUnrolledNodes + 1).fill(1) })).toThrow(new RegExp(`has more than ${maxUnrolledNodes} nodes`));
    // A sum of 1,000 elements: 1,001 nodes.
    expect(explain(source, 'f', { x: new Array(1000).fill(1) }).nodes).toHaveLength(1001);
  });
});

describe('property: the unrolled graph’s sweeps agree with the generated code', () => {
  it('on random loops with state (for, while, if, nested for)', () => {
    fc.assert(fc.property(loopCaseArb({ gradients: false }), checkExplainLoopCase), { numRuns: 60, seed: 7 });
  });

  it('on random array programs', () => {
    fc.assert(fc.property(arrayCaseArb(), checkExplainArrayCase), { numRuns: 60, seed: 11 });
  });
});

describe('the generated code’s guards on adjoints that are exactly 0', () => {
  it('are reproduced outside loops: 0 × ∞ after an if sends nothing, as in the generated code', () => {
    const source = 'fn g(x, c) {\n  var z = sqrt(x)\n  var w = c\n  if c > 1 { w = z * c } else { w = z * (c - c) }\n  return w\n}\n';
    const x = explain(source, 'g', { x: 0, c: 0 }).inputs.find((p) => p.input === 'x')!;
    // The only path multiplies the adjoint 0 by sqrt's partial at 0, ∞; the guard sends nothing.
    expect([x.adjoint, x.compiled, x.sum]).toEqual([0, 0, NaN]);
  });

  it('are not inside loops (iterations are recomputed under new names), and the report says so, as the README documents', () => {
    const source = 'fn g(x, c, const n) {\n  var w = c\n  for t in 0..n {\n    let z = sqrt(x * t)\n    if c > 1 { w = z * c } else { w = z * (c - c) }\n  }\n  return w\n}\n';
    const r = explain(source, 'g', { x: 0, c: 0, n: 1 });
    const x = r.inputs.find((p) => p.input === 'x')!;
    expect([x.adjoint, x.compiled]).toEqual([NaN, 0]);
    expect(formatExplain(r)).toContain('NaN (adjoint of x: NaN; generated code: 0)  ≠ generated code, which skips an adjoint of exactly 0 (0 × ∞) that this unrolled graph multiplies');
  });
});
