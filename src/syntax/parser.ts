import { EmbeddedActionsParser, type IOrAlt, type IRecognitionException, type IToken } from 'chevrotain';
import type { ArrayType, Binder, Expr, FunctionDecl, Param, Program, Size, Statement } from './ast.ts';
import * as t from './lexer.ts';
import * as ast from './to-ast.ts';

/**
 * The .ad grammar as a Chevrotain parser with embedded actions: each rule returns its AST node,
 * built by `to-ast.ts` from the tokens and sub-rule results the rule collected, so no CST is built
 * and then walked (the CST and its walk were about three quarters of parsing's CPU, and most of
 * its garbage). The rules hold no meaning: each collects its parts and makes one call into
 * to-ast.ts, behind `acting`. Operator chains are parsed iteratively (MANY) and folded in to-ast,
 * so only parentheses, calls and `if` recurse; `check-depth.ts` bounds those first. The LABELs
 * name the parts in the railroad diagrams (`npm run grammar`).
 */
/** What an action returns when it builds nothing (see `acting`). */
const none = undefined as never;

export class AdParser extends EmbeddedActionsParser {
  /** False for the recovering parser: its results are never used (see `parseTokens`), only its errors. */
  private readonly buildsAst: boolean;

  /**
   * `validate` runs Chevrotain's grammar validations (ambiguities, left recursion, …). They cost
   * about half of the parser's construction and depend only on the grammar, so the compiler skips
   * them and test/parser-build.test.ts (and `npm run grammar`) run them instead.
   */
  constructor(options: { validate?: boolean; recover?: boolean } = {}) {
    super(t.allTokens, { recoveryEnabled: options.recover !== false, maxLookahead: 2, skipValidations: options.validate !== true });
    // A recovering parse goes on past errors with tokens and sub-results missing: it builds nothing.
    this.buildsAst = options.recover === false;
    this.performSelfAnalysis();
  }

  /**
   * Whether the actions build nodes: not while Chevrotain records the grammar (its tokens and
   * sub-rule results are placeholders then), nor in the recovering parser. Each action is written
   * `this.acting ? ast.node(…) : none` rather than through a callback, which would be one closure
   * more per node.
   */
  private get acting(): boolean {
    return this.buildsAst && !this.RECORDING_PHASE;
  }

  /**
   * The parts of repetitions on the hot path (an operator chain's operators and operands, an
   * operand's `not`s and signs, a power's carets and exponents), pushed by repetition bodies made
   * once (a body made at each use is a closure, and a context for what it captures, per operand).
   * A rule takes what was pushed above the mark it took before its repetition; rules nest, so the
   * parts of an inner rule are taken before the outer one pushes again.
   */
  private readonly parts: unknown[] = [];

  /** What was pushed since `mark`, removed (undefined when nothing was). */
  private take<T>(mark: number): T[] | undefined {
    return this.parts.length === mark ? undefined : (this.parts.splice(mark) as T[]);
  }

  /** Parses a whole file's tokens: the AST (with no errors, in a parser that builds one). */
  parseProgram(tokens: IToken[]): Program {
    // A parse that stopped at an error may have left parts behind.
    this.parts.length = 0;
    this.input = tokens;
    return this.program();
  }

  program = this.RULE('program', (): Program => {
    const functions: FunctionDecl[] = [];
    this.MANY(() => {
      functions.push(this.SUBRULE(this.functionDecl, { LABEL: 'functions' }));
    });
    return { functions };
  });

  functionDecl = this.RULE('functionDecl', (): FunctionDecl => {
    const fn = this.CONSUME(t.Fn);
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    this.CONSUME(t.LParen);
    const params: Param[] = [];
    this.OPTION(() => {
      params.push(this.SUBRULE(this.param, { LABEL: 'params' }));
      this.MANY(() => {
        this.CONSUME(t.Comma);
        params.push(this.SUBRULE2(this.param, { LABEL: 'params' }));
      });
    });
    this.CONSUME(t.RParen);
    let body: Expr | undefined;
    let block: ast.Block | undefined;
    this.OR([
      {
        ALT: () => {
          this.CONSUME(t.Equals);
          body = this.SUBRULE(this.expression, { LABEL: 'body' });
        },
      },
      { ALT: () => (block = this.SUBRULE(this.block, { LABEL: 'block' })) },
    ]);
    return this.acting ? ast.functionDecl(fn, name, params, body, block) : none;
  });

  param = this.RULE('param', (): Param => {
    let isConst: IToken | undefined;
    this.OPTION(() => (isConst = this.CONSUME(t.Const, { LABEL: 'const' })));
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    let type: ArrayType | undefined;
    this.OPTION2(() => {
      this.CONSUME(t.Colon);
      type = this.SUBRULE(this.arrayType, { LABEL: 'type' });
    });
    return this.acting ? ast.param(isConst, name, type) : none;
  });

  /** `vec[n]`, `mat[m, n]`: the kind is an identifier, checked after parsing; sizes are names or integers. */
  arrayType = this.RULE('arrayType', (): ArrayType => {
    const kind = this.CONSUME(t.Identifier, { LABEL: 'kind' });
    this.CONSUME(t.LBracket);
    const sizes: Size[] = [this.SUBRULE(this.size, { LABEL: 'sizes' })];
    this.MANY(() => {
      this.CONSUME(t.Comma);
      sizes.push(this.SUBRULE2(this.size, { LABEL: 'sizes' }));
    });
    const close = this.CONSUME(t.RBracket, { LABEL: 'close' });
    return this.acting ? ast.arrayType(kind, sizes, close) : none;
  });

  size = this.RULE('size', (): Size => {
    let name: IToken | undefined;
    let number: IToken | undefined;
    this.OR([{ ALT: () => (name = this.CONSUME(t.Identifier, { LABEL: 'name' })) }, { ALT: () => (number = this.CONSUME(t.NumberLiteral, { LABEL: 'number' })) }]);
    return this.acting ? ast.size(name, number) : none;
  });

  /** An index variable, with an optional half-open range: `i`, `i in 1..n`. */
  binder = this.RULE('binder', (): Binder => {
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    let from: Expr | undefined;
    let to: Expr | undefined;
    this.OPTION(() => {
      this.CONSUME(t.In);
      from = this.SUBRULE(this.expression, { LABEL: 'from' });
      this.CONSUME(t.DotDot);
      to = this.SUBRULE2(this.expression, { LABEL: 'to' });
    });
    return this.acting ? ast.binder(name, from, to) : none;
  });

  block = this.RULE('block', (): ast.Block => {
    const open = this.CONSUME(t.LBrace);
    const statements: Statement[] = [];
    this.MANY(() => {
      statements.push(this.SUBRULE(this.statement, { LABEL: 'statements' }));
      this.OPTION(this.semicolon);
    });
    const close = this.CONSUME(t.RBrace);
    return { statements, open, close };
  });

  private readonly semicolon = () => this.CONSUME(t.Semicolon);

  statement = this.RULE('statement', (): Statement => this.OR(this.statements));

  /**
   * The alternatives of the rules below that keep no state of their own are made once, not at
   * each use: a statement, an operand and an operator each made an array of objects and closures
   * (garbage, collected at a cost).
   */
  private readonly statements: IOrAlt<Statement>[] = [
    { ALT: () => this.SUBRULE(this.letStatement, { LABEL: 'let' }) },
    { ALT: () => this.SUBRULE(this.returnStatement, { LABEL: 'return' }) },
    { ALT: () => this.SUBRULE(this.varStatement, { LABEL: 'var' }) },
    { ALT: () => this.SUBRULE(this.forStatement, { LABEL: 'for' }) },
    { ALT: () => this.SUBRULE(this.whileStatement, { LABEL: 'while' }) },
    { ALT: () => this.SUBRULE(this.ifStatement, { LABEL: 'if' }) },
    { ALT: () => this.SUBRULE(this.assignment, { LABEL: 'assign' }) },
  ];

  /** `var x = e`, or an array variable with its type: `var y: vec[n] = y0`. */
  varStatement = this.RULE('varStatement', (): Statement => {
    const keyword = this.CONSUME(t.Var);
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    let type: ArrayType | undefined;
    this.OPTION(() => {
      this.CONSUME(t.Colon);
      type = this.SUBRULE(this.arrayType, { LABEL: 'type' });
    });
    this.CONSUME(t.Equals);
    const value = this.SUBRULE(this.expression, { LABEL: 'value' });
    return this.acting ? ast.varStatement(keyword, name, type, value) : none;
  });

  /** `x = e`, or an update of array elements: `y[i] = e` (every i), `y[j] = e` (one computed j). */
  assignment = this.RULE('assignment', (): Statement => {
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    let indices: Expr[] | undefined;
    this.OPTION(() => {
      this.CONSUME(t.LBracket);
      indices = [this.SUBRULE(this.expression, { LABEL: 'indices' })];
      this.MANY(() => {
        this.CONSUME(t.Comma);
        indices!.push(this.SUBRULE2(this.expression, { LABEL: 'indices' }));
      });
      this.CONSUME(t.RBracket);
    });
    this.CONSUME(t.Equals);
    const value = this.SUBRULE3(this.expression, { LABEL: 'value' });
    return this.acting ? ast.assignment(name, indices, value) : none;
  });

  /** `for i in a..b { ... }`: the range is required (the checker says so when it is missing). */
  forStatement = this.RULE('forStatement', (): Statement => {
    const keyword = this.CONSUME(t.For);
    const binder = this.SUBRULE(this.binder, { LABEL: 'binder' });
    const body = this.SUBRULE(this.block, { LABEL: 'body' });
    return this.acting ? ast.forStatement(keyword, binder, body) : none;
  });

  /**
   * `while cond max N { ... }`. `max` is not a keyword (it is also a function): it is the name
   * after the condition. Without it the statement still parses, and the checker asks for it.
   */
  whileStatement = this.RULE('whileStatement', (): Statement => {
    const keyword = this.CONSUME(t.While);
    const condition = this.SUBRULE(this.expression, { LABEL: 'condition' });
    let limit: Expr | undefined;
    this.OPTION({
      GATE: () => this.LA(1).tokenType === t.Identifier && this.LA(1).image === 'max',
      DEF: () => {
        this.CONSUME(t.Identifier, { LABEL: 'max' });
        limit = this.SUBRULE2(this.expression, { LABEL: 'limit' });
      },
    });
    const body = this.SUBRULE(this.block, { LABEL: 'body' });
    return this.acting ? ast.whileStatement(keyword, condition, limit, body) : none;
  });

  /** `if cond { ... } else { ... }`, `else if` chains included; the `else` is optional. */
  ifStatement = this.RULE('ifStatement', (): Statement => {
    const keyword = this.CONSUME(t.If);
    const condition = this.SUBRULE(this.expression, { LABEL: 'condition' });
    const then = this.SUBRULE(this.block, { LABEL: 'then' });
    let elseIf: Statement | undefined;
    let otherwise: ast.Block | undefined;
    this.OPTION(() => {
      this.CONSUME(t.Else);
      this.OR([{ ALT: () => (elseIf = this.SUBRULE(this.ifStatement, { LABEL: 'elseIf' })) }, { ALT: () => (otherwise = this.SUBRULE2(this.block, { LABEL: 'else' })) }]);
    });
    return this.acting ? ast.ifStatement(keyword, condition, then, elseIf, otherwise) : none;
  });

  /** `let x = e`, or an array defined by index notation: `let z[k, j] = e`. */
  letStatement = this.RULE('letStatement', (): Statement => {
    const keyword = this.CONSUME(t.Let);
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    const indices = this.OPTION(this.letIndices);
    this.CONSUME(t.Equals);
    const value = this.SUBRULE(this.expression, { LABEL: 'value' });
    return this.acting ? ast.letStatement(keyword, name, indices, value) : none;
  });

  private readonly letIndices = (): Binder[] => {
    this.CONSUME(t.LBracket);
    const indices = [this.SUBRULE(this.binder, { LABEL: 'indices' })];
    this.MANY(() => {
      this.CONSUME(t.Comma);
      indices.push(this.SUBRULE2(this.binder, { LABEL: 'indices' }));
    });
    this.CONSUME(t.RBracket);
    return indices;
  };

  returnStatement = this.RULE('returnStatement', (): Statement => {
    const keyword = this.CONSUME(t.Return);
    const value = this.SUBRULE(this.expression, { LABEL: 'value' });
    return this.acting ? ast.returnStatement(keyword, value) : none;
  });

  /**
   * A flat chain `operand (operator operand)*`; to-ast.ts applies precedence (src/syntax/operators.ts).
   * Keeping the chain flat keeps recursion to one level per parenthesis, call or `if`.
   */
  expression = this.RULE('expression', (): Expr => {
    const first = this.SUBRULE(this.operand, { LABEL: 'operands' });
    const mark = this.parts.length;
    this.MANY(this.expressionTail);
    const rest = this.take<IToken | ast.Operand>(mark);
    return this.acting ? ast.expression(first, rest) : none;
  });

  private readonly expressionTail = () => {
    this.parts.push(this.SUBRULE(this.binaryOperator, { LABEL: 'operators' }));
    this.parts.push(this.SUBRULE2(this.operand, { LABEL: 'operands' }));
  };

  binaryOperator = this.RULE('binaryOperator', (): IToken => this.OR(this.binaryOperators));

  private readonly binaryOperators: IOrAlt<IToken>[] = [
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
  ];

  /** `not`s come first, then signs, which apply to a whole power: `-x^2` is `-(x^2)`. */
  operand = this.RULE('operand', (): ast.Operand => {
    const mark = this.parts.length;
    this.MANY(this.not);
    const nots = this.take<IToken>(mark);
    this.MANY2(this.signed);
    const signs = this.take<IToken>(mark);
    const power = this.SUBRULE(this.power, { LABEL: 'power' });
    return this.acting ? { nots, base: ast.prefix(signs, power) } : none;
  });

  private readonly not = () => {
    this.parts.push(this.CONSUME(t.Not, { LABEL: 'nots' }));
  };

  private readonly signed = () => {
    this.parts.push(this.SUBRULE(this.sign, { LABEL: 'signs' }));
  };

  /** `a ^ b ^ c` is right-associative; each exponent may carry signs: `2 ^ -x`. */
  power = this.RULE('power', (): Expr => {
    const base = this.SUBRULE(this.primary, { LABEL: 'base' });
    const mark = this.parts.length;
    this.MANY(this.powerTail);
    const rest = this.take<IToken | ast.Exponent>(mark);
    return rest === undefined || !this.acting ? base : ast.power(base, rest);
  });

  private readonly powerTail = () => {
    this.parts.push(this.CONSUME(t.Caret, { LABEL: 'carets' }));
    this.parts.push(this.SUBRULE2(this.exponent, { LABEL: 'exponents' }));
  };

  exponent = this.RULE('exponent', (): ast.Exponent => {
    const mark = this.parts.length;
    this.MANY(this.signed);
    const signs = this.take<IToken>(mark);
    const operand = this.SUBRULE(this.primary, { LABEL: 'operand' });
    return { signs, operand };
  });

  sign = this.RULE('sign', (): IToken => this.OR(this.signs));

  private readonly signs: IOrAlt<IToken>[] = [{ ALT: () => this.CONSUME(t.Minus, { LABEL: 'operator' }) }, { ALT: () => this.CONSUME(t.Plus, { LABEL: 'operator' }) }];

  primary = this.RULE('primary', (): Expr => this.OR(this.primaries));

  private readonly primaries: IOrAlt<Expr>[] = [
    {
      ALT: () => {
        const number = this.CONSUME(t.NumberLiteral, { LABEL: 'number' });
        return this.acting ? ast.numberLiteral(number) : none;
      },
    },
    { ALT: () => this.SUBRULE(this.reference, { LABEL: 'reference' }) },
    { ALT: () => this.SUBRULE(this.parenthesized, { LABEL: 'parenthesized' }) },
    { ALT: () => this.SUBRULE(this.conditional, { LABEL: 'conditional' }) },
    { ALT: () => this.SUBRULE(this.list, { LABEL: 'list' }) },
  ];

  /** An array literal, `[e1, e2, e3]` or `[[a, b], [c, d]]`, optionally indexed: `[a, b][k]`. */
  list = this.RULE('list', (): Expr => {
    const open = this.CONSUME(t.LBracket);
    const items: Expr[] = [this.SUBRULE(this.expression, { LABEL: 'items' })];
    this.MANY(() => {
      this.CONSUME(t.Comma);
      items.push(this.SUBRULE2(this.expression, { LABEL: 'items' }));
    });
    const close = this.CONSUME(t.RBracket, { LABEL: 'close' });
    let subscript: ast.Subscript | undefined;
    this.OPTION(() => (subscript = this.SUBRULE(this.subscript, { LABEL: 'subscript' })));
    return this.acting ? ast.list(open, items, close, subscript) : none;
  });

  /** The indices of an element of an array-valued expression: `[i]`, `[i, j]`. */
  subscript = this.RULE('subscript', (): ast.Subscript => {
    this.CONSUME(t.LBracket);
    const indices: Expr[] = [this.SUBRULE(this.expression, { LABEL: 'indices' })];
    this.MANY(() => {
      this.CONSUME(t.Comma);
      indices.push(this.SUBRULE2(this.expression, { LABEL: 'indices' }));
    });
    const close = this.CONSUME(t.RBracket, { LABEL: 'close' });
    return { indices, close };
  });

  /**
   * A variable or constant; a call when followed by an argument list; an element when followed by
   * indices (`x[i]`, `A[i, j]`). A reduction's argument list starts with its index variable:
   * `sum(i: e)`, `sum(i in 0..n: e)`.
   */
  reference = this.RULE('reference', (): Expr => {
    const name = this.CONSUME(t.Identifier, { LABEL: 'name' });
    const tail = this.OPTION(this.referenceTail);
    return this.acting ? ast.reference(name, tail) : none;
  });

  /** What may follow a reference's name (its alternatives are made once: they keep no state of their own). */
  private readonly referenceTail = (): ast.ReferenceTail => this.OR(this.referenceTails);

  private readonly referenceTails: IOrAlt<ast.ReferenceTail>[] = [
    {
      ALT: () => {
        const open = this.CONSUME(t.LParen, { LABEL: 'open' });
        let binder: Binder | undefined;
        let body: Expr | undefined;
        const args: Expr[] = [];
        this.OPTION2(() => {
          this.OR2([
            {
              GATE: () => this.LA(1).tokenType === t.Identifier && (this.LA(2).tokenType === t.Colon || this.LA(2).tokenType === t.In),
              ALT: () => {
                binder = this.SUBRULE(this.binder, { LABEL: 'binder' });
                this.CONSUME(t.Colon);
                body = this.SUBRULE(this.expression, { LABEL: 'body' });
              },
            },
            {
              ALT: () => {
                args.push(this.SUBRULE2(this.expression, { LABEL: 'args' }));
                this.MANY(() => {
                  this.CONSUME(t.Comma);
                  args.push(this.SUBRULE3(this.expression, { LABEL: 'args' }));
                });
              },
            },
          ]);
        });
        const close = this.CONSUME(t.RParen, { LABEL: 'close' });
        // A second argument list applies a derivative of a function: `grad(f, x)(a, b)`.
        let applyOpen: IToken | undefined;
        let applyArgs: Expr[] | undefined;
        let applyClose: IToken | undefined;
        this.OPTION4(() => {
          applyOpen = this.CONSUME2(t.LParen, { LABEL: 'applyOpen' });
          applyArgs = [];
          this.OPTION5(() => {
            applyArgs!.push(this.SUBRULE6(this.expression, { LABEL: 'applyArgs' }));
            this.MANY3(() => {
              this.CONSUME3(t.Comma);
              applyArgs!.push(this.SUBRULE7(this.expression, { LABEL: 'applyArgs' }));
            });
          });
          applyClose = this.CONSUME2(t.RParen, { LABEL: 'applyClose' });
        });
        // An element of the call's result, when it returns an array: `g(x)[i]`.
        let subscript: ast.Subscript | undefined;
        this.OPTION3(() => (subscript = this.SUBRULE(this.subscript, { LABEL: 'subscript' })));
        return { kind: 'call', open, binder, body, args, close, applyOpen, applyArgs, applyClose, subscript };
      },
    },
    {
      ALT: () => {
        this.CONSUME(t.LBracket, { LABEL: 'openIndex' });
        const indices: Expr[] = [this.SUBRULE4(this.expression, { LABEL: 'indices' })];
        this.MANY2(() => {
          this.CONSUME2(t.Comma);
          indices.push(this.SUBRULE5(this.expression, { LABEL: 'indices' }));
        });
        const close = this.CONSUME(t.RBracket, { LABEL: 'closeIndex' });
        return { kind: 'index', indices, close };
      },
    },
  ];

  parenthesized = this.RULE('parenthesized', (): Expr => {
    const open = this.CONSUME(t.LParen);
    const inner = this.SUBRULE(this.expression, { LABEL: 'inner' });
    const close = this.CONSUME(t.RParen);
    return this.acting ? ast.parenthesized(open, inner, close) : none;
  });

  conditional = this.RULE('conditional', (): Expr => {
    const keyword = this.CONSUME(t.If);
    const condition = this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.CONSUME(t.Then);
    const then = this.SUBRULE2(this.expression, { LABEL: 'then' });
    this.CONSUME(t.Else);
    const otherwise = this.SUBRULE3(this.expression, { LABEL: 'else' });
    return this.acting ? ast.conditional(keyword, condition, then, otherwise) : none;
  });
}

/**
 * Parser instances are reused: Chevrotain parsers are built once and reset per input. Each is built
 * on its first use, so importing the compiler (and `adc --version`) does not pay for it.
 *
 * An input is parsed first without error recovery, which costs about a tenth of Chevrotain's parse
 * time (the re-synchronisation bookkeeping it does at every repetition); most inputs have no syntax
 * error, and that parse builds the AST. Only when it fails is the input parsed again by the
 * recovering parser, which reports every error it can recover from, not just the first (and builds
 * nothing: a file with errors has no AST).
 */
let fast: AdParser | undefined;
let recovering: AdParser | undefined;

export function parseTokens(tokens: IToken[]): {
  /** The AST, when there were no errors. */
  program: Program | undefined;
  errors: IRecognitionException[];
} {
  fast ??= new AdParser({ recover: false });
  const program = fast.parseProgram(tokens);
  if (fast.errors.length === 0) return { program, errors: [] };
  recovering ??= new AdParser();
  recovering.parseProgram(tokens);
  return { program: undefined, errors: recovering.errors };
}
