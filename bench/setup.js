/**
 * Installs the benchmark's peers (bench/package.json: TensorFlow.js and its wasm backend, jax-js,
 * math.js, tinybench) into bench/node_modules with `npm ci --prefix bench`, from bench's own
 * lockfile: the checkout's `npm ci` does not pull them, and no test needs them.
 *
 * `npm run bench` runs this first; it installs only when bench/node_modules is missing or older
 * than bench/package-lock.json. `npm run bench:setup` (`--force`) always reinstalls, then
 * type-checks bench/ (bench/tsconfig.json), which needs the peers' declarations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const lock = join(benchDir, 'package-lock.json');
// npm writes this file last when it installs: its age is the installation's.
const installed = join(benchDir, 'node_modules', '.package-lock.json');

const current = existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs;
if (current && !process.argv.includes('--force')) process.exit(0);

console.log('Installing the benchmark peers into bench/node_modules (npm ci --prefix bench)…');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--prefix', benchDir, '--no-audit', '--no-fund'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) {
  console.error('bench/setup.js: `npm ci --prefix bench` failed; the benchmark needs its peers (bench/package.json).');
  process.exit(result.status ?? 1);
}
