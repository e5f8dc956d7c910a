/**
 * The plugin's options, in a file of their own that imports nothing: each entry point's declarations
 * name this file and their bundler's own types only, never unplugin's (whose declarations import
 * its optional peers, such as @farmfe/core and @rspack/core, which a project does not have).
 */
export interface AdcPluginOptions {
  /**
   * Also write TypeScript declarations beside each imported `.ad` file (`model.d.ad.ts` for
   * `model.ad`), so that `import { f } from './model.ad'` type-checks with the tsconfig option
   * `"allowArbitraryExtensions": true`. Default: false.
   */
  readonly dts?: boolean;
  /**
   * Generated functions check that every number argument is a number, and throw a TypeError
   * naming the function, the parameter and what was passed (instead of converting a string or
   * computing NaN from undefined). Array arguments are always checked. Default: false.
   */
  readonly checkArgs?: boolean;
  /** The tape budget of a loop with state in a gradient, in MB (see `compile()`'s `checkpointMemory`). Default: 64. */
  readonly checkpointMemory?: number;
  /** The derivative exports of each function (as the CLI's `--derivatives`, see `compile()`'s `derivatives`). Default: `grad` for functions returning a number, `jacobian` for those returning a vector. */
  readonly derivatives?: readonly ('grad' | 'jvp' | 'vjp' | 'jacobian' | 'hessian' | 'hvp')[];
  /** `wasm`: functions with array parameters also run as WebAssembly (SIMD) in each module (see `compile()`'s `target`). Default: `js`. */
  readonly target?: 'js' | 'wasm';
}
