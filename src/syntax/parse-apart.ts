/**
 * After syntax errors, the functions that still parse, so their semantic errors can be reported in
 * the same run (as tsc does): one mistake on one line should not hide an unknown name on another.
 *
 * The tokens are cut at each `fn` (a keyword that starts nothing else) and each piece is parsed on
 * its own. A piece is kept only when it parses cleanly and holds none of the problems already
 * reported (an unknown character, a habit from another language, an invalid number), so the AST
 * passes never see a recovered, half-built tree. The names of the pieces that failed are returned
 * too: a call to one of them is not an unknown function, only one that could not be read.
 */
import type { IToken } from 'chevrotain';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { FunctionDecl, Program } from './ast.ts';
import { checkDepth } from './check-depth.ts';
import * as t from './lexer.ts';
import { parseTokens } from './parser.ts';

export interface Apart {
  /** The functions that parsed on their own, in source order. */
  readonly program: Program;
  /** The names of the functions that did not (when their `fn` is followed by a name), and of values defined outside a function. */
  readonly broken: ReadonlySet<string>;
}

export function parseApart(text: string, reported: readonly Diagnostic[]): Apart {
  const { tokens } = t.tokenize(text);
  const starts = tokens.flatMap((tok, k) => (tok.tokenType === t.Fn ? [k] : []));
  const functions: FunctionDecl[] = [];
  const broken = new Set<string>();
  for (let p = 0; p < starts.length; p++) {
    const piece = tokens.slice(starts[p], starts[p + 1] ?? tokens.length);
    const name = piece[1]?.tokenType === t.Identifier ? piece[1].image : undefined;
    // The piece owns the text up to the next `fn`, comments included (a `//` is reported there).
    const end = p + 1 < starts.length ? tokens[starts[p + 1]].startOffset : text.length + 1;
    const decl = parsePiece(piece, end, reported);
    if (decl) functions.push(decl);
    else if (name !== undefined) broken.add(name);
  }
  // `const a = 2` outside any function (reported as a habit): uses of `a` are not unknown names too.
  let depth = 0;
  for (let k = 0; k + 2 < tokens.length; k++) {
    const type = tokens[k].tokenType;
    if (type === t.Fn) depth = 0;
    else if (type === t.LBrace) depth++;
    else if (type === t.RBrace) depth--;
    else if (depth <= 0 && topLevelValue.has(tokens[k].image) && tokens[k + 1].tokenType === t.Identifier && tokens[k + 2].tokenType === t.Equals) {
      broken.add(tokens[k + 1].image);
    }
  }
  return { program: { functions }, broken };
}

/** Words that define a value outside a function in other languages. */
const topLevelValue = new Set(['const', 'let', 'var', 'val']);

function parsePiece(piece: IToken[], end: number, reported: readonly Diagnostic[]): FunctionDecl | undefined {
  const start = piece[0].startOffset;
  // A problem reported at the `fn` itself ("unexpected 'fn', expected an expression") belongs to
  // the function before, which did not end; any other inside the piece is its own.
  if (reported.some((d) => d.span.start > start && d.span.start < end)) return undefined;
  if (!checkDepth(piece, new DiagnosticBag())) return undefined;
  const { program, errors } = parseTokens(piece);
  if (errors.length > 0 || program === undefined) return undefined;
  return program.functions.length === 1 ? program.functions[0] : undefined;
}
