/**
 * The bundler plugin (src/plugins/): one unplugin factory, run through each adapter (Rollup,
 * esbuild, webpack, Vite) on test/fixtures/bundle. Each must bundle `import … from './model.ad'`
 * into working code with a source map back to the .ad file, and report compile errors as the
 * bundler's own errors, with file, line and column.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { declarationFileFor } from '../src/plugins/unplugin.ts';
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
  });
});

/** Runs webpack (production, ES module output) into a temporary folder. */
async function runWebpack(entryFile: string): Promise<{ stats: webpack.Stats; dir: string }> {
  const dir = tempDir();
  const compiler = webpack({
    mode: 'production',
    context: fixtures,
    entry: entryFile,
    devtool: 'source-map',
    cache: false,
    output: { path: dir, filename: 'bundle.mjs', library: { type: 'module' } },
    experiments: { outputModule: true },
    plugins: [adcWebpack()],
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

it('leaves the fixtures as they were: declarations are written only when asked for', () => {
  expect(existsSync(join(fixtures, 'model.d.ad.ts'))).toBe(false);
});
