/**
 * The compiler in a Web Worker, so typing never waits for it: compiles with `compileSync` from
 * src/compile.ts (the CLI's code), runs the generated module, and draws `adc explain`'s graph.
 * A run that does not end (a long loop) is the page's to stop: it terminates this worker.
 */
import { compileSync } from '../../src/compile.ts';
import { LineMap } from '../../src/diagnostics/span.ts';
import { svgTooLarge, toSvg } from '../../src/explain/dot.ts';
import { explain, ExplainError } from '../../src/explain/explain.ts';
import { labeller } from '../../src/explain/labels.ts';
import { formatExplain } from '../../src/explain/text.ts';
import type { ExplainResult } from '../../src/explain/types.ts';
import type { Derivative } from '../../src/compile.ts';
import type { InputPaths, Reply, Request } from './protocol.ts';

type Module = Record<string, (...args: unknown[]) => unknown>;

/** The last generated module, imported once per distinct code text. */
let loaded: { code: string; module: Promise<Module> } | undefined;

function load(code: string): Promise<Module> {
  if (loaded?.code !== code) {
    // The generated code is standalone ES (no imports), so a blob URL can be imported as it is.
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    const module = (import(/* @vite-ignore */ url) as Promise<Module>).finally(() => URL.revokeObjectURL(url));
    loaded = { code, module };
  }
  return loaded.module;
}

function compile(source: string, derivatives?: readonly Derivative[]): Reply {
  const started = performance.now();
  const result = compileSync(source, { filename: 'playground.ad', dts: true, ...(derivatives && { derivatives }) });
  const lines = new LineMap(source);
  const problems = result.diagnostics.map((d) => {
    const at = lines.position(d.span.start);
    return { from: d.span.start, to: d.span.end, line: at.line, column: at.column, code: d.code, severity: d.severity, message: d.message };
  });
  return { kind: 'compiled', code: result.code, dts: result.dts, problems, functions: result.functions, ms: performance.now() - started };
}

async function handle(request: Request): Promise<Reply> {
  switch (request.kind) {
    case 'compile':
      return compile(request.source, request.derivatives);
    case 'evaluate': {
      const module = await load(request.code);
      // The most the module has: fHessian (value, gradient, Hessian), fGrad, or fJacobian for a vector.
      const hessian = module[`${request.fn}Hessian`];
      if (hessian) return { kind: 'evaluated', ...(hessian(...request.args) as { value: unknown; gradient: Record<string, unknown>; hessian: Record<string, Record<string, unknown>> }) };
      const grad = module[`${request.fn}Grad`];
      if (grad) return { kind: 'evaluated', ...(grad(...request.args) as { value: unknown; gradient: Record<string, unknown> }) };
      const jacobian = module[`${request.fn}Jacobian`];
      if (jacobian) return { kind: 'evaluated', ...(jacobian(...request.args) as { value: unknown; jacobian: Record<string, unknown> }) };
      return { kind: 'evaluated', value: module[request.fn](...request.args) };
    }
    case 'plot': {
      const module = await load(request.code);
      const grad = module[`${request.fn}Grad`];
      const args = [...request.args];
      const values: number[] = [];
      const slopes: number[] = [];
      for (const x of request.xs) {
        args[request.param] = x;
        const { value, gradient } = grad(...args) as { value: number; gradient: Record<string, number> };
        values.push(value);
        slopes.push(gradient[request.name]);
      }
      return { kind: 'plotted', values, slopes };
    }
    case 'graph': {
      const result = explain(request.source, request.fn, request.point);
      // The report of `adc explain` (sweeps, and the paths to each input with their products) is
      // shown below the drawing; a graph too large for Graphviz in reasonable time gets the report only.
      const text = formatExplain(result);
      const tooLarge = svgTooLarge(result);
      if (tooLarge) return { kind: 'graphed', text, tooLarge, inputs: paths(result) };
      return { kind: 'graphed', svg: await toSvg(result), text, inputs: paths(result) };
    }
    default:
      return request satisfies never;
  }
}

/** Each input's paths, with the node labels of the report and the edges as the SVG names them. */
function paths(result: ExplainResult): InputPaths[] {
  const label = labeller(result.nodes, 24);
  const node = new Map(result.nodes.map((n) => [n.id, n]));
  const edge = new Map(result.edges.map((e) => [e.id, e]));
  return result.inputs.map((p) => ({
    input: p.input,
    count: p.count,
    truncated: p.truncated,
    adjoint: p.adjoint,
    compiled: p.compiled,
    paths: p.paths.map((path) => ({
      nodes: path.nodes,
      labels: path.nodes.map((id) => label(node.get(id)!)),
      edges: path.edges.map((id) => `${edge.get(id)!.from}->${edge.get(id)!.to}`),
      partials: path.partials,
      product: path.product,
    })),
  }));
}

self.onmessage = async (event: MessageEvent<{ id: number; request: Request }>) => {
  const { id, request } = event.data;
  let reply: Reply;
  try {
    reply = await handle(request);
  } catch (error) {
    const message = error instanceof ExplainError || error instanceof Error ? error.message : String(error);
    reply = { kind: 'failed', message };
  }
  postMessage({ id, reply });
};
