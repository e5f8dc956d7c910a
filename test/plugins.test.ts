/**
 * The bundler plugin (src/plugins/): one unplugin factory, run through each adapter (Rollup,
 * esbuild, webpack, Vite) on test/fixtures/bundle. Each must bundle `import … from './model.ad'`
 * into working code with a source map back to the .ad file, and report compile errors as the
 * bundler's own errors, with file, line and column.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { eachMapping, TraceMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import * as esbuild from 'esbuild';
import { rollup, type RollupError } from 'rollup';
import { build as viteBuild, type Rollup } from 'vite';
import webpack from 'webpack';
import { afterAll, describe, expect, it } from 'vitest';
import adcEsbuild from '../src/plugins/esbuild.ts';
import adcRollup from '../src/plugins/rollup.ts';
import adcVite from '../src/plugins/vite.ts';
import adcWebpack from '../src/plugins/webpack.ts';
import { declarationFileFor, type AdcPluginOptions } from '../src/plugins/unplugin.ts';
import { importCode } from './support/load.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test', 'fixtures', 'bundle');
const entry = join(fixtures, 'main.js');
const badEntry = join(fixtures, 'bad-main.js');
const modelSource = readFileSync(join(fixtures, 'model.ad'), 'utf8');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adc-plugins-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Bundle = Record<string, (...args: number[]) => any>;

/** Imports a bundle's code (without its sourceMappingURL comment: the map is checked on its own). */
const load = async (code: string) => (await importCode(code.replace(/^\/\/# sourceMappingURL=.*$/m, ''))) as Bundle;

/** The bundle computes what model.ad says. */
function expectWorks(bundle: Bundle): void {
  expect(bundle.rosen(1, 1)).toBe(0);
  expect(bundle.rosenGrad(-1.2, 1)).toEqual({ value: 24.199999999999996, gradient: { x: -215.59999999999997, y: -87.99999999999999 } });
  // const x and y are not in the gradient.
  expect(bundle.residualGrad(2, 1, 3, 4)).toEqual({ value: 9, gradient: { a: 18, b: 6 } });
  expect(Object.keys(bundle.bothGrad(1, 2).gradient)).toEqual(['class', '__proto__']);
}

/** The map names model.ad, with its text, and maps generated lines to each of its three functions. */
function expectMapsToModel(map: SourceMapInput): void {
  const traced = new TraceMap(map);
  const index = traced.sources.findIndex((s) => s?.endsWith('model.ad'));
  expect(index, `sources: ${traced.sources.join(', ')}`).toBeGreaterThanOrEqual(0);
  expect(traced.sourcesContent?.[index]).toBe(modelSource);
  const lines = new Set<number>();
  eachMapping(traced, (m) => {
    if (m.source?.endsWith('model.ad') && m.originalLine !== null) lines.add(m.originalLine);
  });
  expect([...lines].sort()).toEqual(expect.arrayContaining([2, 4, 6]));
}

describe('the Rollup plugin (adc-compiler/rollup)', () => {
  it('bundles .ad imports, with a source map to the .ad file', async () => {
    const bundle = await rollup({ input: entry, plugins: [adcRollup()] });
    const { output } = await bundle.generate({ format: 'es', sourcemap: true });
    await bundle.close();
    expectWorks(await load(output[0].code));
    expectMapsToModel(output[0].map as SourceMapInput);
  });

  it("reports a compile error as Rollup's error, with file, line, column and a frame", async () => {
    const error = (await rollup({ input: badEntry, plugins: [adcRollup()] }).catch((e: unknown) => e)) as RollupError;
    expect(error).toBeInstanceOf(Error);
    expect(error.plugin).toBe('adc');
    expect(error.message).toContain("unknown variable 'yy' [AD2001]");
    expect(error.loc).toEqual({ file: join(fixtures, 'bad.ad'), line: 3, column: 22 });
    expect(error.frame).toBe('  fn broken(x, y) = x * yy + 1\n                        ^~');
    // The other error is in the message, as the CLI prints it.
    expect(error.message).toContain(`${join(fixtures, 'bad.ad')}:5:19: error: unknown variable 'zz'`);
  });

  it('shows control characters from the source escaped in the message and frame (issue 12, item 3)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.ad'), 'fn f(x) =\n  x + yy # \x1b[2A\x1b[0J\nfn g(x) = zz # \x1b]0;t\x07\n');
    writeFileSync(join(dir, 'main.js'), "export { f } from './m.ad';\n");
    const error = (await rollup({ input: join(dir, 'main.js'), plugins: [adcRollup()] }).catch((e: unknown) => e)) as RollupError;
    expect(error.frame).toBe('    x + yy # \\x1b[2A\\x1b[0J\n        ^~');
    expect(error.message).toContain('fn g(x) = zz # \\x1b]0;t\\x07');
    expect(`${error.message}\n${error.frame}`).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('with { dts: true }, writes model.d.ad.ts, which TypeScript uses for the .ad import', async () => {
    const dir = tempDir();
    cpSync(fixtures, dir, { recursive: true });
    const bundle = await rollup({ input: join(dir, 'main.js'), plugins: [adcRollup({ dts: true })] });
    await bundle.close();
    const declarations = declarationFileFor(join(dir, 'model.ad'));
    expect(declarations).toBe(join(dir, 'model.d.ad.ts'));
    expect(readFileSync(declarations, 'utf8')).toContain('export declare function residualGrad(a: number, b: number, x: number, y: number): { value: number; gradient: { a: number; b: number } };');
    // tsc with allowArbitraryExtensions; use.ts has @ts-expect-error lines that must be errors.
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { stdio: 'pipe' });
  });
});

describe('the esbuild plugin (adc-compiler/esbuild)', () => {
  it('bundles .ad imports, with a source map to the .ad file', async () => {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      sourcemap: 'external',
      outdir: join(tmpdir(), 'adc-esbuild-out'),
      plugins: [adcEsbuild()],
      logLevel: 'silent',
    });
    const js = result.outputFiles.find((f) => f.path.endsWith('.js'))!;
    const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'))!;
    expectWorks(await load(js.text));
    expectMapsToModel(map.text);
  });

  it("reports each compile error as esbuild's error, with file, line and column", async () => {
    const error = (await esbuild
      .build({ entryPoints: [badEntry], bundle: true, write: false, format: 'esm', plugins: [adcEsbuild()], logLevel: 'silent' })
      .catch((e: unknown) => e)) as esbuild.BuildFailure;
    expect(error.errors.map((m) => [m.pluginName, m.text, m.location?.file.endsWith('bad.ad'), m.location?.line, m.location?.column])).toEqual([
      ['adc', "unknown variable 'yy' [AD2001]", true, 3, 22],
      ['adc', "unknown variable 'zz' [AD2001]", true, 5, 18],
    ]);
    // Issue 12, item 19: the location is complete, so esbuild prints the line and a caret under the name.
    expect(error.errors.map((m) => [m.location?.lineText, m.location?.length])).toEqual([
      ['fn broken(x, y) = x * yy + 1', 2],
      ['fn other(x) = sin(zz)', 2],
    ]);
    const printed = (await esbuild.formatMessages(error.errors, { kind: 'error' })).join('\n');
    expect(printed).toContain('fn broken(x, y) = x * yy + 1');
    expect(printed).toMatch(/\n\s*╵\s{23}~~\n/);
  });

  it('counts esbuild columns in UTF-8 bytes and shows control characters escaped (item 19)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'm.ad'), 'fn f(x) =\n  x + é é # \x1b[2A\n');
    writeFileSync(join(dir, 'main.js'), "import { f } from './m.ad';\nconsole.log(f(1));\n");
    const error = (await esbuild
      .build({ entryPoints: [join(dir, 'main.js')], bundle: true, write: false, format: 'esm', plugins: [adcEsbuild()], logLevel: 'silent' })
      .catch((e: unknown) => e)) as esbuild.BuildFailure;
    expect(error.errors.filter((m) => m.text.endsWith('[AD1001]')).map((m) => m.location && [m.location.line, m.location.column, m.location.length, m.location.lineText])).toEqual([
      [2, 6, 2, '  x + é é # \\x1b[2A'],
      [2, 9, 2, '  x + é é # \\x1b[2A'],
    ]);
    for (const m of error.errors) expect(m.location?.lineText).not.toMatch(/[\x00-\x1f]/);
  });
});

/** Runs webpack (production, ES module output) into a temporary folder. */
async function runWebpack(entryFile: string, options: AdcPluginOptions = {}): Promise<{ stats: webpack.Stats; dir: string }> {
  const dir = tempDir();
  const compiler = webpack({
    mode: 'production',
    context: fixtures,
    entry: entryFile,
    devtool: 'source-map',
    cache: false,
    output: { path: dir, filename: 'bundle.mjs', library: { type: 'module' } },
    experiments: { outputModule: true },
    plugins: [adcWebpack(options)],
  });
  const stats = await new Promise<webpack.Stats>((resolve, reject) => compiler.run((error, s) => (error ? reject(error) : resolve(s!))));
  await new Promise((resolve) => compiler.close(resolve));
  return { stats, dir };
}

describe('the webpack plugin (adc-compiler/webpack)', () => {
  it('bundles .ad imports, with a source map to the .ad file', async () => {
    const { stats, dir } = await runWebpack(entry);
    expect(stats.hasErrors(), stats.toString()).toBe(false);
    expectWorks((await import(/* @vite-ignore */ pathToFileURL(join(dir, 'bundle.mjs')).href)) as Bundle);
    expectMapsToModel(readFileSync(join(dir, 'bundle.mjs.map'), 'utf8'));
  });

  it("reports a compile error as webpack's error, with file, line and column", async () => {
    const { stats } = await runWebpack(badEntry);
    expect(stats.hasErrors()).toBe(true);
    const errors = stats.toJson({ errors: true }).errors!;
    expect(errors).toHaveLength(1);
    expect(errors[0].moduleName).toBe('./bad.ad');
    expect(errors[0].message).toContain(`${join(fixtures, 'bad.ad')}:3:23: error: unknown variable 'yy' [AD2001]`);
    expect(errors[0].message).toContain(`${join(fixtures, 'bad.ad')}:5:19: error: unknown variable 'zz' [AD2001]`);
  });
});

describe('the Vite plugin (adc-compiler/vite)', () => {
  const build = (input: string) =>
    viteBuild({
      root: fixtures,
      configFile: false,
      logLevel: 'silent',
      plugins: [adcVite()],
      build: { write: false, sourcemap: true, minify: false, lib: { entry: input, formats: ['es'], fileName: 'bundle' } },
    }) as Promise<Rollup.RollupOutput[]>;

  it('bundles .ad imports, with a source map to the .ad file', async () => {
    const [{ output }] = await build(entry);
    expectWorks(await load(output[0].code));
    expectMapsToModel(output[0].map as SourceMapInput);
  });

  it("reports a compile error as Vite's error, with file, line, column and a frame", async () => {
    const error = (await build(badEntry).catch((e: unknown) => e)) as RollupError;
    expect(error.message).toContain("unknown variable 'yy' [AD2001]");
    expect(error.loc).toEqual({ file: join(fixtures, 'bad.ad'), line: 3, column: 22 });
    expect(error.frame).toContain('^~');
  });
});

describe('{ checkArgs: true } (issue #12, item 20)', () => {
  /** The bundle's functions throw a TypeError naming function, parameter and value for a non-number. */
  function expectChecked(bundle: Bundle, checked: boolean): void {
    expectWorks(bundle);
    const call = () => (bundle.rosenGrad as (...args: unknown[]) => unknown)('1', 1);
    if (checked) expect(call).toThrow(new TypeError("rosenGrad: x must be a number, but is the string '1'"));
    else expect(call).not.toThrow();
  }

  it('makes every adapter check number arguments (Rollup, esbuild, webpack, Vite); off by default', async () => {
    for (const checkArgs of [true, false]) {
      const rolled = await rollup({ input: entry, plugins: [adcRollup({ checkArgs })] });
      expectChecked(await load((await rolled.generate({ format: 'es' })).output[0].code), checkArgs);
      await rolled.close();
    }
    const built = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', plugins: [adcEsbuild({ checkArgs: true })], logLevel: 'silent' });
    expectChecked(await load(built.outputFiles[0].text), true);
    const { stats, dir } = await runWebpack(entry, { checkArgs: true });
    expect(stats.hasErrors(), stats.toString()).toBe(false);
    expectChecked((await import(/* @vite-ignore */ pathToFileURL(join(dir, 'bundle.mjs')).href)) as Bundle, true);
    const [{ output }] = (await viteBuild({
      root: fixtures,
      configFile: false,
      logLevel: 'silent',
      plugins: [adcVite({ checkArgs: true })],
      build: { write: false, minify: false, lib: { entry, formats: ['es'], fileName: 'bundle' } },
    })) as Rollup.RollupOutput[];
    expectChecked(await load(output[0].code), true);
  });
});

it('leaves the fixtures as they were: declarations are written only when asked for', () => {
  expect(existsSync(join(fixtures, 'model.d.ad.ts'))).toBe(false);
});
