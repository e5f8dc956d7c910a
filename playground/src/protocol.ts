/** The messages between the page (main.ts) and the compiler's worker (worker.ts). */
import type { FunctionInfo } from '../../src/compile.ts';

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
  | { readonly kind: 'compile'; readonly source: string }
  | { readonly kind: 'evaluate'; readonly code: string; readonly fn: string; readonly args: readonly unknown[] }
  | { readonly kind: 'plot'; readonly code: string; readonly fn: string; readonly args: readonly unknown[]; readonly param: number; readonly name: string; readonly xs: readonly number[] }
  | { readonly kind: 'graph'; readonly source: string; readonly fn: string; readonly point: readonly number[] };

export type Reply =
  | { readonly kind: 'compiled'; readonly code?: string; readonly dts?: string; readonly problems: readonly Problem[]; readonly functions: readonly FunctionInfo[]; readonly ms: number }
  | { readonly kind: 'evaluated'; readonly value: unknown; readonly gradient?: Record<string, unknown> }
  | { readonly kind: 'plotted'; readonly values: readonly number[]; readonly slopes: readonly number[] }
  | { readonly kind: 'graphed'; readonly svg?: string; readonly text: string; readonly tooLarge?: string }
  | { readonly kind: 'failed'; readonly message: string };
