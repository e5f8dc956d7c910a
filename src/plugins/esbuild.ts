/**
 * `import adc from 'adc-compiler/esbuild'`: the adc plugin for esbuild. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import type { Plugin } from 'esbuild';
import type { AdcPluginOptions } from './options.ts';
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './options.ts';

/**
 * Typed with esbuild's `Plugin`, so that the declarations tsc writes for this entry name only 'esbuild'
 * (unplugin's own types import its optional peers, and fail a project's type-check without
 * skipLibCheck).
 */
const adc: (options?: AdcPluginOptions) => Plugin = unplugin.esbuild;
export default adc;
