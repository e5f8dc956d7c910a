/**
 * Habits from other languages, recognised so that the message says how .ad writes the same thing
 * (AD1007) instead of only what was unexpected. Two kinds:
 *
 * - tokens the lexer matches on purpose (`**`, `&&`, `||`, `!`, `// …`, see lexer.ts) and one
 *   character it does not know (`?`): `lexicalHabits` reports them all;
 * - places where the parser stopped: `habitAt` looks at the unexpected token and what is around it
 *   (`if x = 0`, an expression as the last statement of a block, `f(x) = …` without `fn`,
 *   `def`/`function`/`const` at the top level, `let a = 1, b = 2`, `x += 1`).
 *
 * Each entry is one row of a table, so adding a habit means adding a row and a test row.
 */
import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import type { MessageId } from '../diagnostics/messages.ts';
import * as t from './lexer.ts';

export interface Habit {
  readonly id: MessageId;
  readonly args: string[];
  /** Where the habit starts, when before the unexpected token (a token index): the message points there. */
  readonly from?: number;
}

/** Lexer tokens that stand for a habit, with the message for each. */
const habitTokens = new Map<TokenType, Habit>([
  [t.StarStar, { id: 'starStarPower', args: [] }],
  [t.AmpAmp, { id: 'logicalSymbol', args: ['&&', 'and'] }],
  [t.PipePipe, { id: 'logicalSymbol', args: ['||', 'or'] }],
  [t.Bang, { id: 'logicalSymbol', args: ['!', 'not'] }],
  [t.SlashComment, { id: 'slashComment', args: [] }],
]);

/** Characters the lexer rejects that are habits: the text of the lexer error → the message. */
const habitCharacters = new Map<string, Habit>([['?', { id: 'ternary', args: [] }]]);

export function tokenHabit(tok: IToken): Habit | undefined {
  return habitTokens.get(tok.tokenType);
}

export function characterHabit(run: string): Habit | undefined {
  return habitCharacters.get(run);
}

/** Words that define a function in other languages; `fn` does in .ad. */
const functionKeywords = new Set(['def', 'function', 'func', 'fun', 'lambda', 'sub', 'proc']);
/** Words that define a value at the top level elsewhere; an .ad file holds only functions. */
const valueKeywords = new Set(['const', 'let', 'var', 'val']);
/** `x += 1` and its kin, which .ad writes `x = x + 1`. */
const compoundOperators = new Set<TokenType>([t.Plus, t.Minus, t.Star, t.Slash, t.Caret]);
/** Tokens that can start an expression (a statement that forgot `return`). */
const expressionStarts = new Set<TokenType>([t.Identifier, t.NumberLiteral, t.LParen, t.Minus, t.Plus, t.If, t.Not, t.Bang]);

/**
 * The habit the parser tripped on, if the unexpected token `tokens[index]` looks like one. `rule` is
 * the grammar rule the parser was in.
 */
export function habitAt(e: IRecognitionException, tokens: readonly IToken[], index: number): Habit | undefined {
  const tok = tokens[index];
  if (tok === undefined) return undefined;
  const rules = e.context.ruleStack;
  const rule = rules[rules.length - 1];
  const next = tokens[index + 1];
  if (tok.tokenType === t.Equals && rules.includes('conditional')) return { id: 'assignInCondition', args: [] };
  // `x += 1`: the name was read as the start of an assignment, and '+' came where '=' was wanted.
  const previous = tokens[index - 1];
  if (rule === 'assignment' && previous?.tokenType === t.Identifier && compoundOperators.has(tok.tokenType) && next?.tokenType === t.Equals) {
    return { id: 'compoundAssignment', args: [tok.image, previous.image] };
  }
  // `a + 1` as a statement starts like an assignment `a = …`: the parser stops where it wanted `=`.
  if (rule === 'assignment' && tok.tokenType !== t.Equals) {
    const from = assignmentStart(tokens, index);
    if (from !== undefined) return { id: 'expressionStatement', args: [], from };
  }
  if (rule === 'block' || rule === 'statement') {
    if (tok.tokenType === t.Comma && lastStatementIsLet(tokens, index)) return { id: 'letList', args: [] };
    if (expressionStarts.has(tok.tokenType)) return { id: 'expressionStatement', args: [] };
  }
  if (rule === 'program' || e.name === 'NotAllInputParsedException') {
    const word = tok.image;
    if (functionKeywords.has(word)) return { id: 'foreignFunctionKeyword', args: [word] };
    if (valueKeywords.has(word)) return { id: 'topLevelValue', args: [word] };
    if (tok.tokenType === t.Identifier && next?.tokenType === t.LParen) return { id: 'missingFn', args: [word] };
  }
  return undefined;
}

/** The index of the name an assignment starts with, when `tokens[index]` follows its target (`a`, `y[i, j]`). */
function assignmentStart(tokens: readonly IToken[], index: number): number | undefined {
  let k = index - 1;
  if (tokens[k]?.tokenType === t.RBracket) {
    for (let depth = 0; k >= 0; k--) {
      const type = tokens[k].tokenType;
      if (type === t.RBracket) depth++;
      else if (type === t.LBracket && --depth === 0) break;
    }
    k--;
  }
  return tokens[k]?.tokenType === t.Identifier ? k : undefined;
}

/** Whether the statement that `tokens[index]` ends began with `let` (within the current block). */
function lastStatementIsLet(tokens: readonly IToken[], index: number): boolean {
  let depth = 0;
  for (let k = index - 1; k >= 0; k--) {
    const type = tokens[k].tokenType;
    if (type === t.RParen || type === t.RBracket) depth++;
    else if (type === t.LParen || type === t.LBracket) depth--;
    else if (depth === 0 && (type === t.Let || type === t.Return || type === t.LBrace || type === t.Semicolon)) return type === t.Let;
  }
  return false;
}
