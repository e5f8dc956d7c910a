import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { arrayLinearChain } from '../bench/call-chains.ts';
import { main } from '../src/cli/main.ts';
import { compile, compileSync } from '../src/index.ts';
import { formatCode, prettierRuns } from '../src/emit/format.ts';
import { derivativeKinds } from '../src/derivatives.ts';

const dirs = ['../examples/', '../test/fixtures/'];
const corpus = dirs.flatMap((dir) => {
  const url = new URL(dir, import.meta.url);
  let names: string[] = [];
  try {
    names = readdirSync(url).filter((n) => n.endsWith('.ad'));
  } catch {
    // a folder that does not exist yet holds no cases
  }
  return names.map((n) => [`${dir.slice(3)}${n}`, readFileSync(new URL(n, url), 'utf8')] as const);
});

/** Sections of a long expression, so prettier really has lines to break. */
const longLine = `fn wide(a, b, c, d) = sin(a * b + c * d) * cos(a * c - b * d) + exp(a * b * c * d / 1000) * tanh(a + b + c + d) + atan2(a, b) * hypot(c, d)\n`;

describe('generated code is in prettier layout', () => {
  it.each([...corpus, ['long line', longLine] as const])('%s: formatting the output again changes nothing', async (_name, source) => {
    const result = await compile(source);
    if (result.code === undefined) return; // error fixtures have no code
    expect(await formatCode(result.code)).toBe(result.code);
  });

  it('a section with a line over 100 columns is broken by prettier', async () => {
    const raw = await compile(longLine, { format: false });
    const formatted = await compile(longLine);
    expect(raw.code!.split('\n').some((l) => l.length > 100)).toBe(true);
    expect(formatted.code!.split('\n').every((l) => l.length <= 100)).toBe(true);
  });
});

/**
 * Functions returning arrays: their sections hold doc comments longer than the print width, the
 * `if ($jacobianMode …) return f$jacobianColumns(x);` line (over 100 columns with these names) and the
 * seeds of the forward columns (`if (…) { const $k = …; … }`), which prettier lays out on several lines.
 */
const arrayChain = arrayLinearChain(3);
/** Two parameters, so the second one's columns are offset by the first one's size (`$b - n`, `$b - (n + 2)`). */
const offsets = 'fn g(a: vec[n], b: vec[2], c: vec[n]) {\n  let y[i] = a[i] * sum(j: b[j]) + c[i]\n  return y\n}\n';

describe('machine-written sections need no prettier', () => {
  it.each([
    ['array chain', arrayChain],
    ['parameter offsets', offsets],
  ])('%s, every derivative: prettier changes nothing in the unformatted output', async (_name, source) => {
    const raw = compileSync(source, { derivatives: [...derivativeKinds] });
    expect(raw.code).toBeDefined();
    // The case exercises what it is about: comments over the width, the broken `if`, the seeds' blocks.
    const lines = raw.code!.split('\n');
    expect(lines.some((l) => l.length > 100 && l.trimStart().startsWith('/**'))).toBe(true);
    expect(lines.some((l) => /^\s+const \$k = /.test(l))).toBe(true);
    if (source === arrayChain) expect(lines.some((l) => /^  if \(\$jacobianMode .*\)$/.test(l))).toBe(true);
    else expect(lines.some((l) => l.includes('- (n + 2)'))).toBe(true);
    expect(await formatCode(raw.code!)).toBe(raw.code);
    // and `compile` returns it as it is
    expect((await compile(source, { derivatives: [...derivativeKinds] })).code).toBe(raw.code);
  });

  it('adc compile runs prettier on no section of an array chain, and still on a long expression', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adc-format-'));
    try {
      const compileFile = async (name: string, source: string) => {
        writeFileSync(join(dir, name), source);
        const err: string[] = [];
        const before = prettierRuns.count;
        const code = await main(['compile', join(dir, name), '--derivatives', 'grad,jacobian,vjp'], { out: () => {}, err: (s) => err.push(s) });
        expect({ code, err }).toEqual({ code: 0, err: [] });
        return prettierRuns.count - before;
      };
      expect(await compileFile('chain.ad', arrayChain)).toBe(0);
      // (what compileSync's printer writes, but for the header line, which names the file)
      const body = (code: string) => code.slice(code.indexOf('\n'));
      expect(body(readFileSync(join(dir, 'chain.js'), 'utf8'))).toBe(body(compileSync(arrayChain, { derivatives: ['grad', 'jacobian', 'vjp'] }).code!));
      // The counter counts: a line prettier must break (a name no other test uses, so no memo answers).
      expect(await compileFile('wide.ad', longLine.replace('wide', 'wideForTheCounter'))).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
