/**
 * The target test/arrays.test.ts compiles for: `js`, or `wasm` when test/arrays-wasm.test.ts runs
 * the same tests (each test file has its own module graph, so setting it there changes only that run).
 */
export const testTarget: { current: 'js' | 'wasm' } = { current: 'js' };
