import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { span, type Span } from '../diagnostics/span.ts';
import type { Program } from './ast.ts';
import { checkDepth } from './check-depth.ts';
import type { ProgramCstNode } from './cst.generated.d.ts';
import { allTokens, tokenize } from './lexer.ts';
import { parseTokens } from './parser.ts';
import { toAst } from './to-ast.ts';

/**
 * Source text → AST. Lexer errors and every parse error the parser can recover from are reported;
 * the AST is returned only when there were none (later passes need a whole tree).
 */
export function parse(text: string, diagnostics: DiagnosticBag): Program | undefined {
  const { tokens, errors } = tokenize(text);
  for (const e of errors) {
    const ch = text.slice(e.offset, e.offset + 1);
    diagnostics.error('unknownCharacter', span(e.offset, e.offset + 1), describeCharacter(ch, text.codePointAt(e.offset)!));
  }
  if (!checkDepth(tokens, diagnostics)) return undefined;
  const { cst, errors: parseErrors } = parseTokens(tokens);
  const endOfInput = tokens.length > 0 ? tokenEnd(tokens[tokens.length - 1]) : text.length;
  const seen = new Set<number>();
  for (const e of parseErrors) {
    const at = errorSpan(e.token, endOfInput);
    if (seen.has(at.start)) continue; // recovery may report the same spot twice
    seen.add(at.start);
    diagnostics.error('unexpectedToken', at, describeToken(e.token), expectedOf(e));
  }
  if (diagnostics.hasErrors) return undefined;
  const program = toAst(cst as ProgramCstNode, diagnostics);
  if (program.functions.length === 0) diagnostics.error('emptyFile', span(endOfInput, endOfInput));
  return diagnostics.hasErrors ? undefined : program;
}

function tokenEnd(tok: IToken): number {
  return tok.startOffset + tok.image.length;
}

function isEof(tok: IToken): boolean {
  return tok.tokenType === EOF || Number.isNaN(tok.startOffset);
}

function errorSpan(tok: IToken, endOfInput: number): Span {
  return isEof(tok) ? span(endOfInput, endOfInput) : span(tok.startOffset, tokenEnd(tok));
}

function describeCharacter(ch: string, codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  if (codePoint === 0xfffd) return `${hex} (the file is not valid UTF-8 here)`;
  return codePoint < 32 || codePoint === 127 ? hex : `'${String.fromCodePoint(codePoint)}' (${hex})`;
}

export function describeToken(tok: IToken): string {
  if (isEof(tok)) return 'end of input';
  switch (tok.tokenType.name) {
    case 'Identifier':
      return `name '${tok.image}'`;
    case 'NumberLiteral':
      return `number '${tok.image}'`;
    default:
      return `'${tok.image}'`;
  }
}

/** What the parser wanted, phrased for people: whole expressions rather than lists of tokens. */
function expectedOf(e: IRecognitionException): string {
  const rules = e.context.ruleStack;
  const rule = rules[rules.length - 1];
  const match = /-->\s*(\S+)\s*<--/.exec(e.message);
  if (e.name === 'MismatchedTokenException' && match) {
    const name = match[1];
    if (name === 'Identifier') return rule === 'param' ? 'a parameter name' : 'a name';
    return tokenLabels[name] ?? name;
  }
  if (e.name === 'NotAllInputParsedException') return `'fn' to start a function`;
  switch (rule) {
    case 'functionDecl':
      return `'=' or '{' to start the function body`;
    case 'statement':
    case 'block':
      return `'let', 'return' or '}'`;
    default:
      return 'an expression';
  }
}

const tokenLabels: Record<string, string> = {
  ...Object.fromEntries(allTokens.map((tt: TokenType) => [tt.name, tt.LABEL ?? tt.name])),
  EOF: `'fn' to start a function`,
};
