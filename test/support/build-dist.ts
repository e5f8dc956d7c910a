/**
 * Vitest global setup: makes sure dist/ (what `npm install` builds and what `bin/adc.js`, the
 * package's subpaths such as `adc-compiler/register` and `adc-compiler/vite`, and the examples
 * run) is not older than src/. In CI `npm ci` has just built it; on a developer's machine this
 * rebuilds it after an edit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function staleFiles(dir: string): string[] {
  const stale: string[] = [];
  for (const entry of readdirSync(join(root, 'src', dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) stale.push(...staleFiles(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const built = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(root, 'src', rel)).mtimeMs) stale.push(rel);
    }
  }
  return stale;
}

export default function setup(): void {
  if (staleFiles('').length === 0 && !bundleStale()) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    // tsc still writes every file when it reports type errors (`npm run typecheck` reports them).
    const stale = staleFiles('');
    if (stale.length > 0) throw new Error(`could not build dist/ (stale: ${stale.join(', ')}): ${(error as Error).message}`);
  }
  // The second half of `npm run build`: the entry points as bundles (scripts/bundle.ts).
  execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'bundle.ts')], { cwd: root, stdio: 'pipe' });
}

/** Whether the bundled CLI entry is missing or older than the bundle script or a source file. */
function bundleStale(): boolean {
  const entry = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(entry) || !readFileSync(entry, 'utf8').includes('../chunks/')) return true;
  return statSync(join(root, 'scripts', 'bundle.ts')).mtimeMs > statSync(entry).mtimeMs;
}
