/**
 * `import adc from 'adc-compiler/vite'`: the adc plugin for Vite. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import type { Plugin } from 'vite';
import type { AdcPluginOptions } from './options.ts';
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './options.ts';

/**
 * Typed with Vite's `Plugin`, so that the declarations tsc writes for this entry name only 'vite'
 * (unplugin's own types import its optional peers, and fail a project's type-check without
 * skipLibCheck).
 */
const adc: (options?: AdcPluginOptions) => Plugin = unplugin.vite;
export default adc;
