import { Builder, simplify } from '../ir/builder.ts';
import { NameMap } from '../ir/name-set.ts';
import { constant, declaredIn, resultLength, definesOf, mapNested, readsOf, variable, forEachInstr, type Expr, type Instr, type IrFunction, type Operand } from '../ir/ir.ts';
import type { NameSupply } from '../ir/builder.ts';
import { assertNever } from '../syntax/ast.ts';
import { activeVariables } from './activity.ts';
import { hoistBranchLocals } from './hoist.ts';
import { cloneBody, layered, saveNestedReductions, type Loop, type Saved } from './loops.ts';
import { copyElements, defaultCheckpointMemoryMB, isFalse, isTrue, planSnapshots, splitIteration, storeEveryState, tapeCarriedLoops, tapeLoop, type Tapes } from './checkpoint.ts';
import { newValueTapes, skippable, tapeIterationValues, type ValueTape } from './value-tape.ts';
import { copyAliases } from './copies.ts';
import { accumulateOnce, addOncePerElement } from './accumulate-once.ts';
import { isDifferentiable, rules } from './rules.ts';
import { recordCalls, repeatedArrayCalls, reverseArrayCall, reverseCall, type RecordedCalls } from './calls.ts';
import { isPartialProductName } from '../emit/names.ts';

/** What the reverse sweep knows about one variable's adjoint. */
interface Adjoint {
  readonly value: Operand;
  /** False when `value` is borrowed (another variable's adjoint, or a constant): it must not be added to in place. */
  readonly owned: boolean;
}

export interface ReverseOptions {
  readonly checkpointMemory?: number;
  /**
   * The variable holding the result's cotangent ū (vector-Jacobian products, fVjp): a number for
   * a function returning a number, else a flat array of the result's length. The sweep then
   * computes ūᵀ·∂result/∂params. Without it, a number result is seeded with 1 (the gradient).
   */
  readonly cotangent?: string;
  /** Guard contributions of adjoints that may be exactly 0 (default true); off for nested gradients. */
  readonly guardZeros?: boolean;
  /**
   * Regroup additions into adjoint arrays (accumulate-once.ts; default true). Off when fHessian or
   * fHvp is exported beside fGrad: their gradient, from a sweep built without it, then equals
   * fGrad's bit for bit (regrouped sums round differently).
   */
  readonly regroup?: boolean;
  /**
   * Let the forward sweep store a logsumexp's exp(term - maximum) for the reverse sweep (loops.ts;
   * default false). Only for code nothing differentiates again, emitted by the JS target: the tape
   * is written by the emitted loop, not by IR stores that forward mode could follow.
   */
  readonly logsumexpTapes?: boolean;
}

/**
 * Reverse mode by source transformation. The result is an IR function whose body is the forward
 * sweep (the primal code, values kept) followed by the reverse sweep: the primal instructions
 * visited last to first, each adding ḡ·∂/∂arg to its arguments' adjoints with the entries of
 * rules.ts. This module knows no particular operation.
 *
 * Adjoints are created at their first contribution (`let d$x = …`) and added to afterwards
 * (`d$x += …`); an adjoint that is only passed through (ḡ of `a + b`) is shared, not copied.
 * Nobody's adjoint is computed unless it reaches a differentiated parameter (activity analysis).
 *
 * A loop is reversed by a loop running backwards whose body first recomputes the forward body
 * (values inside a loop live for one iteration) and then reverses it. Recomputing is cheap except
 * for a nested reduction, which would cost its whole loop again: those results are stored by the
 * forward sweep (loops.ts) and read back. An array has an adjoint array of the same length: a
 * read `x[i]` adds to `d$x[i]`, and each element stored into an array `let` starts its value's
 * adjoint from the element of the adjoint array.
 */
export function reverseMode(fn: IrFunction, names: NameSupply, options: ReverseOptions = {}): IrFunction {
  // The tape budget of a loop with state, in numbers (checkpoint.ts).
  const budget = Math.floor(((options.checkpointMemory ?? defaultCheckpointMemoryMB) * 2 ** 20) / 8);
  const active = activeVariables(fn);
  const fnOrigin = { span: fn.span, statement: fn.span };
  const saved = new Map<string, Saved>();
  const tapes: Tapes = new Map();
  const valueTapes = newValueTapes();
  // Array lets that copy another: they share its adjoint array, and their copy loops have no reverse (copies.ts).
  const aliases = copyAliases(fn.body);
  const aliasLoops = new Set([...aliases.values()].map((a) => a.loop));
  const forward = saveNestedReductions(hoistBranchLocals(tapeCarriedLoops(tapeIterationValues(fn.body, names, valueTapes, budget), names, tapes, budget), fnOrigin), names, saved, options.logsumexpTapes === true);
  const b = new Builder(names, fnOrigin);
  // A call repeating an earlier one (same function, same unchanged arguments): it shares the
  // first's adjoint array, and only the first calls the adjoint form (calls.ts).
  const repeated = repeatedArrayCalls(forward);
  const sharesAdjoint = (name: string) => {
    const source = repeated.get(name);
    return source !== undefined && active.has(name) && active.has(source);
  };
  // Array-valued variables (parameters, array lets, rows, stored values) and their adjoint arrays.
  const arrays = new Set(fn.params.filter((p) => p.shape).map((p) => p.name));
  // Rows, by variable: the matrix and row index they were read with.
  const rows = new Map<string, readonly Operand[]>();
  const noteRows = (block: readonly Instr[]) =>
    forEachInstr(block, (i) => {
      if ((i.kind === 'const' || i.kind === 'set') && i.expr.op === 'row') {
        arrays.add(i.target);
        rows.set(i.target, i.expr.args);
      }
    });
  forEachInstr(forward, (i) => {
    if (i.kind === 'array' || isArrayCall(i)) arrays.add(i.target);
  });
  noteRows(forward);
  // Arrays written again by each iteration of a loop with state (work arrays made in its body,
  // array variables' buffers): the reverse of a store into one takes its adjoint and sets it to 0,
  // so that the iteration reversed next starts from 0 (or from the element's earlier value).
  const rewritten = new Set<string>();
  // Arrays the forward sweep stores for the reverse sweep only (nested reductions' results).
  const tapeArrays = new Set<string>();
  for (const s of saved.values()) for (const v of s.values) tapeArrays.add(v.array);
  forEachInstr(forward, (i) => {
    if (i.kind === 'loop' && i.carried) forEachInstr(i.body, (s) => s.kind === 'store' && !s.accumulate && rewritten.add(s.array));
    // A product's partial products (a nested gradient's) are written again each time its sweep runs, in a loop too.
    if (i.kind === 'array' && isPartialProductName(i.target)) rewritten.add(i.target);
  });
  const arrayAdjoints = new Map<string, string>();
  // Kept calls whose forward sweep calls their gradient form instead (calls.ts).
  const recorded: RecordedCalls = new Map();
  // Adjoint arrays that some read has added into so far (in the reverse sweep's order).
  const addedTo = new Set<string>();
  /**
   * The adjoint array of an array variable. A row read inside a branch has no adjoint row made
   * beside it (a branch is recomputed whole): it is made where it is needed.
   */
  const adjointArrayOf = (name: string): string | undefined => {
    const known = arrayAdjoints.get(name);
    if (known) return known;
    const row = rows.get(name);
    const matrix = row && row[0].kind === 'var' ? adjointArrayOf(row[0].name) : undefined;
    if (!row || !matrix) return undefined;
    const target = names.temp();
    b.emit({ kind: 'const', target, expr: { op: 'row', args: [variable(matrix), row[1]] }, origin: b.origin });
    return target;
  };
  /** The adjoint array a row's matrix has, without making the row's (for tests of what was added to). */
  const adjointOfRow = (name: string): string | undefined => {
    const row = rows.get(name);
    return row && row[0].kind === 'var' ? arrayAdjoints.get(row[0].name) : undefined;
  };
  // The name each clone of a loop index or reduction result was made from (clones of clones included).
  const original = new Map<string, string>();
  const originalOf = (name: string) => original.get(name) ?? name;
  // An element of an array kept per iteration (value-tape.ts) is read and written at o + i, its
  // adjoint (one iteration's) at i: the i of each index variable in the recomputed code.
  const tapeElement = new Map<string, Operand>();
  const noteTapeIndices = (block: readonly Instr[]) =>
    forEachInstr(block, (i) => {
      // (`set` where a branch's value was hoisted out of it, hoist.ts.)
      if ((i.kind === 'const' || i.kind === 'set') && valueTapes.indices.has(originalOf(i.target))) tapeElement.set(i.target, i.expr.args[1]);
    });
  /** The index of an element of `array`'s adjoint array, from the index of the element. */
  const adjointIndex = (array: string, index: Operand): Operand => {
    if (!valueTapes.lengths.has(array)) return index;
    const element = index.kind === 'var' ? tapeElement.get(index.name) : undefined;
    if (!element) throw new Error(`internal error: no element index for '${array}' at ${JSON.stringify(index)}`);
    return element;
  };
  // The current name of each enclosing loop's index (by original name), while its reverse is built.
  const indexNow = new Map<string, string>();
  // (By name: most are temporaries' adjoints, kept in an array by number, name-set.ts.)
  const adjoints = new NameMap<Adjoint>();
  // Adjoints that may be exactly 0, whose contributions are guarded against 0·∞ (see Decisions in
  // ARCHITECTURE.md). A nested gradient is differentiated again, and a guard would make it a
  // constant 0 where an adjoint is 0 whose derivative is not: it has none (`guardZeros: false`).
  const mayBeZero = new Set<string>();
  const markMayBeZero = (name: string) => {
    if (options.guardZeros !== false) mayBeZero.add(name);
  };
  // Changes to `adjoints` inside a block being built, to undo when the block ends (its adjoints
  // go out of scope with it). A journal, not a copy of the map: nested ifs stay linear.
  const journals: Map<string, Adjoint | undefined>[] = [];
  const setAdjoint = (name: string, value: Adjoint | undefined) => {
    const journal = journals[journals.length - 1];
    if (journal && !journal.has(name)) journal.set(name, adjoints.get(name));
    if (value) adjoints.set(name, value);
    else adjoints.delete(name);
  };
  const scoped = (build: () => void): Instr[] => {
    journals.push(new Map());
    const block = b.block(build);
    // (Put back directly: through setAdjoint, the enclosing block's journal would record the
    // inner value as the one to put back when it ends.)
    journals.pop()!.forEach((previous, name) => (previous ? adjoints.set(name, previous) : adjoints.delete(name)));
    return block;
  };

  // (One closure for every instruction reversed, not one each.)
  const isActive = (a: Operand) => a.kind === 'var' && active.has(a.name);

  const accumulate = (name: string, contribution: Expr | Operand) => {
    const existing = adjoints.get(name);
    const c = simplify(contribution);
    // A contribution of exactly 0 changes nothing, and must not be multiplied by an infinite partial later.
    if (!('op' in c) && c.kind === 'const' && c.value === 0) return;
    if (!existing) {
      if (!('op' in c)) {
        setAdjoint(name, { value: c, owned: false });
        return;
      }
      const target = names.adjoint(name);
      b.emit({ kind: 'let', target, expr: c, origin: b.origin });
      setAdjoint(name, { value: variable(target), owned: true });
      // min and max give the argument they did not select an adjoint of exactly 0.
      if (c.op === 'select') markMayBeZero(target);
    } else if (existing.owned && existing.value.kind === 'var') {
      b.emit({ kind: 'add', target: existing.value.name, expr: 'op' in c ? c : { op: 'copy', args: [c] }, origin: b.origin });
    } else {
      const target = names.adjoint(name);
      const addend = 'op' in c ? b.op(c.op, ...c.args) : c;
      b.emit({ kind: 'let', target, expr: { op: 'add', args: [existing.value, addend] }, origin: b.origin });
      setAdjoint(name, { value: variable(target), owned: true });
      // The sum of two adjoints that may be exactly 0 (two arguments a kept call does not use) may be too.
      const zero = (o: Operand) => o.kind === 'var' && mayBeZero.has(o.name);
      if (zero(existing.value) && zero(addend)) markMayBeZero(target);
    }
  };

  /**
   * Builds reverse code that runs only sometimes (a branch of an `if`, or a guard). Adjoints of
   * the given outer variables may be added to inside it, so they must be declared before it: each
   * gets a placeholder while the code is built, and only those actually used are declared
   * (`let d$v = <its adjoint so far, or 0>`). One declared from 0 may stay 0 (the branch was not
   * taken): it is remembered in `mayBeZero`.
   */
  const conditionally = (outerReads: Iterable<string>, builders: (() => void)[]): Instr[][] => {
    const placeholders = new Map<string, Adjoint | undefined>();
    for (const name of outerReads) {
      const existing = adjoints.get(name);
      if (existing?.owned || placeholders.has(name)) continue;
      placeholders.set(name, existing);
      setAdjoint(name, { value: variable(names.adjoint(name)), owned: true });
    }
    const used = new Set<string>();
    const blocks = builders.map(scoped);
    const declared = new Set([...placeholders.keys()].map((n) => names.adjoint(n)));
    for (const block of blocks) forEachInstr(block, (i) => i.kind === 'add' && declared.has(i.target) && used.add(i.target));
    for (const [name, previous] of placeholders) {
      const target = names.adjoint(name);
      if (!used.has(target)) {
        setAdjoint(name, previous);
        continue;
      }
      b.emit({ kind: 'let', target, expr: { op: 'copy', args: [previous?.value ?? constant(0)] }, origin: b.origin });
      if (!previous) markMayBeZero(target);
    }
    return blocks;
  };

  /** Builds code that runs only where `name` is not 0 (inside a guard on it). */
  const knownNonzero = <T>(name: string, build: () => T): T => {
    const was = mayBeZero.delete(name);
    try {
      return build();
    } finally {
      if (was) mayBeZero.add(name);
    }
  };

  /** Each active argument of `target = op(args)` gets ḡ·∂target/∂arg from the rules (rules.ts). */
  const applyRules = (target: string, op: Expr['op'], args: readonly Operand[], g: Operand) => {
    if (!isDifferentiable(op)) throw new Error(`internal error: no derivative rule for '${op}'`);
    const partials = rules[op];
    // (One context for the instruction's partials, made only when one applies.)
    let context: { b: Builder; args: readonly Operand[]; y: Operand; g: Operand } | undefined;
    for (let k = 0; k < args.length; k++) {
      const arg = args[k];
      const partial = partials[k];
      if (!partial || arg.kind !== 'var' || !active.has(arg.name)) continue;
      accumulate(arg.name, partial((context ??= { b, args, y: variable(target), g })));
    }
  };

  /**
   * `singleSeed`: the block is one iteration of an element loop whose only source of adjoints is
   * its one store (see `soleStore`): the store's seed, an element of the adjoint array, is tested
   * once, and the rest of the iteration's reverse runs only where it is not 0.
   */
  const reverseBlock = (block: readonly Instr[], singleSeed?: Extract<Instr, { kind: 'store' }>) => {
    for (let i = block.length - 1; i >= 0; i--) {
      const instr = block[i];
      b.origin = instr.origin;
      if (instr === singleSeed && reverseSoleStore(instr, block.slice(0, i))) return;
      switch (instr.kind) {
        case 'if': {
          const outerReads = outerActiveReads([...instr.then, ...instr.else]);
          const [thenBlock, elseBlock] = conditionally(outerReads, [() => reverseBlock(instr.then), () => reverseBlock(instr.else)]);
          if (thenBlock.length > 0 || elseBlock.length > 0) {
            b.emit({ kind: 'if', condition: instr.condition, then: thenBlock, else: elseBlock, origin: instr.origin });
          }
          break;
        }
        case 'loop':
          reverseLoop(instr);
          break;
        case 'store': {
          // An element of an array `let`: its value's adjoint starts from the adjoint array's
          // element. An accumulation (`d$x[i] += v`, a nested gradient's) passes it on the same way.
          const value = instr.expr.args[0];
          const adjointArray = adjointArrayOf(instr.array);
          if (adjointArray && instr.expr.op === 'copy' && value.kind === 'var' && active.has(value.name)) {
            const seed = b.op('load', variable(adjointArray), adjointIndex(instr.array, instr.index));
            if (seed.kind === 'var') markMayBeZero(seed.name);
            accumulate(value.name, seed);
          }
          if (instr.accumulate) break;
          const ownAdjoint = arrayAdjoints.get(instr.array);
          // An element written again (in place, or by each iteration): its adjoint before the store is 0.
          // (Whether or not something has added to it yet: in a loop, a later iteration's reverse may have.)
          if (ownAdjoint && (instr.old || rewritten.has(originalOf(instr.array)))) {
            b.emit({ kind: 'store', array: ownAdjoint, index: adjointIndex(instr.array, instr.index), expr: { op: 'copy', args: [constant(0)] }, accumulate: false, origin: b.origin });
          }
          // An update in place: the element gets its old value back, for what the reverse sweep recomputes before it.
          if (instr.old) b.emit({ kind: 'store', array: instr.array, index: instr.index, expr: { op: 'copy', args: [instr.old] }, accumulate: false, origin: b.origin });
          break;
        }
        case 'array':
        case 'check':
          break;
        case 'let':
        case 'const':
        case 'set': {
          if (isArrayCall(instr)) {
            // A kept call returning an array: its adjoint form, given the result's adjoint array (calls.ts).
            const adjointArray = arrayAdjoints.get(instr.target);
            if (!adjointArray || !addedTo.has(adjointArray) || sharesAdjoint(instr.target)) break;
            reverseArrayCall(
              b,
              instr.expr!,
              adjointArray,
              (a) => a.kind === 'var' && active.has(a.name),
              (name, c) => {
                // (As a number kept call's: the callee may not use the argument, an adjoint of exactly 0.)
                if (c.kind === 'var') markMayBeZero(c.name);
                accumulate(name, c);
              },
              (name) => {
                const target = adjointArrayOf(name);
                if (target) addedTo.add(target);
                return target;
              },
            );
            break;
          }
          const g = adjoints.get(instr.target);
          if (!g || !instr.expr || !active.has(instr.target)) break;
          const { op, args } = instr.expr;
          if (op === 'row') break;
          if (op === 'load') {
            // d$x[i] += ḡ
            const adjointArray = args[0].kind === 'var' ? adjointArrayOf(args[0].name) : undefined;
            if (!adjointArray) throw new Error(`internal error: no adjoint array for '${JSON.stringify(args[0])}'`);
            b.emit({ kind: 'store', array: adjointArray, index: args[0].kind === 'var' ? adjointIndex(args[0].name, args[1]) : args[1], expr: { op: 'copy', args: [g.value] }, accumulate: true, origin: b.origin });
            addedTo.add(adjointArray);
            // Added into a row of a matrix's adjoint: into the matrix's (a nested gradient's rows).
            const matrix = args[0].kind === 'var' ? adjointOfRow(args[0].name) : undefined;
            if (matrix) addedTo.add(matrix);
            break;
          }
          // (Most instructions: a rule's partials, ḡ not possibly 0. Called directly: no closure made per instruction.)
          const zero = g.value.kind === 'var' && mayBeZero.has(g.value.name);
          if (!zero && op !== 'call') {
            applyRules(instr.target, op, args, g.value);
            break;
          }
          const contribute =
            op === 'call'
              ? // A call that stays a call: ḡ times the gradient its forward sweep's call returned (calls.ts).
                // Each argument's adjoint may be exactly 0 (the callee may not use it): guarded as
                // an adjoint loaded from an array is, so 0 times an infinite partial stays 0.
                () =>
                  reverseCall(
                    b,
                    instr.target,
                    instr.expr!,
                    g.value,
                    recorded,
                    isActive,
                    (name, c) => {
                      const o = 'kind' in c ? c : b.op(c.op, ...c.args);
                      if (o.kind === 'var') markMayBeZero(o.name);
                      accumulate(name, o);
                    },
                    (name) => {
                      // An array argument's adjoint is added into its adjoint array.
                      const target = adjointArrayOf(name);
                      if (target) addedTo.add(target);
                      return target;
                    },
                  )
              : () => applyRules(instr.target, op, args, g.value);
          if (zero && isLinear(op, args)) {
            // ±ḡ needs no guard (no partial to be infinite); the adjoints it reaches may be 0 in turn,
            // unless they had a contribution that cannot be (as for a sum in `accumulate`).
            const mayBeZeroBefore = args.map((a) => {
              const adjoint = a.kind === 'var' ? adjoints.get(a.name)?.value : undefined;
              return adjoint === undefined || (adjoint.kind === 'const' ? adjoint.value === 0 : mayBeZero.has(adjoint.name));
            });
            contribute();
            args.forEach((a, k) => {
              const adjoint = a.kind === 'var' ? adjoints.get(a.name)?.value : undefined;
              if (adjoint?.kind === 'var' && mayBeZeroBefore[k]) markMayBeZero(adjoint.name);
            });
          } else if (zero) {
            // An adjoint that may be exactly 0 (its uses were in branches not taken) contributes
            // nothing, even where a partial is infinite: 0·∞ would otherwise make the gradient NaN.
            const reads = args.flatMap((a) => (a.kind === 'var' && active.has(a.name) ? [a.name] : []));
            const [guarded] = knownNonzero(g.value.name, () => conditionally(reads, [contribute]));
            if (guarded.length > 0) {
              const nonzero = b.op('ne', g.value, constant(0));
              b.emit({ kind: 'if', condition: nonzero, then: guarded, else: [], origin: instr.origin });
            }
          } else {
            contribute();
          }
          break;
        }
        case 'add': {
          // `t += e` (an accumulation, as in a nested gradient's reverse sweep): t's adjoint passes
          // through unchanged to the value before, and reaches e's operands as for `t = e`.
          const g = adjoints.get(instr.target);
          if (!g || !active.has(instr.target)) break;
          reverseBlock([{ kind: 'const', target: instr.target, expr: instr.expr, origin: instr.origin }]);
          break;
        }
        default:
          assertNever(instr);
      }
    }
  };

  /**
   * The reverse of an element loop's only store, then of the rest of its iteration (`rest`, the
   * instructions before it), when every adjoint of the iteration comes from that store's seed (the
   * element of the adjoint array): the seed is tested once, instead of each adjoint derived from it
   * (five tests per element of `rhs` in examples/loops.ad). Where the seed is exactly 0 (an element
   * nothing read) the iteration adds nothing, even through an infinite partial, as the derived
   * adjoints' own guards gave; where it is not, the adjoints derived from it are treated as nonzero,
   * as they are after any guard. Returns false (nothing emitted) when the store has no seed.
   */
  const reverseSoleStore = (store: Extract<Instr, { kind: 'store' }>, rest: readonly Instr[]): boolean => {
    const value = store.expr.args[0];
    const adjointArray = adjointArrayOf(store.array);
    if (!adjointArray || store.accumulate || store.expr.op !== 'copy' || value.kind !== 'var' || !active.has(value.name)) return false;
    const seed = b.op('load', variable(adjointArray), adjointIndex(store.array, store.index));
    // The element's adjoint is taken (and set to 0 when written again), its old value put back, whatever the seed.
    const ownAdjoint = arrayAdjoints.get(store.array);
    if (ownAdjoint && (store.old || rewritten.has(originalOf(store.array)))) {
      b.emit({ kind: 'store', array: ownAdjoint, index: adjointIndex(store.array, store.index), expr: { op: 'copy', args: [constant(0)] }, accumulate: false, origin: b.origin });
    }
    if (store.old) b.emit({ kind: 'store', array: store.array, index: store.index, expr: { op: 'copy', args: [store.old] }, accumulate: false, origin: b.origin });
    const [guarded] = conditionally(outerActiveReads(rest), [
      () => {
        accumulate(value.name, seed);
        reverseBlock(rest);
      },
    ]);
    if (guarded.length > 0) b.emit({ kind: 'if', condition: b.op('ne', seed, constant(0)), then: guarded, else: [], origin: store.origin });
    return true;
  };

  /**
   * The one store of an element loop's body whose seed is the only source of the body's adjoints
   * (for reverseSoleStore): a plain store at the body's top level, with no other store, no
   * accumulation (`+=`) and no loop with state anywhere in the body, and no reduction seeding it.
   * Undefined when guards are off (a nested gradient's sweep keeps every term).
   */
  const soleStore = (body: readonly Instr[], seeded: boolean): Extract<Instr, { kind: 'store' }> | undefined => {
    if (options.guardZeros === false || seeded) return undefined;
    let stores = 0;
    let other = false;
    forEachInstr(body, (i) => {
      if (i.kind === 'store') stores++;
      if (i.kind === 'add' || (i.kind === 'loop' && (i.carried || i.exit))) other = true;
    });
    if (stores !== 1 || other) return undefined;
    // (A body of linear steps only, `y3[i] = y[i]` or `y2[i] = y[i] + c·k1[i]`, has no partial to be
    // infinite: its adjoints need no test at all, as in straight-line code.)
    if (body.every((i) => i.kind === 'store' || i.kind === 'check' || (i.kind === 'const' && (i.expr.op === 'load' || isLinear(i.expr.op, i.expr.args))))) return undefined;
    const store = body.find((i): i is Extract<Instr, { kind: 'store' }> => i.kind === 'store');
    return store && !store.accumulate ? store : undefined;
  };

  /** The scalar variables a block reads from outside it that have adjoints (arrays have adjoint arrays). */
  const outerActiveReads = (inside: readonly Instr[]): Set<string> => {
    const local = definedIn(inside);
    const reads = new Set<string>();
    forEachInstr(inside, (inner) => {
      for (const r of readsOf(inner)) if (r.kind === 'var' && active.has(r.name) && !local.has(r.name) && !arrays.has(r.name)) reads.add(r.name);
    });
    return reads;
  };

  /**
   * Emits a recomputation of a loop body (already cloned under fresh names) for its reverse: every
   * value again, except stores (their arrays are complete), loops that only store, and nested
   * reductions whose results the forward sweep stored (read back instead). A value that was
   * stored into an array `let` is read back from it. Rows of arrays with adjoints get their
   * adjoint rows beside them.
   */
  const recompute = (body: readonly Instr[], whole = false, values?: ValueTape, updatesUndone = false): number => {
    const before = b.current.length;
    const storedAt = new Map<string, Extract<Instr, { kind: 'store' }>>();
    const definedBefore = new Set<string>();
    // Arrays this iteration makes (a kept call's flat copy of a matrix, a list): made again here,
    // so filled again here too (their elements are not in the forward sweep's arrays).
    const madeHere = new Set(body.flatMap((i) => (i.kind === 'array' ? [i.target] : [])));
    const fillsOnlyMadeHere = (loop: Instr) => {
      let stores = 0;
      let others = 0;
      forEachInstr([loop], (i) => {
        if (i.kind === 'store') madeHere.has(i.array) ? stores++ : others++;
      });
      return stores > 0 && others === 0;
    };
    for (const instr of body) {
      // (A whole iteration runs its stores in order: nothing is stored yet when a value is computed.
      // An element updated in place still holds the value stored when its store is reversed: the
      // updates after it have been reversed, and their old values put back, by then; unless the
      // update was not recomputed (`updatesUndone`, see lastUpdate): it holds the old value.)
      if (whole) continue;
      // (Not an accumulation `a[i] += v`: a[i] then holds more than v.)
      if (instr.kind === 'store' && !instr.accumulate && !(updatesUndone && instr.old) && instr.expr.op === 'copy' && instr.expr.args[0].kind === 'var') storedAt.set(instr.expr.args[0].name, instr);
    }
    const skipped = whole ? lastUpdate(body) : undefined;
    // What the body declares, found once when first needed (it was found again for each
    // accumulation and loop: quadratic in a large loop body).
    let declared: Set<string> | undefined;
    const declaredHere = () => (declared ??= declaredIn(body));
    // What the body's own top level defines (isDefinedIn, for every stored value: a Set, found once).
    let topDefined: Set<string> | undefined;
    const definedAtTop = (name: string) => (topDefined ??= new Set(body.flatMap(definesOf))).has(name);
    for (const instr of body) {
      if (instr === skipped) {
        notRecomputed.add(originalOf(skipped.index));
        continue;
      }
      switch (instr.kind) {
        case 'store':
          // A whole iteration (of a loop with state) writes its arrays again, in order; the results
          // the forward sweep stored for the reverse sweep are there already. A product's partial
          // products (a nested gradient's) are written again by each iteration: again here too.
          if ((whole && !tapeArrays.has(instr.array)) || isPartialProductName(instr.array) || (!whole && madeHere.has(instr.array))) b.emit(instr);
          continue;
        case 'check':
          continue;
        case 'add':
          // An accumulation into a variable of the enclosing code (a nested gradient's adjoint)
          // is not a value of this iteration: running it again would add twice.
          if (!declaredHere().has(instr.target)) continue;
          b.emit(instr);
          continue;
        case 'loop': {
          if (instr.schedule) {
            b.emit(instr);
            continue;
          }
          if (instr.carried) {
            // A loop with state inside the iteration: run again, storing its states for its own reverse.
            for (const i of tapeLoop(instr, names, tapes, budget)) b.emit(i.kind === 'loop' ? { ...i, note: 'recomputed for the reverse sweep' } : i);
            continue;
          }
          if (!instr.reduction && !whole && fillsOnlyMadeHere(instr)) {
            b.emit({ ...(withoutChecks(instr) as Loop), note: 'recomputed for the reverse sweep: it fills an array this iteration makes' });
            continue;
          }
          if (!instr.reduction && writesPartialProducts(instr)) {
            b.emit({ ...(withoutChecks(instr) as Loop), note: 'recomputed for the reverse sweep' });
            continue;
          }
          if (!instr.reduction) {
            // A loop that only stores is not run again (its arrays are complete), unless it also
            // accumulates into a value of this body (a nested gradient's `let s = 0; for … s += …`):
            // then it runs again for that, without its stores and outer accumulations. In a whole
            // iteration it runs again in full (its reads were checked in range by the forward sweep).
            if (whole && values && skippable(instr, values.arrays)) {
              // Its arrays were kept for every iteration (value-tape.ts) when they fitted: run only when not.
              const loop: Loop = { ...(withoutStoresInto(withoutChecks(instr), tapeArrays) as Loop), note: 'recomputed for the reverse sweep when the arrays were not kept' };
              b.emit({ kind: 'if', condition: values.stored, then: [], else: [loop], origin: instr.origin });
            } else if (whole) {
              b.emit({ ...(withoutStoresInto(withoutChecks(instr), tapeArrays) as Loop), note: 'recomputed for the reverse sweep' });
            } else {
              const kept = valuesOnly([instr], declaredHere());
              if (kept.length > 0) b.emit({ ...(kept[0] as Loop), note: 'recomputed for the reverse sweep' });
            }
            continue;
          }
          const s = saved.get(originalOf(instr.reduction.target));
          // A reduction's loop that also accumulates into a value of this body (forward mode's
          // tangent of a sum, `$tt += …`, in a nested jvp or Jacobian): its stored result does
          // not give that value, so it runs again, for its values only.
          const local = declaredHere();
          let accumulatesLocal = false;
          forEachInstr(instr.body, (i) => (accumulatesLocal ||= (i.kind === 'add' || i.kind === 'set') && local.has(i.target) && !isDefinedIn(i.target, instr.body)));
          // A reduction's loop that also writes an array a whole iteration writes again (a nested
          // gradient's own tape of exp values, inside a loop with state): its stored result does
          // not put those elements back, so it runs again.
          let storesAgain = false;
          if (whole) forEachInstr(instr.body, (i) => (storesAgain ||= i.kind === 'store' && !i.accumulate && !tapeArrays.has(i.array)));
          if (s && storesAgain) {
            b.emit({ ...(withoutStoresInto(instr, tapeArrays) as Loop), note: 'recomputed for the reverse sweep: it fills an array the iteration reads' });
            continue;
          }
          if (s && accumulatesLocal) {
            b.emit({ ...(valuesOnly([instr], local)[0] as Loop), note: 'recomputed for the reverse sweep' });
            continue;
          }
          if (!s) {
            b.emit({ ...(withoutStoresInto(instr, tapeArrays) as Loop), note: 'recomputed for the reverse sweep' });
            continue;
          }
          const position = positionOf(s);
          for (const { name, array } of s.values) {
            const current = definesOf(instr).find((d) => originalOf(d) === name)!;
            b.emit({ kind: 'const', target: current, expr: { op: 'load', args: [variable(array), position] }, origin: instr.origin });
          }
          continue;
        }
        case 'const': {
          // A costly value the forward sweep stored (loops.ts): read back.
          const kept = saved.get(originalOf(instr.target));
          if (kept) {
            b.emit({ kind: 'const', target: instr.target, expr: { op: 'load', args: [variable(kept.values[0].array), positionOf(kept)] }, origin: instr.origin });
            definedBefore.add(instr.target);
            continue;
          }
          const store = storedAt.get(instr.target);
          if (store && values && valueTapes.scalars.has(store.array) && store.index.kind === 'var' && definedBefore.has(store.index.name)) {
            // A costly number the value tape keeps when values fit (value-tape.ts): read back then, else recomputed.
            const load: Instr = { kind: 'set', target: instr.target, expr: { op: 'load', args: [variable(store.array), store.index] }, origin: instr.origin };
            const again: Instr = { kind: 'set', target: instr.target, expr: instr.expr, origin: instr.origin };
            b.emit({ kind: 'let', target: instr.target, expr: undefined, origin: instr.origin });
            b.emit({ kind: 'if', condition: values.stored, then: [load], else: [again], origin: instr.origin });
          } else if (store && valueTapes.scalars.has(store.array)) {
            b.emit(instr);
          } else if (store && (store.index.kind === 'const' || !definedAtTop(store.index.name) || definedBefore.has(store.index.name))) {
            b.emit({ kind: 'const', target: instr.target, expr: { op: 'load', args: [variable(store.array), store.index] }, origin: instr.origin });
          } else {
            b.emit(instr);
          }
          definedBefore.add(instr.target);
          if (instr.expr.op === 'row') adjointRow(instr);
          continue;
        }
        default: {
          // (A branch: run again whole, except its stores into the forward sweep's stored values,
          // which hold those values already. Written again, their adjoints would be taken twice by
          // a sweep differentiating this one again: a nested gradient's. A loop with state in it,
          // an inlined callee's, stores its states for its own reverse, as one outside a branch,
          // in variables declared before the branch, where the branch's reverse reads them.)
          for (const i of hoistBranchLocals(tapeCarriedLoops([withoutStoresInto(instr, tapeArrays)], names, tapes, budget), instr.origin)) b.emit(i);
          for (const d of definesOf(instr)) definedBefore.add(d);
        }
      }
    }
    return b.current.length - before;
  };

  // Loops updating arrays in place that a recomputed iteration did not run again (lastUpdate), by original index.
  const notRecomputed = new Set<string>();

  /**
   * The last statement of an iteration recomputed whole, when it is a loop that only updates
   * arrays in place (`y[i] = y[i] + …`, each store with its old value): its reverse comes first and
   * puts every old value back, so running it again would write values that nothing reads before
   * they are undone. It is skipped, and its reverse recomputes its values from the arrays as they
   * were before it (`updatesUndone`) instead of reading them back from the arrays it wrote.
   */
  const lastUpdate = (body: readonly Instr[]): Loop | undefined => {
    const last = body.filter((i) => i.kind !== 'check').at(-1);
    if (last?.kind !== 'loop' || last.reduction || last.carried || last.exit || last.schedule) return undefined;
    const local = definedIn(last.body);
    let updates = true;
    forEachInstr(last.body, (i) => {
      if (i.kind === 'store' && (i.accumulate || !i.old)) updates = false;
      if ((i.kind === 'set' || i.kind === 'add') && !local.has(i.target)) updates = false;
      if (i.kind === 'loop' && (i.reduction || i.carried || i.exit)) updates = false;
    });
    return updates ? last : undefined;
  };

  /** `const d$r = row(d$A, i)` beside `const r = row(A, i)`, when A has an adjoint array. */
  const adjointRow = (instr: Extract<Instr, { kind: 'const' }>) => {
    const [matrix, row] = instr.expr.args;
    const adjointMatrix = matrix.kind === 'var' ? arrayAdjoints.get(matrix.name) : undefined;
    if (!adjointMatrix) return;
    const target = names.adjoint(instr.target);
    b.emit({ kind: 'const', target, expr: { op: 'row', args: [variable(adjointMatrix), row] }, origin: instr.origin });
    arrayAdjoints.set(instr.target, target);
  };

  /** Where a stored nested reduction's result of the current iteration is: its enclosing indices, flattened. */
  const positionOf = (s: Saved): Operand => {
    let position: Operand | undefined;
    for (const { index, from, extent } of s.enclosing) {
      const current = indexNow.get(index);
      if (!current) throw new Error(`internal error: no current name for loop index '${index}'`);
      const offset = b.op('sub', variable(current), from);
      position = position === undefined ? offset : b.op('add', b.op('mul', position, extent), offset);
    }
    return position!;
  };

  /**
   * The reverse of a loop with carried state X_k. Each X_k gets an adjoint variable d$X_k, which
   * holds ∂(result)/∂(X_k at the end of the iteration being reversed): it starts as the adjoint of
   * the final state. The iterations are reversed from the last, each from its starting state: the
   * top snapshot (checkpoint.ts) is read, the iterations from it to t are recomputed (none when
   * every state was stored), taking snapshots where Revolve's rule plans them; then t's values
   * are recomputed from its state (under fresh names), the new state's values seeded with d$X_k,
   * the iteration reversed with the ordinary rules, and d$X_k set to the adjoints of the starting
   * state; t's snapshot, if it is the top one, is freed. After the loop, d$X_k is the
   * adjoint of the state before it (the `let X_k = init` passes it on). A `while` reverses the
   * number of iterations it ran.
   *
   * Array state Y (a buffer the body updates in place) is read into a work array W, which stands
   * for Y in the recomputed iterations and shares Y's adjoint array d$Y: reversing an iteration's
   * stores (each takes its element's adjoint, sets it to 0 and restores the old value) leaves in
   * d$Y the adjoint of the iteration's starting state, with no copy.
   */
  const reverseCarried = (loop: Loop) => {
    const carried = loop.carried ?? [];
    const tape = tapes.get(loop.index);
    if (!tape) throw new Error(`internal error: no tape for the loop over '${loop.index}'`);
    const stateArrays = tape.arrays.map((a) => ({ ...a, adjoint: active.has(a.name) ? arrayAdjoints.get(a.name) : undefined }));
    // Nothing after the loop depends on its active state: it adds no adjoints.
    if (!carried.some((name) => active.has(name) && adjoints.has(name)) && !stateArrays.some((a) => a.adjoint && addedTo.has(a.adjoint))) return;
    const stateAdjoints = new Map<string, string>();
    // The state adjoints that may be exactly 0 when the last iteration is reversed (a variable
    // unused after the loop, or used only in branches not taken): as in straight-line code, their
    // contributions are guarded, so that one through an infinite partial is 0, not NaN (an unrolled
    // loop would have no adjoint there at all).
    const seeds = new Set<string>();
    for (const name of carried) {
      if (!active.has(name)) continue;
      // A variable unused after the loop may still feed the others in the iterations before: from 0.
      const existing = adjoints.get(name) ?? { value: constant(0), owned: false };
      const zero = options.guardZeros !== false && (existing.value.kind === 'const' ? existing.value.value === 0 : mayBeZero.has(existing.value.name));
      if (existing.owned && existing.value.kind === 'var') {
        stateAdjoints.set(name, existing.value.name);
        if (zero) seeds.add(existing.value.name);
        continue;
      }
      const target = names.adjoint(name);
      b.emit({ kind: 'let', target, expr: { op: 'copy', args: [existing.value] }, origin: loop.origin });
      setAdjoint(name, { value: variable(target), owned: true });
      stateAdjoints.set(name, target);
      if (zero) seeds.add(target);
    }
    const carriedAdjoints = [...stateAdjoints.values()];
    const { core, next: newState } = splitIteration(loop, tape);
    // An iteration that writes arrays (its state, arrays it makes) is recomputed whole, stores
    // included, in order: its reverse then reads them as they were.
    let wholeIteration = false;
    // (Not for the costly numbers the value tape keeps: they are read back or recomputed, value-tape.ts.)
    forEachInstr(core, (i) => (wholeIteration ||= i.kind === 'store' && !i.accumulate && !tapeArrays.has(i.array) && !valueTapes.scalars.has(i.array)));
    const S = tape.stride;
    const origin = loop.origin;
    const base = (name: string) => name.replace(/\$.*$/, '');
    // A new variable for a carried one: a user name's next form, or a temporary for a temporary
    // (forward mode's running product of a prod, carried by its loop, reversed in a nested jvp).
    const fresh = (name: string) => (name.startsWith('$') ? names.temp() : names.user(base(name)));
    const scaled = (o: Operand) => (S.kind === 'const' && S.value === 1 ? o : b.op('mul', o, S));
    const last = loop.exit ? variable(loop.exit.trips) : loop.to;
    const top = variable(tape.top);
    // The work arrays holding the array state of the iteration being recomputed.
    const work = stateArrays.map((a) => {
      const target = fresh(a.name);
      b.emit({ kind: 'array', target, length: a.length, overwritten: true, note: `the state ${base(a.name)} of the iteration being reversed`, origin });
      arrays.add(target);
      if (a.adjoint) {
        active.add(target);
        arrayAdjoints.set(target, a.adjoint);
      }
      original.set(target, originalOf(a.name));
      return target;
    });
    /** Copies the array state between the work arrays and a snapshot slot starting at `position`. */
    const copyState = (position: Operand, toSnapshot: boolean) =>
      stateArrays.forEach((a, k) => {
        const offset = b.op('add', position, a.offset);
        b.emit(toSnapshot ? copyElements(work[k], constant(0), tape.snapshots, offset, a.length, names, origin) : copyElements(tape.snapshots, offset, work[k], constant(0), a.length, names, origin));
      });
    const indexName = () => {
      const index = names.user(base(originalOf(loop.index)));
      original.set(index, originalOf(loop.index));
      return index;
    };
    const index = indexName();
    /**
     * Builds the reverse of iteration `index`; returns the state adjoints that may be exactly 0 after
     * it. With `peel`, the iteration's reverse is built twice after its state is restored and its
     * values recomputed: guarding `peel.first` for the last iteration and `peel.rest` for the others,
     * chosen by a test of the index (the restoring code, Revolve's schedule included, once).
     */
    const build = (index: string, peel?: { readonly first: ReadonlySet<string>; readonly rest: ReadonlySet<string> }): Set<string> => {
      // Iteration t (relative to the loop's start): its state, from the top snapshot forward.
      const t = b.op('sub', variable(index), loop.from);
      const state = carried.map((name) => fresh(name));
      // When every state was stored, slot t holds t's (checkpoint.ts, storeEveryState): read it.
      const readStored = () => {
        const slot = scaled(t);
        state.forEach((target, k) => b.emit({ kind: 'set', target, expr: { op: 'load', args: [variable(tape.snapshots), k === 0 ? slot : b.op('add', slot, constant(k))] }, origin }));
        copyState(slot, false);
      };
      // Else from the top snapshot, recomputing the iterations from it to t.
      const readCheckpointed = () => {
        const capo = b.op('load', variable(tape.positions), top);
        const slot = scaled(top);
        state.forEach((target, k) => b.emit({ kind: 'set', target, expr: { op: 'load', args: [variable(tape.snapshots), k === 0 ? slot : b.op('add', slot, constant(k))] }, origin }));
        copyState(slot, false);
        // The snapshots between it and t, planned.
        const planned = b.block(() => planSnapshots(b, tape, b.op('add', top, constant(1)), capo, b.op('add', t, constant(1)), t, tape.slots));
        b.emit({ kind: 'if', condition: b.op('lt', capo, t), then: planned, else: [], origin });
        const forwardIndex = names.user(base(originalOf(loop.index)));
        const renames = new Map<string, string>([[loop.index, forwardIndex]]);
        carried.forEach((name, k) => renames.set(name, state[k]));
        stateArrays.forEach((a, k) => renames.set(a.name, work[k]));
        const stepBody = b.block(() => {
          const clone = cloneBody(core, renames, names, new Set(), layered(arrays), new Map());
          for (const i of clone.instrs) b.emit(i);
          const values = newState.map((o) => clone.renamed(o));
          const copies = values.map((v) => {
            if (v.kind !== 'var' || !state.includes(v.name)) return v;
            const copy = names.temp();
            b.emit({ kind: 'const', target: copy, expr: { op: 'copy', args: [v] }, origin });
            return variable(copy);
          });
          state.forEach((name, k) => {
            if (!(copies[k].kind === 'var' && copies[k].name === name)) b.emit({ kind: 'set', target: name, expr: { op: 'copy', args: [copies[k]] }, origin });
          });
          // A snapshot of the new state where the plan says.
          const reached = b.op('add', b.op('sub', variable(forwardIndex), loop.from), constant(1));
          const take = b.op('eq', reached, b.op('load', variable(tape.positions), b.op('add', top, constant(1))));
          const taken = b.block(() => {
            const slot = b.op('add', top, constant(1));
            b.emit({ kind: 'set', target: tape.top, expr: { op: 'copy', args: [slot] }, origin });
            const at = scaled(slot);
            state.forEach((name, k) => b.emit({ kind: 'store', array: tape.snapshots, index: k === 0 ? at : b.op('add', at, constant(k)), expr: { op: 'copy', args: [variable(name)] }, accumulate: false, origin }));
            copyState(at, true);
          });
          b.emit({ kind: 'if', condition: take, then: taken, else: [], origin });
        }, true);
        const note = 'the states from the top snapshot to t’s, recomputed, with snapshots where the schedule says';
        b.emit({ kind: 'loop', index: forwardIndex, from: b.op('add', loop.from, capo), to: variable(index), descending: false, body: stepBody, carried: [...state, tape.top], note, origin });
      };
      for (const target of state) b.emit({ kind: 'let', target, expr: undefined, origin });
      if (isTrue(tape.fits)) readStored();
      else if (isFalse(tape.fits)) readCheckpointed();
      else {
        const stored = b.block(readStored);
        const checkpointed = b.block(readCheckpointed);
        b.emit({ kind: 'if', condition: tape.fits, then: stored, else: checkpointed, origin });
      }
      // Iteration t, reversed: recompute its values from its starting state, then add its adjoints.
      indexNow.set(originalOf(loop.index), index);
      const reverseRenames = new Map([[loop.index, index]]);
      carried.forEach((name, k) => {
        const begin = fresh(name);
        if (active.has(name)) active.add(begin);
        original.set(begin, originalOf(name));
        b.emit({ kind: 'const', target: begin, expr: { op: 'copy', args: [variable(state[k])] }, origin });
        reverseRenames.set(name, begin);
      });
      stateArrays.forEach((a, k) => reverseRenames.set(a.name, work[k]));
      const body = cloneBody(core, reverseRenames, names, active, arrays, original);
      noteRows(body.instrs);
      noteTapeIndices(body.instrs);
      recompute(body.instrs, wholeIteration, valueTapes.loops.get(loop.index));
      /** The iteration's adjoints, then the state adjoints set to those of its starting state; returns those that may be 0 after it. */
      const reverseIteration = (): Set<string> => {
        carried.forEach((name, k) => {
          const d = stateAdjoints.get(name);
          const value = body.renamed(newState[k]);
          if (d && value.kind === 'var' && active.has(value.name)) accumulate(value.name, variable(d));
        });
        reverseBlock(body.instrs);
        // The adjoints of the starting state become the new d$X_k: all read before any is set.
        const starts = carried.map((name) => {
          const value = adjoints.get(reverseRenames.get(name)!)?.value ?? constant(0);
          if (value.kind !== 'var' || value.name === stateAdjoints.get(name) || !carriedAdjoints.includes(value.name)) return value;
          const copy = names.temp();
          b.emit({ kind: 'const', target: copy, expr: { op: 'copy', args: [value] }, origin });
          return variable(copy);
        });
        const zeroAfter = new Set<string>();
        carried.forEach((name, k) => {
          const d = stateAdjoints.get(name);
          if (d && !(starts[k].kind === 'var' && starts[k].name === d)) b.emit({ kind: 'set', target: d, expr: { op: 'copy', args: [starts[k]] }, origin });
          // (Before a copy: the adjoint the copy was made of.)
          const start = adjoints.get(reverseRenames.get(name)!)?.value ?? constant(0);
          if (d && (start.kind === 'const' ? start.value === 0 : mayBeZero.has(start.name))) zeroAfter.add(d);
        });
        return zeroAfter;
      };
      let zeroAfter: Set<string>;
      if (!peel) zeroAfter = reverseIteration();
      else {
        const afters: Set<string>[] = [];
        // (Both branches name the iteration's adjoints alike: each starts from what may be 0 before them.)
        const zeroBefore = new Set(mayBeZero);
        const variant = (zero: ReadonlySet<string>) => () => {
          mayBeZero.clear();
          zeroBefore.forEach((d) => mayBeZero.add(d));
          guardOnly(zero);
          afters.push(reverseIteration());
        };
        const [lastOne, others] = conditionally(reads, [variant(peel.first), variant(peel.rest)]);
        const isLast = b.op('eq', variable(index), b.op('sub', last, constant(1)));
        b.emit({ kind: 'if', condition: isLast, then: lastOne, else: others, origin });
        zeroAfter = new Set(afters.flatMap((a) => [...a]));
      }
      indexNow.delete(originalOf(loop.index));
      // t's snapshot is not needed again: its slot is free (checkpointed only: stored states have no stack).
      if (!isTrue(tape.fits)) {
        const release = b.block(() => {
          const free = b.op('eq', b.op('load', variable(tape.positions), top), t);
          b.emit({ kind: 'if', condition: free, then: [{ kind: 'set', target: tape.top, expr: { op: 'sub', args: [top, constant(1)] }, origin }], else: [], origin });
        });
        if (isFalse(tape.fits)) for (const i of release) b.emit(i);
        else b.emit({ kind: 'if', condition: tape.fits, then: [], else: release, origin });
      }
      return zeroAfter;
    };
    const note = 'each iteration, from the last: its state from the snapshots (recomputing from the nearest), its values recomputed, its adjoints added';
    // The adjoints of the state are carried from one reversed iteration to the one before it, and the snapshots' top.
    const carries = [...carriedAdjoints, tape.top];
    const reads = outerActiveReads([loop]);
    /** The state adjoints in `zero` are the ones that may be 0 (guarded), the others not. */
    const guardOnly = (zero: ReadonlySet<string>) => {
      for (const d of carriedAdjoints) if (zero.has(d)) markMayBeZero(d);
      else mayBeZero.delete(d);
    };
    /** Builds the reversed iteration with the state adjoints in `zero` guarded (the others not): its block and f(zero). */
    const reverseWith = (zero: ReadonlySet<string>, index: string, peel?: Parameters<typeof build>[1]): [Instr[], Set<string>] => {
      guardOnly(zero);
      let after = new Set<string>();
      const [block] = conditionally(reads, [() => (after = build(index, peel))]);
      return [block, after];
    };
    /** The state of the sweep being built, to go back to when a build is discarded. */
    const mark = () => ({ length: b.current.length, adjoints: adjoints.copy(), zero: new Set(mayBeZero), added: new Set(addedTo) });
    const undo = (m: ReturnType<typeof mark>) => {
      b.current.length = m.length;
      adjoints.restore(m.adjoints);
      mayBeZero.clear();
      m.zero.forEach((d) => mayBeZero.add(d));
      addedTo.clear();
      m.added.forEach((d) => addedTo.add(d));
    };
    const subset = (a: ReadonlySet<string>, of: ReadonlySet<string>) => [...a].every((d) => of.has(d));
    /**
     * Which state adjoints to guard. Reversing an iteration with Z of them possibly 0 gives those
     * possibly 0 before it, f(Z); f is monotone (more adjoints that may be 0 give more guards, and
     * more adjoints that may be 0). The last iteration is reversed with the seeds Z0, the one
     * before with f(Z0), and so on, as an unrolled loop would be. So the loop's body guards a set
     * Z with f(Z) ⊆ Z that holds f(Z0) (then it holds every later one): found from f(Z0) by
     * adding f(Z) until it holds. When Z0 ⊄ Z, the last iteration's reverse guards Z0 and the
     * others' Z, in the branches of `if (t === T - 1)` after one restore of the state: an ODE's
     * state unused after the loop (d$v = 0) needs guards in its last iteration only, and the others
     * run without `if (d$v !== 0)` (which cost ~2× on a small body).
     */
    // A loop with a loop with state inside it is built once, every state adjoint guarded (as
    // before the guards were chosen): each build of its body builds the inner loops' reverses,
    // which choose their own guards, so choosing here too would build the innermost body
    // (builds per level)^depth times (loops nested 16 deep did not finish).
    let nested = false;
    forEachInstr(core, (i) => (nested ||= i.kind === 'loop' && i.carried !== undefined));
    const start = mark();
    let guarded: Set<string> = nested ? new Set(carriedAdjoints) : seeds;
    let first: Instr[] | undefined;
    if (seeds.size > 0 && !nested) {
      const [block, after] = reverseWith(seeds, index);
      if (block.length === 0) return undo(start);
      const peeled: Instr[] = [{ kind: 'const', target: index, expr: { op: 'sub', args: [last, constant(1)] }, origin }, ...block];
      first = [{ kind: 'if', condition: b.op('lt', loop.from, last), then: peeled, else: [], origin }];
      for (const i of first) b.emit(i);
      guarded = after;
    }
    for (;;) {
      const before = mark();
      const rest = first ? indexName() : index;
      const [block, after] = reverseWith(guarded, rest);
      if (block.length === 0 && !first) return undo(start);
      if (!subset(after, guarded)) {
        undo(before);
        guarded = new Set([...guarded, ...after]);
        continue;
      }
      if (first && subset(seeds, guarded)) {
        // The same guards for every iteration: no iteration peeled.
        undo(start);
        first = undefined;
        const [whole] = reverseWith(guarded, index);
        b.emit({ kind: 'loop', index, from: loop.from, to: last, descending: true, body: whole, carried: carries, note, origin });
      } else if (first && block.length > 0) {
        // One loop: the last iteration's reverse (guarding the state adjoints that may be 0) and the
        // others' (without the guards they do not need) in the two branches of a test of t, after
        // one copy of the code restoring the state.
        undo(start);
        const [whole] = reverseWith(guarded, index, { first: seeds, rest: guarded });
        const peeledNote = `${note}: the last one guarding the state adjoints that may be 0 there, the others\nnot guarding those that cannot be exactly 0 any more`;
        b.emit({ kind: 'loop', index, from: loop.from, to: last, descending: true, body: whole, carried: carries, note: peeledNote, origin });
      } else if (!first) {
        b.emit({ kind: 'loop', index, from: loop.from, to: last, descending: true, body: block, carried: carries, note, origin });
      }
      break;
    }
    // After the loop, any state adjoint may be 0 (the loop may run no iteration).
    for (const d of carriedAdjoints) markMayBeZero(d);
  };

  // Variables defined before the reverse sweep at its top level (sizes, parameters, the forward
  // sweep's own): an array whose length reads only these is allocated once, before every loop.
  // (Made when a product first needs it: most functions have none.)
  let topLevel: Set<string> | undefined;
  const isTopLevel = (name: string) => {
    if (!topLevel) {
      topLevel = new Set<string>([...fn.params.map((p) => p.name), ...forward.flatMap(definesOf)]);
      for (const p of fn.params) for (const s of p.shape?.sizes ?? []) if (typeof s !== 'number') topLevel.add(s.name);
    }
    return topLevel.has(name);
  };

  /**
   * A product's partial products, for its reverse sweep: over the terms b_k, k = from..to-1
   * (recomputed), `$prefix[j + 1] = $prefix[j]·b_k` ascending and `$suffix[j] = $suffix[j + 1]·b_k`
   * descending (j = k - from), so that the product of the other terms is `$prefix[j]·$suffix[j + 1]`:
   * no division and no count of zero factors, so it is exact at zeros and its code differentiates
   * again exactly (forward over reverse for Hessians; a nested gradient reversed again, where each
   * element is an array let's). It costs two more passes over the terms and 2(n + 1) numbers.
   * Returns, for the reversed loop's index, the product of the other terms.
   */
  const otherTerms = (loop: Loop): ((index: string) => Operand) => {
    const r = loop.reduction!;
    const origin = loop.origin;
    // Allocated before every loop when the range is known there (a product in a loop whose range
    // does not depend on the loop's index), else here.
    const outermost = [loop.from, loop.to].every((o) => o.kind === 'const' || isTopLevel(o.name));
    const depth = outermost ? 0 : b.depth;
    const at = (instr: Instr) => b.emitAt(depth, instr);
    const step = (op: 'sub' | 'max' | 'add', x: Operand, y: Operand): Operand => {
      const target = names.temp();
      at({ kind: 'const', target, expr: { op, args: [x, y] }, origin });
      return variable(target);
    };
    const count = step('max', step('sub', loop.to, loop.from), constant(0));
    const length = step('add', count, constant(1));
    const partials = (which: 'prefix' | 'suffix'): string => {
      const array = names.partialProducts(which);
      arrays.add(array);
      const note = which === 'prefix' ? "a product's partial products, before and after each term (no division, so exact at zeros)" : undefined;
      at({ kind: 'array', target: array, length, overwritten: true, ...(note && { note }), origin });
      return array;
    };
    const prefix = partials('prefix');
    const suffix = partials('suffix');
    const position = (index: string, plus: number) => {
      const j = b.op('sub', variable(index), loop.from);
      return plus === 0 ? j : b.op('add', j, constant(plus));
    };
    for (const [array, descending] of [[prefix, false], [suffix, true]] as const) {
      const first = descending ? count : constant(0);
      b.emit({ kind: 'store', array, index: first, expr: { op: 'copy', args: [constant(1)] }, accumulate: false, origin });
      const index = names.user(originalOf(loop.index).replace(/\$.*$/, ''));
      original.set(index, originalOf(loop.index));
      const body = b.block(() => {
        indexNow.set(originalOf(loop.index), index);
        const clone = cloneBody(loop.body, new Map([[loop.index, index]]), names, active, arrays, original);
        recompute(clone.instrs);
        const [from, to] = descending ? [1, 0] : [0, 1];
        const next = b.op('mul', b.op('load', variable(array), position(index, from)), clone.renamed(r.value));
        b.emit({ kind: 'store', array, index: position(index, to), expr: { op: 'copy', args: [next] }, accumulate: false, origin });
        indexNow.delete(originalOf(loop.index));
      }, true);
      b.emit({ kind: 'loop', index, from: loop.from, to: loop.to, descending, body, origin });
    }
    return (index) => b.op('mul', b.op('load', variable(prefix), position(index, 0)), b.op('load', variable(suffix), position(index, 1)));
  };

  /** The reverse of a loop: a loop running backwards (for max and min, the one iteration selected). */
  const reverseLoop = (loop: Loop) => {
    // (The checkpoint schedule's own loops compute positions, not values: nothing to reverse.)
    if (loop.schedule) return;
    if (loop.carried) return reverseCarried(loop);
    // A copy into an array let sharing its source's adjoint array: nothing to move.
    if (aliasLoops.has(originalOf(loop.index))) return;
    const r = loop.reduction;
    const g = r && active.has(r.target) ? adjoints.get(r.target) : undefined;
    let storesBack = false;
    forEachInstr(loop.body, (i) => {
      // An array let's loop is reversed once something has been added into its adjoint array.
      if (i.kind === 'store' && (addedTo.has(arrayAdjoints.get(i.array) ?? '') || addedTo.has(adjointOfRow(i.array) ?? ''))) storesBack = true;
      // An update in place is reversed in any case: the old values come back.
      if (i.kind === 'store' && i.old) storesBack = true;
    });
    // A loop accumulating into an outer variable that has an adjoint (a nested gradient's `d$b += …`).
    const local = declaredIn(loop.body);
    let accumulates = false;
    forEachInstr(loop.body, (i) => {
      if (i.kind === 'add' && !local.has(i.target) && active.has(i.target) && adjoints.has(i.target)) accumulates = true;
    });
    if (!g && !storesBack && !accumulates) return;
    const index = names.user(originalOf(loop.index).replace(/\$.*$/, ''));
    original.set(index, originalOf(loop.index));
    const single = r !== undefined && (r.op === 'max' || r.op === 'min');
    let recomputed = 0;
    let before: Instr[] = [];
    const build = () => {
      // A product's seeds read its partial products, computed before the reversed loop.
      let others: ((index: string) => Operand) | undefined;
      if (r?.op === 'prod' && g) before = b.block(() => (others = otherTerms(loop)));
      indexNow.set(originalOf(loop.index), index);
      const body = cloneBody(loop.body, new Map([[loop.index, index]]), names, active, arrays, original);
      noteRows(body.instrs);
      noteTapeIndices(body.instrs);
      recomputed = recompute(body.instrs, false, undefined, notRecomputed.has(originalOf(loop.index)));
      // A product's partial products made in this iteration (a nested gradient's): their adjoints too, from 0.
      // So do the arrays a kept call's arguments are copied into there (a matrix made flat, issue #15).
      // (In a branch of the iteration too; a nested loop's are its own reverse's.)
      const allocateIn = (block: readonly Instr[]): void =>
        block.forEach((i) => {
          if (i.kind === 'array' && active.has(i.target) && (isPartialProductName(i.target) || !arrayAdjoints.has(i.target))) allocate(i.target, i.length, i.rows);
          else if (i.kind === 'if') [i.then, i.else].forEach(allocateIn);
        });
      allocateIn(body.instrs);
      if (r && g) {
        const value = body.renamed(r.value);
        const seed = others ? b.op('mul', g.value, others(index)) : seedOf(r, value, g.value, variable(index));
        if (value.kind === 'var' && active.has(value.name)) accumulate(value.name, seed);
      }
      reverseBlock(body.instrs, soleStore(body.instrs, r !== undefined && g !== undefined));
      indexNow.delete(originalOf(loop.index));
    };
    const guardAdjoint = g !== undefined && g.value.kind === 'var' && mayBeZero.has(g.value.name) && !storesBack && !accumulates;
    const built = () => conditionally(outerActiveReads([loop]), [build]);
    const [block] = guardAdjoint && g.value.kind === 'var' ? knownNonzero(g.value.name, built) : built();
    if (block.length === 0) return;
    let from = loop.from;
    let to = loop.to;
    if (single) {
      from = variable(r.arg!);
      to = b.op('add', from, constant(1));
    }
    const note = recomputed > 0 ? 'each iteration recomputes its values (cheaper than storing them), then adds its adjoints' : undefined;
    const reversed: Instr = { kind: 'loop', index, from, to, descending: !single && !loop.descending, body: block, ...(note && { note }), origin: loop.origin };
    let code: Instr[] = [...before, reversed];
    // Skip the loop where it would add nothing: a selected index of -1 (an empty max), an adjoint
    // that is exactly 0.
    const guards: Operand[] = [];
    if (single) guards.push(b.op('ge', from, constant(0)));
    if (guardAdjoint) guards.push(b.op('ne', g.value, constant(0)));
    for (const condition of guards.reverse()) code = [{ kind: 'if', condition, then: code, else: [], origin: loop.origin }];
    for (const instr of code) b.emit(instr);
  };

  /** ḡ·∂R/∂term for one term of a sum, max, min or logsumexp R (a product's is `otherTerms`). */
  const seedOf = (r: NonNullable<Loop['reduction']>, value: Operand, g: Operand, index: Operand): Operand => {
    switch (r.op) {
      case 'sum':
      case 'max':
      case 'min':
        return g;
      case 'logsumexp':
        // ∂/∂b_i log Σ exp(b_j) = exp(b_i - R): with a tape, exp(b_i - M) (stored) · 1/Σ exp(b_j - M).
        if (r.tape) {
          const { array, offset, scale } = r.tape;
          const at = offset.kind === 'const' && offset.value === 0 ? index : b.op('add', offset, index);
          return b.op('mul', g, b.op('mul', b.op('load', variable(array), at), variable(scale)));
        }
        return b.op('mul', g, b.op('exp', b.op('sub', value, variable(r.target))));
      case 'prod':
        throw new Error('internal error: a product is seeded from its partial products');
    }
  };

  // Adjoint arrays: one per differentiated array parameter (the gradient) and per active array `let`.
  const allocate = (name: string, length: Operand, rows?: Operand) => {
    const target = names.adjoint(name);
    b.emit({ kind: 'array', target, length, ...(rows && { rows }), origin: fnOrigin });
    arrayAdjoints.set(name, target);
  };
  for (const p of fn.params) {
    if (!p.shape || p.isConst) continue;
    const dims = p.shape.sizes.map((s) => (typeof s === 'number' ? constant(s) : variable(s.name)));
    if (p.shape.kind === 'mat') allocate(p.name, dims[1], dims[0]);
    else allocate(p.name, dims[0]);
  }
  // (An array let in a branch has its length hoisted with it: its adjoint array is made here too.)
  // (A product's partial products made inside a loop, by a nested gradient's sweep there, get
  // theirs in each reversed iteration instead: see reverseLoop. An array kept per iteration,
  // value-tape.ts, has an adjoint of one iteration's length; a copy shares its source's.)
  const allocateAll = (block: readonly Instr[], inLoop: boolean) =>
    block.forEach((instr) => {
      if (instr.kind === 'array' && active.has(instr.target) && !aliases.has(instr.target) && !(inLoop && isPartialProductName(instr.target)))
        allocate(instr.target, valueTapes.lengths.get(instr.target) ?? instr.length, instr.rows);
      else if (isArrayCall(instr) && active.has(instr.target) && !sharesAdjoint(instr.target)) allocate(instr.target, instr.expr.callee!.result!.length);
      else if (instr.kind === 'if') [instr.then, instr.else].forEach((b) => allocateAll(b, inLoop));
      else if (instr.kind === 'loop') allocateAll(instr.body, true);
    });
  allocateAll(forward, false);
  for (const [name, source] of repeated) if (sharesAdjoint(name)) arrayAdjoints.set(name, arrayAdjoints.get(source)!);
  for (const [name, { source }] of aliases) {
    const adjoint = arrayAdjoints.get(source);
    if (active.has(name) && adjoint) arrayAdjoints.set(name, adjoint);
    else if (active.has(name)) throw new Error(`internal error: the copy '${name}' of '${source}' is active, its source has no adjoint`);
  }
  for (const instr of forward) if (instr.kind === 'const' && instr.expr.op === 'row') adjointRow(instr);

  // The seed: the result's adjoint is 1 (a gradient) or the caller's cotangent (a vector-Jacobian
  // product). An array result's adjoint array starts as a copy of the cotangent, so the stores
  // that made the result read their values' adjoints from it (the caller's array is never written).
  if (fn.value.kind === 'var' && active.has(fn.value.name)) {
    const cotangent = options.cotangent;
    const adjointArray = fn.result ? arrayAdjoints.get(fn.value.name) : undefined;
    if (!fn.result) setAdjoint(fn.value.name, { value: cotangent ? variable(cotangent) : constant(1), owned: false });
    else if (cotangent && adjointArray) {
      const length = resultLength(forward, fn.value.name);
      const index = names.user('i');
      const store: Instr = { kind: 'store', array: adjointArray, index: variable(index), expr: { op: 'load', args: [variable(cotangent), variable(index)] }, accumulate: false, origin: fnOrigin };
      b.emit({ kind: 'loop', index, from: constant(0), to: length, descending: false, body: [store], note: 'the seed: the adjoint of the result is the cotangent', origin: fnOrigin });
      addedTo.add(adjointArray);
    }
  }
  reverseBlock(forward);

  const gradient = fn.params
    .filter((p) => !p.isConst)
    .map((param) => ({ param, adjoint: param.shape ? variable(arrayAdjoints.get(param.name)!) : (adjoints.get(param.name)?.value ?? constant(0)) }));
  // The calls whose gradient the reverse sweep reads call the gradient form (calls.ts).
  // Each element of an adjoint array written once per loop, or per block, where it can be (accumulate-once.ts);
  // not in a sweep that is differentiated again (a nested gradient's, a Hessian's: guards off), which
  // reads its additions into the adjoint arrays as they are.
  const reverse = options.guardZeros === false || options.regroup === false ? b.current : addOncePerElement(accumulateOnce(b.current, names), names);
  return { ...fn, body: recordCalls(storeEveryState(forward, names, tapes), recorded), reverse: recordCalls(reverse, recorded), gradient };
}

/** `r = call(args)` of a kept function returning an array (r is then an array: calls.ts). */
function isArrayCall(i: Instr): i is Extract<Instr, { kind: 'const' | 'let' | 'set' }> & { readonly expr: Expr } {
  return (i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr?.op === 'call' && i.expr.callee?.kind === 'primal' && i.expr.callee.result !== undefined;
}

/**
 * A block without the effects the reverse sweep must not repeat when it recomputes values: stores,
 * and accumulations (`+=`, `=`) into variables not in `local`. What is left computes values only;
 * a loop or branch left with no accumulation into `local` is dropped whole.
 */
function valuesOnly(block: readonly Instr[], local: ReadonlySet<string>): Instr[] {
  const assignsLocal = (b: readonly Instr[]) => {
    let found = false;
    forEachInstr(b, (i) => (found ||= (i.kind === 'add' || i.kind === 'set') && local.has(i.target)));
    return found;
  };
  return block.flatMap((i): Instr[] => {
    switch (i.kind) {
      case 'store':
        return [];
      case 'add':
      case 'set':
        return local.has(i.target) ? [i] : [];
      case 'loop':
        return !i.reduction && !assignsLocal([i]) ? [] : [{ ...i, body: valuesOnly(i.body, local) }];
      case 'if':
        return assignsLocal([i]) ? [{ ...i, then: valuesOnly(i.then, local), else: valuesOnly(i.else, local) }] : [];
      default:
        return [i];
    }
  });
}

/** Operations whose partials are finite constants (±1, c·x, x/c): an adjoint of 0 contributes 0 through them, never NaN. */
function isLinear(op: string, args: readonly Operand[]): boolean {
  const finite = (a: Operand | undefined) => a?.kind === 'const' && Number.isFinite(a.value);
  if (op === 'add' || op === 'sub' || op === 'neg' || op === 'copy') return true;
  if (op === 'mul') return finite(args[0]) || finite(args[1]);
  return op === 'div' && finite(args[1]) && (args[1] as { value: number }).value !== 0;
}

/** The variables an instruction list defines or assigns, at any depth (loop indices included). */
function definedIn(body: readonly Instr[]): Set<string> {
  const names = declaredIn(body);
  forEachInstr(body, (inner) => {
    if (inner.kind === 'set' || inner.kind === 'add') names.add(inner.target);
  });
  return names;
}

function isDefinedIn(name: string, body: readonly Instr[]): boolean {
  return body.some((i) => definesOf(i).includes(name));
}

/** An instruction without the range checks in it, at any depth (code that ran checked before). */
function withoutChecks(instr: Instr): Instr {
  const strip = (block: readonly Instr[]): Instr[] => block.filter((i) => i.kind !== 'check').map(withoutChecks);
  return mapNested(instr, strip);
}

/**
 * The instruction without its stores (at any depth) into some arrays: the values the forward sweep
 * stored for the reverse sweep (loops.ts), which a recomputation finds there already. Each is
 * written once: a nested gradient's sweep differentiated again takes each one's adjoint once.
 */
function withoutStoresInto(instr: Instr, arrays: ReadonlySet<string>): Instr {
  const strip = (block: readonly Instr[]): Instr[] => block.filter((i) => i.kind !== 'store' || !arrays.has(i.array)).map((i) => withoutStoresInto(i, arrays));
  return mapNested(instr, strip);
}

/** Whether a loop fills a product's partial products (written again by each run of its sweep). */
function writesPartialProducts(loop: Instr): boolean {
  let found = false;
  forEachInstr([loop], (i) => (found ||= i.kind === 'store' && isPartialProductName(i.array)));
  return found;
}
