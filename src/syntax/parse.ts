import type { IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';
import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { MessageId } from '../diagnostics/messages.ts';
import { span, type Span } from '../diagnostics/span.ts';
import { allStatements, childrenOf, statementExprs, type Expr, type Program } from './ast.ts';
import { checkDepth } from './check-depth.ts';
import { characterHabit, habitAt, tokenHabit, type Habit } from './habits.ts';
import { MAX_EXPRESSION_DEPTH } from './limits.ts';
import * as t from './lexer.ts';
import { allTokens, NumberLiteral, tokenize } from './lexer.ts';
import { parseTokens } from './parser.ts';

/**
 * Source text → AST. Lexer errors and every parse error the parser can recover from are reported;
 * the AST is returned only when there were none (later passes need a whole tree).
 */
export function parse(text: string, diagnostics: DiagnosticBag): Program | undefined {
  const { tokens, errors, foreign } = tokenize(text);
  // Offsets where a problem was already reported: a parse error at the next token is its echo.
  const reported: number[] = [];
  const report = (habit: Habit, at: Span) => (diagnostics.error as (id: MessageId, at: Span, ...args: string[]) => void)(habit.id, at, ...habit.args);
  for (const e of errors) {
    const run = text.slice(e.offset, e.offset + e.length);
    const habit = characterHabit(run);
    if (habit) report(habit, span(e.offset, e.offset + e.length));
    else diagnostics.error('unknownCharacter', span(e.offset, e.offset + e.length), describeCharacters(run));
    reported.push(e.offset);
  }
  // `// …`: the span is the `//` alone (the rest of the line is the comment's text).
  for (const tok of foreign) report(tokenHabit(tok)!, span(tok.startOffset, tok.startOffset + 2));
  for (const tok of tokens) {
    if (tok.tokenType !== NumberLiteral) {
      // Not a number.
    } else if (/[eE][+-]?$/.test(tok.image)) {
      diagnostics.error('invalidNumber', span(tok.startOffset, tokenEnd(tok)), tok.image);
      reported.push(tok.startOffset);
    } else if (Number(tok.image) === Infinity) {
      // 1e400 would silently become Infinity; 1e-400 becomes 0, which is a value, so it is a warning.
      diagnostics.error('numberTooLarge', span(tok.startOffset, tokenEnd(tok)), tok.image);
    } else if (Number(tok.image) === 0 && /[1-9]/.test(tok.image.replace(/[eE].*$/, ''))) {
      diagnostics.warning('numberUnderflows', span(tok.startOffset, tokenEnd(tok)), tok.image);
    }
    // `**`, `&&`, `||`, `!`: parsed as `^`, `and`, `or`, `not`, so this is their only report.
    const habit = tokenHabit(tok);
    if (habit) report(habit, span(tok.startOffset, tokenEnd(tok)));
  }
  if (!checkDepth(tokens, diagnostics)) return undefined;
  const { program, errors: parseErrors } = parseTokens(tokens);
  const endOfInput = tokens.length > 0 ? tokenEnd(tokens[tokens.length - 1]) : text.length;
  // Each token's index by offset, made only when there are errors to place.
  const indexOf = parseErrors.length === 0 ? new Map<number, number>() : new Map(tokens.map((tok, k) => [tok.startOffset, k]));
  const seen = new Set<number>();
  let statementHabit: number | undefined;
  for (const e of parseErrors) {
    const at = errorSpan(e.token, endOfInput);
    if (seen.has(at.start) || followsReported(tokens, at.start, reported)) continue;
    seen.add(at.start); // recovery may report the same spot twice
    const index = isEof(e.token) ? undefined : indexOf.get(e.token.startOffset);
    // Recovery restarts inside a statement already reported as an expression: nothing more to say of it.
    if (index !== undefined && statementHabit !== undefined && !statementBoundaryBetween(tokens, statementHabit, index)) continue;
    const habit = index === undefined ? undefined : habitAt(e, tokens, index);
    if (habit?.from !== undefined) statementHabit = index;
    if (habit) {
      report(habit, habit.from === undefined ? at : span(tokens[habit.from].startOffset, at.end));
      reported.push(at.start); // `x += 1`: the '=' after the '+' is its echo
    } else diagnostics.error('unexpectedToken', at, describeToken(e.token), index === 0 ? `'fn' to start a function` : expectedOf(e));
  }
  // (A parse error is always reported above, so `program` is there when nothing is.)
  if (diagnostics.hasErrors || program === undefined) return undefined;
  if (program.functions.length === 0) diagnostics.error('emptyFile', span(endOfInput, endOfInput));
  else checkExpressionDepth(program, diagnostics);
  return diagnostics.hasErrors ? undefined : program;
}

/** Whether a token strictly between `from` and `to` starts or ends a statement (a keyword that starts one, a brace). */
function statementBoundaryBetween(tokens: readonly IToken[], from: number, to: number): boolean {
  for (let k = from + 1; k < to; k++) if (statementBoundaries.has(tokens[k].tokenType)) return true;
  return false;
}
const statementBoundaries = new Set<TokenType>([t.Fn, t.Let, t.Return, t.Var, t.For, t.While, t.LBrace, t.RBrace]);

/** Whether the token at `offset` comes right after a reported character or number (no token between). */
function followsReported(tokens: readonly IToken[], offset: number, reported: readonly number[]): boolean {
  if (reported.length === 0) return false;
  let previousEnd = 0;
  for (const tok of tokens) {
    if (tok.startOffset >= offset) break;
    previousEnd = tok.startOffset;
  }
  return reported.some((r) => r >= previousEnd && r < offset);
}

/**
 * Measures each expression tree without recursion and reports one nested too deeply. A left
 * operand does not count as nesting: passes walk left-leaning chains (`x + x + … + x`, of any
 * length) in a loop (`leftSpine` in ast.ts), so only the other children cost stack.
 *
 * A statement at most MAX_EXPRESSION_DEPTH characters long is not walked: each level of nesting
 * holds at least one character its child does not (an operator, a name, a bracket, a keyword), so
 * its expressions are no deeper than it is long. Most statements are that short.
 */
function checkExpressionDepth(program: Program, diagnostics: DiagnosticBag): void {
  // Two parallel stacks rather than a stack of pairs: this walks every expression of the file.
  const exprs: Expr[] = [];
  const depths: number[] = [];
  for (const fn of program.functions) {
    for (const s of allStatements(fn.body)) {
      if (s.span.end - s.span.start <= MAX_EXPRESSION_DEPTH) continue;
      for (const e of statementExprs(s)) {
        exprs.push(e);
        depths.push(1);
      }
      while (exprs.length > 0) {
        const e = exprs.pop()!;
        const depth = depths.pop()!;
        if (depth > MAX_EXPRESSION_DEPTH) {
          diagnostics.error('expressionTooDeep', e.span, MAX_EXPRESSION_DEPTH);
          return;
        }
        for (const child of childrenOf(e)) {
          exprs.push(child);
          depths.push(e.kind === 'binary' && child === e.left ? depth : depth + 1);
        }
      }
    }
  }
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

/** `'@' (U+0040)`, or `'@#' (U+0040 U+0023)` for a run; control characters by code only. */
function describeCharacters(run: string): string {
  const points = [...run].map((ch) => ch.codePointAt(0)!);
  const hex = points.map((c) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
  const label = points.length === 1 ? 'character' : 'characters';
  if (points.includes(0xfffd)) return `${label} ${hex} (the file is not valid UTF-8 here)`;
  if (points.some((c) => c < 32 || c === 127 || c === 0xfeff)) return `${label} ${hex}`;
  return `${label} '${run}' (${hex})`;
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
  if (e.name === 'NotAllInputParsedException' || rule === 'program') return `an operator, or 'fn' to start a function`;
  switch (rule) {
    case 'functionDecl':
      return `'=' or '{' to start the function body`;
    case 'statement':
    case 'block':
      return `'let', 'var', 'for', 'while', 'if', an assignment, 'return' or '}'`;
    default:
      return 'an expression';
  }
}

const tokenLabels: Record<string, string> = {
  ...Object.fromEntries(allTokens.map((tt: TokenType) => [tt.name, tt.LABEL ?? tt.name])),
  EOF: `an operator, or 'fn' to start a function`,
};
