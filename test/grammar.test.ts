import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../scripts/grammar-files.ts';

describe('files generated from the grammar', () => {
  it.each(Object.entries(generatedFiles()))('%s is up to date (run `npm run grammar`)', (path, text) => {
    expect(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')).toBe(text);
  });
});
