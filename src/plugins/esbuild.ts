/**
 * `import adc from 'adc-compiler/esbuild'`: the adc plugin for esbuild. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './unplugin.ts';
export default unplugin.esbuild;
