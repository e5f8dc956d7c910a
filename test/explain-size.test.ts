/**
 * `adc explain --graph` on large functions (issue 12, item 15): Graphviz's layout took 3.5 s for
 * 30 lets, 328 s for 90, and ran out of memory for 1,200 with --expand. Past `maxSvgSize` nodes and
 * edges the SVG is refused with a message naming the DOT option; DOT is written at any size.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain, explainCommand, maxSvgSize, svgTooLarge, toDot, toSvg } from '../src/explain/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'adc-explain-size-'));

/** A chain of `n` lets, each using the one before, the one before that, and x: 3 nodes and 5 edges a let. */
function chain(n: number, call = false): string {
  const lets = ['  let v0 = x * y'];
  for (let i = 1; i < n; i++) lets.push(call ? `  let v${i} = g(v${i - 1}, x)` : `  let v${i} = sin(v${i - 1}) * v${Math.max(0, i - 2)} + x`);
  return `${call ? 'fn g(a, b) = a * b + sin(a)\n' : ''}fn f(x, y) {\n${lets.join('\n')}\n  return v${n - 1}\n}\n`;
}

async function command(source: string, graph: string, expand = false) {
  const file = join(dir, `${graph}.ad`);
  writeFileSync(file, source);
  const out: string[] = [];
  const err: string[] = [];
  const path = join(dir, graph);
  const t0 = performance.now();
  const code = await explainCommand(file, 'f', { at: '0.5,0.7', graph: path, expand }, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n'), path, ms: performance.now() - t0 };
}

describe('explain --graph on large functions finishes in seconds', () => {
  it('90 lets (328 s before): the SVG is refused at once, saying how to get the DOT file', async () => {
    const r = await command(chain(90), 'ninety.svg');
    expect(r.ms).toBeLessThan(20_000);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `adc: error: the graph of 'f' has 270 nodes and 447 edges, too many to lay out as SVG in reasonable time (at most ${maxSvgSize} nodes and edges together); ` +
        `write it as DOT with --graph ${join(dir, 'ninety.dot')} and lay it out with Graphviz (dot -Tsvg ${join(dir, 'ninety.dot')} -o ${r.path}), or explain a smaller function`,
    );
    expect(r.out).toBe('');
    expect(existsSync(r.path)).toBe(false);
  }, 60_000);

  it('the DOT file of the same graph is written, with every node and edge', async () => {
    const r = await command(chain(90), 'ninety.dot');
    expect(r.code).toBe(0);
    const dot = readFileSync(r.path, 'utf8');
    expect(dot.match(/^ {2}"[^"]+" \[/gm)).toHaveLength(270);
    expect(dot.match(/ -> /g)).toHaveLength(447);
  }, 60_000);

  it('1,200 lets with --expand (out of memory before): refused as SVG, written as DOT', async () => {
    const svg = await command(chain(1200, true), 'large.svg', true);
    expect(svg.code).toBe(1);
    expect(svg.err).toContain('has 3600 nodes and 5997 edges, too many to lay out as SVG');
    const dot = await command(chain(1200, true), 'large.dot', true);
    expect(dot.code).toBe(0);
    expect(readFileSync(dot.path, 'utf8').match(/ -> /g)).toHaveLength(5997);
    expect(svg.ms + dot.ms).toBeLessThan(60_000);
  }, 120_000);

  it('the API refuses the same way: toSvg throws a RangeError, toDot works', async () => {
    const r = explain(chain(90), 'f', [0.5, 0.7]);
    expect(svgTooLarge(r)).toContain('270 nodes and 447 edges');
    await expect(toSvg(r)).rejects.toThrow(RangeError);
    expect(toDot(r)).toMatch(/^digraph/);
  });

  it('the largest graph allowed is laid out, in seconds', async () => {
    // The longest chain whose nodes and edges are within the limit.
    const largest = [...Array(60).keys()].map((n) => explain(chain(n + 1), 'f', [0.5, 0.7])).filter((r) => !svgTooLarge(r)).at(-1)!;
    const size = largest.nodes.length + largest.edges.length;
    expect(size).toBeLessThanOrEqual(maxSvgSize);
    expect(size).toBeGreaterThan(maxSvgSize - 10);
    const t0 = performance.now();
    const svg = await toSvg(largest);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(svg).toContain('<svg');
  }, 60_000);
});

describe('explain of loops and arrays keeps the same limits', () => {
  const loops = readFileSync(new URL('../examples/loops.ad', import.meta.url), 'utf8');

  it('an unrolled loop past the SVG limit is refused as SVG and written as DOT; a small one is drawn', async () => {
    const run = async (steps: number, graph: string) => {
      const file = join(dir, 'loops.ad');
      writeFileSync(file, loops);
      const err: string[] = [];
      const code = await explainCommand(file, 'oscillate', { at: `k=2,x0=1,v0=0.5,dt=0.1,steps=${steps}`, graph: join(dir, graph), forward: 'k' }, { out: () => {}, err: (l) => err.push(l) });
      return { code, err: err.join('\n'), path: join(dir, graph) };
    };
    // 5 nodes and 10 edges an iteration; the 5 inputs and -k besides.
    const svg = await run(30, 'oscillate30.svg');
    expect(svg.code).toBe(1);
    expect(svg.err).toContain("the graph of 'oscillate' has 156 nodes and 301 edges, too many to lay out as SVG");
    expect(existsSync(svg.path)).toBe(false);
    const dot = await run(30, 'oscillate30.dot');
    expect(dot.code).toBe(0);
    expect(readFileSync(dot.path, 'utf8')).toContain('label="t=29: x + dt * v\\n= ');
    const small = await run(2, 'oscillate2.svg');
    expect(small.code).toBe(0);
    expect(readFileSync(small.path, 'utf8')).toContain('t=1: x + dt * v');
  }, 60_000);
});
