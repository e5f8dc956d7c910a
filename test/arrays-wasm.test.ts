/**
 * Every test of test/arrays.test.ts (the examples arrays.ad and gmm.ad against hand-written
 * references, reductions, finite differences, errors, fGradInto) again on the WebAssembly target:
 * its modules are compiled with `target: 'wasm'`, and load() checks that each function with array
 * parameters is the wasm glue, not the JS fallback.
 */
import { testTarget } from './support/target.ts';

testTarget.current = 'wasm';
await import('./arrays.test.ts');
