import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { helpersFor } from '../src/emit/js/helpers.ts';

/** Every helper's name (src/emit/js/helpers.ts), written out here: the reference below matches each by its own pattern. */
const names = [
  '$pool', '$work', '$describe', '$number', '$length', '$expect', '$columns', '$expectRows', '$rows', '$jacobianMode', '$tangentVector',
  '$tangentRows', '$cotangentRows', '$block', '$matrix', '$aliased', '$distinct', '$distinctRows', '$rowsDistinctFrom', '$distinctFromRows', '$into', '$intoRows',
];

/** The helpers a line names, by one regular expression per helper (the definition helpersFor's scan follows). */
const named = (line: string) => names.filter((n) => new RegExp(`(?<![\\w$])\\${n}(?![\\w$])`).test(line));

describe('helpersFor', () => {
  it('knows every helper listed here', () => {
    for (const n of names) expect(helpersFor([[`${n}(a);`]]).length, n).toBeGreaterThan(0);
  });

  it('finds the helpers one regular expression per helper finds, in lines of names, digits and punctuation', () => {
    const pieces = [...names, '$', 'd$', '$t4', '$dt12', 'x', '_', '2', 'λ', ' ', '(', ')', '.', '[0]', '$work$2', 'a$matrix', '$intoRowsX', '// '];
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((p) => p.join('')), { maxLength: 6 }), (lines) => {
        // The same helpers as a module naming exactly those the reference finds, one per line.
        const reference = lines.flatMap(named).map((n) => `${n}();`);
        expect(helpersFor([lines])).toEqual(helpersFor([reference]));
      }),
      { numRuns: 500 },
    );
  });

  it('reads every section', () => {
    expect(helpersFor([['const a = 1;'], ['$matrix(2, 3);']])).toEqual(helpersFor([['$matrix(2, 3);']]));
    expect(helpersFor([['const a = 1;']])).toEqual([]);
  });
});
