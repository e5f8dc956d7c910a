/** The messages between the page (main.ts) and the compiler's worker (worker.ts). */
import type { Derivative, FunctionInfo } from '../../src/compile.ts';
import type { PointValue } from '../../src/explain/types.ts';

export interface Problem {
  readonly from: number;
  readonly to: number;
  readonly line: number;
  readonly column: number;
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export type Request =
  /** `derivatives`: the exports asked for (the Hessian toggle adds `hessian`); default: the compiler's. */
  | { readonly kind: 'compile'; readonly source: string; readonly derivatives?: readonly Derivative[] }
  | { readonly kind: 'evaluate'; readonly code: string; readonly fn: string; readonly args: readonly unknown[] }
  | { readonly kind: 'plot'; readonly code: string; readonly fn: string; readonly args: readonly unknown[]; readonly param: number; readonly name: string; readonly xs: readonly number[] }
  | { readonly kind: 'graph'; readonly source: string; readonly fn: string; readonly point: readonly PointValue[] };

export type Reply =
  | { readonly kind: 'compiled'; readonly code?: string; readonly dts?: string; readonly problems: readonly Problem[]; readonly functions: readonly FunctionInfo[]; readonly ms: number }
  /** From fHessian when the module has it, else fGrad, else fJacobian (a function returning a vector), else the value alone. */
  | { readonly kind: 'evaluated'; readonly value: unknown; readonly gradient?: Record<string, unknown>; readonly jacobian?: Record<string, unknown>; readonly hessian?: Record<string, Record<string, unknown>> }
  | { readonly kind: 'plotted'; readonly values: readonly number[]; readonly slopes: readonly number[] }
  | { readonly kind: 'graphed'; readonly svg?: string; readonly text: string; readonly tooLarge?: string; readonly inputs: readonly InputPaths[] }
  | { readonly kind: 'failed'; readonly message: string };

/** The paths from the output to one input in explain's graph, for highlighting in the drawing. */
export interface InputPaths {
  readonly input: string;
  /** How many paths there are (only the first ones are listed when `truncated`). */
  readonly count: number;
  readonly truncated: boolean;
  readonly paths: readonly {
    /** Node ids from the output down to the input, and their labels as the report shows them. */
    readonly nodes: readonly string[];
    readonly labels: readonly string[];
    /** Each edge as `from->to`, the title Graphviz gives it in the SVG. */
    readonly edges: readonly string[];
    readonly partials: readonly number[];
    readonly product: number;
  }[];
  /** Σ product over every path: the input's adjoint; and the gradient entry of the generated code. */
  readonly adjoint: number;
  readonly compiled: number;
}
