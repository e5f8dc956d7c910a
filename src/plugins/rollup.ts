/**
 * `import adc from 'adc-compiler/rollup'`: the adc plugin for Rollup. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import type { Plugin } from 'rollup';
import type { AdcPluginOptions } from './options.ts';
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './options.ts';

/**
 * Typed with Rollup's `Plugin`, so that the declarations tsc writes for this entry name only 'rollup'
 * (unplugin's own types import its optional peers, and fail a project's type-check without
 * skipLibCheck).
 */
const adc: (options?: AdcPluginOptions) => Plugin = unplugin.rollup;
export default adc;
