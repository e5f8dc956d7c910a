/**
 * Regenerates the files derived from the Chevrotain grammar (never edit them by hand):
 *   grammar/diagrams.html          railroad diagrams of the grammar
 * Run with `npm run grammar`; `test/grammar.test.ts` fails when they are stale.
 */
import { writeFileSync } from 'node:fs';
import { generatedFiles } from './grammar-files.ts';

for (const [path, text] of Object.entries(generatedFiles())) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
