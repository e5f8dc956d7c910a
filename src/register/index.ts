/**
 * `node --import adc-compiler/register app.js`: lets Node import `.ad` files directly. Each one is compiled
 * when first imported, with an inline source map, so `node --enable-source-maps` reports stack
 * frames at the `.ad` line and column. Registers the hooks in ./hooks.ts with `module.register`.
 */
import * as nodeModule from 'node:module';

if (typeof nodeModule.register !== 'function') {
  throw new Error(`adc-compiler/register needs module.register (Node 20.6 or later); this is Node ${process.versions.node}`);
}
// The hooks module beside this one: hooks.js once built, hooks.ts when run from source.
nodeModule.register(import.meta.url.endsWith('.ts') ? './hooks.ts' : './hooks.js', import.meta.url);
