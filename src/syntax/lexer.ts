import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(word: string): TokenType {
  return createToken({ name: word[0].toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
}

export const Fn = keyword('fn');
export const Let = keyword('let');
export const Return = keyword('return');
export const If = keyword('if');
export const Then = keyword('then');
export const Else = keyword('else');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const Const = keyword('const');
export const In = keyword('in');
export const Var = keyword('var');
export const For = keyword('for');
export const While = keyword('while');

/**
 * Numbers are matched generously (`1e`, `1e+` included) so that a malformed exponent is reported
 * as one invalid number instead of a number followed by a stray identifier. A dot followed by a
 * dot is a range: `0..n` is `0`, `..`, `n`.
 */
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /(?:\d+(?:\.(?!\.)\d*)?|\.\d+)(?:[eE][+-]?\d*)?/, label: 'a number' });

const punct = (name: string, pattern: RegExp, text: string) => createToken({ name, pattern, label: `'${text}'` });
export const LParen = punct('LParen', /\(/, '(');
export const RParen = punct('RParen', /\)/, ')');
export const LBrace = punct('LBrace', /\{/, '{');
export const RBrace = punct('RBrace', /\}/, '}');
export const LBracket = punct('LBracket', /\[/, '[');
export const RBracket = punct('RBracket', /\]/, ']');
export const Comma = punct('Comma', /,/, ',');
export const Colon = punct('Colon', /:/, ':');
/** The half-open range `a..b`; matched before numbers so that `..5` is not `.` then `.5`. */
export const DotDot = punct('DotDot', /\.\./, '..');
export const Semicolon = punct('Semicolon', /;/, ';');
export const LessEqual = punct('LessEqual', /<=/, '<=');
export const GreaterEqual = punct('GreaterEqual', />=/, '>=');
export const EqualEqual = punct('EqualEqual', /==/, '==');
export const NotEqual = punct('NotEqual', /!=/, '!=');
export const Less = punct('Less', /</, '<');
export const Greater = punct('Greater', />/, '>');
export const Equals = punct('Equals', /=/, '=');
export const Plus = punct('Plus', /\+/, '+');
export const Minus = punct('Minus', /-/, '-');
export const Star = punct('Star', /\*/, '*');
export const Slash = punct('Slash', /\//, '/');
export const Caret = punct('Caret', /\^/, '^');

/**
 * Operators and comments from other languages, matched so that each is reported with the .ad way
 * to write it (src/syntax/habits.ts). The operators belong to the category of their .ad
 * equivalent, so the parser goes on as if the .ad one had been written and reports nothing else.
 */
export const StarStar = createToken({ name: 'StarStar', pattern: /\*\*/, categories: [Caret], label: "'**'" });
export const AmpAmp = createToken({ name: 'AmpAmp', pattern: /&&/, categories: [And], label: "'&&'" });
export const PipePipe = createToken({ name: 'PipePipe', pattern: /\|\|/, categories: [Or], label: "'||'" });
export const Bang = createToken({ name: 'Bang', pattern: /!/, categories: [Not], label: "'!'" });
/** `// …` to the end of the line: kept out of the parser's tokens (group `foreign`) and reported. */
export const SlashComment = createToken({ name: 'SlashComment', pattern: /\/\/[^\r\n]*/, group: 'foreign' });

/** White space, including a byte-order mark at the start of a file. */
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, group: Lexer.SKIPPED });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Fn,
  Let,
  Return,
  If,
  Then,
  Else,
  And,
  Or,
  Not,
  Const,
  In,
  Var,
  For,
  While,
  Identifier,
  DotDot,
  NumberLiteral,
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Semicolon,
  LessEqual,
  GreaterEqual,
  EqualEqual,
  NotEqual,
  // After NotEqual, so that '!=' stays one token; before Star and Slash, which they begin with.
  Bang,
  AmpAmp,
  PipePipe,
  StarStar,
  SlashComment,
  Less,
  Greater,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Caret,
];

export const keywords: ReadonlySet<string> = new Set(['fn', 'let', 'return', 'if', 'then', 'else', 'and', 'or', 'not', 'const', 'in', 'var', 'for', 'while']);

export const adLexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: false });

export interface LexError {
  readonly offset: number;
  readonly length: number;
}

export function tokenize(text: string): { tokens: IToken[]; errors: LexError[]; foreign: IToken[] } {
  const result = adLexer.tokenize(text);
  return {
    tokens: result.tokens,
    errors: result.errors.map((e) => ({ offset: e.offset, length: e.length })),
    foreign: (result.groups.foreign as IToken[] | undefined) ?? [],
  };
}
