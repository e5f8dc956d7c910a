/**
 * The file-path search (issue 12, items 1 and 2) in `npm test`: a bounded number of hostile file
 * names through the CLI and the API (test/support/file-paths.ts); `npm run fuzz` runs it for as
 * long as asked (test/fuzz/file-paths.fuzz.ts).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkApi, checkCli, fileNameProperty } from './support/file-paths.ts';

describe('hostile file names: nothing runs, the name reads back where it is shown', () => {
  it('the names of issue 12', async () => {
    for (const name of ['a\nglobalThis.PWNED=1;var q={js:[]};q.ad', 'a\rb.ad', 'a\u2028globalThis.PWNED=1;.ad', 'a\u2029b.ad', `q"'\`\\\${x}.ad`, '-leading.ad', 'é日本😀.ad', '\x1b[2A\x1b[0J.ad']) {
      checkApi(name);
      await checkCli({ folder: 'in', name });
    }
    checkApi('*/ globalThis.PWNED=1; /*.ad');
    checkApi('" .ad'); // found by the fuzz run with seed 388540099: a plain name read back as JSON

    await checkCli({ folder: '\n globalThis.PWNED=1; *', name: '\u2028globalThis.PWNED=1;.ad' });
  });

  it('random names (fast-check, 25 cases)', async () => {
    await fc.assert(fileNameProperty(), { numRuns: 25 });
  });
});
