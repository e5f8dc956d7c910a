import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.ts';
import { formatCode } from '../src/emit/format.ts';

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
