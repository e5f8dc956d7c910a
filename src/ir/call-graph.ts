import { callsItself } from '../check/check-termination.ts';
import { allStatements, anyReachable, childrenOf, hasStatefulCode, returnsArray, statementExprs, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import type { CallLayout } from './ir.ts';
import { resultShapes } from '../check/check-program.ts';
import { isSizeSymbol, type ArrayInfo } from '../check/check-shapes.ts';

/**
 * Which calls stay calls. A user function is either inlined at each call site (its body lowered
 * again there, so the optimiser sees across the call) or compiled once, as a function the callers
 * call, with an adjoint function their gradients call (src/ad/calls.ts). Inlining pays for small
 * functions (the seed's examples run within a few percent of hand-written code that way); it
 * costs a copy of the callee per call site, which doubles at every level of a chain of functions
 * calling the previous one twice. The rule, by size × call sites:
 *
 *   keep f  ⇔  f takes and returns numbers only, and size(f) × sites(f) > KEEP_WORK (64)
 *
 * where size(f) is f's operations once its inlined callees are counted in (a kept callee counts
 * as one call) and sites(f) the calls of f written in the file. Every function is also exported
 * on its own, so one call site already means two copies: size × sites is what inlining adds.
 * A function returning an array is kept by the same rule, when its result's lengths are sums of
 * its sizes times numbers (check-shapes.ts computes them: the caller computes the length from the
 * sizes it passes) and no call of it stands inside a `for`, `while` or `if` block (there it is
 * inlined, as before: the reverse sweep of a block recomputes its code, and the result's adjoint
 * array would be shared between iterations). Its primal form returns the result flat, and its
 * reverse is an adjoint form taking the result's adjoint array (src/ad/calls.ts).
 * A function taking arrays and returning a number can stay a call (its forms take the arrays flat,
 * then the sizes: `CallLayout`); the compiler keeps it when it calls itself (recursion over a size
 * that decreases, check-termination.ts), when it has state and is called once per index, or with
 * `calls: 'keep'`. By size × call sites it stays inlined: inlined, the optimiser hoists and shares
 * its loops with the caller's, which pays more than the copy costs (the README's array benchmarks).
 *
 * A function of numbers with state (`var`, loops, `if` blocks, in it or in what it calls) that is
 * called once per index (in a reduction, an array let, an element update) is kept whatever its
 * size unless every call is inlined: inlined there, its loop would be taped once per index, which
 * is not supported (AD7010, check-shapes.ts); called, it is a function like any other.
 */
export const KEEP_WORK = 64;

/** How the compiler chooses, for tests and measurements: by the rule (`auto`), or forced. */
export type CallPolicy = 'auto' | 'inline' | 'keep';

export interface FunctionMeasure {
  /** Expression nodes of the function, its inlined callees' included; a kept call counts one. */
  readonly size: number;
  /** Expression depth after inlining (left operands of chains do not count, as in parse.ts). */
  readonly depth: number;
  /** The deepest expression (where a too-deep function is reported). */
  readonly deepest: Expr | undefined;
  /** Of `size`, the nodes that inlined calls add. */
  readonly inlined: number;
  /** Expression nodes written in the function itself. */
  readonly written: number;
}

export interface CallGraph {
  /** The functions compiled once and called, with why (their size and call sites). */
  readonly kept: ReadonlyMap<string, { readonly size: number; readonly sites: number; readonly perIndex?: boolean; readonly recursive?: boolean }>;
  /** Every function's measure, callees first (in the order they were measured). */
  readonly measures: ReadonlyMap<string, FunctionMeasure>;
}

/** Whether calls of a function can stay calls: numbers and arrays in, a number out. */
export function canStayCall(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): boolean {
  return !returnsArray(fn, functions);
}

/**
 * Whether calls of a function returning an array can stay calls (see above): its result's lengths
 * are known from its sizes. Undefined for a function returning a number.
 */
export function keepsArrayResult(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): boolean | undefined {
  if (!returnsArray(fn, functions)) return undefined;
  const result = resultShapeOf(functions)(fn.name);
  return result !== undefined && result.dims.every((d) => d.length !== undefined && [...d.length.keys()].every((symbol) => symbol === '' || isSizeSymbol(symbol)));
}

/** The result shapes of one checked table, computed once (check-program.ts). */
const resultShapeTables = new WeakMap<ReadonlyMap<string, FunctionDecl>, (name: string) => ArrayInfo | undefined>();
export function resultShapeOf(functions: ReadonlyMap<string, FunctionDecl>): (name: string) => ArrayInfo | undefined {
  let shapes = resultShapeTables.get(functions);
  if (!shapes) resultShapeTables.set(functions, (shapes = resultShapes(functions)));
  return shapes;
}

/** The size names of a function's array parameters, in order of first appearance. */
export function sizeNamesOf(fn: FunctionDecl): string[] {
  const names: string[] = [];
  for (const p of fn.params) for (const s of p.type?.sizes ?? []) if (s.kind === 'name' && !names.includes(s.name)) names.push(s.name);
  return names;
}

/** How a kept function's forms take their arguments (ir.ts `CallLayout`); undefined for a function of numbers. */
export function callLayout(fn: FunctionDecl): CallLayout | undefined {
  if (fn.params.every((p) => !p.type)) return undefined;
  const sizes = sizeNamesOf(fn);
  return { params: fn.params.map((p) => p.type?.sizes.map((s) => (s.kind === 'number' ? s.value : { size: sizes.indexOf(s.name) }))), sizes: sizes.length };
}

/**
 * Whether every call of `fn` stays a call whatever its size: it calls itself, or every call is
 * kept (`calls: 'keep'`). Such a call may stand where an inlined one could not (inside a
 * reduction or a block, for a function that makes arrays: the callee allocates its own per call).
 */
export function alwaysStaysCall(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>, policy: CallPolicy): boolean {
  return policy !== 'inline' && canStayCall(fn, functions) && (policy === 'keep' || recursive(fn));
}

/** Whether a function calls itself, walked once per declaration (asked at each call of it). */
const recursiveFunctions = new WeakMap<FunctionDecl, boolean>();
function recursive(fn: FunctionDecl): boolean {
  let known = recursiveFunctions.get(fn);
  if (known === undefined) recursiveFunctions.set(fn, (known = callsItself(fn)));
  return known;
}

/** Whether a call of `fn` once per index must stay a call (see above), unless every call is inlined. */
export function staysCallPerIndex(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>, policy: CallPolicy): boolean {
  return policy !== 'inline' && canStayCall(fn, functions) && anyReachable(fn, functions, hasStatefulCode);
}

/**
 * The user functions called where code runs once per index: in a reduction's body, an array
 * let's value or an element update's value (a superset of where check-shapes.ts counts a loop).
 */
function calledPerIndex(functions: ReadonlyMap<string, FunctionDecl>): Set<string> {
  const found = new Set<string>();
  // Two parallel stacks rather than a stack of pairs: this walks every expression of the file.
  const exprs: Expr[] = [];
  const insides: boolean[] = [];
  for (const fn of functions.values()) {
    for (const s of allStatements(fn.body)) {
      const perIndex = (s.kind === 'let' || s.kind === 'assign') && s.indices !== undefined;
      for (const e of statementExprs(s)) {
        exprs.push(e);
        insides.push(perIndex && e === s.value);
      }
      while (exprs.length > 0) {
        const e = exprs.pop()!;
        const inside = insides.pop()!;
        if (inside && e.kind === 'call' && functions.has(e.callee)) found.add(e.callee);
        for (const child of childrenOf(e)) {
          exprs.push(child);
          insides.push(inside || (e.kind === 'reduce' && child === e.body));
        }
      }
    }
  }
  return found;
}

/** The user functions called inside a `for`, `while` or `if` statement's block (or its header). */
function calledInBlocks(functions: ReadonlyMap<string, FunctionDecl>): Set<string> {
  const found = new Set<string>();
  for (const fn of functions.values()) {
    // (A block's statements hold the blocks nested in it: the top level's blocks are enough.)
    for (const s of fn.body) {
      if (s.kind !== 'for' && s.kind !== 'while' && s.kind !== 'if') continue;
      for (const inner of allStatements([s])) {
        for (const stack: Expr[] = [...statementExprs(inner)]; stack.length > 0; ) {
          const e = stack.pop()!;
          if (e.kind === 'call' && functions.has(e.callee)) found.add(e.callee);
          stack.push(...childrenOf(e));
        }
      }
    }
  }
  return found;
}

/**
 * Decides, callees first, which functions are kept as calls, measuring each with its inlined
 * callees. Runs only on a program without recursion; iterative, so long chains cost no stack.
 */
export function buildCallGraph(functions: ReadonlyMap<string, FunctionDecl>, policy: CallPolicy = 'auto'): CallGraph {
  // The checks (check-inlining.ts) and the compiler both need the graph of one checked table:
  // it is built once per table and policy (a table is never changed once checked).
  let byPolicy = built.get(functions);
  if (!byPolicy) built.set(functions, (byPolicy = new Map()));
  let graph = byPolicy.get(policy);
  if (!graph) byPolicy.set(policy, (graph = measureCallGraph(functions, policy)));
  return graph;
}

const built = new WeakMap<ReadonlyMap<string, FunctionDecl>, Map<CallPolicy, CallGraph>>();

function measureCallGraph(functions: ReadonlyMap<string, FunctionDecl>, policy: CallPolicy): CallGraph {
  // Each function's calls, walked once: the call sites, the order and the recursion all read them.
  const callsOf = new Map<string, string[]>();
  for (const fn of functions.values()) callsOf.set(fn.name, calls(fn, functions));
  const sites = new Map<string, number>();
  for (const fn of functions.values()) for (const callee of callsOf.get(fn.name)!) sites.set(callee, (sites.get(callee) ?? 0) + 1);
  const kept = new Map<string, { size: number; sites: number; perIndex?: boolean; recursive?: boolean }>();
  const measures = new Map<string, FunctionMeasure>();
  // Both walk every expression of the file for calls of user functions: a file without any (one
  // long function, say) has none to find.
  const perIndex = sites.size > 0 ? calledPerIndex(functions) : new Set<string>();
  const inBlocks = sites.size > 0 ? calledInBlocks(functions) : new Set<string>();
  // A function calling itself (bounded: check-termination.ts) is kept, so a call of itself counts one.
  const recursive = new Set([...functions.values()].filter((fn) => policy !== 'inline' && canStayCall(fn, functions) && callsOf.get(fn.name)!.includes(fn.name)).map((fn) => fn.name));
  for (const name of recursive) kept.set(name, { size: 0, sites: 0, recursive: true });
  const exprs: Expr[] = [];
  const depths: number[] = [];
  for (const fn of calleesFirst(functions, (f) => callsOf.get(f.name)!)) {
    let size = 0;
    let inlined = 0;
    let written = 0;
    let depth = 0;
    let deepest: Expr | undefined;
    for (const s of allStatements(fn.body)) {
      for (const e of statementExprs(s)) {
        exprs.push(e);
        depths.push(1);
      }
      while (exprs.length > 0) {
        const e = exprs.pop()!;
        const d = depths.pop()!;
        size++;
        written++;
        let reach = d;
        if (e.kind === 'call' && functions.has(e.callee) && !kept.has(e.callee)) {
          const callee = measures.get(e.callee)!;
          size += callee.size;
          inlined += callee.size;
          reach = d + callee.depth;
        }
        if (reach > depth) {
          depth = reach;
          deepest = e;
        }
        for (const child of childrenOf(e)) {
          exprs.push(child);
          depths.push(e.kind === 'binary' && child === e.left ? d : d + 1);
        }
      }
    }
    measures.set(fn.name, { size, depth, deepest, inlined, written });
    const n = sites.get(fn.name) ?? 0;
    const keep = policy === 'keep' ? n > 0 : policy === 'auto' && size * n > KEEP_WORK;
    if (recursive.has(fn.name)) kept.set(fn.name, { size, sites: n, recursive: true });
    else if (perIndex.has(fn.name) && staysCallPerIndex(fn, functions, policy)) kept.set(fn.name, { size, sites: n, perIndex: true });
    else if (keep && canStayCall(fn, functions) && (policy === 'keep' || fn.params.every((p) => !p.type))) kept.set(fn.name, { size, sites: n });
    // A function returning an array, by the same rule, whatever its parameters (issue #15: a chain
    // of them inlined doubles at each level that calls the one below twice).
    else if (keep && !inBlocks.has(fn.name) && keepsArrayResult(fn, functions)) kept.set(fn.name, { size, sites: n });
  }
  return { kept, measures };
}

/**
 * What a function returning an array may add, inlined on the wasm target, before it stays a call
 * there: size (its callees inlined as the wasm target inlines them) × call sites, in expression nodes.
 */
export const WASM_INLINE_WORK = 1024;

/**
 * The functions the wasm target keeps as calls. It has no flat-result forms of its own for
 * functions returning arrays, and a function calling a kept call stays JavaScript (emit-wasm.ts),
 * so it inlines the functions returning arrays that the rule keeps, and the callers compile to
 * WebAssembly. Not past WASM_INLINE_WORK: a chain of them calling the one below twice doubles at
 * each level inlined (10 levels: 66 s of compiling, then refused past 50,000 variables), so there
 * they stay calls and their callers JavaScript, as with `calls: 'keep'`. Recursive and per-index
 * functions stay calls, as everywhere.
 */
export function keptOnWasm(functions: ReadonlyMap<string, FunctionDecl>, graph: CallGraph, policy: CallPolicy): Set<string> {
  const kept = new Set<string>();
  for (const [name, k] of graph.kept) if (policy === 'keep' || k.recursive || k.perIndex || !returnsArray(functions.get(name)!, functions)) kept.add(name);
  if (policy !== 'auto') return kept;
  const callsOf = new Map<string, string[]>();
  const sites = new Map<string, number>();
  for (const fn of functions.values()) {
    callsOf.set(fn.name, calls(fn, functions));
    for (const callee of callsOf.get(fn.name)!) sites.set(callee, (sites.get(callee) ?? 0) + 1);
  }
  // Each function's size with the callees the wasm target inlines counted in (as measureCallGraph
  // counts, a kept call one node), callees first.
  const size = new Map<string, number>();
  for (const fn of calleesFirst(functions, (f) => callsOf.get(f.name)!)) {
    let n = graph.measures.get(fn.name)?.written ?? 0;
    for (const callee of callsOf.get(fn.name)!) if (callee !== fn.name && !kept.has(callee)) n += size.get(callee) ?? 0;
    size.set(fn.name, n);
    // Only among the functions the rule keeps (their flat-result forms are made: CallForms).
    if (graph.kept.has(fn.name) && n * (sites.get(fn.name) ?? 0) > WASM_INLINE_WORK) kept.add(fn.name);
  }
  return kept;
}

/** The functions ordered so that every callee comes before its callers (iterative DFS). */
export function calleesFirst(functions: ReadonlyMap<string, FunctionDecl>, callsOf = (fn: FunctionDecl) => calls(fn, functions)): FunctionDecl[] {
  const order: FunctionDecl[] = [];
  const done = new Set<string>();
  for (const root of functions.values()) {
    if (done.has(root.name)) continue;
    const stack: { fn: FunctionDecl; callees: string[] }[] = [{ fn: root, callees: [...new Set(callsOf(root))] }];
    done.add(root.name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const next = top.callees.pop();
      if (next === undefined) {
        order.push(top.fn);
        stack.pop();
      } else if (!done.has(next)) {
        done.add(next);
        const fn = functions.get(next)!;
        stack.push({ fn, callees: [...new Set(callsOf(fn))] });
      }
    }
  }
  return order;
}

/** The user functions a function calls, once per call written. */
function calls(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): string[] {
  const names: string[] = [];
  for (const s of allStatements(fn.body)) {
    const stack: Expr[] = [...statementExprs(s)];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (e.kind === 'call' && functions.has(e.callee)) names.push(e.callee);
      for (const child of childrenOf(e)) stack.push(child);
    }
  }
  return names;
}
