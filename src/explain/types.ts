import type { Position, Span } from '../diagnostics/span.ts';

/**
 * The data `adc explain` prints: the expression graph of one function at one point, its forward
 * and reverse sweeps, the paths from the output to each input, and the first non-finite number.
 * Every number is a plain double; NaN and ±Infinity are kept (use `explainToJson` to serialise).
 */
export interface ExplainResult {
  /** The function explained. */
  readonly function: string;
  /** The point, by parameter name, in parameter order. */
  readonly point: readonly { readonly name: string; readonly value: PointValue; readonly isConst: boolean }[];
  /**
   * `collapsed`: one node per user-function call (the seed's view); `expanded`: one per IR
   * operation; `unrolled` (functions with arrays or statements): one per operation actually run
   * at the point and per array element, loops unrolled, the branches taken.
   */
  readonly view: 'collapsed' | 'expanded' | 'unrolled';
  /** Every node, in the order the forward sweep computes them (inputs first). */
  readonly nodes: readonly ExplainNode[];
  /** Every edge, from a node to one of its arguments. */
  readonly edges: readonly ExplainEdge[];
  /** The id of the node whose value the function returns. */
  readonly output: string;
  /** f at the point (the output node's value). */
  readonly value: number;
  /** The reverse sweep: one entry per node that gets an adjoint, in the order the generated code completes them. */
  readonly adjoints: readonly AdjointStep[];
  /** One entry per differentiated (non-`const`) parameter. */
  readonly inputs: readonly InputPaths[];
  /** The value and gradient the generated code computes (the compiled gradient, interpreted). */
  readonly compiled: { readonly value: number; readonly gradient: Readonly<Record<string, number>> };
  /** The first node whose value (forward order) or else adjoint (reverse order) is NaN or infinite. */
  readonly nonFinite: NonFinite | undefined;
  /** The first node whose adjoint is NaN or infinite, in reverse order (the same object as `nonFinite` when that is an adjoint). */
  readonly nonFiniteAdjoint: NonFinite | undefined;
  /** With `forward`: the forward-mode sweep along the same graph (each node's `tangent`). */
  readonly forward?: ForwardSweep;
  /** The unrolled view: each `if`, loop and `while` the computation ran, with what it did at this point. */
  readonly control?: readonly ControlStep[];
}

/** A parameter's value: a number, a vector, or a matrix as rows. */
export type PointValue = number | readonly number[] | readonly (readonly number[])[];

export interface ForwardSweep {
  /** The input seeded with tangent 1 (a parameter, or an array element such as `x[1]`); every other input has tangent 0. */
  readonly input: string;
  /** The output's tangent: ∂f/∂input, by forward mode along the graph's edges. */
  readonly tangent: number;
  /** The same derivative from the generated `fJvp`. */
  readonly compiled: number;
}

export interface ControlStep {
  /** `loop`: a `for`, a reduction (`sum(i: …)`) or an array let's loop over its elements. */
  readonly kind: 'if' | 'loop' | 'while';
  /** The source text of the statement's head (`if x > 0`, `for t in 0..steps`), or of the reduction. */
  readonly text: string;
  readonly location: Position;
  /** if: times each branch ran; loops: iterations run (summed over every time the loop was reached). */
  readonly then?: number;
  readonly else?: number;
  readonly iterations?: number;
  /** How many times the statement was reached (a loop inside a loop is reached once per outer iteration). */
  readonly reached: number;
  /** while: times it stopped because it reached its `max`. */
  readonly reachedMax?: number;
}

/**
 * `if`: the result of a conditional (collapsed view), with an edge to the branch taken; `copy`: an
 * IR copy (expanded view); `reduction`: a sum, prod, max, min or logsumexp (unrolled view), with
 * an edge to each term.
 */
export type NodeKind = 'input' | 'call' | 'builtin' | 'operator' | 'if' | 'copy' | 'constant' | 'reduction';

export interface ExplainNode {
  /** `n1`, `n2`, … in forward order; an input's id is its parameter name. */
  readonly id: string;
  readonly kind: NodeKind;
  /** A short name: the parameter, the callee (`f2`), or the source text of the expression. */
  readonly label: string;
  /** The source text the node comes from (`source.slice(span.start, span.end)`). */
  readonly source: string;
  readonly span: Span;
  readonly location: Position;
  /** The function whose source contains the span (differs from the explained one inside inlined callees). */
  readonly in: string;
  /** The operation: the callee for calls, the IR op otherwise (`add`, `sin`, `copy`, …), `param` for inputs. */
  readonly op: string;
  /** The variable it is bound to: a `let` name, or (expanded view) the variable in the generated code. */
  readonly variable?: string;
  readonly value: number;
  /** Whether it depends on a differentiated input; only active nodes get adjoints. */
  readonly active: boolean;
  /** Whether the output depends on it through the graph's edges. */
  readonly reachesOutput: boolean;
  /** The node's adjoint ∂f/∂node; undefined when the generated code computes none (inactive, or not reaching the output). */
  readonly adjoint: number | undefined;
  /** With `forward`: the node's tangent ∂node/∂input; undefined when the node does not depend on that input. */
  readonly tangent?: number;
}

export interface ExplainEdge {
  readonly id: number;
  /** The node that uses the value. */
  readonly from: string;
  /** The argument. */
  readonly to: string;
  /** Which argument of `from` (0-based). */
  readonly argIndex: number;
  /** For a call node, the callee's parameter: the partial is ∂callee/∂parameter. */
  readonly parameter?: string;
  /** ∂from/∂to at the point; undefined when no derivative flows (the argument is inactive or the rule is zero). */
  readonly partial: number | undefined;
  /**
   * True when the derivative code sends exactly 0 along this edge at this point, whatever the
   * adjoint, even NaN (min/max: the argument not selected; a callee whose result does not depend
   * on the parameter here). The partial is then 0; the reverse sweep adds a 0 term, and the paths
   * leave the edge out.
   */
  readonly blocked?: true;
}

export interface AdjointTerm {
  readonly edge: number;
  readonly from: string;
  /**
   * adjoint(from); undefined when `from` is a call without an adjoint whose callee's reverse sweep
   * still adds something (an `if` inside it starts adjoints at 0): that is the contribution.
   */
  readonly adjoint: number | undefined;
  /** ∂from/∂node */
  readonly partial: number;
  /**
   * What the generated code adds: the derivative code run with ḡ = adjoint. It is adjoint × partial
   * up to rounding, except at the edges of floating point (ḡ/b where 1/b overflows) and along a
   * blocked edge, where it is exactly 0 whatever the adjoint, even NaN.
   */
  readonly contribution: number;
  readonly blocked?: true;
}

export interface AdjointStep {
  readonly node: string;
  /** Σ contribution over the terms, starting from 1 for the output (and from 0 otherwise). */
  readonly adjoint: number;
  readonly terms: readonly AdjointTerm[];
  /**
   * Where the `if` is that made the generated code start this adjoint at 0, because one of its
   * branches reads the node — possibly the branch not taken. With no terms, the adjoint is that 0,
   * and it still flows on: 0 × an infinite partial is NaN in the generated gradient too.
   */
  readonly startedAtZeroBy?: Position;
}

export interface ExplainPath {
  /** Node ids from the output down to the input. */
  readonly nodes: readonly string[];
  /** The edges taken, one fewer than the nodes. */
  readonly edges: readonly number[];
  /** The partial on each edge. */
  readonly partials: readonly number[];
  readonly product: number;
}

export interface InputPaths {
  readonly input: string;
  /** How many paths lead from the output to this input (a double: it can be astronomically large). */
  readonly count: number;
  /** The first `maxPaths` of them, depth first in argument order. */
  readonly paths: readonly ExplainPath[];
  readonly truncated: boolean;
  /** Σ product over the listed paths (the whole gradient entry only when not truncated). */
  readonly sum: number;
  /** The input's adjoint from the reverse sweep (0 when no path reaches it). */
  readonly adjoint: number;
  /** The gradient entry the generated code computes. */
  readonly compiled: number;
}

export interface NonFinite {
  readonly node: string;
  readonly what: 'value' | 'adjoint';
  readonly number: number;
  readonly location: Position;
  /** For an adjoint: the first term that is not finite, i.e. where it came from. */
  readonly via?: AdjointTerm;
  /** For an adjoint: the `if` that started it at 0, when it has one. */
  readonly startedAtZeroBy?: Position;
}

export interface ExplainOptions {
  /** One node per IR operation, callees inlined, instead of one node per user-function call. */
  readonly expand?: boolean;
  /** The most paths listed per input (default 20). The adjoint view is always complete. */
  readonly maxPaths?: number;
  /** Forward mode along the graph with respect to this input (a parameter, or an element: `x[1]`, `A[0,1]`). */
  readonly forward?: string;
}
