/**
 * `import adc from 'adc-compiler/rollup'`: the adc plugin for Rollup. `.ad` files become ES modules
 * exporting `f` and `fGrad` for each `fn f`, with source maps to the `.ad` text.
 */
import { unplugin } from './unplugin.ts';

export type { AdcPluginOptions } from './unplugin.ts';
export default unplugin.rollup;
