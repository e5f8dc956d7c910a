import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { compileSync } from '../src/index.ts';
import { loadAdModule } from '../src/plugins/unplugin.ts';
import { load } from '../src/register/hooks.ts';
import { instantiate } from './support/instantiate.ts';

/**
 * The `derivatives` option, in every entry point: compile()/compileSync(), `adc compile
 * --derivatives`, the bundler plugins (loadAdModule) and the Node loader (ADC_DERIVATIVES or
 * `?derivatives=` on the import). The default output is byte-identical to `grad` alone.
 */
const dir = mkdtempSync(join(tmpdir(), 'adc-derivatives-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = readFileSync(new URL('../examples/seed.ad', import.meta.url), 'utf8');
const exportsOf = (code: string) => /export \{([^}]*)\};\s*$/.exec(code)![1].split(',').filter((spec) => spec.trim() !== '').map((s) => s.trim().split(/\s+as\s+/).pop()!);

describe('the derivatives option', () => {
  it('defaults to grad, whose output is unchanged', () => {
    const plain = compileSync(seed).code!;
    expect(compileSync(seed, { derivatives: ['grad'] }).code).toBe(plain);
    expect(exportsOf(plain)).toEqual(['f1', 'f1Grad', 'f3', 'f3Grad', 'forward', 'forwardGrad', 'g1', 'g1Grad', 'g2', 'g2Grad', 'graph', 'graphGrad', 'appendix', 'appendixGrad']);
  });

  it('exports exactly what is asked for', () => {
    const code = compileSync('fn f(x, y) = x * y^2\nfn g(v: vec[n]) = sum(i: v[i]^3)', { derivatives: ['jvp', 'hessian'] }).code!;
    expect(exportsOf(code)).toEqual(['f', 'fJvp', 'fHessian', 'g', 'gJvp', 'gHessian']);
    const m = instantiate(code) as unknown as Record<string, (...a: unknown[]) => { hessian: Record<string, Record<string, unknown>> }>;
    expect(m.fHessian(2, 3).hessian).toEqual({ x: { x: 0, y: 6 }, y: { x: 6, y: 4 } });
    const h = m.gHessian([1, 2]).hessian.v.v as Float64Array[];
    expect(h.map((r) => [...r])).toEqual([
      [6, 0],
      [0, 12],
    ]);
    expect(exportsOf(compileSync('fn f(x) = x', { derivatives: [] }).code!)).toEqual(['f']);
  });

  it('builds vjp (AD5040 no longer refuses it), and refuses a function named like a derivative export', () => {
    const r = compileSync('fn f(x) = x * x\nfn g(v: vec[n]) = [v[0] * v[1], 3 * v[1]]\nfn h(v: vec[n]) = [[v[0], v[1]]]', { derivatives: ['vjp'] });
    expect(r.diagnostics).toEqual([]);
    // A function returning a matrix has an fVjp too, its cotangent rows like the value.
    expect(exportsOf(r.code!)).toEqual(['f', 'fVjp', 'g', 'gVjp', 'h', 'hVjp']);
    const m = instantiate(r.code!) as unknown as Record<string, (...a: unknown[]) => { value: unknown; gradient: Record<string, unknown> }>;
    expect(m.fVjp(2, 3).gradient).toEqual({ x: 12 }); // 2 · d(x²)/dx at 3
    // ∂g/∂v = [[v1, v0], [0, 3]] at v = (2, 5); uᵀJ with u = (1, 10) = (5, 2 + 30)
    expect([...(m.gVjp([1, 10], [2, 5]).gradient.v as Float64Array)]).toEqual([5, 32]);
    expect(() => m.gVjp([1], [2, 5])).toThrow(new RangeError("gVjp: cotangent has 1 elements, but the value's length is 2"));
    // h(v) = [[v0, v1]]: ∂h/∂v is the identity, so uᵀJ = u read row by row.
    expect([...(m.hVjp([[7, 10]], [2, 5]).gradient.v as Float64Array)]).toEqual([7, 10]);
    expect(() => m.hVjp([7, 10], [2, 5])).toThrow(new RangeError("hVjp: cotangent has 2 elements, but the value's row count is 1"));
    expect(() => m.hVjp([[7]], [2, 5])).toThrow(new RangeError("hVjp: cotangent[0] has 1 elements, but the value's row length is 2"));
    expect(compileSync('fn f(x) = x\nfn fJvp(x) = x').diagnostics.map((d) => d.code)).toEqual(['AD2008']);
    expect(compileSync('fn f(x) = x\nfn fVjp(x) = x').diagnostics.map((d) => d.code)).toEqual(['AD2008']);
  });

  it('is --derivatives in adc compile (and a wrong word is a usage error)', async () => {
    const file = join(dir, 'model.ad');
    writeFileSync(file, 'fn rosen(x, y) = (1 - x)^2 + 100 * (y - x^2)^2\n');
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    expect(await main(['compile', file, '--derivatives', 'grad,hvp', '--dts', '--no-color'], io)).toBe(0);
    const code = readFileSync(join(dir, 'model.js'), 'utf8');
    expect(exportsOf(code)).toEqual(['rosen', 'rosenHvp', 'rosenGrad']);
    expect(readFileSync(join(dir, 'model.d.ts'), 'utf8')).toContain('export declare function rosenHvp(v: { x?: number; y?: number }, x: number, y: number)');
    const m = await import(pathToFileURL(join(dir, 'model.js')).href);
    expect(m.rosenHvp({ x: 1 }, -1.2, 1).hvp.x).toBeCloseTo(1330, 9);
    expect(await main(['compile', file, '--derivatives', 'grad,hess', '--no-color'], io)).toBe(2);
    expect(out.at(-1)).toBe("adc: error: --derivatives: unknown derivative 'hess' (one of grad, jvp, vjp, jacobian, hessian, hvp)");
    expect(await main(['compile', file, '--derivatives', 'vjp', '--dts', '--no-color'], io)).toBe(0);
    expect(readFileSync(join(dir, 'model.d.ts'), 'utf8')).toContain(
      'export declare function rosenVjp(cotangent: number, x: number, y: number): { value: number; gradient: { x: number; y: number } };',
    );
  });

  it('reaches the bundler plugins and the Node loader', async () => {
    const file = join(dir, 'plugin.ad');
    writeFileSync(file, 'fn f(x) = x^3\n');
    const { result } = await loadAdModule(file, { derivatives: ['jvp'] });
    expect(exportsOf(result.code!)).toEqual(['f', 'fJvp']);
    const next = () => ({ format: 'module' });
    const url = pathToFileURL(file).href;
    const viaQuery = await load(`${url}?derivatives=hessian`, {}, next);
    expect(exportsOf(String(viaQuery.source).replace(/\/\/# sourceMappingURL=.*\n$/, ''))).toEqual(['f', 'fHessian']);
    process.env.ADC_DERIVATIVES = 'grad,jvp';
    try {
      const viaEnv = await load(url, {}, next);
      expect(exportsOf(String(viaEnv.source).replace(/\/\/# sourceMappingURL=.*\n$/, ''))).toEqual(['f', 'fJvp', 'fGrad']);
    } finally {
      delete process.env.ADC_DERIVATIVES;
    }
  });
});

describe('the derivative examples', () => {
  it('examples/newton.mjs (Newton with fHessian), examples/gauss-newton.mjs (fJacobian) and examples/seed-jvp.mjs (the seed §1 with fJvp) run', async () => {
    const out = mkdtempSync(join(dir, 'examples-'));
    const io = { out: () => {}, err: (s: string) => expect.fail(s) };
    const examples = new URL('../examples/', import.meta.url);
    expect(await main(['compile', new URL('derivatives.ad', examples).pathname, '--out-dir', out, '--derivatives', 'grad,jvp,jacobian,hvp,hessian', '--no-color'], io)).toBe(0);
    for (const file of ['newton.mjs', 'seed-jvp.mjs', 'gauss-newton.mjs']) copyFileSync(new URL(file, examples), join(out, file));
    const gn = spawnSync(process.execPath, [join(out, 'gauss-newton.mjs')], { encoding: 'utf8' });
    expect(gn.stderr).toBe('');
    const [, a, b] = /gauss-newton: a = (\S+), b = (\S+) after \d+ steps/.exec(gn.stdout)!;
    expect(Number(a)).toBeCloseTo(2, 1);
    expect(Number(b)).toBeCloseTo(-0.7, 1);
    const newton = spawnSync(process.execPath, [join(out, 'newton.mjs')], { encoding: 'utf8' });
    expect(newton.stderr).toBe('');
    const [, steps] = /rosenbrock: Newton reaches \(1\.000000, 1\.000000\) in (\d+) steps/.exec(newton.stdout)!;
    expect(Number(steps)).toBeLessThan(10);
    expect(newton.stdout).toMatch(/energy: Newton converges in [1-9] steps/);
    const seed = spawnSync(process.execPath, [join(out, 'seed-jvp.mjs')], { encoding: 'utf8' });
    expect(seed.stderr).toBe('');
    expect(seed.stdout).toMatch(/f'\(1\) = 122\.04515814026\d* \(the seed: 122\.045158140265\)/);
  });
});

describe('the module header names the derivatives asked for', () => {
  it('lists each asked export and its result, and keeps the default header otherwise', () => {
    const asked = compileSync('fn f(x) = x^2\n', { derivatives: ['jvp', 'hessian'] }).code!.split('\n');
    expect(asked.slice(1, 5)).toEqual([
      '// For each function f(...) the module exports f, which returns the value, and of the derivatives',
      '// asked for (jvp, hessian) those that apply to f:',
      '//   fJvp → { value, tangent }',
      '//   fHessian → { value, gradient, hessian }',
    ]);
    const plain = compileSync('fn f(x) = x^2\n').code!.split('\n');
    expect(plain[1]).toBe('// For each function f(...) the module exports f, which returns the value, and fGrad, which');
  });
});
