import { describe, expect, it } from 'vitest';
import { AdParser } from '../src/syntax/parser.ts';

describe('the parser', () => {
  // The compiler builds its parser with Chevrotain's validations skipped (they cost about half of
  // its construction and depend only on the grammar); they run here (and in `npm run grammar`), so
  // a grammar change that makes it ambiguous or left-recursive still fails the tests.
  it("passes Chevrotain's grammar validations", () => {
    const validated = new AdParser({ validate: true });
    // The flag reaches Chevrotain: this instance really ran them, the compiler's does not.
    expect((validated as unknown as { skipValidations: boolean }).skipValidations).toBe(false);
    expect((new AdParser() as unknown as { skipValidations: boolean }).skipValidations).toBe(true);
  });
});
