/**
 * The REPL's :plot on hostile ranges (issue 12, item 14): `1e308 * x` hung the REPL (asciichart
 * stepped `y++` through rows near 1e308), -1e308..1e308 ran for minutes, 0..1e-320 threw
 * "Invalid array length", and nothing could be interrupted. The cases that hung run in a child
 * process with a time limit, so a regression fails instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Interpreter, renderPlot, Session, startRepl } from '../src/repl/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const slow = 'sum(i in 0..100000000: sin(x + i))';

/** Runs REPL entries in a child process (killed after `seconds`) and returns each reply. */
function transcriptInChild(entries: string[], seconds = 60): { replies: { text: string; error: boolean }[]; ms: number } {
  const script = `
    import { Interpreter } from './src/repl/index.ts';
    const it = new Interpreter();
    const replies = [];
    for (const e of ${JSON.stringify(entries)}) replies.push(await it.run(e));
    console.log(JSON.stringify(replies));`;
  const t0 = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: seconds * 1000 });
  const ms = performance.now() - t0;
  expect(run.error, `the child ran for ${(ms / 1000).toFixed(0)} s`).toBeUndefined();
  expect(run.stderr).toBe('');
  return { replies: JSON.parse(run.stdout) as { text: string; error: boolean }[], ms };
}

/** The y-axis labels of a chart's lines (the text before the axis). */
const labels = (chart: string) => [...chart.matchAll(/^ *(\S+) [┼┤]/gm)].map((m) => m[1]);

describe(':plot of extreme values and ranges finishes, with exact labels', () => {
  it('1e308 * x over -1..1, -1e308..1e308 and 0..1e-320', () => {
    const { replies } = transcriptInChild([
      'fn f(x) = 1e308 * x',
      ':plot f(x) for x in -1..1',
      ':plot x for x in -1e308..1e308',
      ':plot x for x in 0..1e-320',
      ':plot x for x in -5e-324..5e-324',
    ]);
    expect(replies.map((r) => r.error)).toEqual([false, false, false, false, false]);
    const [, big, wide, tiny, tiniest] = replies.map((r) => r.text);
    for (const text of [big, wide, tiny, tiniest]) expect(text).not.toContain('internal error');
    // The value's chart: from -1e308 to 1e308 in 10 steps of 2e307; the slope is 1e308 everywhere.
    const [values, slopes] = big.split('∂/∂x');
    expect(labels(values)).toEqual(['1.00e+308', '8.00e+307', '6.00e+307', '4.00e+307', '2.00e+307', '0', '-2.00e+307', '-4.00e+307', '-6.00e+307', '-8.00e+307', '-1.00e+308']);
    expect(labels(slopes)).toEqual(['1.00e+308']);
    expect(wide).toContain('x from -1e+308 to 1e+308');
    expect(labels(wide.split('∂/∂x')[0])[0]).toBe('1.00e+308');
    expect(labels(wide.split('∂/∂x')[0]).at(-1)).toBe('-1.00e+308');
    expect(labels(tiny.split('∂/∂x')[0])[0]).toBe('1.00e-320');
    expect(labels(tiny.split('∂/∂x')[1])).toEqual(['1']);
    expect(tiniest).toContain('x from -5e-324 to 5e-324');
  }, 90_000);
});

describe('points where the value is not finite are gaps, marked and counted', () => {
  it('1/x at 0 and log(x) below 0', () => {
    const samples = { xs: [-2, -1, 0, 1, 2], values: [-0.5, -1, Infinity, 1, 0.5], slopes: [-0.25, -1, -Infinity, -1, -0.25] };
    const text = renderPlot('1/x', 'x', samples, { height: 4 });
    const [values] = text.split('∂/∂x');
    const lines = values.split('\n').filter((l) => /[┼┤]/.test(l));
    // The steps into and out of x = 0 (columns 1 and 2 after the axis) are blank on every line.
    for (const line of lines) expect([...line.slice(12)].slice(1, 3).join('').trim()).toBe('');
    expect(values).toContain(`${' '.repeat(11)}  ^`);
    expect(values).toContain('(not finite at 1 of 5 points, marked ^ and left blank)');
    expect(labels(values)).toEqual(['1', '0.5', '0', '-0.5', '-1']);

    const nowhere = renderPlot('log(x)', 'x', { xs: [-2, -1], values: [NaN, NaN], slopes: [-0.5, -1] });
    expect(nowhere).toContain('(not a finite number anywhere in the range)');
  });

  it('samples -1e308..1e308 at finite, increasing points with exact ends', async () => {
    const r = await new Session().sample('x', 'x', '-1e308', '1e308', 9);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.xs[0]).toBe(-1e308);
    expect(r.xs.at(-1)).toBe(1e308);
    expect(r.xs[4]).toBe(0);
    for (let i = 1; i < r.xs.length; i++) expect(r.xs[i]).toBeGreaterThan(r.xs[i - 1]);
    expect(r.values).toEqual(r.xs);
    expect(r.slopes).toEqual(Array(9).fill(1));
  });

  it('at most 1,000 points, whatever the width asked', async () => {
    const r = await new Session().sample('x', 'x', '0', '1', 1e9);
    expect(r.ok && r.xs.length).toBe(1000);
  });
});

describe('a slow :plot stops: after its time limit, or at Ctrl+C', () => {
  it('stops after the time limit with a located error, and the session goes on', async () => {
    const interpreter = new Interpreter(new Session(), { plotTimeoutMs: 300 });
    const t0 = performance.now();
    const reply = await interpreter.run(`:plot ${slow} for x in 0..1`);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(reply.error).toBe(true);
    expect(reply.text).toContain('<repl>:1:7: error: stopped after 0.3 s: the expression is too slow to sample 60 times');
    expect((await interpreter.run('1 + 1')).text).toBe('2');
  }, 30_000);

  it('an aborted signal interrupts it', async () => {
    const interpreter = new Interpreter();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const reply = await interpreter.run(`:plot ${slow} for x in 0..1`, 1, { signal: controller.signal });
    expect(reply.text).toContain('interrupted (Ctrl+C): nothing was plotted');
  }, 30_000);

  it('Ctrl+C in an interactive session interrupts the plot, not the session', async () => {
    const [i, o] = [new PassThrough(), new PassThrough()];
    let out = '';
    o.on('data', (d) => (out += d));
    const done = startRepl({ input: i, output: o, terminal: true, color: false, historyFile: '' });
    const waitFor = async (text: string, from = 0) => {
      for (let t = 0; t < 1000 && !out.slice(from).includes(text); t++) await new Promise((r) => setTimeout(r, 10));
      expect(out.slice(from)).toContain(text);
    };
    await waitFor('adc> ');
    i.write(`:plot ${slow} for x in 0..1\n`);
    await new Promise((r) => setTimeout(r, 300));
    const before = out.length;
    i.write('\x03');
    await waitFor('interrupted (Ctrl+C)', before);
    // node:repl's own Ctrl+C ("press again to exit") was set aside during the plot, and is back.
    expect(out.slice(before)).not.toContain('To exit');
    const after = out.length;
    i.write('6 * 7\n');
    await waitFor('42', after);
    i.write(':quit\n');
    expect(await done).toBe(0);
  }, 30_000);
});
