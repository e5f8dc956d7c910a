/** `adc compile --watch`: recompiles on change, prints diagnostics, and keeps running after errors. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { watchFiles } from '../src/cli/watch.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adc-watch-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Polls until `check` returns true (or fails the test after `ms`). */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startWatch(files: string[], options: Parameters<typeof watchFiles>[1] = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const done = watchFiles(files, { color: false, debounceMs: 30, ...options }, { out: (s) => out.push(s), err: (s) => err.push(s) }, controller.signal);
  return { out, err, done, stop: () => controller.abort(), text: () => [...out, ...err].join('\n') };
}

describe('adc compile --watch', () => {
  it('compiles, then recompiles each change, reporting errors and carrying on after them', async () => {
    const dir = tempDir();
    const model = join(dir, 'model.ad');
    const output = join(dir, 'model.js');
    writeFileSync(model, 'fn f(x) = x^2\n');
    const w = startWatch([model], { dts: true });
    await until(() => w.out.some((l) => l.includes('watching')), 'the watch to start');
    expect(readFileSync(output, 'utf8')).toContain('function f(x)');
    expect(readFileSync(join(dir, 'model.d.ts'), 'utf8')).toContain('export declare function fGrad(x: number)');

    // An error: reported with its location; the last good output stays as it was.
    const good = readFileSync(output, 'utf8');
    writeFileSync(model, 'fn f(x) = x^2 + yy\n');
    await until(() => w.err.some((l) => l.includes("unknown variable 'yy'")), 'the error');
    expect(w.err.join('\n')).toContain(`${model}:1:17: error: unknown variable 'yy'`);
    expect(readFileSync(output, 'utf8')).toBe(good);

    // Fixed: compiled again.
    writeFileSync(model, 'fn f(x, const c) = c * x^3\n');
    await until(() => readFileSync(output, 'utf8').includes('function f(x, c)'), 'the fixed file to compile');
    await until(() => readFileSync(join(dir, 'model.d.ts'), 'utf8').includes('gradient: { x: number }'), 'the new declarations');

    w.stop();
    expect(await w.done).toBe(0);
  });

  it('sees an editor that saves by renaming a new file over the old, and a deleted file that comes back', async () => {
    const dir = tempDir();
    const model = join(dir, 'model.ad');
    const output = join(dir, 'model.js');
    writeFileSync(model, 'fn f(x) = x\n');
    const w = startWatch([model]);
    await until(() => w.out.some((l) => l.includes('watching')), 'the watch to start');

    writeFileSync(join(dir, '.model.ad.swp'), 'fn renamed(x) = 2 * x\n');
    renameSync(join(dir, '.model.ad.swp'), model);
    await until(() => readFileSync(output, 'utf8').includes('function renamed(x)'), 'the renamed file to compile');

    unlinkSync(model);
    await until(() => w.err.some((l) => l.includes('cannot read')), 'the missing file to be reported');
    writeFileSync(model, 'fn back(x) = 3 * x\n');
    await until(() => readFileSync(output, 'utf8').includes('function back(x)'), 'the file to compile again');

    w.stop();
    expect(await w.done).toBe(0);
  });

  it('recompiles only the file that changed, and ignores other files in the folder', async () => {
    const dir = tempDir();
    const [a, b] = [join(dir, 'a.ad'), join(dir, 'b.ad')];
    writeFileSync(a, 'fn a(x) = x\n');
    writeFileSync(b, 'fn b(x) = x\n');
    const w = startWatch([a, b]);
    await until(() => w.out.some((l) => l.includes('watching 2 files')), 'the watch to start');
    w.out.length = 0;
    writeFileSync(join(dir, 'notes.txt'), 'not an input\n');
    writeFileSync(b, 'fn b(x) = 2 * x\n');
    await until(() => w.out.some((l) => l.includes(`${b} → `)), 'b to compile');
    await new Promise((r) => setTimeout(r, 150));
    expect(w.out.filter((l) => l.includes(' → '))).toEqual([`${b} → ${join(dir, 'b.js')}`]);
    w.stop();
    await w.done;
  });

  it('passes --check-args on: the outputs check number arguments (issue #12, item 20)', async () => {
    const dir = tempDir();
    const model = join(dir, 'model.ad');
    writeFileSync(model, 'fn f(x) = x + 1\n');
    const child = spawn(process.execPath, [join(root, 'bin', 'adc.js'), 'compile', '--watch', '--check-args', '--no-color', model], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until(() => text.includes('watching'), 'the watch to start');
      expect(readFileSync(join(dir, 'model.js'), 'utf8')).toContain("$number(x, 'f: x');");
      writeFileSync(model, 'fn f(x, y) = x + y\n');
      await until(() => readFileSync(join(dir, 'model.js'), 'utf8').includes("$number(y, 'f: y');"), 'the change to compile, checked');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('runs from the command line until interrupted', async () => {
    const dir = tempDir();
    const model = join(dir, 'model.ad');
    writeFileSync(model, 'fn f(x) = x +\n');
    const child = spawn(process.execPath, [join(root, 'bin', 'adc.js'), 'compile', '--watch', '--no-color', model], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until(() => text.includes('watching'), 'the watch to start');
      expect(text).toContain('1 of 1 failed');
      expect(existsSync(join(dir, 'model.js'))).toBe(false);
      writeFileSync(model, 'fn f(x) = x + 1\n');
      await until(() => existsSync(join(dir, 'model.js')), 'the fixed file to compile');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
