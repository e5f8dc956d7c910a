import type { IToken } from 'chevrotain';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { span } from '../diagnostics/span.ts';
import * as t from './lexer.ts';

import { MAX_NESTING } from './limits.ts';

/**
 * The parser recurses only at parentheses, brackets, argument lists and `if` (operator chains are loops), and
 * so do the passes after it. This scan bounds that recursion before parsing, so that no input can
 * overflow the stack: each open parenthesis, and each `if` or `not` in the current statement, counts a level.
 * It over-counts a chain of `if`s or `not`s in one statement (they are not always nested), which
 * only matters past the limit. Returns false, with a diagnostic at the offending token, when too deep.
 */
export function checkDepth(tokens: readonly IToken[], diagnostics: DiagnosticBag): boolean {
  const ifsPerLevel: number[] = [0];
  let depth = 0;
  for (const tok of tokens) {
    const type = tok.tokenType;
    if (type === t.LBrace) {
      // A block nests statements (a loop's body): a level, like a parenthesis, after ending the
      // `if`s and `not`s of the statement before it.
      depth -= ifsPerLevel[ifsPerLevel.length - 1];
      ifsPerLevel[ifsPerLevel.length - 1] = 0;
      depth++;
      ifsPerLevel.push(0);
    } else if (type === t.RBrace) {
      if (ifsPerLevel.length > 1) depth -= 1 + ifsPerLevel.pop()!;
    } else if (type === t.LParen || type === t.LBracket) {
      depth++;
      ifsPerLevel.push(0);
    } else if (type === t.RParen || type === t.RBracket) {
      if (ifsPerLevel.length > 1) depth -= 1 + ifsPerLevel.pop()!;
    } else if (type === t.If || type === t.Not) {
      depth++;
      ifsPerLevel[ifsPerLevel.length - 1]++;
    } else if (type === t.Fn || type === t.Let || type === t.Var || type === t.Return || type === t.For || type === t.While || type === t.Semicolon) {
      // A new statement ends the `if`s and `not`s of the current level. Parentheses left open stay
      // counted: the parser's error recovery works through them, at a cost that grows with depth.
      depth -= ifsPerLevel[ifsPerLevel.length - 1];
      ifsPerLevel[ifsPerLevel.length - 1] = 0;
    }
    if (depth > MAX_NESTING) {
      diagnostics.error('nestingTooDeep', span(tok.startOffset, tok.startOffset + tok.image.length), MAX_NESTING);
      return false;
    }
  }
  return true;
}
