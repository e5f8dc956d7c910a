/**
 * The playground's build (issue 18): `npm run playground` serves it, `npm run playground:build`
 * writes static files to playground/dist/. Relative asset paths (`base: './'`) so the folder works
 * from any URL path. The compiler is the same source as the CLI's (../src), bundled for the browser.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const versionFile = fileURLToPath(new URL('../src/version.ts', import.meta.url));

/**
 * The compiler's src/version.ts reads package.json through node:module's createRequire, which a
 * browser does not have; the page gets the same version as a constant instead (the only module
 * swapped: everything else is ../src as the CLI runs it).
 */
function versionConstant(): Plugin {
  return {
    name: 'adc-version-constant',
    enforce: 'pre',
    load: (id) => (id === versionFile ? `export const version = ${JSON.stringify(version)};` : undefined),
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [versionConstant()],
  worker: { format: 'es', plugins: () => [versionConstant()] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1' },
});
