/**
 * A TypeScript project that imports the package's plugins type-checks without `skipLibCheck`: the
 * declarations of `adc-compiler/vite`, `/rollup`, `/esbuild` and `/webpack` name their bundler's
 * own types only, never unplugin's, whose declarations import optional peers (@farmfe/core,
 * @rspack/core, rolldown, unloader) that a project does not have. This checkout has none of them
 * installed either, so a declaration that leaked unplugin's types would fail here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const project = join(root, 'test', 'fixtures', 'plugin-types');

describe('the plugin entry points’ declarations', () => {
  it('name only their own bundler and the options file, never unplugin', () => {
    const bundler = { vite: 'vite', rollup: 'rollup', esbuild: 'esbuild', webpack: 'webpack' };
    for (const [entry, module] of Object.entries(bundler)) {
      const dts = readFileSync(join(root, 'dist', 'plugins', `${entry}.d.ts`), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      const imported = [...dts.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect(new Set(imported), entry).toEqual(new Set([module, './options.ts']));
    }
    expect(readFileSync(join(root, 'dist', 'plugins', 'options.d.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')).not.toMatch(/import|from/);
  });

  it('type-check in a project that imports all four and the API, with skipLibCheck off', () => {
    const config = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8')) as { compilerOptions: { skipLibCheck: boolean } };
    expect(config.compilerOptions.skipLibCheck).toBe(false);
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: root, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 180_000);
});
