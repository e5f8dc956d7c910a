/**
 * Module customization hooks (node:module `register`) that compile `.ad` files on import. They run
 * on Node's loader thread; `index.ts` registers them.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSync, parseDerivatives } from '../compile.ts';
import { formatDiagnostics } from '../diagnostics/format.ts';
import { printable } from '../diagnostics/printable.ts';

interface LoadContext {
  readonly format?: string | null;
  readonly conditions?: readonly string[];
  readonly importAttributes?: Record<string, string>;
}
interface LoadResult {
  readonly format: string;
  readonly source?: string | ArrayBuffer | Uint8Array;
  readonly shortCircuit?: boolean;
}
type NextLoad = (url: string, context?: LoadContext) => LoadResult | Promise<LoadResult>;

/** A `file:` URL of a `.ad` file (a query or hash, as in `model.ad?v=2`, is allowed). */
function adPath(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith('.ad')) return undefined;
  parsed.search = '';
  parsed.hash = '';
  return fileURLToPath(parsed);
}

/**
 * `ADC_CHECK_ARGS=1 node --import adc-compiler/register app.js`: generated functions check their number
 * arguments (the `checkArgs` option). `--import` cannot pass options, so the environment does; it
 * is read per file, as the loader thread sees it.
 */
export function checkArgs(): boolean {
  const value = process.env.ADC_CHECK_ARGS;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  const path = adPath(url);
  if (path === undefined) return nextLoad(url, context);
  // Invalid UTF-8 becomes U+FFFD, which the lexer reports with its location (as in the CLI).
  const source = new TextDecoder('utf-8').decode(await readFile(path));
  // The map's source is named relative to the module's own URL: the .ad file itself.
  // The loader takes no options: the tape budget of loops with state comes from the environment.
  const memory = process.env.ADC_CHECKPOINT_MEMORY;
  const checkpointMemory = memory === undefined || memory === '' ? undefined : Number(memory);
  // The derivative exports: `?derivatives=grad,jvp` on the import, else ADC_DERIVATIVES, else the default.
  const asked = new URL(url).searchParams.get('derivatives') ?? process.env.ADC_DERIVATIVES;
  const derivatives = asked === undefined || asked === '' ? undefined : parseDerivatives(asked);
  if (typeof derivatives === 'string') throw new Error(`adc: ${printable(path)}: ${derivatives}`);
  // The target: ADC_TARGET=wasm (functions with arrays also run as WebAssembly), else js.
  const target = process.env.ADC_TARGET;
  if (target !== undefined && target !== '' && target !== 'js' && target !== 'wasm') throw new Error(`adc: ${printable(path)}: ADC_TARGET must be js or wasm, not '${printable(target)}'`);
  const result = compileSync(source, {
    filename: basename(path),
    ...(target === 'wasm' && { target }),
    sourceMap: true,
    checkArgs: checkArgs(),
    ...(checkpointMemory !== undefined && { checkpointMemory }),
    ...(derivatives && { derivatives }),
  });
  if (result.code === undefined) {
    throw new Error(`adc: cannot compile ${printable(path)}:\n${formatDiagnostics(result.diagnostics, source, path)}`);
  }
  const map = Buffer.from(JSON.stringify(result.map)).toString('base64');
  return {
    format: 'module',
    shortCircuit: true,
    source: `${result.code}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n`,
  };
}
