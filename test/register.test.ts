/**
 * The Node.js loader (`node --import adc-compiler/register app.js`) and the package's subpaths, run as a user
 * runs them: from dist/, through package.json "exports".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adc-register-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs node from the package root, so `adc-compiler/…` resolves to this package (a self-reference). */
function node(...args: string[]) {
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('node --import adc-compiler/register', () => {
  it('runs the loader example: app.js imports model.ad directly', () => {
    const run = node('--import', 'adc-compiler/register', 'examples/node-loader/app.js');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^minimum of rosenbrock after \d+ steps: f\(1\.000000, 1\.000000\) = \d\.\d+e-\d+$/m);
  });

  it('maps stack frames to the .ad line and column with --enable-source-maps', () => {
    const model = join(dir, 'model.ad');
    writeFileSync(model, '# a comment\n\nfn g(x, const c) =\n  c * sin(x)\n');
    const app = join(dir, 'stack.mjs');
    // Math.sin of a BigInt throws inside the compiled g.
    writeFileSync(app, `import { g } from './model.ad';\ntry { g(1n, 2); } catch (error) { console.log(error.stack); }\n`);
    const mapped = node('--enable-source-maps', '--import', 'adc-compiler/register', app);
    expect(mapped.code).toBe(0);
    const frame = mapped.stdout.split('\n').find((l) => l.includes('at g '));
    expect(frame).toMatch(new RegExp(`at g \\(${model.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:[34]:\\d+\\)`));
    // Without source maps the frame is in the generated code, at a line past the .ad file's end.
    const plain = node('--import', 'adc-compiler/register', app);
    const generatedLine = Number(/at g \(file:\/\/.*model\.ad:(\d+):\d+\)/.exec(plain.stdout)?.[1]);
    expect(generatedLine).toBeGreaterThan(4);
  });

  it('reports compile errors with the file, line and column, and fails', () => {
    const bad = join(dir, 'bad.ad');
    writeFileSync(bad, 'fn f(x) =\n  x * yy\n');
    const app = join(dir, 'bad.mjs');
    writeFileSync(app, `import { f } from './bad.ad';\nconsole.log(f(1));\n`);
    const run = node('--import', 'adc-compiler/register', app);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`adc: cannot compile ${bad}:\n${bad}:2:7: error: unknown variable 'yy' [AD2001]\n    x * yy\n        ^~`);
  });

  it('checks number arguments with ADC_CHECK_ARGS=1 (issue #12, item 20), and not without', () => {
    writeFileSync(join(dir, 'checked.ad'), 'fn f(x, const c) = c * x\n');
    const app = join(dir, 'checked.mjs');
    writeFileSync(app, `import { f, fGrad } from './checked.ad';\ntry { console.log(f('3', 2)); fGrad(1, undefined); } catch (e) { console.log(e instanceof TypeError, e.message); }\n`);
    const run = (set: Record<string, string>) => {
      const env = { ...process.env, ...set };
      if (!('ADC_CHECK_ARGS' in set)) delete env.ADC_CHECK_ARGS;
      return spawnSync(process.execPath, ['--import', 'adc-compiler/register', app], { cwd: root, encoding: 'utf8', timeout: 30_000, env });
    };
    expect(run({ ADC_CHECK_ARGS: '1' })).toMatchObject({ status: 0, stdout: "true f: x must be a number, but is the string '3'\n" });
    expect(run({ ADC_CHECK_ARGS: '0' })).toMatchObject({ status: 0, stdout: '6\n' });
    expect(run({})).toMatchObject({ status: 0, stdout: '6\n' });
  });

  it('leaves every other module to Node', () => {
    const app = join(dir, 'plain.mjs');
    writeFileSync(app, `import { readFileSync } from 'node:fs';\nconsole.log(typeof readFileSync, JSON.parse('[1]')[0]);\n`);
    expect(node('--import', 'adc-compiler/register', app)).toMatchObject({ code: 0, stdout: 'function 1\n' });
  });
});

describe('the package subpaths', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }> };

  it('point at built files, each with its types', () => {
    for (const sub of ['.', './vite', './rollup', './esbuild', './webpack', './register']) {
      const target = pkg.exports[sub];
      expect(typeof target, sub).toBe('object');
      const { types, default: file } = target as { types: string; default: string };
      expect(existsSync(join(root, file)), file).toBe(true);
      expect(existsSync(join(root, types)), types).toBe(true);
    }
  });

  it('import as a user imports them: adc-compiler/vite, adc-compiler/rollup, adc-compiler/esbuild and adc-compiler/webpack default-export the plugin', () => {
    const script = `
      const names = {};
      for (const sub of ['vite', 'rollup', 'esbuild', 'webpack']) {
        const plugin = (await import('adc-compiler/' + sub)).default;
        const made = plugin();
        names[sub] = typeof plugin === 'function' && (made.name ?? made.constructor.name);
      }
      console.log(JSON.stringify(names));`;
    const run = node('--input-type=module', '-e', script);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ vite: 'adc', rollup: 'adc', esbuild: 'adc', webpack: expect.any(String) });
  });
});
