/**
 * The second half of `npm run build`: after `tsc` has written dist/ file by file (with the .d.ts
 * declarations), esbuild rewrites each entry point the package exposes as a bundle, sharing chunks
 * in dist/chunks/. Why: Node loads an ES module graph file by file, and chevrotain alone is about
 * 200 files (its lodash-es); bundled, `adc --version` loads one small file and `adc compile` a few
 * (see the start-up table in the README). The bundles keep the entries' paths, so bin/adc.js and
 * package.json "exports" are unchanged.
 *
 * Bundled: adc's own code, chevrotain and commander (loaded on every run). Left as imports: the
 * packages loaded only for one feature (prettier when formatting, @viz-js/viz for explain --graph,
 * asciichart for :plot, unplugin for the plugins).
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };

/** What stays an import (only loaded by one feature); everything else used at run time is bundled. */
export const external = ['prettier', '@viz-js/viz', 'asciichart', 'unplugin'];

/** The entry points: every path package.json "exports" or bin/adc.js names, and the loader's hooks. */
export const entryPoints = [
  'src/index.ts',
  'src/cli/main.ts',
  'src/plugins/vite.ts',
  'src/plugins/rollup.ts',
  'src/plugins/esbuild.ts',
  'src/plugins/webpack.ts',
  'src/register/index.ts',
  'src/register/hooks.ts',
];

/** src/version.ts reads ../package.json beside itself; a chunk in dist/chunks/ is elsewhere, so the version is written in. */
const inlineVersion: Plugin = {
  name: 'inline-version',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
      contents: `export const version = ${JSON.stringify(pkg.version)};\n`,
      loader: 'ts',
    }));
  },
};

// Chunk names carry a content hash: clear the old ones so dist/ holds only this build's.
rmSync(new URL('dist/chunks', root), { recursive: true, force: true });

await build({
  absWorkingDir: new URL('.', root).pathname,
  entryPoints,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external,
  plugins: [inlineVersion],
  // commander is CommonJS and calls require('node:events'); an ES module has no `require`, so
  // each file gets one (esbuild's documented recipe for bundling CommonJS into ESM for Node).
  banner: { js: "import { createRequire as $adcCreateRequire } from 'node:module';\nconst require = $adcCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
