/**
 * Golden tests: every `test/fixtures/NAME.ad` is compiled with `compile(source, { filename: 'NAME.ad' })`.
 *   - If it compiles, the module must equal `test/fixtures/NAME.js` byte for byte.
 *   - If it does not, `formatDiagnostics(diagnostics, source, 'NAME.ad')` must equal
 *     `test/fixtures/NAME.errors.txt` byte for byte (no trailing newline is added).
 *
 * To (re)write the expected files after an intended change of output, run
 *
 *     UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts
 *
 * and then READ the diff of test/fixtures/ before committing it: the expected files are only as
 * good as the review they got. Updating also deletes a stale NAME.js / NAME.errors.txt when a
 * fixture switches between compiling and failing.
 *
 * A golden file could still hold a wrong derivative, so every expected module is also imported and
 * each exported gradient is compared with central finite differences at a few points.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, formatDiagnostics, type FunctionInfo } from '../src/index.ts';
import { compileAndLoad, importCode, type Gradient } from './support/load.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const fixturesDir = new URL('./fixtures/', import.meta.url);
const fixture = (file: string) => new URL(file, fixturesDir);
const names = readdirSync(fixturesDir)
  .filter((f) => f.endsWith('.ad'))
  .map((f) => f.slice(0, -'.ad'.length))
  .sort();

/**
 * Points at which each gradient is checked, per fixture and function. A function that is not
 * listed is checked at a default point (0.4, 0.7, 1.0, ...), which keeps logs and square roots in
 * their domain. Points are chosen away from kinks (abs, the branches of `if`), and where a
 * function has branches, one point per branch.
 */
const points: Record<string, Record<string, number[][]>> = {
  seed: {
    rosenbrock: [
      [-1.2, 1],
      [0.5, 0.3],
    ],
    forward: [[1]],
    graph: [[2, 3]],
    appendix: [[2, 3]],
  },
  huber: {
    huber: [
      [0.3, 1], // quadratic branch
      [-2.5, 1], // linear branch, negative residual
      [4, 1.5], // linear branch, positive residual
    ],
    softclamp: [
      [0.5, 0, 1], // inside
      [-0.7, 0, 1], // below
      [1.8, 0, 1], // above
    ],
  },
  'least-squares': {
    residual: [[2, 0.5, 0.1, 1.5, 1.2]],
    term: [[2, 0.5, 0.1, 1.5, 1.2, 3]],
    ignores: [[1.3, 42]],
  },
  'reserved-names': {
    g: [[0.3, -1.1, 0.8, 2.1]],
  },
  calls: {
    layer: [[0.3, -0.8, 0.25]],
  },
};

/** Own properties only: a function may be called `constructor` or `toString`. */
function pointsFor(fixtureName: string, info: FunctionInfo): number[][] {
  const table = Object.hasOwn(points, fixtureName) ? points[fixtureName] : {};
  if (Object.hasOwn(table, info.name)) return table[info.name];
  return [Array.from({ length: info.params.length }, (_, i) => 0.4 + 0.3 * i)];
}

/**
 * Central finite differences of f in coordinate i, refined by one Richardson step so that the
 * error is O(h⁴): `graph` at (2, 3) oscillates fast enough that plain O(h²) differences are off.
 */
function centralDifference(f: (...xs: number[]) => number, p: number[], i: number): number {
  const d = (h: number) => {
    const up = [...p];
    const down = [...p];
    up[i] += h;
    down[i] -= h;
    return (f(...up) - f(...down)) / (up[i] - down[i]);
  };
  const h = 1e-6 * Math.max(1, Math.abs(p[i]));
  return (4 * d(h / 2) - d(h)) / 3;
}

function closeEnough(actual: number, expected: number, scale: number): boolean {
  return Math.abs(actual - expected) <= 1e-7 * Math.max(1, Math.abs(expected), scale);
}

async function compileFixture(name: string) {
  const source = readFileSync(fixture(`${name}.ad`), 'utf8');
  const result = await compile(source, { filename: `${name}.ad` });
  return { source, result };
}

describe('golden files', () => {
  it('has fixtures, and no expected file without its .ad', () => {
    expect(names.length).toBeGreaterThan(0);
    const orphans = readdirSync(fixturesDir).filter((f) => {
      const m = /^(.*)\.(js|errors\.txt)$/.exec(f);
      return m !== null && !names.includes(m[1]);
    });
    expect(orphans).toEqual([]);
  });

  it.each(names)('%s', async (name) => {
    const { source, result } = await compileFixture(name);
    const [actual, file, stale] =
      result.code !== undefined
        ? [result.code, `${name}.js`, `${name}.errors.txt`]
        : [formatDiagnostics(result.diagnostics, source, `${name}.ad`), `${name}.errors.txt`, `${name}.js`];
    if (update) {
      writeFileSync(fixture(file), actual);
      rmSync(fixture(stale), { force: true });
      return;
    }
    expect(existsSync(fixture(file)), `${file} is missing: run with UPDATE_GOLDEN=1 to create it`).toBe(true);
    expect(existsSync(fixture(stale)), `${stale} is stale: the fixture now produces ${file}`).toBe(false);
    expect(actual).toBe(readFileSync(fixture(file), 'utf8'));
    // Byte for byte, not just the same string after decoding.
    expect(Buffer.from(actual, 'utf8').equals(readFileSync(fixture(file)))).toBe(true);
    if (result.code === undefined) {
      expect(result.diagnostics.length).toBeGreaterThan(0);
      for (const d of result.diagnostics) {
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeLessThanOrEqual(source.length);
      }
    }
  });
});

describe('the expected modules compute correct gradients', () => {
  it.each(names)('%s', async (name) => {
    const { result } = await compileFixture(name);
    if (result.code === undefined) return; // an error fixture
    // The expected file, not the fresh output: this checks what is committed.
    const golden = readFileSync(fixture(`${name}.js`), 'utf8');
    const m = await importCode(golden);
    const exported = Object.keys(m).sort();
    expect(exported).toEqual(result.functions.flatMap((f) => [f.name, `${f.name}Grad`]).sort());
    for (const info of result.functions) checkFunction(m, info, pointsFor(name, info));
  });
});

function checkFunction(m: Record<string, (...args: number[]) => unknown>, info: FunctionInfo, at: number[][]): void {
  const value = m[info.name] as (...xs: number[]) => number;
  const grad = m[`${info.name}Grad`] as (...xs: number[]) => Gradient;
  const differentiated = info.params.filter((p) => !p.isConst).map((p) => p.name);
  for (const p of at) {
    const where = `${info.name}(${p.join(', ')})`;
    expect(p.length, where).toBe(info.params.length);
    const r = grad(...p);
    const v = value(...p);
    expect(Number.isFinite(v), `${where} is finite`).toBe(true);
    expect(closeEnough(r.value, v, 0), `${where}: Grad value ${r.value} vs value ${v}`).toBe(true);
    expect(Object.keys(r.gradient), `${where}: gradient keys`).toEqual(differentiated);
    info.params.forEach((param, i) => {
      if (param.isConst) return;
      const fd = centralDifference(value, p, i);
      const ad = r.gradient[param.name];
      expect(closeEnough(ad, fd, Math.abs(v)), `∂${info.name}/∂${param.name} at ${where}: AD ${ad} vs FD ${fd}`).toBe(true);
    });
  }
}

describe('reserved and global names', () => {
  it('keeps the user’s names as gradient keys, with __proto__ as an own property', async () => {
    const { result } = await compileFixture('reserved-names');
    expect(result.code).toBeDefined();
    const m = await importCode(readFileSync(fixture('reserved-names.js'), 'utf8'));
    const r = (m.gGrad as (...xs: number[]) => Gradient)(0.3, -1.1, 0.8, 2.1);
    expect(Object.keys(r.gradient)).toEqual(['class', 'Math', '__proto__', 'arguments']);
    expect(Object.getOwnPropertyNames(r.gradient)).toEqual(['class', 'Math', '__proto__', 'arguments']);
    expect(Object.hasOwn(r.gradient, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(r.gradient)).toBe(Object.prototype);
    // ∂/∂__proto__ of __proto__^2 is 2·__proto__.
    expect(Object.getOwnPropertyDescriptor(r.gradient, '__proto__')?.value).toBeCloseTo(1.6, 14);

    // `default` and `constructor` are exported under exactly those names, as working functions.
    expect(typeof m.default).toBe('function');
    expect(m.default(3, 2)).toBeCloseTo((3 * 2 + 1) / 2, 14);
    expect(Object.keys((m.defaultGrad as (...xs: number[]) => Gradient)(3, 2).gradient)).toEqual(['new', 'this']);
    expect(m.constructor(2, 3, 0)).toBeCloseTo(7, 14);
    expect(Object.keys((m.constructorGrad as (...xs: number[]) => Gradient)(2, 3, 0).gradient)).toEqual(['prototype', 'toString', 'eval']);
  });
});

/**
 * Found while checking the golden gradients: a variable whose adjoint is zero (a `let` used only in
 * the branch not taken, or only inside an unused `let`) must contribute nothing, even where its own
 * partial derivative is infinite. Today the reverse sweep emits `0 * ∞` or `0 / 0` and the gradient
 * is NaN. The same function written without the `let` differentiates fine.
 */
describe('a zero adjoint contributes nothing, even through an infinite partial', () => {
  it('a let used only in the untaken branch of an if', async () => {
    const m = await compileAndLoad(
      `fn viaLet(x) {
         let s = sqrt(x)
         return if x > 0 then s else 0
       }
       fn inline(x) = if x > 0 then sqrt(x) else 0`,
    );
    expect((m.inlineGrad(0) as Gradient).gradient.x).toBeCloseTo(0, 15);
    expect((m.viaLetGrad(0) as Gradient).gradient.x).toBeCloseTo(0, 15); // NaN today: 0.5 * 0 / sqrt(0)
  });

  it('a let used only by an unused let that contains an if', async () => {
    const m = await compileAndLoad(
      `fn f(x) {
         let s = sqrt(x)
         let unused = if s > 1 then s else 0
         return x^2
       }`,
    );
    expect((m.fGrad(0) as Gradient).gradient.x).toBeCloseTo(0, 15); // NaN today: 2 * x + (0.5 * 0) / s
  });

  it('huber with an infinite threshold (the linear branch is never taken)', async () => {
    const m = await compileAndLoad(readFileSync(fixture('huber.ad'), 'utf8'));
    expect((m.huberGrad(0.5, Infinity) as Gradient).gradient.r).toBeCloseTo(0.5, 15); // NaN today: 0 * Infinity
  });
});
