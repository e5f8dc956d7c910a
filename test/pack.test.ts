/**
 * The published package as another project gets it: `npm pack` this checkout, install the tarball
 * into an empty temporary project (from npm's local cache, where `npm ci` put every dependency;
 * `--prefer-offline` asks the registry only for the version lists it has not cached), and use it
 * there the four ways the README describes: the `adc` command, the API, a bundler plugin and the
 * Node loader. Every result is checked against numbers worked out by hand:
 * f(x, y) = x^2 * y + 3 * x at (3, 2) is 27 with ∂f/∂x = 2xy + 3 = 15 and ∂f/∂y = x^2 = 9.
 *
 * Everything happens in a temporary folder: the checkout's node_modules and dist/ are only read.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'adc-pack-'));
const project = join(dir, 'project');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL = 'fn f(x, y) = x^2 * y + 3 * x\n';
const EXPECTED = { value: 27, gradient: { x: 15, y: 9 } };

function run(command: string, args: string[], cwd: string) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 50_000, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Runs node in the temporary project, as its own code would run. */
const node = (...args: string[]) => run(process.execPath, args, project);

let tarball = '';
let installed: { files: string[] } = { files: [] };

beforeAll(() => {
  // --ignore-scripts: `prepare` would rebuild dist/ under the other test files running now; the
  // tests' global setup (test/support/build-dist.ts) has already made it current.
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  installed = { files: info!.files.map((f) => f.path) };

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-adc', private: true, type: 'module' }));
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
  expect(install.code, install.stderr).toBe(0);
  writeFileSync(join(project, 'model.ad'), MODEL);
}, 60_000);

describe(`the packed tarball installed into an empty project`, () => {
  it('is named adc-compiler, holds the built code and no tests, and pulls in only its declared dependencies', () => {
    expect(pkg.name).toBe('adc-compiler');
    expect(tarball.endsWith(`adc-compiler-${pkg.version}.tgz`)).toBe(true);
    expect(installed.files).toContain('bin/adc.js');
    expect(installed.files).toContain('dist/index.js');
    expect(installed.files).toContain('dist/plugins/rollup.d.ts');
    expect(installed.files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('bench/'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual(['adc-compiler']);
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    // Each declared dependency is installed; none of the checkout's dev dependencies is.
    for (const dep of Object.keys(pkg.dependencies)) expect(Object.keys(lock.packages), dep).toContain(`node_modules/${dep}`);
    for (const dev of ['vitest', 'typescript', 'vite', 'mathjs', '@tensorflow/tfjs']) expect(Object.keys(lock.packages)).not.toContain(`node_modules/${dev}`);
  });

  it('runs the adc command from node_modules/.bin: compile, then import the output', () => {
    const version = run(join(project, 'node_modules', '.bin', 'adc'), ['--version'], project);
    expect(version.stdout.trim()).toBe(pkg.version);
    const compiled = run(join(project, 'node_modules', '.bin', 'adc'), ['compile', 'model.ad'], project);
    expect(compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    const used = node('--input-type=module', '-e', `import { f, fGrad } from './model.js'; console.log(JSON.stringify([f(3, 2), fGrad(3, 2)]));`);
    expect(used.stderr).toBe('');
    expect(JSON.parse(used.stdout)).toEqual([27, EXPECTED]);
  });

  it("imports the API from 'adc-compiler'", () => {
    const script = `
      import { compileSync, formatDiagnostics } from 'adc-compiler';
      const ok = compileSync(${JSON.stringify(MODEL)}, { filename: 'model.ad' });
      const mod = await import('data:text/javascript,' + encodeURIComponent(ok.code));
      const bad = compileSync('fn g(x) = x + yy', { filename: 'bad.ad' });
      console.log(JSON.stringify({ grad: mod.fGrad(3, 2), code: bad.code ?? null, codes: bad.diagnostics.map((d) => d.code), text: formatDiagnostics(bad.diagnostics, 'fn g(x) = x + yy', 'bad.ad') }));`;
    const used = node('--input-type=module', '-e', script);
    expect(used.stderr).toBe('');
    const out = JSON.parse(used.stdout) as { grad: unknown; code: null; codes: string[]; text: string };
    expect(out.grad).toEqual(EXPECTED);
    expect(out.code).toBeNull();
    expect(out.codes).toEqual(['AD2001']);
    expect(out.text).toContain('bad.ad:1:');
  });

  it("bundles an .ad import with 'adc-compiler/rollup' (Rollup itself from the checkout)", () => {
    writeFileSync(join(project, 'main.js'), `import { fGrad } from './model.ad';\nconsole.log(JSON.stringify(fGrad(3, 2)));\n`);
    const rollupUrl = pathToFileURL(join(root, 'node_modules', 'rollup', 'dist', 'es', 'rollup.js')).href;
    const script = `
      import { rollup } from ${JSON.stringify(rollupUrl)};
      import adc from 'adc-compiler/rollup';
      const bundle = await rollup({ input: 'main.js', plugins: [adc()] });
      await bundle.write({ file: 'out/bundle.js', format: 'es' });`;
    const bundled = node('--input-type=module', '-e', script);
    expect(bundled.stderr).toBe('');
    expect(bundled.code).toBe(0);
    const ran = node('out/bundle.js');
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual(EXPECTED);
  });

  it("imports .ad files directly with node --import adc-compiler/register", () => {
    writeFileSync(join(project, 'app.js'), `import { f, fGrad } from './model.ad';\nconsole.log(JSON.stringify([f(3, 2), fGrad(3, 2)]));\n`);
    const ran = node('--import', 'adc-compiler/register', 'app.js');
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual([27, EXPECTED]);
  });
});
