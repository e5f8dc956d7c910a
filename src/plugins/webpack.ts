/**
 * `import adc from 'adc-compiler/webpack'`: the adc plugin for Webpack. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import type { WebpackPluginInstance } from 'webpack';
import type { AdcPluginOptions } from './options.ts';
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './options.ts';

/**
 * Typed with webpack's `WebpackPluginInstance`, so that the declarations tsc writes for this entry
 * name only 'webpack' (unplugin's own types import its optional peers, and fail a project's
 * type-check without skipLibCheck).
 */
const adc: (options?: AdcPluginOptions) => WebpackPluginInstance = unplugin.webpack;
export default adc;
