/**
 * Issue 12's file and message items (2, 3, 17, 18): outputs never destroy an input whatever name
 * reaches it, all outputs of one input are written together, links are written through, control
 * characters in the source are shown escaped, and the API checks its arguments. Each test failed
 * before its fix.
 */
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { compile, compileSync, formatDiagnostics } from '../src/index.ts';

const GOOD = 'fn square(x) = x^2\n';
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adc-files-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err: err.flatMap((s) => s.split('\n')) };
}

describe('an input is never overwritten, whatever name reaches it (item 2)', () => {
  it('-o through a link to the input folder', async () => {
    const dir = tempDir();
    const input = join(dir, 'model.ad');
    writeFileSync(input, GOOD);
    symlinkSync('.', join(dir, 'alias'));
    const r = await run('compile', input, '-o', join(dir, 'alias', 'model.ad'));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`adc: error: refusing to overwrite the input '${input}' with its output '${join(dir, 'alias', 'model.ad')}' (the same file)`]);
    expect(readFileSync(input, 'utf8')).toBe(GOOD);
  });

  it('an input that is a link, compiled onto the file it points to; and a hard link', async () => {
    const dir = tempDir();
    const real = join(dir, 'real.ad');
    writeFileSync(real, GOOD);
    symlinkSync('real.ad', join(dir, 'link.ad'));
    linkSync(real, join(dir, 'hard.ad'));
    for (const [input, output] of [
      [join(dir, 'link.ad'), real],
      [real, join(dir, 'link.ad')],
      [real, join(dir, 'hard.ad')],
      [real, join(dir, '..', dir.split('/').at(-1)!, 'real.ad')],
    ]) {
      const r = await run('compile', input, '-o', output);
      expect(r.code, `${input} -o ${output}`).toBe(2);
      expect(r.err[0]).toMatch(/^adc: error: refusing to overwrite the input/);
    }
    expect(readFileSync(real, 'utf8')).toBe(GOOD);
    expect(readlinkSync(join(dir, 'link.ad'))).toBe('real.ad');
  });

  it("one input's output overwriting another input", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ad'), GOOD);
    writeFileSync(join(dir, 'a.js'), GOOD);
    const r = await run('compile', join(dir, 'a.ad'), join(dir, 'a.js'));
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/^adc: error: refusing to overwrite the input '.*a\.js'/);
    expect(readFileSync(join(dir, 'a.js'), 'utf8')).toBe(GOOD);
  });
});

describe('outputs (item 17)', () => {
  it('--out-dir with two inputs of the same name is refused, naming both, before anything is written', async () => {
    const dir = tempDir();
    for (const sub of ['a', 'b']) {
      mkdirSync(join(dir, sub));
      writeFileSync(join(dir, sub, 'model.ad'), GOOD);
    }
    const r = await run('compile', join(dir, 'a', 'model.ad'), join(dir, 'b', 'model.ad'), '--out-dir', join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `adc: error: '${join(dir, 'a', 'model.ad')}' and '${join(dir, 'b', 'model.ad')}' would both be written to '${join(dir, 'out', 'model.js')}'; compile them into different folders`,
    ]);
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('-o x.cjs is refused: the output is an ES module', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    const r = await run('compile', join(dir, 'model.ad'), '-o', join(dir, 'x.cjs'));
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain("would hold an ES module, which Node reads as CommonJS from a .cjs file; name it .js or .mjs");
    expect(readdirSync(dir)).toEqual(['model.ad']);
  });

  it('-o naming a folder with a trailing slash says it is a folder and what to do', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    const r = await run('compile', join(dir, 'model.ad'), '-o', `${join(dir, 'out')}/`);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain('is a folder; give -o a file name in it (such as model.js), or write into it with --out-dir');
    expect(readdirSync(dir)).toEqual(['model.ad']);
  });

  it('the output, its map and its declarations are written together or not at all', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    writeFileSync(join(dir, 'model.js'), 'old output');
    mkdirSync(join(dir, 'model.js.map')); // the map cannot be written
    const r = await run('compile', join(dir, 'model.ad'), '--dts', '--source-map');
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`adc: error: cannot write '${join(dir, 'model.js.map')}': it is a directory`]);
    expect(readdirSync(dir).sort()).toEqual(['model.ad', 'model.js', 'model.js.map']);
    expect(readFileSync(join(dir, 'model.js'), 'utf8')).toBe('old output');
  });

  it('an output that is a link is written through, and a replaced file keeps its mode', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    mkdirSync(join(dir, 'build'));
    writeFileSync(join(dir, 'build', 'model.js'), 'old');
    chmodSync(join(dir, 'build', 'model.js'), 0o640);
    symlinkSync(join('build', 'model.js'), join(dir, 'model.js'));
    const r = await run('compile', join(dir, 'model.ad'));
    expect(r.code).toBe(0);
    expect(readlinkSync(join(dir, 'model.js'))).toBe(join('build', 'model.js'));
    expect(readFileSync(join(dir, 'build', 'model.js'), 'utf8')).toContain('export { square, squareGrad };');
    expect(statSync(join(dir, 'build', 'model.js')).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, 'build'))).toEqual(['model.js']);
  });

  it('explain --graph errors are one line without the temporary file name', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    mkdirSync(join(dir, 'g.dot'));
    const r = await run('explain', join(dir, 'model.ad'), 'square', '--at', 'x=2', '--graph', join(dir, 'g.dot'));
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`adc: error: cannot write '${join(dir, 'g.dot')}': it is a directory`]);
  });

  it('explain --graph through a link to the input is refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.ad'), GOOD);
    symlinkSync('model.ad', join(dir, 'g.dot'));
    const r = await run('explain', join(dir, 'model.ad'), 'square', '--at', 'x=2', '--graph', join(dir, 'g.dot'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/^adc: error: refusing to overwrite the input/);
    expect(readFileSync(join(dir, 'model.ad'), 'utf8')).toBe(GOOD);
  });
});

describe('control characters in diagnostics are shown escaped (item 3)', () => {
  const source = 'fn f(x) =\n  x + \x1b[2A\x1b[0J\u2028 yy # \x9b31m\n';
  const printed = formatDiagnostics(compileSync(source).diagnostics, source, 'm\x1b]0;title\x07.ad');

  it('no raw control character reaches the terminal', () => {
    expect(printed).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/);
  });

  it('the escapes are shown, and the caret stays under the character, as wide as its escape', () => {
    const lines = printed.split('\n');
    const caretUnder = (header: string) => lines[lines.indexOf(header) + 2];
    expect(lines[0]).toBe('m\\x1b]0;title\\x07.ad:2:7: error: unknown character U+001B [AD1001]');
    const text = '    x + \\x1b[2A\\x1b[0J\\u2028 yy # \\x9b31m';
    expect(lines[1]).toBe(text);
    expect(caretUnder(lines[0])).toBe(`${' '.repeat(text.indexOf('\\x1b'))}^~~~`);
    expect(caretUnder('m\\x1b]0;title\\x07.ad:2:11: error: unknown character U+001B [AD1001]')).toBe(`${' '.repeat(text.lastIndexOf('\\x1b'))}^~~~`);
    expect(caretUnder("m\\x1b]0;title\\x07.ad:2:15: error: unknown character '\\u2028' (U+2028) [AD1001]")).toBe(`${' '.repeat(text.indexOf('\\u2028'))}^~~~~~`);
  });

  it('a token after escapes in a comment keeps its caret', () => {
    const s = 'fn f(x) = # \x1b[2A\x1b[0J\n  x + # \t\x1b[2A\n yy\n';
    const text = formatDiagnostics(compileSync(s).diagnostics, s, 'm.ad');
    expect(text).toBe(["m.ad:3:2: error: unknown variable 'yy' [AD2001]", '   yy', '   ^~'].join('\n'));
    const s2 = 'fn f(x) = x # \x1b[2A\n + \x1b yy\n';
    const lines = formatDiagnostics(compileSync(s2).diagnostics, s2, 'm.ad').split('\n');
    expect(lines[1]).toBe('   + \\x1b yy');
  });

  it('a generated comment quoting the source line shows them escaped too', () => {
    const code = compileSync('fn f(x) = x * x # \x1b[2A\x1b[0J\n').code!;
    expect(code).not.toContain('\x1b');
    expect(code).toContain('# \\x1b[2A\\x1b[0J');
  });
});

describe('the API checks its arguments (item 18)', () => {
  it('a source that is not a string is a TypeError saying what was passed', async () => {
    await expect(compile(Buffer.from(GOOD) as unknown as string)).rejects.toThrow(new TypeError('adc: compile(source, options) takes the .ad source text as a string, not a Buffer (decode it first: new TextDecoder().decode(bytes))'));
    await expect(compile(undefined as unknown as string)).rejects.toThrow(/^adc: compile\(source, options\) takes the \.ad source text as a string, not undefined$/);
    expect(() => compileSync(42 as unknown as string)).toThrow(TypeError);
    expect(() => compileSync(42 as unknown as string)).toThrow('not a number');
  });

  it('options of the wrong type are a TypeError naming the option', async () => {
    await expect(compile(GOOD, { sourceMap: 'yes' } as never)).rejects.toThrow('options.sourceMap must be a boolean, not a string');
    await expect(compile(GOOD, null as never)).rejects.toThrow('options must be an object, not null');
    expect(() => compileSync(GOOD, { filename: 3 } as never)).toThrow('options.filename must be a string, not a number');
    expect(() => compileSync(GOOD, { dts: 1 } as never)).toThrow(TypeError);
    expect(() => compileSync(GOOD, { checkArgs: 'yes' } as never)).toThrow('options.checkArgs must be a boolean, not a string');
  });

  it('undefined options and undefined fields take their defaults', async () => {
    expect((await compile(GOOD, undefined)).code).toContain('function square');
    expect(compileSync(GOOD, { filename: undefined, sourceMap: undefined }).code).toContain('function square');
  });
});
