import { didYouMean } from '../check/suggest.ts';
import { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import { compileSync, type Diagnostic, type FunctionInfo } from '../index.ts';
import { builtinArity, constants } from '../ir/builtins.ts';
import { assertNever, calledNames, type FunctionDecl, type Program } from '../syntax/ast.ts';
import { gradientIntoName, gradientName, hessianName, hvpName, jacobianName, jvpName, vjpName, vjpIntoName, jacobianColumnsName } from '../emit/names.ts';
import type { Derivative } from '../derivatives.ts';
import { parse } from '../syntax/parse.ts';
import { messages } from '../diagnostics/messages.ts';
import { Assembly, problemAt, Problems, slice, typed, type Piece, type Segment } from './assembly.ts';
import { sampleInWorker } from './sample.ts';

/** A function of the session, as the user wrote it. */
export interface Definition {
  readonly name: string;
  /** The declaration as written, from `fn` to its end, with its place in the entry or file. */
  readonly piece: Piece;
  /** Comment lines written just before it, kept by `:save`. */
  readonly leading: string;
  /** A comment after it on its last line, kept by `:save`. */
  readonly trailing: string;
  readonly info: FunctionInfo;
  /** The names it calls (defined or not), so a step compiles only the functions it reaches. */
  readonly calls: ReadonlySet<string>;
}

export interface Failure {
  readonly ok: false;
  readonly problems: Problems;
}

export type Outcome<T> = ({ readonly ok: true } & T) | Failure;

export interface Defined {
  readonly info: FunctionInfo;
  /** It replaced a function of the same name. */
  readonly replaced: boolean;
}

export interface GradientEntry {
  readonly param: string;
  /** A number, or for an array parameter its gradient: a Float64Array, or rows of them. */
  readonly value: number | ArrayLike<number> | ArrayLike<ArrayLike<number>>;
}

/** One block ∂²f/∂row∂column of a Hessian: a number, an array for a scalar and a vector, or rows for two vectors. */
export interface HessianBlock {
  readonly row: string;
  readonly column: string;
  readonly value: GradientEntry['value'];
}

/** The commands that differentiate a call: `grad f(1, 2)`, `jvp f(1, 2) along (1, 0)`, … */
export type DerivativeCommand = 'grad' | 'jvp' | 'vjp' | 'jacobian' | 'hessian';

/** A call checked by the compiler, with its argument texts. */
interface CheckedCall {
  readonly name: string;
  readonly info: FunctionInfo;
  /** The call as typed. */
  readonly piece: Piece;
  /** Where the callee's name is in the call. */
  readonly calleeAt: readonly [number, number];
  readonly args: readonly Piece[];
}

/** The most points one :plot samples. */
export const maxPlotPoints = 1000;

export interface Samples {
  readonly xs: readonly number[];
  readonly values: readonly number[];
  /** The derivative of the expression with respect to the variable, at each x. */
  readonly slopes: readonly number[];
}

/** What a name bound at the prompt holds: a number, a vector, or a matrix (its rows). */
export type Value = number | Float64Array | readonly Float64Array[];

/** `x = [1, 2, 3]` at the prompt. */
export interface Binding {
  readonly name: string;
  readonly value: Value;
}

type Module = Record<string, (...args: unknown[]) => unknown>;

/** `f(x, const c)`. */
export function signature(info: FunctionInfo): string {
  return `${info.name}(${info.params.map((p) => (p.isConst ? `const ${p.name}` : p.name)).join(', ')})`;
}

/**
 * The state of a REPL session and everything it can do, with no I/O: tests drive it directly.
 *
 * There is no second interpreter. Every step compiles one synthetic .ad source with the real
 * compiler: the session's definitions followed by functions the REPL writes around what was typed
 * (an expression `e` becomes `fn __repl_value() = e`), imports the module from a data: URL and
 * calls the functions, so a value or a gradient here is exactly what the compiled module returns.
 * The synthetic names start with a prefix no defined function starts with, and every position the
 * compiler reports is mapped back to the text as it was typed (see Assembly).
 *
 * Each step compiles only what it needs, so a line costs the same with 10 or 10,000 definitions:
 * an expression, a derivative command (`grad`, `jvp`, `vjp`, `jacobian`, `hessian`, compiled with
 * only the derivative exports it calls) or `:plot` compiles the functions it calls (and theirs); a definition
 * compiles the new functions, the functions that call them (directly or not, when one is replaced)
 * and what those call, plus any function whose generated name could collide with a new one. Calls
 * are inlined, so nothing else can change the result. The one difference from compiling the whole
 * session is the whole-file inlining budget (AD3007), which applies to what one step compiles. An
 * unknown function's did-you-mean is taken from the whole session (that error compiles it all).
 */
export class Session {
  /** By name, in the order they were first defined (a replaced function keeps its place). */
  private defs = new Map<string, Definition>();
  /** Each function's place in the session (a replaced function keeps its place). */
  private order = new Map<string, number>();
  /** For each name, the functions that call it directly. */
  private callers = new Map<string, Set<string>>();
  private binds: Binding[] = [];

  /** The values bound at the prompt (`x = [1, 2, 3]`), in the order they were first bound. */
  get bindings(): readonly Binding[] {
    return this.binds;
  }

  /** The functions, in the order they were first defined. */
  get definitions(): readonly Definition[] {
    return [...this.defs.values()];
  }

  get names(): string[] {
    return [...this.defs.keys()];
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /**
   * Defines the functions in `input` (one or more `fn` declarations: an entry, or a whole file),
   * replacing those of the same names. Nothing changes unless the whole session still compiles:
   * redefining `f` so that a `g` calling it breaks reports the error in `g` and keeps the old `f`.
   */
  define(input: Piece | string): Outcome<{ defined: readonly Defined[] }> {
    const piece = asPiece(input);
    const bag = new DiagnosticBag();
    const program = parse(piece.text, bag);
    if (!program) return fail(new Assembly([[piece]]).problems(bag.items));
    const incoming = declarations(piece, program);
    // One namespace at the prompt: `f(x)` must not leave the reader guessing which x or f is meant.
    const taken = program.functions.find((f) => this.binds.some((b) => b.name === f.name));
    if (taken) {
      const message = `'${taken.name}' is a value bound at the prompt (${taken.name} = …); give the function another name`;
      return fail(problemAt(piece, message, taken.nameSpan.start, taken.nameSpan.end));
    }
    const names = new Set(incoming.map((d) => d.name));
    const replaced = new Set([...names].filter((name) => this.defs.has(name)));
    // What the functions named call, with the incoming ones in place of those they replace.
    const lookup = (name: string): readonly Pick<Definition, 'calls'>[] => (names.has(name) ? incoming.filter((d) => d.name === name) : this.defs.has(name) ? [this.defs.get(name)!] : []);

    const roots = new Set([...names, ...this.callersOf(replaced)]);
    for (const name of names) {
      // Generated names: `fn fGrad` beside `fn f` is an error whichever came first.
      for (const other of [gradientName(name), gradientIntoName(name)]) if (this.defs.has(other)) roots.add(other);
      for (const suffix of [gradientName(''), gradientIntoName('')]) {
        const base = name.slice(0, -suffix.length);
        if (name.endsWith(suffix) && this.defs.has(base)) roots.add(base);
      }
    }
    const needed = reach(roots, lookup);
    // In session order: each replaced function at its old place, new ones at the end (two incoming
    // functions of one name are both kept, for the compiler to report).
    const place = (name: string) => this.order.get(name) ?? Infinity;
    const compiled = [...needed]
      .sort((a, b) => place(a) - place(b))
      .flatMap((name): Omit<Definition, 'info'>[] => (names.has(name) ? incoming.filter((d) => d.name === name) : [this.defs.get(name)!]));
    const assembly = new Assembly(compiled.map((d) => [d.piece]));
    const result = this.compile(assembly);
    if (result.code === undefined) {
      const whole = () => [...[...this.defs.values()].flatMap((d) => (names.has(d.name) ? incoming.filter((i) => i.name === d.name) : [d])), ...incoming.filter((d) => !replaced.has(d.name))];
      // `fn g(t) = t * c` after `c = 2`: say why c is unknown there.
      const bound = (d: Diagnostic): Diagnostic => {
        const m = d.code === 'AD2001' ? /'([A-Za-z_][A-Za-z0-9_]*)'/.exec(d.message) : null;
        return m && this.binds.some((b) => b.name === m[1]) ? { ...d, message: `${d.message}: '${m[1]}' is a value bound at the prompt, which functions do not see; make it a parameter` } : d;
      };
      return fail(this.problems(assembly, result.diagnostics, () => whole().map((d) => [d.piece]), bound));
    }
    const infos = new Map(result.functions.map((f) => [f.name, f]));
    for (const d of incoming) this.store({ ...d, info: infos.get(d.name)! });
    return { ok: true, defined: incoming.map((d) => ({ info: infos.get(d.name)!, replaced: replaced.has(d.name) })) };
  }

  /**
   * `x = e`: evaluates `e` once and binds its value (a number or an array) to `x`, replacing an
   * earlier `x`. Expressions typed later (values, `grad` arguments, `:plot`) may use `x`; functions
   * defined with `fn` may not (they take what they need as parameters). `nameAt` is the name as typed.
   */
  async bind(nameAt: Piece | string, input: Piece | string): Promise<Outcome<{ name: string; value: Value; replaced: boolean }>> {
    const target = asPiece(nameAt);
    const name = target.text;
    const taken = this.has(name)
      ? `'${name}' is a function defined with fn; a value needs another name (or redefine the function under another name)`
      : builtinArity.has(name) || constants.has(name)
        ? `'${name}' is a built-in ${constants.has(name) ? 'constant' : 'function'}; a value needs another name`
        : undefined;
    if (taken) return fail(problemAt(target, taken));
    const result = await this.evaluate(input);
    if (!result.ok) return result;
    if (typeof result.value === 'boolean') {
      const piece = asPiece(input);
      return fail(problemAt(piece, `a value bound to a name is a number or an array, not a condition; use if … then … else to make a number`, 0, piece.text.length));
    }
    const value = result.value;
    const replaced = this.binds.some((b) => b.name === name);
    this.binds = replaced ? this.binds.map((b) => (b.name === name ? { name, value } : b)) : [...this.binds, { name, value }];
    return { ok: true, name, value, replaced };
  }

  /** The value of an expression: a number, an array, or true/false for a condition such as `f(1) > 0`. */
  async evaluate(input: Piece | string): Promise<Outcome<{ value: Value | boolean }>> {
    const piece = asPiece(input);
    const name = `${this.prefix()}value`;
    const header = `fn ${name}(${this.parameters()}) = `;
    const shape = this.parseShape([[header, piece]]);
    if (!shape.ok) return shape;
    let built = this.build([[header, piece]]);
    // A condition cannot be a function's result; ask the compiler for `if (e) then 1 else 0` instead.
    const isCondition = !built.ok && built.diagnostics.some((d) => d.code === 'AD4003');
    if (isCondition) built = this.build([[`${header}if (`, piece, `) then 1 else 0`]]);
    if (!built.ok) return built;
    const module = await importModule(built.code);
    const ran = thrown(piece, this.prefix(), built.assembly, () => module[name](...this.values()) as Value);
    if (!ran.ok) return ran;
    return { ok: true, value: isCondition ? ran.result === 1 : ran.result };
  }

  /** `grad f(a, b)`: calls fGrad with the arguments' values; `input` is the call. */
  async grad(input: Piece | string): Promise<Outcome<{ name: string; value: number; gradient: readonly GradientEntry[] }>> {
    const call = this.checkCall(asPiece(input), 'grad');
    if (!call.ok) return call;
    if (call.info.result !== undefined) {
      const use = call.info.result === 'vec' ? `jacobian ${call.piece.text}` : `jvp ${call.piece.text} along (…)`;
      return fail(problemAt(call.piece, `'${call.name}' returns ${call.info.result === 'vec' ? 'a vector' : 'a matrix'}, which has no gradient; use ${use}`, ...call.calleeAt));
    }
    const run = await this.runCall(call, [], ['grad'], (m, args) => m[gradientName(call.name)](...args));
    if (!run.ok) return run;
    const result = run.result as { value: number; gradient: Record<string, GradientEntry['value']> };
    return { ok: true, name: call.name, value: result.value, gradient: entries(call.info, result.gradient) };
  }

  /**
   * `jvp f(a, b) along (u, v)`: calls fJvp with one direction entry per differentiated parameter,
   * in order (a number, or an array of the parameter's shape); `direction` is `(u, v)`, or one
   * entry without parentheses (`along [1, 0]`). The tangent has the value's shape.
   */
  async jvp(input: Piece | string, direction: Piece | string): Promise<Outcome<{ name: string; value: Value; tangent: Value; direction: readonly GradientEntry[] }>> {
    const call = this.checkCall(asPiece(input), 'jvp');
    if (!call.ok) return call;
    const along = asPiece(direction);
    const split = this.tupleEntries(along);
    if (!split.ok) return split;
    const seeded = call.info.params.filter((p) => !p.isConst);
    if (split.entries.length !== seeded.length) {
      const wanted = seeded.length === 0 ? `no differentiated parameter, so the direction is ()` : `${count(seeded.length, 'differentiated parameter')} (${seeded.map((p) => p.name).join(', ')}), so the direction has ${count(seeded.length, 'entry', 'entries')}`;
      const hint = seeded.length === 1 && seeded[0].type ? `; a ${seeded[0].type} parameter's direction is one array, e.g. along ${seeded[0].type === 'vec' ? '[1, 0]' : '[[1, 0], [0, 1]]'}` : '';
      return fail(problemAt(along, `'${call.name}' has ${wanted}, but ${split.entries.length} ${split.entries.length === 1 ? 'is' : 'are'} given${hint}`));
    }
    const run = await this.runCall(call, split.entries, ['jvp'], (m, args, extras) => {
      const tangent = Object.fromEntries(seeded.map((p, i) => [p.name, extras[i]]));
      return m[jvpName(call.name)](tangent, ...args);
    }, (args, extras) => shapeMismatch(call.info, seeded, args, extras, split.entries, 'direction'));
    if (!run.ok) return run;
    const result = run.result as { value: Value; tangent: Value };
    return { ok: true, name: call.name, value: result.value, tangent: result.tangent, direction: seeded.map((p, i) => ({ param: p.name, value: run.extras[i] as GradientEntry['value'] })) };
  }

  /**
   * `vjp f(a, b) with u`: calls fVjp with the cotangent u, which has the value's shape (a number,
   * or a vector as long as the value); the gradient is uᵀ·∂f/∂p for each differentiated parameter.
   */
  async vjp(input: Piece | string, cotangent: Piece | string): Promise<Outcome<{ name: string; value: Value; gradient: readonly GradientEntry[] }>> {
    const call = this.checkCall(asPiece(input), 'vjp');
    if (!call.ok) return call;
    if (call.info.result === 'mat') return fail(problemAt(call.piece, `'${call.name}' returns a matrix, whose vector-Jacobian product adc does not build; use jvp ${call.name}(…) along (…)`, ...call.calleeAt));
    const u = asPiece(cotangent);
    const run = await this.runCall(call, [u], ['vjp'], (m, args, extras) => m[vjpName(call.name)](extras[0], ...args), (_args, extras, value) => {
      const c = extras[0] as Value;
      const expected = call.info.result === 'vec' ? `a vector as long as the value (${(value as Float64Array).length})` : 'a number, as the value is';
      const fits = call.info.result === 'vec' ? c instanceof Float64Array && c.length === (value as Float64Array).length : typeof c === 'number';
      return fits ? undefined : problemAt(u, `the cotangent has the value's shape: ${expected}, not ${describe(c)}`);
    });
    if (!run.ok) return run;
    const result = run.result as { value: Value; gradient: Record<string, GradientEntry['value']> };
    return { ok: true, name: call.name, value: result.value, gradient: entries(call.info, result.gradient) };
  }

  /**
   * `jacobian f(a, b)` of a function returning a vector or a matrix: calls fJacobian; one block
   * ∂f/∂p per differentiated parameter, shaped (value's shape) × (p's shape) as the API returns it.
   */
  async jacobian(input: Piece | string): Promise<Outcome<{ name: string; value: Float64Array | Float64Array[]; jacobian: readonly GradientEntry[] }>> {
    const call = this.checkCall(asPiece(input), 'jacobian');
    if (!call.ok) return call;
    const { info } = call;
    const refuse = (message: string) => fail(problemAt(call.piece, message, ...call.calleeAt));
    if (info.result === undefined) return refuse(`'${call.name}' returns a number, so its Jacobian is its gradient: use grad ${call.piece.text}`);
    const run = await this.runCall(call, [], ['jacobian'], (m, args) => m[jacobianName(call.name)](...args));
    if (!run.ok) return run;
    const result = run.result as { value: Float64Array | Float64Array[]; jacobian: Record<string, GradientEntry['value']> };
    return { ok: true, name: call.name, value: result.value, jacobian: entries(info, result.jacobian) };
  }

  /**
   * `hessian f(a, b)` of a function returning a number: calls fHessian; the value, the gradient,
   * and one block ∂²f/∂p∂q per pair of differentiated parameters, in parameter order.
   */
  async hessian(input: Piece | string): Promise<Outcome<{ name: string; value: number; gradient: readonly GradientEntry[]; hessian: readonly HessianBlock[] }>> {
    const call = this.checkCall(asPiece(input), 'hessian');
    if (!call.ok) return call;
    const { info } = call;
    const refuse = (message: string) => fail(problemAt(call.piece, message, ...call.calleeAt));
    if (info.result !== undefined) {
      const use = info.result === 'vec' ? `use jacobian ${call.piece.text}` : `use jvp ${call.piece.text} along (…)`;
      return refuse(`'${call.name}' returns ${info.result === 'vec' ? 'a vector' : 'a matrix'}, and a Hessian is of a function returning a number; ${use}`);
    }
    const run = await this.runCall(call, [], ['hessian'], (m, args) => m[hessianName(call.name)](...args));
    if (!run.ok) return run;
    const result = run.result as { value: number; gradient: Record<string, GradientEntry['value']>; hessian: Record<string, Record<string, HessianBlock['value']>> };
    const seeded = info.params.filter((p) => !p.isConst).map((p) => p.name);
    const hessian = seeded.flatMap((p) => seeded.map((q) => ({ row: p, column: q, value: result.hessian[p][q] })));
    return { ok: true, name: call.name, value: result.value, gradient: entries(info, result.gradient), hessian };
  }

  /**
   * The call a derivative command is about (`f(1, x)` in `grad f(1, x)`): a call of a function
   * defined with fn, with the right arguments (the compiler checks them).
   */
  private checkCall(piece: Piece, command: DerivativeCommand): Outcome<CheckedCall> {
    const prefix = this.prefix();
    const header = `fn ${prefix}call(${this.parameters()}) = `;
    const shape = this.parseShape([[header, piece]]);
    if (!shape.ok) return shape;
    const expr = returned(shape.program.functions[0]);
    const base = shape.assembly.offsetOf(piece)!;
    const at = (s: { start: number; end: number }) => [s.start - base, s.end - base] as const;
    if (expr.kind !== 'call') {
      return fail(problemAt(piece, `${command} takes a call of a function defined with fn, such as '${command} f(1, 2)'`, ...at(expr.span)));
    }
    if (!this.has(expr.callee) && builtinArity.has(expr.callee)) {
      const message = `'${expr.callee}' is a built-in function; ${command} works on functions defined with fn (e.g. fn h(x) = ${expr.callee}(x), then ${command} h(...))`;
      return fail(problemAt(piece, message, ...at(expr.calleeSpan)));
    }
    const checked = this.build([[header, piece]]);
    if (!checked.ok) return checked;
    const args = expr.args.map((a) => slice(piece, ...at(a.span)));
    return { ok: true, name: expr.callee, info: this.defs.get(expr.callee)!.info, piece, calleeAt: at(expr.calleeSpan), args };
  }

  /**
   * Compiles the call's arguments and `extras` (a direction, a cotangent) as functions of the
   * values bound at the prompt, with the callee's `derivatives` exports, and calls `invoke` with
   * their values. `check` may refuse the extras' values (a direction of the wrong shape) before
   * anything runs. What the generated code throws (a RangeError of an index out of range) is an
   * error at the call.
   */
  private async runCall(
    call: CheckedCall,
    extras: readonly Piece[],
    derivatives: readonly Derivative[],
    invoke: (module: Module, args: unknown[], extras: unknown[]) => unknown,
    check?: (args: unknown[], extras: unknown[], value: unknown) => Problems | undefined,
  ): Promise<Outcome<{ result: unknown; extras: unknown[] }>> {
    const prefix = this.prefix();
    const chunk = (name: string, p: Piece): Segment[] => [`fn ${prefix}${name}(${this.parameters()}) = `, p];
    const built = this.build([...call.args.map((a, i) => chunk(`arg${i}`, a)), ...extras.map((e, i) => chunk(`extra${i}`, e))], [call.name], derivatives);
    if (!built.ok) return built;
    const module = await importModule(built.code);
    const ran = thrown(call.piece, prefix, built.assembly, () => {
      const args = call.args.map((_, i) => module[`${prefix}arg${i}`](...this.values()));
      const values = extras.map((_, i) => module[`${prefix}extra${i}`](...this.values()));
      return { args, values, value: check ? module[call.name](...args) : undefined };
    });
    if (!ran.ok) return ran;
    const refused = check?.(ran.result.args, ran.result.values, ran.result.value);
    if (refused) return fail(refused);
    const result = thrown(call.piece, prefix, built.assembly, () => invoke(module, ran.result.args, ran.result.values));
    return result.ok ? { ok: true, result: result.result, extras: ran.result.values } : result;
  }

  /** `(u, v)` as its entries, each where it was typed; text not wrapped in one pair of parentheses is one entry. */
  private tupleEntries(piece: Piece): Outcome<{ entries: Piece[] }> {
    if (piece.text === '') return fail(problemAt(piece, `the direction is missing: one entry per differentiated parameter, e.g. along (1, 0)`));
    if (!wrapped(piece.text)) return { ok: true, entries: [piece] };
    // Parsed as the arguments of a call, so commas inside lists and calls are not split on.
    const prefix = this.prefix();
    const shape = this.parseShape([[`fn ${prefix}tuple(${this.parameters()}) = ${prefix}tuple`, piece]]);
    if (!shape.ok) return shape;
    const expr = returned(shape.program.functions[0]);
    if (expr.kind !== 'call') return { ok: true, entries: [piece] };
    const base = shape.assembly.offsetOf(piece)!;
    return { ok: true, entries: expr.args.map((a) => slice(piece, a.span.start - base, a.span.end - base)) };
  }

  /**
   * The values of `expr` and of its derivative with respect to `variable` at `count` evenly spaced
   * points from `lo` to `hi` (each an expression): `fn __repl_plot(x) = expr` and its gradient.
   * They run in a worker (sample.ts), stopped by `signal` (Ctrl+C) or after `timeoutMs` (20 s).
   */
  async sample(
    expr: Piece | string,
    variable: Piece | string,
    lo: Piece | string,
    hi: Piece | string,
    count = 60,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<Outcome<Samples>> {
    const [e, v, a, b] = [expr, variable, lo, hi].map(asPiece);
    const prefix = this.prefix();
    // The plotted variable hides a value bound under its name; the range's ends may use every value.
    const others = this.binds.filter((d) => d.name !== v.text);
    const chunks: Segment[][] = [
      [`fn ${prefix}plot(`, v, `${others.length > 0 ? ', ' : ''}${this.parameters(others)}) = `, e],
      [`fn ${prefix}lo(${this.parameters()}) = `, a],
      [`fn ${prefix}hi(${this.parameters()}) = `, b],
    ];
    const shape = this.parseShape(chunks);
    if (!shape.ok) return shape;
    const built = this.build(chunks);
    if (!built.ok) return built;
    // At most 1,000 points (a chart is one column per point), so a plot is bounded work.
    const n = Math.min(maxPlotPoints, Math.max(2, Math.floor(Number.isFinite(count) ? count : 60)));
    const job = { code: built.code, lo: `${prefix}lo`, hi: `${prefix}hi`, grad: `${prefix}plotGrad`, variable: v.text, count: n, ends: this.values(), others: this.values(others) };
    const sampled = await sampleInWorker(job, options);
    const whole = (message: string) => fail(problemAt(e, message, 0, e.text.length));
    switch (sampled.kind) {
      case 'stopped':
        return whole(sampled.why === 'interrupted' ? 'interrupted (Ctrl+C): nothing was plotted' : `stopped after ${(options.timeoutMs ?? 20_000) / 1000} s: the expression is too slow to sample ${n} times`);
      case 'failed':
        return whole(`the plot failed: ${sampled.message}`);
      case 'range': {
        const end = b.where.offset + b.text.length - a.where.offset;
        return fail(problemAt(a, `the range must go from a smaller to a larger finite number, but it is ${sampled.from}..${sampled.to}`, 0, end));
      }
      case 'samples':
        return { ok: true, xs: sampled.xs, values: sampled.values, slopes: sampled.slopes };
      default:
        return assertNever(sampled);
    }
  }

  /**
   * The JavaScript the compiler generates for the session: for one function, every function the
   * compile makes for it (`name`, `nameGrad` or `nameJacobian` and the forms it calls, with the
   * default derivatives; calls are inlined, so they stand alone); without a name, the whole module. The
   * `// line N:` comments give the line where each statement was written.
   */
  code(name?: Piece | string): Outcome<{ code: string }> {
    const target = name === undefined ? undefined : asPiece(name);
    if (target && !this.has(target.text)) return fail(problemAt(target, `no function '${target.text}' is defined${this.hint(target.text)}`));
    // One function stands alone (calls are inlined): compile it and what it calls, not the session.
    const wanted = target ? [...reach(new Set([target.text]), (n) => (this.defs.has(n) ? [this.defs.get(n)!] : []))] : this.names;
    const assembly = new Assembly(this.inOrder(wanted).map((d) => [d.piece]));
    const result = this.compile(assembly);
    if (result.code === undefined) return fail(assembly.problems(result.diagnostics));
    const code = result.code.replace(/^(\s*\/\/ line )(\d+):/gm, (whole, lead: string, n: string) => {
      const origin = assembly.originalLine(Number(n));
      return origin ? `${lead}${origin.line}:` : whole;
    });
    if (!target) return { ok: true, code };
    // Every function the compile made for it (its exports, and the forms fJacobian calls), in the module's order.
    const f = target.text;
    const forms = [f, gradientName(f), gradientIntoName(f), vjpName(f), vjpIntoName(f), jvpName(f), jacobianName(f), jacobianColumnsName(f), hvpName(f), hessianName(f)];
    const present = forms.filter((n) => extractFunctions(code, [n]) !== undefined);
    return { ok: true, code: extractFunctions(code, present) ?? code };
  }

  /** The session as an .ad file: every definition as written, with its comments. */
  source(): string {
    let out = '';
    let previousMultiline = false;
    this.definitions.forEach((d, i) => {
      const block = [d.leading, d.piece.text + (d.trailing ? ` ${d.trailing}` : '')].filter(Boolean).join('\n');
      const multiline = block.includes('\n');
      if (i > 0) out += multiline || previousMultiline ? '\n\n' : '\n';
      out += block;
      previousMultiline = multiline;
    });
    return out.length > 0 ? out + '\n' : '';
  }

  /** Forgets every function and every bound value; returns how many of each there were. */
  clear(): { functions: number; values: number } {
    const counts = { functions: this.defs.size, values: this.binds.length };
    this.defs.clear();
    this.order.clear();
    this.callers.clear();
    this.replNamed = 0;
    this.binds = [];
    return counts;
  }

  /**
   * The bound values as parameters of a function the REPL writes: `const x: vec[3], const A: mat[2, 2], const c`.
   * `const`, so a gradient is never taken with respect to them; the sizes are the values' own, so
   * the compiler checks every use of them as it checks any array parameter.
   */
  private parameters(binds: readonly Binding[] = this.binds): string {
    return binds.map((b) => `const ${b.name}${typeof b.value === 'number' ? '' : isMatrix(b.value) ? `: mat[${b.value.length}, ${b.value[0]?.length ?? 0}]` : `: vec[${b.value.length}]`}`).join(', ');
  }

  private values(binds: readonly Binding[] = this.binds): Value[] {
    return binds.map((b) => b.value);
  }

  /**
   * The user functions the last step compiled, in session order (none after an error): what
   * makes a step cost the same in a large session. For tests.
   */
  get compiledLast(): readonly string[] {
    return this.lastCompiled;
  }

  private lastCompiled: string[] = [];

  /** Compiles an assembly of whole definitions and REPL chunks, noting which user functions it holds. */
  private compile(assembly: Assembly, derivatives?: readonly Derivative[]): ReturnType<typeof compileSync> {
    const result = compileSync(assembly.source, { filename: 'session.ad', ...(derivatives && { derivatives }) });
    const prefix = this.prefix();
    this.lastCompiled = result.functions.map((f) => f.name).filter((name) => !name.startsWith(prefix));
    return result;
  }

  /** A name for the REPL's own functions that no user function starts with (so none can collide). */
  private prefix(): string {
    let prefix = '__repl_';
    // Only names that start with '__repl' can be in the way (counted as functions are stored).
    while (this.replNamed > 0 && this.names.some((name) => name.startsWith(prefix))) prefix += '_';
    return prefix;
  }

  /** How many functions are named like the REPL's own (`__repl…`): almost always none. */
  private replNamed = 0;

  /** Adds or replaces a function, keeping the place and the callers index. */
  private store(def: Definition): void {
    const old = this.defs.get(def.name);
    for (const callee of old?.calls ?? []) this.callers.get(callee)?.delete(def.name);
    for (const callee of def.calls) {
      if (!this.callers.has(callee)) this.callers.set(callee, new Set());
      this.callers.get(callee)!.add(def.name);
    }
    if (!old) {
      this.order.set(def.name, this.order.size);
      if (def.name.startsWith('__repl')) this.replNamed++;
    }
    this.defs.set(def.name, def);
  }

  /** Every function that calls one of `names`, directly or not. */
  private callersOf(names: ReadonlySet<string>): Set<string> {
    const found = new Set<string>();
    const stack = [...names];
    while (stack.length > 0) {
      for (const caller of this.callers.get(stack.pop()!) ?? []) {
        if (found.has(caller)) continue;
        found.add(caller);
        stack.push(caller);
      }
    }
    return found;
  }

  /** The session's functions of these names, in session order. */
  private inOrder(names: Iterable<string>): Definition[] {
    return [...names]
      .filter((name) => this.defs.has(name))
      .sort((a, b) => this.order.get(a)! - this.order.get(b)!)
      .map((name) => this.defs.get(name)!);
  }

  /**
   * The diagnostics of a step, where the user typed them. An unknown function's did-you-mean is
   * drawn from the functions compiled; that error is worth compiling the whole session for.
   */
  private problems(assembly: Assembly, diagnostics: readonly Diagnostic[], whole: () => Segment[][], rewrite?: (d: Diagnostic) => Diagnostic): Problems {
    if (!diagnostics.some((d) => d.code === messages.unknownFunction.code)) return assembly.problems(diagnostics, rewrite);
    const all = new Assembly(whole());
    const result = this.compile(all);
    return all.problems(result.diagnostics, rewrite);
  }

  private hint(name: string): string {
    return didYouMean(name, this.names);
  }

  /** Parses the REPL's chunks alone: syntax errors, and one function per chunk (no `fn` inside an expression). */
  private parseShape(chunks: Segment[][]): Outcome<{ program: Program; assembly: Assembly }> {
    const assembly = new Assembly(chunks);
    const bag = new DiagnosticBag();
    const program = parse(assembly.source, bag);
    if (!program) return fail(assembly.problems(bag.items));
    const prefix = this.prefix();
    const stray = program.functions.find((f) => !f.name.startsWith(prefix));
    if (stray) {
      const message = `a function is defined in an entry of its own, starting with 'fn'`;
      const d: Diagnostic = { severity: 'error', code: '', message, span: { start: stray.span.start, end: stray.span.start + 2 }, notes: [] };
      return fail(assembly.problems([d]));
    }
    return { ok: true, program, assembly };
  }

  /** Compiles the REPL's chunks after the definitions they (and `also`) call, directly or not. */
  private build(chunks: Segment[][], also: readonly string[] = [], derivatives?: readonly Derivative[]): { ok: true; code: string; assembly: Assembly } | (Failure & { diagnostics: readonly Diagnostic[] }) {
    const calls = new Set<string>(also);
    const shape = new Assembly(chunks);
    const parsed = parse(shape.source, new DiagnosticBag());
    for (const fn of parsed?.functions ?? []) for (const name of calledNames(fn)) calls.add(name);
    const defs = (names: Iterable<string>) => this.inOrder(names).map((d) => [d.piece]);
    const assembly = new Assembly([...defs(reach(calls, (n) => (this.defs.has(n) ? [this.defs.get(n)!] : []))), ...chunks]);
    const result = this.compile(assembly, derivatives);
    if (result.code !== undefined) return { ok: true, code: result.code, assembly };
    const prefix = this.prefix();
    // Messages name the REPL's functions rarely (a condition where a number must be); say what the user wrote instead.
    const synthetic = new RegExp(`(?:function )?'${prefix}\\w*'`, 'g');
    const rewrite = (d: Diagnostic): Diagnostic => ({ ...d, message: d.message.replace(synthetic, 'the expression') });
    return { ok: false, problems: this.problems(assembly, result.diagnostics, () => [...defs(this.names), ...chunks], rewrite), diagnostics: result.diagnostics };
  }
}

function isMatrix(value: Float64Array | readonly Float64Array[]): value is readonly Float64Array[] {
  return !(value instanceof Float64Array);
}

function asPiece(input: Piece | string): Piece {
  return typeof input === 'string' ? typed(input) : input;
}

/** `roots` and every name they call, directly or not, among the functions `lookup` knows. */
function reach(roots: Iterable<string>, lookup: (name: string) => readonly Pick<Definition, 'calls'>[]): Set<string> {
  const found = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const name = stack.pop()!;
    const defs = lookup(name);
    if (found.has(name) || defs.length === 0) continue;
    found.add(name);
    for (const d of defs) stack.push(...d.calls);
  }
  return found;
}

/** Each differentiated parameter's entry of a result keyed by parameter (a gradient, a Jacobian). */
function entries(info: FunctionInfo, byParam: Record<string, GradientEntry['value']>): GradientEntry[] {
  return info.params.filter((p) => !p.isConst).map((p) => ({ param: p.name, value: byParam[p.name] }));
}

/** `2 entries`, `1 entry`. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a value is, for a message: `a number`, `a vector of 3`, `a 2×2 matrix`. */
function describe(value: unknown): string {
  if (typeof value === 'number') return 'a number';
  if (value instanceof Float64Array) return `a vector of ${value.length}`;
  if (Array.isArray(value)) return `a ${value.length}×${(value[0] as Float64Array | undefined)?.length ?? 0} matrix`;
  return String(value);
}

/**
 * A direction entry whose shape is not its parameter's (a vector for a number, a vector of another
 * length than the argument), at the entry: fJvp would read it as NaN or throw.
 */
function shapeMismatch(info: FunctionInfo, seeded: FunctionInfo['params'], args: unknown[], values: unknown[], pieces: readonly Piece[], what: string): Problems | undefined {
  for (const [i, p] of seeded.entries()) {
    const arg = args[info.params.indexOf(p)];
    const v = values[i];
    const same =
      p.type === undefined
        ? typeof v === 'number'
        : p.type === 'vec'
          ? v instanceof Float64Array && v.length === (arg as Float64Array).length
          : Array.isArray(v) && v.length === (arg as Float64Array[]).length && v.every((row: Float64Array, r) => row.length === (arg as Float64Array[])[r].length);
    if (!same) return problemAt(pieces[i], `the ${what} for '${p.name}' has the shape of ${p.name} (${describe(arg)}), but it is ${describe(v)}`);
  }
  return undefined;
}

/** `(1, 0)`: the text is one pair of parentheses around everything. */
function wrapped(text: string): boolean {
  if (!text.startsWith('(')) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i === text.length - 1;
  }
  return false;
}

/**
 * Runs generated code; what it throws (a RangeError naming an index out of range) is an error at
 * `piece`. Its message names a function and a line of the assembled source: the REPL's own
 * functions are what was typed, and the line is the one the user wrote.
 */
function thrown<T>(piece: Piece, prefix: string, assembly: Assembly, run: () => T): Outcome<{ result: T }> {
  try {
    return { ok: true, result: run() };
  } catch (error) {
    const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const message = raw
      .replace(/\bline (\d+)\b/g, (whole, n: string) => {
        const origin = assembly.originalLine(Number(n));
        return origin ? `line ${origin.line}` : whole;
      })
      .replaceAll(new RegExp(`${prefix}\\w*`, 'g'), 'the expression');
    return fail(problemAt(piece, `the generated code threw ${message}`));
  }
}

function fail(problems: Problems): Failure {
  return { ok: false, problems };
}

function returned(fn: FunctionDecl) {
  const last = fn.body[fn.body.length - 1];
  if (last.kind !== 'return') throw new Error('internal error: a checked function ends in its return');
  return last.value;
}

/** The declarations of a parsed piece, each with the comments around it. */
function declarations(piece: Piece, program: Program): Omit<Definition, 'info'>[] {
  const fns = program.functions;
  const comments = (text: string) =>
    text
      .split(/\r\n|\r|\n/)
      .map((l) => l.trim())
      .filter((l) => l.startsWith('#'))
      .join('\n');
  return fns.map((decl, i) => {
    const gapBefore = piece.text.slice(i === 0 ? 0 : fns[i - 1].span.end, decl.span.start);
    const gapAfter = piece.text.slice(decl.span.end, i + 1 < fns.length ? fns[i + 1].span.start : piece.text.length);
    // A comment on the line where the previous function ends belongs to that function.
    const leading = i === 0 ? gapBefore : gapBefore.replace(/^[^\r\n]*/, '');
    const trailing = /^[^\r\n]*/.exec(gapAfter)![0].trim();
    return { name: decl.name, piece: slice(piece, decl.span.start, decl.span.end), leading: comments(leading), trailing: trailing.startsWith('#') ? trailing : '', calls: calledNames(decl) };
  });
}

/** The functions named, with their doc comments, from a module the compiler wrote; undefined if one is missing. */
export function extractFunctions(code: string, names: readonly string[]): string | undefined {
  const lines = code.split('\n');
  const blocks: string[] = [];
  for (const name of names) {
    const start = lines.findIndex((l) => l.startsWith(`function ${name}(`) || l.startsWith(`function ${name}$(`));
    if (start < 0) return undefined;
    let first = start;
    while (first > 0 && /^\s*(\/\*\*|\*|\/\/)/.test(lines[first - 1])) first--;
    const end = lines.findIndex((l, i) => i > start && l === '}');
    if (end < 0) return undefined;
    blocks.push(lines.slice(first, end + 1).join('\n'));
  }
  return blocks.join('\n\n') + '\n';
}

/** Imports a generated module from a data: URL (it imports nothing itself). */
async function importModule(code: string): Promise<Module> {
  return (await import(/* @vite-ignore */ `data:text/javascript;base64,${Buffer.from(code, 'utf8').toString('base64')}`)) as Module;
}
