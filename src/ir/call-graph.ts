import { allStatements, anyReachable, childrenOf, hasStatefulCode, returnsArray, statementExprs, type Expr, type FunctionDecl } from '../syntax/ast.ts';

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
 * Functions taking or returning arrays are always inlined (their calling convention is not built).
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

/** Whether calls of a function can stay calls: numbers in, a number out. */
export function canStayCall(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): boolean {
  return fn.params.every((p) => !p.type) && !returnsArray(fn, functions);
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
  const perIndex = calledPerIndex(functions);
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
    else if (keep && canStayCall(fn, functions)) kept.set(fn.name, { size, sites: n });
  }
  return { kept, measures };
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
