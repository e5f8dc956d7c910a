/**
 * Start-up: what each command loads. `adc --version` and `--help` must answer without loading the
 * compiler, and importing the API or compiling must not load prettier unless formatting needs it.
 * These are properties of the module graph, checked on the built package (dist/, as bin/adc.js and
 * package.json "exports" run it), not timings: `npm run bench -- --only startup` times them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'adc-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Runs node with `args` and returns the files it loaded (relative to the repository), and its output. */
function loads(args: string[]): { files: string[]; stdout: string; status: number | null } {
  const log = join(dir, `loads-${++runs}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(root, 'test/support/record-loads.mjs')).href, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ADC_RECORD_LOADS: log },
  });
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u).slice(root.length + 1).split('\\').join('/'))
    .filter((f) => !f.startsWith('test/support/'));
  return { files, stdout: r.stdout, status: r.status };
}

/** Whether any loaded file is (or bundles) the compiler: its parser, or chevrotain. */
function loadsCompiler(files: readonly string[]): boolean {
  return files.some((f) => f.includes('chevrotain') || readFileSync(join(root, f), 'utf8').includes('performSelfAnalysis'));
}

describe('start-up: the module graph of each command', () => {
  it('adc --version and --help load neither the compiler nor prettier', () => {
    for (const flag of ['--version', '--help']) {
      const { files, stdout, status } = loads(['bin/adc.js', flag]);
      expect(status).toBe(0);
      expect(stdout).toContain(flag === '--version' ? '0.' : 'Usage: adc');
      expect(files).toContain('bin/adc.js');
      expect(loadsCompiler(files)).toBe(false);
      expect(files.filter((f) => f.includes('prettier'))).toEqual([]);
      // Bundled: a handful of files, not chevrotain's and commander's hundreds.
      expect(files.length).toBeLessThanOrEqual(4);
    }
  });

  it('adc compile loads the compiler, but not prettier for a file with only short lines', () => {
    const input = join(dir, 'one.ad');
    writeFileSync(input, 'fn f(x) = x^2\n');
    const { files, status } = loads(['bin/adc.js', 'compile', input]);
    expect(status).toBe(0);
    expect(loadsCompiler(files)).toBe(true);
    expect(files.filter((f) => f.includes('prettier'))).toEqual([]);
    expect(files.filter((f) => f.includes('node_modules'))).toEqual([]);
  });

  it('adc compile loads prettier when a line needs formatting', () => {
    const input = join(dir, 'long.ad');
    writeFileSync(input, `fn f(x) = ${Array.from({ length: 40 }, (_, i) => `sin(x * ${i + 1})`).join(' * ')}\n`);
    const { files, status } = loads(['bin/adc.js', 'compile', input]);
    expect(status).toBe(0);
    expect(files.some((f) => f.includes('node_modules/prettier/'))).toBe(true);
  });

  it("importing the API ('adc-compiler') loads the compiler from the bundle, without prettier or chevrotain's files", () => {
    const { files, status } = loads(['--input-type=module', '-e', "import 'adc-compiler';"]);
    expect(status).toBe(0);
    expect(files).toContain('dist/index.js');
    expect(loadsCompiler(files)).toBe(true);
    expect(files.filter((f) => f.includes('node_modules'))).toEqual([]);
  });
});
