/**
 * The compiler in a Web Worker, so typing never waits for it: compiles with `compileSync` from
 * src/compile.ts (the CLI's code), runs the generated module, and draws `adc explain`'s graph.
 * A run that does not end (a long loop) is the page's to stop: it terminates this worker.
 */
import { compileSync } from '../../src/compile.ts';
import { LineMap } from '../../src/diagnostics/span.ts';
import { svgTooLarge, toSvg } from '../../src/explain/dot.ts';
import { explain, ExplainError } from '../../src/explain/explain.ts';
import { formatExplain } from '../../src/explain/text.ts';
import type { Reply, Request } from './protocol.ts';

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

function compile(source: string): Reply {
  const started = performance.now();
  const result = compileSync(source, { filename: 'playground.ad', dts: true });
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
      return compile(request.source);
    case 'evaluate': {
      const module = await load(request.code);
      const grad = module[`${request.fn}Grad`];
      if (!grad) return { kind: 'evaluated', value: module[request.fn](...request.args) };
      const { value, gradient } = grad(...request.args) as { value: unknown; gradient: Record<string, unknown> };
      return { kind: 'evaluated', value, gradient };
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
      if (tooLarge) return { kind: 'graphed', text, tooLarge };
      return { kind: 'graphed', svg: await toSvg(result), text };
    }
    default:
      return request satisfies never;
  }
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
