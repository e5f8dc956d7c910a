import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { completions, Interpreter, isIncomplete, Session, startRepl } from '../src/repl/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adc-repl-'));

/** Runs entries one by one and returns what each printed. */
async function transcript(entries: readonly string[], interpreter = new Interpreter()): Promise<string[]> {
  const out: string[] = [];
  for (const e of entries) out.push((await interpreter.run(e)).text);
  return out;
}

/** A piped session through the programmatic entry point. */
async function piped(input: string, options: { load?: string[] } = {}): Promise<{ out: string; err: string; code: number }> {
  const [i, o, e] = [new PassThrough(), new PassThrough(), new PassThrough()];
  let out = '';
  let err = '';
  o.on('data', (d) => (out += d));
  e.on('data', (d) => (err += d));
  i.end(input);
  const code = await startRepl({ input: i, output: o, error: e, terminal: false, ...options });
  return { out, err, code };
}

const fSource = 'fn f(x, y) = x^2 * y + exp(x * y)';

describe('the transcript of the issue', () => {
  // The issue shows 0.5000000000000001 for sin(pi/4)^2; V8's Math.sin(Math.PI / 4) is 0.7071067811865475,
  // whose square JavaScript prints as 0.4999999999999999. The REPL prints what JavaScript computes.
  const sinSquared = String(Math.sin(Math.PI / 4) ** 2);

  it('prints each value as JavaScript does and aligns the gradient labels', async () => {
    const out = await transcript(['sin(pi/4)^2', fSource, 'f(1, 2)', 'grad f(1, 2)']);
    expect(out).toEqual([
      sinSquared,
      'defined f(x, y)',
      '9.38905609893065',
      ['value  9.38905609893065', '∂f/∂x  18.7781121978613', '∂f/∂y  8.38905609893065'].join('\n'),
    ]);
  });

  it('prints array gradients as the literals that would be typed for them', async () => {
    // ∂/∂x of c·Σ x_i² is 2c·x; ∂/∂A of Σ A_ij² is 2A (by hand).
    const out = await transcript([
      'fn s(x: vec[n], c) = c * sum(i: x[i]^2)',
      'grad s([1, 2, 3], 0.5)',
      'fn t(A: mat[m, n]) = sum(i: sum(j: A[i, j]^2))',
      'grad t([[1, 2], [3, 4]])',
    ]);
    expect(out).toEqual([
      'defined s(x, c)',
      ['value  7', '∂s/∂x  [1, 2, 3]', '∂s/∂c  14'].join('\n'),
      'defined t(A)',
      ['value  30', '∂t/∂A  [[2, 4], [6, 8]]'].join('\n'),
    ]);
  });

  it('shows the generated code and a plot', async () => {
    const [, code, plot] = await transcript([fSource, ':code f', ':plot f(x, 2) for x in -2..1']);
    expect(code).toContain('function f(x, y)');
    expect(code).toContain('function fGrad(x, y)');
    expect(code).not.toContain('export');
    expect(plot).toContain('f(x, 2), x from -2 to 1');
    expect(plot).toContain('∂/∂x f(x, 2)');
    expect(plot.split('\n').length).toBeGreaterThan(20);
    expect(plot).toMatch(/[╭╮╯╰─]/);
  });

  it(':code NAME shows every function compiled for NAME: for a vector function its Jacobian and the sweeps it calls', async () => {
    const [, code, other] = await transcript(['fn r(t, p: vec[n]) = [cos(t) * p[0], sin(t) * p[1]]', ':code r', 'fn s(x) = x^2']);
    for (const f of ['function r(t, p)', 'function rVjp($cotangent, t, p)', 'function r$jacobianColumns(t, p)', 'function rJacobian(t, p)']) expect(code).toContain(f);
    expect(other).toBe('defined s(x)');
  });

  it('is the same piped, with no prompt', async () => {
    const { out, err, code } = await piped(['sin(pi/4)^2', fSource, 'f(1, 2)', 'grad f(1, 2)', ''].join('\n'));
    expect(out).toBe(`${sinSquared}\ndefined f(x, y)\n9.38905609893065\nvalue  9.38905609893065\n∂f/∂x  18.7781121978613\n∂f/∂y  8.38905609893065\n`);
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});

describe('Session', () => {
  it('evaluates with the compiled module (the same numbers as fGrad)', async () => {
    const s = new Session();
    expect(s.define(fSource).ok).toBe(true);
    const g = await s.grad('f(0.5, -1.5)');
    expect(g.ok && g.value).toBe(0.25 * -1.5 + Math.exp(-0.75));
    const v = await s.evaluate('f(0.5, -1.5)');
    expect(v.ok && v.value).toBe(g.ok && g.value);
    expect(await s.evaluate('f(1, 2) > 9')).toMatchObject({ ok: true, value: true });
  });

  it('defines blocks over several lines', async () => {
    const s = new Session();
    const r = s.define('fn g(x) {\n  let a = x * x  # square\n  return a + 1\n}');
    expect(r.ok).toBe(true);
    expect(await s.evaluate('g(3)')).toMatchObject({ ok: true, value: 10 });
  });

  it('replaces a redefined function, and functions that call it use the new one', async () => {
    const s = new Session();
    s.define('fn f(x) = x^2');
    s.define('fn g(x) = f(x) + 1');
    expect(await s.evaluate('g(3)')).toMatchObject({ value: 10 });
    const r = s.define('fn f(x) = x^3');
    expect(r.ok && r.defined.map((d) => d.replaced)).toEqual([true]);
    expect(await s.evaluate('g(3)')).toMatchObject({ value: 28 });
    expect(await s.grad('g(3)')).toMatchObject({ gradient: [{ param: 'x', value: 27 }] });
    expect(s.names).toEqual(['f', 'g']);
  });

  it('refuses a redefinition that breaks another function, keeping the old one', async () => {
    const s = new Session();
    s.define('fn f(x) = x^2');
    s.define('fn g(x) = f(x) + 1');
    const r = s.define('fn f(x, y) = x * y');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.format()).toBe(["<repl>:1:11: error: 'f' takes 2 arguments, but 1 was given [AD3001]", '  fn g(x) = f(x) + 1', '            ^~~~'].join('\n'));
    expect(await s.evaluate('g(3)')).toMatchObject({ value: 10 });
  });

  it('never lets its own function names collide with a user function', async () => {
    const s = new Session();
    expect(s.define('fn __repl_value() = 1\nfn __repl__call(x) = x').ok).toBe(true);
    expect(await s.evaluate('__repl_value() + 1')).toMatchObject({ value: 2 });
    expect(await s.grad('__repl__call(2)')).toMatchObject({ value: 2 });
  });

  it('skips const parameters in a gradient', async () => {
    const s = new Session();
    s.define('fn h(x, const c) = c * x^2');
    expect(await s.grad('h(2, 3)')).toMatchObject({ value: 12, gradient: [{ param: 'x', value: 12 }] });
  });

  it('saves the functions as an .ad file, with their comments', () => {
    const s = new Session();
    s.define('# the model\nfn f(x) = x^2  # a square\nfn g(x) {\n  return f(x) + 1\n}');
    expect(s.source()).toBe('# the model\nfn f(x) = x^2 # a square\n\nfn g(x) {\n  return f(x) + 1\n}\n');
  });

  it('samples an expression and its derivative for a plot', async () => {
    const s = new Session();
    const r = await s.sample('x^2', 'x', '-1', '1', 5);
    expect(r).toMatchObject({ ok: true, xs: [-1, -0.5, 0, 0.5, 1], values: [1, 0.25, 0, 0.25, 1], slopes: [-2, -1, 0, 1, 2] });
  });
});

describe('errors', () => {
  it('points a caret at the column typed and keeps the session', async () => {
    const i = new Interpreter();
    const out = await transcript([fSource, 'f(1, zz)', 'grad f(1, zz)', 'fn f(x) = x +', 'f(1, 2)'], i);
    expect(out[1]).toBe(["<repl>:1:6: error: unknown variable 'zz' [AD2001]", '  f(1, zz)', '       ^~'].join('\n'));
    expect(out[2]).toBe(["<repl>:1:11: error: unknown variable 'zz' [AD2001]", '  grad f(1, zz)', '            ^~'].join('\n'));
    expect(out[3]).toBe(['<repl>:1:14: error: unexpected end of input, expected an expression [AD1002]', '  fn f(x) = x +', '               ^'].join('\n'));
    expect(out[4]).toBe('9.38905609893065');
  });

  it('gives piped errors the line of the input, inside blocks too', async () => {
    const { out, err, code } = await piped(`${fSource}\nfn g(x) {\n  let a = x\n  return a + b\n}\nf(1, 2)\n`);
    expect(err).toBe(["<stdin>:4:14: error: unknown variable 'b' [AD2001]", '    return a + b', '               ^', ''].join('\n'));
    expect(out).toBe('defined f(x, y)\n9.38905609893065\n');
    expect(code).toBe(1);
  });

  it('defines a function with array parameters, and says why it cannot call it with a number', async () => {
    const out = await transcript(['fn s(x: vec[n]) = sum(i: x[i]^2)', 's(3)']);
    expect(out[0]).toBe('defined s(x)');
    expect(out[1]).toBe(["<repl>:1:3: error: 's' expects an array for 'x' (vec[n]); pass the name of one [AD6012]", '  s(3)', '    ^'].join('\n'));
  });

  it('says what is wrong with a grad, a command or a range', async () => {
    const out = await transcript([fSource, 'grad sin(1)', 'grad 1 + f(1, 2)', ':cod f', ':plot x for x in 1..0', ':code g', '1 fn h(x) = x']);
    expect(out[1]).toContain("'sin' is a built-in function");
    expect(out[2]).toContain('grad takes a call');
    expect(out[3]).toContain("unknown command ':cod' (did you mean ':code'?)");
    expect(out[4]).toContain('the range must go from a smaller to a larger finite number');
    expect(out[4]).toContain('^~~~');
    expect(out[5]).toContain("no function 'g' is defined");
    expect(out[6]).toContain('<repl>:1:3: error: a function is defined in an entry of its own');
  });

  it('reports the errors of a loaded file at the file line', async () => {
    const file = join(dir, 'bad.ad');
    writeFileSync(file, 'fn ok(x) = x\n\nfn bad(x) = x + y\n');
    const reply = await new Interpreter().load(file);
    expect(reply.error).toBe(true);
    expect(reply.text).toContain(`${file}:3:17: error: unknown variable 'y'`);
  });

  it('is coloured when asked (a terminal)', async () => {
    const i = new Interpreter(new Session(), { color: true });
    const [, error, code] = await transcript([fSource, 'f(1, zz)', ':code f'], i);
    expect(error).toContain('\x1b[1;31m');
    expect(code).toContain('\x1b[35mfunction\x1b[0m');
  });
});

describe('commands', () => {
  it(':list shows the definitions as written', async () => {
    const out = await transcript(['fn f(x) = x^2', 'fn g(x) {\n  return f(x)\n}', ':list']);
    expect(out[2]).toBe('fn f(x) = x^2\nfn g(x) {\n  return f(x)\n}');
  });

  it(':code without a name shows the whole module', async () => {
    const [, code] = await transcript(['fn f(x) = x^2', ':code']);
    expect(code).toContain('export { f, fGrad };');
  });

  it(':save then :load round-trips', async () => {
    const file = join(dir, 'saved.ad');
    const first = await transcript(['# squares\nfn f(x) = x^2', 'fn g(x) {\n  let a = f(x)\n  return a + 1\n}', `:save ${file}`, ':list']);
    expect(first[2]).toBe(`saved 2 functions to ${file}`);
    const second = await transcript([`:load ${file}`, ':list', 'grad g(3)']);
    expect(second[0]).toBe(`loaded 2 functions from ${file}: f, g`);
    expect(second[1]).toBe(first[3]);
    expect(second[2]).toBe('value  10\n∂g/∂x  6');
    expect(readFileSync(file, 'utf8')).toBe('# squares\nfn f(x) = x^2\n\nfn g(x) {\n  let a = f(x)\n  return a + 1\n}\n');
  });

  it(':save writes through a link, keeps the mode, and escapes the name it shows (issue 12, items 1, 3, 17)', async () => {
    const target = join(dir, 'real-saved.ad');
    writeFileSync(target, 'old');
    chmodSync(target, 0o640);
    const link = join(dir, 'link-saved.ad');
    symlinkSync(target, link);
    const [, saved] = await transcript(['fn f(x) = x^2', `:save ${link}`]);
    expect(saved).toBe(`saved 1 function to ${link}`);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('fn f(x) = x^2\n');
    expect(statSync(target).mode & 0o777).toBe(0o640);
    const [, odd] = await transcript(['fn f(x) = x^2', `:save ${join(dir, 'odd\x1b[2A.ad')}`]);
    expect(odd).toBe(`saved 1 function to ${join(dir, 'odd\\x1b[2A.ad')}`);
  });

  it(':load and :save report a file they cannot read or write at the name typed, as any mistake in an entry', async () => {
    const [out] = await transcript([':load nowhere/missing.ad']);
    expect(out).toBe(["<repl>:1:7: error: cannot read 'nowhere/missing.ad': no such file or directory", '  :load nowhere/missing.ad', '        ^~~~~~~~~~~~~~~~~~'].join('\n'));
    const [folder] = await transcript([`:load ${dir}`]);
    expect(folder.split('\n')[0]).toBe(`<repl>:1:7: error: cannot read '${dir}': it is a directory`);
    const [, saved] = await transcript(['fn f(x) = x', `:save ${join(dir, 'no-such-folder', 'f.ad')}`]);
    expect(saved.split('\n')[0]).toBe(`<repl>:1:7: error: cannot write '${join(dir, 'no-such-folder', 'f.ad')}': no such file or directory`);
    // --load has no entry to point into: the CLI's one line.
    expect((await new Interpreter().load('nowhere/missing.ad')).text).toBe("adc: error: cannot read 'nowhere/missing.ad': no such file or directory");
  });

  it("says that commands start with ':' to someone typing help, quit or exit; node's .help works piped as at a terminal", async () => {
    const out = await transcript(['help', 'exit', 'quit', '.plot sin(x)', 'list = 2', 'list']);
    expect(out[0]).toBe(["<repl>:1:1: error: unknown variable 'help' [AD2001]", '  help', '  ^~~~', "adc's commands start with ':': type :help"].join('\n'));
    expect(out[1].split('\n').at(-1)).toBe("adc's commands start with ':': type :quit");
    expect(out[2].split('\n').at(-1)).toBe("adc's commands start with ':': type :quit");
    expect(out[3]).toBe(["<repl>:1:1: error: '.plot' is not an adc command: adc's commands start with ':' (:help lists them; :quit leaves)", '  .plot sin(x)', '  ^~~~~'].join('\n'));
    // A value of that name is a value: no hint where nothing failed.
    expect(out.slice(4)).toEqual(['list = 2', '2']);
    // The words node:repl's users know answer as at a terminal (README "The REPL").
    const [help, dotHelp] = await transcript([':help', '.help']);
    expect(dotHelp).toBe(help);
    const [loaded] = await transcript([`.load ${join(root, 'examples', 'seed.ad')}`]);
    expect(loaded).toMatch(/^loaded \d+ functions from /);
    expect((await new Interpreter().run('.exit')).quit).toBe(true);
  });

  it(":help's examples, typed in as shown, in order, all work (a newcomer's first session)", async () => {
    const [help] = await transcript([':help']);
    const lines = help.split('\n');
    const examples = lines.slice(1, lines.indexOf('Commands:'));
    // The entry column is 36 characters wide after the indent; the description follows it.
    const typed = examples.map((l) => l.slice(2, 38).trimEnd());
    const entries: string[] = [];
    for (const line of typed) {
      const last = entries.at(-1);
      if (last !== undefined && isIncomplete(last)) entries[entries.length - 1] = `${last}\n${line}`;
      else entries.push(line);
    }
    expect(entries.length).toBeGreaterThanOrEqual(12);
    const interpreter = new Interpreter();
    for (const entry of entries) {
      const reply = await interpreter.run(entry);
      expect(reply.error, `${entry}\n${reply.text}`).toBe(false);
    }
    expect((await interpreter.run('grad norm2(x)')).text).toBe('value      14\n∂norm2/∂v  [2, 4, 6]');
  });

  it(':clear forgets everything', async () => {
    const out = await transcript(['fn f(x) = x', 'fn g(x) = x', ':clear', ':list', 'f(1)']);
    expect(out[2]).toBe('cleared 2 functions');
    expect(out[3]).toContain('no functions yet');
    expect(out[4]).toContain("unknown function 'f'");
  });

  it(':plot takes expressions as bounds', async () => {
    const [plot] = await transcript([':plot sin(t) for t in 0..2*pi']);
    expect(plot).toContain(`sin(t), t from 0 to ${2 * Math.PI}`);
    expect(plot).toContain('∂/∂t sin(t)');
  });

  it('grad still calls a function the user named grad', async () => {
    const out = await transcript(['fn grad(x) = x + 1', 'grad(2)', 'grad (2)', 'grad grad(2)', '-0 * 1']);
    expect(out.slice(1)).toEqual(['3', '3', 'value     3\n∂grad/∂x  1', '-0']);
  });

  it(':help lists the commands', async () => {
    const [help] = await transcript([':help']);
    for (const c of [':help', ':list', ':code', ':load', ':save', ':clear', ':plot', ':quit']) expect(help).toContain(c);
  });
});

describe('input', () => {
  it('continues a block until its braces balance (comments aside)', () => {
    expect(isIncomplete('fn g(x) {')).toBe(true);
    expect(isIncomplete('fn g(x) {\n  let a = x  # }')).toBe(true);
    expect(isIncomplete('fn g(x) {\n  return x\n}')).toBe(false);
    expect(isIncomplete('f(1, 2)')).toBe(false);
    expect(isIncomplete(':load {')).toBe(false);
  });

  it('completes commands, built-ins, keywords and defined functions', () => {
    expect(completions(':c', [])).toEqual([[':clear', ':code'], ':c']);
    expect(completions('1 + si', ['sigma'])).toEqual([['sigma', 'sign', 'sin', 'sinh'], 'si']);
    expect(completions('fn h(x) = e', [])[0]).toEqual(['e', 'else', 'exp', 'expm1']);
    expect(completions('gr', ['graph'])[0]).toEqual(['grad', 'graph']);
    expect(completions(':code g', ['f', 'g1', 'g2'])).toEqual([['g1', 'g2'], 'g']);
    expect(completions(':load examples/se', [], root)).toEqual([['examples/seed.ad'], 'examples/se']);
    expect(completions('2e', [])).toEqual([[], '']);
  });
});

describe('startRepl', () => {
  it('piped: prints results only and exits 0', async () => {
    const { out, code } = await piped(`fn f(x) = x^2\n\n# a comment\ngrad f(3)\n:list\n`);
    expect(out).toBe('defined f(x)\nvalue  9\n∂f/∂x  6\nfn f(x) = x^2\n');
    expect(out).not.toContain('adc>');
    expect(code).toBe(0);
  });

  it('piped: exits 1 after an error line and goes on with the next lines', async () => {
    const { out, err, code } = await piped('1 +\n2 + 2\n');
    expect(out).toBe('4\n');
    expect(err).toContain('<stdin>:1:4: error');
    expect(code).toBe(1);
  });

  it('piped: loads files first, silently, and stops at :quit', async () => {
    const { out, code } = await piped('grad graph(2, 3)\n:quit\n1 +\n', { load: [join(root, 'examples/seed.ad')] });
    expect(out.split('\n')[0]).toMatch(/^value {7}-0\.57023324876894\d*$/);
    expect(out).toContain('∂graph/∂x1  18260.76273118');
    expect(code).toBe(0);
  });

  it('interactive: prompts, continues blocks, keeps history where ADC_HISTORY says', async () => {
    const historyFile = join(dir, 'history');
    const saved = process.env.ADC_HISTORY;
    process.env.ADC_HISTORY = historyFile;
    const [i, o] = [new PassThrough(), new PassThrough()];
    let out = '';
    o.on('data', (d) => (out += d));
    const done = startRepl({ input: i, output: o, terminal: true, color: false });
    if (saved === undefined) delete process.env.ADC_HISTORY;
    else process.env.ADC_HISTORY = saved;
    const waitFor = async (text: string) => {
      for (let t = 0; t < 200 && !out.includes(text); t++) await new Promise((r) => setTimeout(r, 10));
      expect(out).toContain(text);
    };
    await waitFor('adc> ');
    i.write('fn g(x) {\n');
    await waitFor('... ');
    i.write('  return x * 2\n}\n');
    await waitFor('defined g(x)');
    i.write('g(21)\n');
    await waitFor('42');
    i.write(':quit\n');
    expect(await done).toBe(0);
    await waitForFile(historyFile, 'g(21)');
  });
});

async function waitForFile(file: string, text: string): Promise<void> {
  for (let t = 0; t < 100 && !(existsSync(file) && readFileSync(file, 'utf8').includes(text)); t++) await new Promise((r) => setTimeout(r, 10));
  expect(readFileSync(file, 'utf8')).toContain(text);
}

describe('adc repl (the built command)', () => {
  beforeAll(() => {
    const newest = (d: string): number =>
      Math.max(...readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs)));
    const built = join(root, 'dist/repl/repl.js');
    if (!existsSync(built) || newest(join(root, 'src')) > statSync(built).mtimeMs) {
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
    }
  }, 120_000);

  it('runs piped input against a loaded file: results on stdout, errors on stderr, exit 1 after an error', () => {
    const run = spawnSync(process.execPath, ['bin/adc.js', 'repl', '--load', 'examples/seed.ad'], {
      cwd: root,
      input: 'grad appendix(2, 3)\nforward(1) > 0\nforward(1, 2)\n',
      encoding: 'utf8',
      env: { ...process.env, ADC_HISTORY: '' },
    });
    expect(run.stdout).toBe('value          0.2540962432866777\n∂appendix/∂x1  0.29958076032382003\n∂appendix/∂x2  -0.0846987477622259\ntrue\n');
    expect(run.stderr).toBe(["<stdin>:3:1: error: 'forward' takes 1 argument, but 2 were given [AD3001]", '  forward(1, 2)', '  ^~~~~~~~~~~~~', ''].join('\n'));
    expect(run.status).toBe(1);
  });
});

describe('values bound at the prompt (issue 17, item 11)', () => {
  it('binds numbers, vectors and matrices, and calls and differentiates array functions with them', async () => {
    // By hand: n2(v, k) = k·Σv_i², so ∂/∂v = 2k·v and ∂/∂k = Σv_i²; bil(A, u, v) = uᵀAv, so
    // ∂/∂u = Av and ∂/∂v = Aᵀu. With A = [[1, 2], [3, 4]], u = [1, 1], v = [1, -1]:
    // uᵀAv = (1 − 2) + (3 − 4) = −2, Av = [−1, −1], Aᵀu = [4, 6].
    const out = await transcript([
      'x = [1, 2, 3]',
      'A = [[1, 2], [3, 4]]',
      'let c = 2',
      'fn n2(v: vec[n], k) = k * sum(i: v[i]^2)',
      'n2(x, c)',
      'grad n2(x, c)',
      'fn bil(const A: mat[m, n], u: vec[m], v: vec[n]) = sum(i: sum(j: u[i] * A[i, j] * v[j]))',
      'u = [1, 1]',
      'grad bil(A, u, [1, -1])',
      'fn twice(p: vec[n]) = [2 * p[0], 2 * p[1]]',
      'w = twice(u)',
      'grad n2(w, 1)',
      'x',
      'c == 2',
      'c = c + 1',
      'c',
    ]);
    expect(out).toEqual([
      'x = [1, 2, 3]',
      'A = [[1, 2], [3, 4]]',
      'c = 2',
      'defined n2(v, k)',
      '28',
      ['value   28', '∂n2/∂v  [4, 8, 12]', '∂n2/∂k  14'].join('\n'),
      'defined bil(const A, u, v)',
      'u = [1, 1]',
      ['value    -2', '∂bil/∂u  [-1, -1]', '∂bil/∂v  [4, 6]'].join('\n'),
      'defined twice(p)',
      'w = [2, 2]',
      ['value   8', '∂n2/∂v  [4, 4]', '∂n2/∂k  8'].join('\n'),
      '[1, 2, 3]',
      'true',
      'c = 3',
      '3',
    ]);
  });

  it('plots with bound values; the plotted variable hides a value of the same name', async () => {
    const session = new Session();
    expect((await session.bind('x', '[1, 2, 3]')).ok).toBe(true);
    expect((await session.bind('top', '2')).ok).toBe(true);
    expect(session.define('fn n2(v: vec[n], k) = k * sum(i: v[i]^2)').ok).toBe(true);
    // n2(x, t) = 14t: slope 14 everywhere, from 0 to top = 2.
    const line = await session.sample('n2(x, t)', 't', '0', 'top', 5);
    if (!line.ok) throw new Error(line.problems.messages.join('\n'));
    expect(line.xs).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(line.values).toEqual([0, 7, 14, 21, 28]);
    expect(line.slopes).toEqual([14, 14, 14, 14, 14]);
    // `top^2 for top in 0..top`: the ends use the bound top (2), the expression the variable.
    const square = await session.sample('top^2', 'top', '0', 'top', 3);
    if (!square.ok) throw new Error(square.problems.messages.join('\n'));
    expect(square.xs).toEqual([0, 1, 2]);
    expect(square.slopes).toEqual([0, 2, 4]);
  });

  it('keeps functions and values apart, with a located message', async () => {
    const interpreter = new Interpreter();
    const out = await transcript([
      'fn f(t) = t',
      'f = 2',
      'c = 2',
      'fn c(t) = t',
      'fn g(t) = t * c',
      'sin = 1',
      'pi = 3',
      'if = 1',
      'b = 1 > 0',
      'y = zz + 1',
      'y =',
    ], interpreter);
    expect(out[1]).toContain("'f' is a function defined with fn; a value needs another name");
    expect(out[1]).toContain('<repl>:1:1');
    expect(out[3]).toContain("'c' is a value bound at the prompt (c = …); give the function another name");
    expect(out[3]).toContain('<repl>:1:4');
    expect(out[4]).toContain("unknown variable 'c': 'c' is a value bound at the prompt, which functions do not see; make it a parameter [AD2001]");
    expect(out[5]).toContain("'sin' is a built-in function");
    expect(out[6]).toContain("'pi' is a built-in constant");
    expect(out[7]).toContain("'if' is a keyword");
    expect(out[8]).toContain('not a condition');
    expect(out[8]).toContain('<repl>:1:5');
    expect(out[9]).toContain("unknown variable 'zz'");
    expect(out[10]).toContain('usage: NAME = EXPR');
    // Nothing failed changed the session: f is a function, c is 2, y is unbound.
    const after = await transcript(['f(5)', 'c', 'y'], interpreter);
    expect(after.slice(0, 2)).toEqual(['5', '2']);
    expect(after[2]).toContain("unknown variable 'y'");
  });

  it(':list shows the values, :clear forgets them, :help and completion know them', async () => {
    const interpreter = new Interpreter();
    const out = await transcript(['x = [1, 2]', 'fn f(t) = t', ':list', ':clear', 'x', ':help'], interpreter);
    expect(out[2]).toBe('fn f(t) = t\nx = [1, 2]');
    expect(out[3]).toBe('cleared 1 function and 1 value');
    expect(out[4]).toContain("unknown variable 'x'");
    expect(out[5]).toContain('x = [1, 2, 3]');
    expect(completions('1 + xs', ['xf'], root, ['xs1', 'y'])).toEqual([['xs1'], 'xs']);
    expect(completions(':code x', ['xf'], root, ['xs1'])).toEqual([['xf'], 'x']);
  });
});

describe('incremental steps: a line compiles what it reaches, not the session', () => {
  /** A session of `n` independent functions h0…h{n-1}, plus f ← g ← k (k calls g, g calls f). */
  function session(n: number): Session {
    const s = new Session();
    const loaded = s.define(Array.from({ length: n }, (_, i) => `fn h${i}(x) = x * ${i + 1}`).join('\n') + '\nfn f(x) = x^2\nfn g(x) = f(x) + 1\nfn k(x) = g(x) * 2');
    expect(loaded.ok).toBe(true);
    return s;
  }

  it('an expression, grad and :code compile only the functions called, directly or not', async () => {
    const s = session(200);
    expect(await s.evaluate('g(3)')).toEqual({ ok: true, value: 10 });
    expect(s.compiledLast).toEqual(['f', 'g']);
    const grad = await s.grad('k(3)');
    expect(grad.ok && grad.gradient).toEqual([{ param: 'x', value: 12 }]);
    expect(s.compiledLast).toEqual(['f', 'g', 'k']);
    expect(s.code('g').ok).toBe(true);
    expect(s.compiledLast).toEqual(['f', 'g']);
    expect(await s.evaluate('h7(2) + 1')).toEqual({ ok: true, value: 17 });
    expect(s.compiledLast).toEqual(['h7']);
  });

  it('a new function compiles with its callees; a replaced one with every function that calls it', async () => {
    const s = session(200);
    expect(s.define('fn m(x) = h3(x) + 1').ok).toBe(true);
    expect(s.compiledLast).toEqual(['h3', 'm']);
    expect(s.define('fn f(x) = x^3').ok).toBe(true);
    expect(s.compiledLast).toEqual(['f', 'g', 'k']);
    expect(await s.evaluate('k(2)')).toEqual({ ok: true, value: 18 });
    // A replacement that breaks a caller is refused, and the old function stays.
    const broken = s.define('fn f(x, y) = x * y');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.problems.messages).toEqual(["'f' takes 2 arguments, but 1 was given"]);
    expect(await s.evaluate('k(2)')).toEqual({ ok: true, value: 18 });
  });

  it('reports what compiling the whole session would: generated-name collisions and did-you-mean over every function', async () => {
    const s = session(50);
    const collision = s.define('fn h5Grad(x) = x');
    expect(collision.ok).toBe(false);
    expect(!collision.ok && collision.problems.items.map((p) => p.diagnostic.code)).toEqual(['AD2008']);
    const reverse = new Session();
    expect(reverse.define('fn qGrad(x) = x').ok).toBe(true);
    const other = reverse.define('fn q(x) = x');
    expect(!other.ok && other.problems.items.map((p) => p.diagnostic.code)).toEqual(['AD2008']);
    const typo = s.define('fn m(x) = h4O(x)');
    expect(!typo.ok && typo.problems.messages).toEqual(["unknown function 'h4O' (did you mean 'h4'?)"]);
    const typoInExpression = await s.evaluate('h4O(1)');
    expect(!typoInExpression.ok && typoInExpression.problems.messages).toEqual(["unknown function 'h4O' (did you mean 'h4'?)"]);
  });

  it('steps cost the same compile in a session of 10 and of 2,000 functions', async () => {
    for (const n of [10, 2_000]) {
      const s = session(n);
      expect(s.define('fn p(x) = f(x) + h1(x)').ok).toBe(true);
      expect(s.compiledLast).toEqual(['h1', 'f', 'p']);
      expect(await s.evaluate('p(2)')).toEqual({ ok: true, value: 8 });
      expect(s.compiledLast).toEqual(['h1', 'f', 'p']);
    }
  });
});
