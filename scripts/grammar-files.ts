import { createSyntaxDiagramsCode } from 'chevrotain';
import { AdParser } from '../src/syntax/parser.ts';

/** The contents of every file generated from the grammar, keyed by repository path. */
export function generatedFiles(): Record<string, string> {
  // With Chevrotain's grammar validations, which the compiler's own parser skips: an ambiguous or
  // left-recursive grammar throws here, in `npm run grammar` and in test/grammar.test.ts.
  const parser = new AdParser({ validate: true });
  return {
    'grammar/diagrams.html': createSyntaxDiagramsCode(parser.getSerializedGastProductions()),
  };
}
