/**
 * The README stands alone and its set-up commands are the ones CI runs: `.ci/run` must run exactly
 * the two lines of the README's first code block, every relative link must name a file of this
 * repository, and nothing may point outside it (a clone has no `../shared/`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileSync } from '../src/index.ts';
import { importCode } from './support/load.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The commands of a shell text: each line without its `# comment` and surrounding spaces. */
const commands = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

describe('README.md', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;

  it("starts with the two set-up commands, and .ci/run runs exactly those (after installing Chromium)", () => {
    expect(commands(firstBlock)).toEqual(['npm ci && node bin/adc.js compile examples/seed.ad && node examples/run-seed.mjs', 'npm test']);
    const ci = commands(readFileSync(join(root, '.ci', 'run'), 'utf8')).filter((line) => !/^(set|cd|\[ -x)\b/.test(line));
    expect(ci).toEqual(commands(firstBlock));
  });

  it('links only to files that exist in this repository, and never outside it', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/.test(href));
    expect(links.length).toBeGreaterThan(3);
    for (const href of links) {
      expect(href.startsWith('..'), href).toBe(false);
      expect(existsSync(join(root, href)), href).toBe(true);
    }
    expect(readme).not.toMatch(/shared\/seed|the seed document|the seed's/);
  });

  it('lists every dependency of the published package, every development one and every benchmark peer, under Dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const section = readme.slice(readme.indexOf('### Dependencies'));
    const [published, rest] = section.split('| package (dev) |');
    // The benchmark's peers are a package of their own (bench/package.json), in a third table.
    const [development, bench] = rest!.split('| package (bench/, on demand) |');
    const benchPkg = JSON.parse(readFileSync(join(root, 'bench', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const names = (text: string) => new Set([...text.matchAll(/^\| (.*?) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!)));
    expect(names(published!)).toEqual(new Set(Object.keys(pkg.dependencies)));
    expect(names(development!)).toEqual(new Set(Object.keys(pkg.devDependencies)));
    expect(names(bench!)).toEqual(new Set(Object.keys(benchPkg.dependencies)));
  });

  it('says what it does of unchecked number arguments: NaN by default, a TypeError with checkArgs', async () => {
    expect(readme).toContain('`energy(1)` returns NaN');
    const source = 'fn energy(x, y) = x^2 + y\n';
    const plain = (await importCode(compileSync(source).code!)) as Record<string, (...a: unknown[]) => number>;
    expect(plain.energy!(1)).toBeNaN();
    expect(plain.energy!('2', 1)).toBe(5);
    const checked = (await importCode(compileSync(source, { checkArgs: true }).code!)) as Record<string, (...a: unknown[]) => number>;
    expect(() => checked.energy!(1)).toThrow(TypeError);
    expect(() => checked.energy!(1)).toThrow(/energy.*y/);
    expect(checked.energy!(2, 1)).toBe(5);
  });

  it("its first command's compile-and-run step prints the published numbers", () => {
    const compiled = spawnSync(process.execPath, ['bin/adc.js', 'compile', 'examples/seed.ad', '-o', join(root, 'examples', 'seed.js')], { cwd: root, encoding: 'utf8' });
    expect(compiled.status, compiled.stderr).toBe(0);
    const ran = spawnSync(process.execPath, ['examples/run-seed.mjs'], { cwd: root, encoding: 'utf8' });
    expect(ran.stderr).toBe('');
    // Each printed value rounds to the published one beside it (to the digits published).
    const rows = ran.stdout.trim().split('\n');
    expect(rows).toHaveLength(4);
    for (const row of rows.slice(0, 3)) {
      const [, ours, published] = /= (\S+) +\(published: (\S+)\)/.exec(row)!;
      const decimals = published!.split('.')[1]!.length;
      expect(Math.abs(Number(ours) - Number(published)), row).toBeLessThanOrEqual(0.5 * 10 ** -decimals);
    }
  });
});
