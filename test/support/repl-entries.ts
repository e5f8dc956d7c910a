/**
 * Random derivative entries at the REPL (`grad`, `jvp … along …`, `vjp … with …`, `jacobian`,
 * `hessian`), shared by test/repl-derivatives.test.ts (a fixed seed in `npm test`) and
 * test/fuzz/repl-derivatives.fuzz.ts (`npm run fuzz`, for as long as asked). Mostly well-formed
 * calls of a function of each kind with arguments of about the right shapes, sometimes anything.
 */
import fc from 'fast-check';
import type { Interpreter } from '../../src/repl/index.ts';

/** A session with a function of each kind (numbers in and out, a vector out, a matrix out, a matrix parameter) and two bound values. */
export const derivativeSetup: readonly string[] = [
  'fn s(x, y) = x^2 * sin(y) + exp(x * y)',
  'fn v(a, w: vec[n]) = [a * w[0], w[1]^2, a^3]',
  'fn m(u: vec[n]) {\n  let M[i, j] = u[i] * u[j]\n  return M\n}',
  'fn q(A: mat[r, c], const k) = k * sum(i: sum(j: A[i, j]^2))',
  'bv = [1, 2, 3]',
  'bn = 0.5',
];

export interface DerivativeEntry {
  readonly word: string;
  readonly callee: string;
  readonly args: readonly string[];
  readonly text: string;
}

const number = fc.constantFrom('0', '1', '-2.5', '1e308', '0/0', '1/0', 'bn', '0.3', '-0.7');
const vector = fc.array(fc.constantFrom('1', '-2', '0.5', '0/0'), { minLength: 1, maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`);
const matrix = fc
  .array(fc.array(fc.constantFrom('1', '2', '-1'), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 })
  .map((rows) => `[${rows.map((r) => `[${r.join(', ')}]`).join(', ')}]`);
const anything = fc.oneof(number, vector, matrix, fc.constant('bv'), fc.constant('[]'), fc.constant('nope'));
/** Each function's parameters as arbitraries of the right shape (the sizes may still disagree). */
const shapes: Record<string, fc.Arbitrary<string>[]> = { s: [number, number], v: [number, vector], m: [vector], q: [matrix, number], sin: [number], nope: [number] };
/** Mostly the right number and shapes; sometimes anything. */
const list = (of: fc.Arbitrary<string>[]) => fc.oneof({ arbitrary: fc.tuple(...of), weight: 4 }, { arbitrary: fc.array(anything, { maxLength: 3 }), weight: 1 });

export const derivativeEntry: fc.Arbitrary<DerivativeEntry> = fc
  .record({ word: fc.constantFrom('grad', 'jvp', 'vjp', 'jacobian', 'hessian'), callee: fc.constantFrom('s', 'v', 'm', 'q', 'sin', 'nope') })
  .chain(({ word, callee }) => {
    // q's second parameter is const: its direction has one entry.
    const own = word === 'jvp' ? list(shapes[callee].filter((_, i) => !(callee === 'q' && i === 1))).map((xs) => ` along (${xs.join(', ')})`) : word === 'vjp' ? anything.map((x) => ` with ${x}`) : fc.constant('');
    const tail = fc.oneof({ arbitrary: own, weight: 6 }, { arbitrary: fc.constantFrom('', ' along', ' with', ' along 1', ' with [1, 0]'), weight: 1 });
    return fc.record({ args: list(shapes[callee]), tail }).map(({ args, tail }) => ({ word, callee, args, text: `${word} ${callee}(${args.join(', ')})${tail}` }));
  });

/**
 * What is wrong with the reply to an entry, or undefined: an internal error; an error not located
 * in the entry (`<repl>:1:N: error: …`, the entry, a caret); a jvp of s that is not ∇s·d by reverse mode.
 */
export async function checkDerivativeEntry(interpreter: Interpreter, e: DerivativeEntry): Promise<string | undefined> {
  const reply = await interpreter.run(e.text);
  if (/internal error/.test(reply.text)) return `internal error: ${reply.text}`;
  if (reply.error) {
    const lines = reply.text.split('\n');
    const located = /^<repl>:1:\d+: error: /.test(lines[0]) && lines[1] === `  ${e.text}` && /^ *\^~*$/.test(lines[2] ?? '');
    return located ? undefined : `not located in the entry: ${reply.text}`;
  }
  if (e.word !== 'jvp' || e.callee !== 's') return undefined;
  const call = `s(${e.args.join(', ')})`;
  const direction = /along (.*)$/.exec(e.text)![1];
  const { session } = interpreter;
  const [jvp, grad, dir, at] = [
    await session.jvp(call, direction),
    await session.grad(call),
    await session.evaluate(`[${direction.replace(/^\(|\)$/g, '')}]`),
    await session.evaluate(`[${e.args.join(', ')}]`),
  ];
  if (!jvp.ok || !grad.ok || !dir.ok || !at.ok) return 'answered, but not again';
  const d = Array.from(dir.value as Float64Array);
  // Far from 1 (1e308), the two sweeps multiply in different orders and may overflow differently
  // (forward: (2x·ẋ)·sin y = −∞·0 = NaN; reverse: (2x·sin y)·ẋ = 0): compare moderate numbers only.
  if ([...d, ...Array.from(at.value as Float64Array)].some((x) => !(Math.abs(x) <= 1e6))) return undefined;
  const dot = (grad.gradient[0].value as number) * d[0] + (grad.gradient[1].value as number) * d[1];
  const tangent = jvp.tangent as number;
  return Number.isFinite(dot) && !(Math.abs(tangent - dot) <= 1e-12 * Math.max(1, Math.abs(dot))) ? `jvp ${tangent} ≠ ∇s·d = ${dot}` : undefined;
}
