import { CstParser, type CstNode, type IRecognitionException, type IToken } from 'chevrotain';
import * as t from './lexer.ts';

/**
 * The .ad grammar as a Chevrotain CST parser. It knows nothing of meaning: `to-ast.ts` is the only
 * code that reads the CST labels. Operator chains are parsed iteratively (MANY) and folded in
 * to-ast, so only parentheses, calls and `if` recurse; `check-depth.ts` bounds those first.
 */
export class AdParser extends CstParser {
  /**
   * `validate` runs Chevrotain's grammar validations (ambiguities, left recursion, …). They cost
   * about half of the parser's construction and depend only on the grammar, so the compiler skips
   * them and test/parser-build.test.ts (and `npm run grammar`) run them instead.
   */
  constructor(options: { validate?: boolean; recover?: boolean } = {}) {
    super(t.allTokens, { recoveryEnabled: options.recover !== false, maxLookahead: 2, skipValidations: options.validate !== true });
    this.performSelfAnalysis();
  }

  program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.functionDecl, { LABEL: 'functions' }));
  });

  functionDecl = this.RULE('functionDecl', () => {
    this.CONSUME(t.Fn);
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.CONSUME(t.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.param, { LABEL: 'params' });
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.param, { LABEL: 'params' });
      });
    });
    this.CONSUME(t.RParen);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Equals);
          this.SUBRULE(this.expression, { LABEL: 'body' });
        },
      },
      { ALT: () => this.SUBRULE(this.block, { LABEL: 'block' }) },
    ]);
  });

  param = this.RULE('param', () => {
    this.OPTION(() => this.CONSUME(t.Const, { LABEL: 'const' }));
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION2(() => {
      this.CONSUME(t.Colon);
      this.SUBRULE(this.arrayType, { LABEL: 'type' });
    });
  });

  /** `vec[n]`, `mat[m, n]`: the kind is an identifier, checked after parsing; sizes are names or integers. */
  arrayType = this.RULE('arrayType', () => {
    this.CONSUME(t.Identifier, { LABEL: 'kind' });
    this.CONSUME(t.LBracket);
    this.SUBRULE(this.size, { LABEL: 'sizes' });
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.size, { LABEL: 'sizes' });
    });
    this.CONSUME(t.RBracket, { LABEL: 'close' });
  });

  size = this.RULE('size', () => {
    this.OR([{ ALT: () => this.CONSUME(t.Identifier, { LABEL: 'name' }) }, { ALT: () => this.CONSUME(t.NumberLiteral, { LABEL: 'number' }) }]);
  });

  /** An index variable, with an optional half-open range: `i`, `i in 1..n`. */
  binder = this.RULE('binder', () => {
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(t.In);
      this.SUBRULE(this.expression, { LABEL: 'from' });
      this.CONSUME(t.DotDot);
      this.SUBRULE2(this.expression, { LABEL: 'to' });
    });
  });

  block = this.RULE('block', () => {
    this.CONSUME(t.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.statement, { LABEL: 'statements' });
      this.OPTION(() => this.CONSUME(t.Semicolon));
    });
    this.CONSUME(t.RBrace);
  });

  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStatement, { LABEL: 'let' }) },
      { ALT: () => this.SUBRULE(this.returnStatement, { LABEL: 'return' }) },
      { ALT: () => this.SUBRULE(this.varStatement, { LABEL: 'var' }) },
      { ALT: () => this.SUBRULE(this.forStatement, { LABEL: 'for' }) },
      { ALT: () => this.SUBRULE(this.whileStatement, { LABEL: 'while' }) },
      { ALT: () => this.SUBRULE(this.ifStatement, { LABEL: 'if' }) },
      { ALT: () => this.SUBRULE(this.assignment, { LABEL: 'assign' }) },
    ]);
  });

  /** `var x = e`, or an array variable with its type: `var y: vec[n] = y0`. */
  varStatement = this.RULE('varStatement', () => {
    this.CONSUME(t.Var);
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(t.Colon);
      this.SUBRULE(this.arrayType, { LABEL: 'type' });
    });
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  /** `x = e`, or an update of array elements: `y[i] = e` (every i), `y[j] = e` (one computed j). */
  assignment = this.RULE('assignment', () => {
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(t.LBracket);
      this.SUBRULE(this.expression, { LABEL: 'indices' });
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.expression, { LABEL: 'indices' });
      });
      this.CONSUME(t.RBracket);
    });
    this.CONSUME(t.Equals);
    this.SUBRULE3(this.expression, { LABEL: 'value' });
  });

  /** `for i in a..b { ... }`: the range is required (the checker says so when it is missing). */
  forStatement = this.RULE('forStatement', () => {
    this.CONSUME(t.For);
    this.SUBRULE(this.binder, { LABEL: 'binder' });
    this.SUBRULE(this.block, { LABEL: 'body' });
  });

  /**
   * `while cond max N { ... }`. `max` is not a keyword (it is also a function): it is the name
   * after the condition. Without it the statement still parses, and the checker asks for it.
   */
  whileStatement = this.RULE('whileStatement', () => {
    this.CONSUME(t.While);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.OPTION({
      GATE: () => this.LA(1).tokenType === t.Identifier && this.LA(1).image === 'max',
      DEF: () => {
        this.CONSUME(t.Identifier, { LABEL: 'max' });
        this.SUBRULE2(this.expression, { LABEL: 'limit' });
      },
    });
    this.SUBRULE(this.block, { LABEL: 'body' });
  });

  /** `if cond { ... } else { ... }`, `else if` chains included; the `else` is optional. */
  ifStatement = this.RULE('ifStatement', () => {
    this.CONSUME(t.If);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.SUBRULE(this.block, { LABEL: 'then' });
    this.OPTION(() => {
      this.CONSUME(t.Else);
      this.OR([{ ALT: () => this.SUBRULE(this.ifStatement, { LABEL: 'elseIf' }) }, { ALT: () => this.SUBRULE2(this.block, { LABEL: 'else' }) }]);
    });
  });

  /** `let x = e`, or an array defined by index notation: `let z[k, j] = e`. */
  letStatement = this.RULE('letStatement', () => {
    this.CONSUME(t.Let);
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(t.LBracket);
      this.SUBRULE(this.binder, { LABEL: 'indices' });
      this.MANY(() => {
        this.CONSUME(t.Comma);
        this.SUBRULE2(this.binder, { LABEL: 'indices' });
      });
      this.CONSUME(t.RBracket);
    });
    this.CONSUME(t.Equals);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  returnStatement = this.RULE('returnStatement', () => {
    this.CONSUME(t.Return);
    this.SUBRULE(this.expression, { LABEL: 'value' });
  });

  /**
   * A flat chain `operand (operator operand)*`; to-ast.ts applies precedence (src/syntax/operators.ts).
   * Keeping the chain flat keeps recursion to one level per parenthesis, call or `if`.
   */
  expression = this.RULE('expression', () => {
    this.SUBRULE(this.operand, { LABEL: 'operands' });
    this.MANY(() => {
      this.SUBRULE(this.binaryOperator, { LABEL: 'operators' });
      this.SUBRULE2(this.operand, { LABEL: 'operands' });
    });
  });

  binaryOperator = this.RULE('binaryOperator', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.Or, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.And, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Less, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.LessEqual, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Greater, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.GreaterEqual, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.EqualEqual, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.NotEqual, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Plus, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Minus, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Star, { LABEL: 'operator' }) },
      { ALT: () => this.CONSUME(t.Slash, { LABEL: 'operator' }) },
    ]);
  });

  /** `not`s come first, then signs, which apply to a whole power: `-x^2` is `-(x^2)`. */
  operand = this.RULE('operand', () => {
    this.MANY(() => this.CONSUME(t.Not, { LABEL: 'nots' }));
    this.MANY2(() => this.SUBRULE(this.sign, { LABEL: 'signs' }));
    this.SUBRULE(this.power, { LABEL: 'power' });
  });

  /** `a ^ b ^ c` is right-associative; each exponent may carry signs: `2 ^ -x`. */
  power = this.RULE('power', () => {
    this.SUBRULE(this.primary, { LABEL: 'base' });
    this.MANY(() => {
      this.CONSUME(t.Caret, { LABEL: 'carets' });
      this.SUBRULE2(this.exponent, { LABEL: 'exponents' });
    });
  });

  exponent = this.RULE('exponent', () => {
    this.MANY(() => this.SUBRULE(this.sign, { LABEL: 'signs' }));
    this.SUBRULE(this.primary, { LABEL: 'operand' });
  });

  sign = this.RULE('sign', () => {
    this.OR([{ ALT: () => this.CONSUME(t.Minus, { LABEL: 'operator' }) }, { ALT: () => this.CONSUME(t.Plus, { LABEL: 'operator' }) }]);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(t.NumberLiteral, { LABEL: 'number' }) },
      { ALT: () => this.SUBRULE(this.reference, { LABEL: 'reference' }) },
      { ALT: () => this.SUBRULE(this.parenthesized, { LABEL: 'parenthesized' }) },
      { ALT: () => this.SUBRULE(this.conditional, { LABEL: 'conditional' }) },
      { ALT: () => this.SUBRULE(this.list, { LABEL: 'list' }) },
    ]);
  });

  /** An array literal, `[e1, e2, e3]` or `[[a, b], [c, d]]`, optionally indexed: `[a, b][k]`. */
  list = this.RULE('list', () => {
    this.CONSUME(t.LBracket);
    this.SUBRULE(this.expression, { LABEL: 'items' });
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.expression, { LABEL: 'items' });
    });
    this.CONSUME(t.RBracket, { LABEL: 'close' });
    this.OPTION(() => this.SUBRULE(this.subscript, { LABEL: 'subscript' }));
  });

  /** The indices of an element of an array-valued expression: `[i]`, `[i, j]`. */
  subscript = this.RULE('subscript', () => {
    this.CONSUME(t.LBracket);
    this.SUBRULE(this.expression, { LABEL: 'indices' });
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.expression, { LABEL: 'indices' });
    });
    this.CONSUME(t.RBracket, { LABEL: 'close' });
  });

  /**
   * A variable or constant; a call when followed by an argument list; an element when followed by
   * indices (`x[i]`, `A[i, j]`). A reduction's argument list starts with its index variable:
   * `sum(i: e)`, `sum(i in 0..n: e)`.
   */
  reference = this.RULE('reference', () => {
    this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(t.LParen, { LABEL: 'open' });
            this.OPTION2(() => {
              this.OR2([
                {
                  GATE: () => this.LA(1).tokenType === t.Identifier && (this.LA(2).tokenType === t.Colon || this.LA(2).tokenType === t.In),
                  ALT: () => {
                    this.SUBRULE(this.binder, { LABEL: 'binder' });
                    this.CONSUME(t.Colon);
                    this.SUBRULE(this.expression, { LABEL: 'body' });
                  },
                },
                {
                  ALT: () => {
                    this.SUBRULE2(this.expression, { LABEL: 'args' });
                    this.MANY(() => {
                      this.CONSUME(t.Comma);
                      this.SUBRULE3(this.expression, { LABEL: 'args' });
                    });
                  },
                },
              ]);
            });
            this.CONSUME(t.RParen, { LABEL: 'close' });
            // A second argument list applies a derivative of a function: `grad(f, x)(a, b)`.
            this.OPTION4(() => {
              this.CONSUME2(t.LParen, { LABEL: 'applyOpen' });
              this.OPTION5(() => {
                this.SUBRULE6(this.expression, { LABEL: 'applyArgs' });
                this.MANY3(() => {
                  this.CONSUME3(t.Comma);
                  this.SUBRULE7(this.expression, { LABEL: 'applyArgs' });
                });
              });
              this.CONSUME2(t.RParen, { LABEL: 'applyClose' });
            });
            // An element of the call's result, when it returns an array: `g(x)[i]`.
            this.OPTION3(() => this.SUBRULE(this.subscript, { LABEL: 'subscript' }));
          },
        },
        {
          ALT: () => {
            this.CONSUME(t.LBracket, { LABEL: 'openIndex' });
            this.SUBRULE4(this.expression, { LABEL: 'indices' });
            this.MANY2(() => {
              this.CONSUME2(t.Comma);
              this.SUBRULE5(this.expression, { LABEL: 'indices' });
            });
            this.CONSUME(t.RBracket, { LABEL: 'closeIndex' });
          },
        },
      ]);
    });
  });

  parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(t.LParen);
    this.SUBRULE(this.expression, { LABEL: 'inner' });
    this.CONSUME(t.RParen);
  });

  conditional = this.RULE('conditional', () => {
    this.CONSUME(t.If);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.CONSUME(t.Then);
    this.SUBRULE2(this.expression, { LABEL: 'then' });
    this.CONSUME(t.Else);
    this.SUBRULE3(this.expression, { LABEL: 'else' });
  });
}

/**
 * Parser instances are reused: Chevrotain parsers are built once and reset per input. Each is built
 * on its first use, so importing the compiler (and `adc --version`) does not pay for it.
 *
 * An input is parsed first without error recovery, which costs about a tenth of Chevrotain's parse
 * time (the re-synchronisation bookkeeping it does at every repetition); most inputs have no syntax
 * error, and for those the two parsers build the same CST. Only when that parse fails is the input
 * parsed again by the recovering parser, which reports every error it can recover from, not just
 * the first.
 */
let fast: AdParser | undefined;
let recovering: AdParser | undefined;

export function parseTokens(tokens: IToken[]): {
  cst: CstNode;
  errors: IRecognitionException[];
} {
  fast ??= new AdParser({ recover: false });
  fast.input = tokens;
  const cst = fast.program();
  if (fast.errors.length === 0) return { cst, errors: [] };
  recovering ??= new AdParser();
  recovering.input = tokens;
  const again = recovering.program();
  return { cst: again, errors: recovering.errors };
}
