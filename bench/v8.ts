/**
 * V8 introspection for the benchmark, through natives syntax (`node --allow-natives-syntax`):
 * whether a function is optimised, and the parts a compiled module splits a big body into.
 */

type Fn = (...args: never[]) => unknown;

function native<T>(body: string): T | undefined {
  try {
    return new Function('f', body) as T;
  } catch {
    return undefined; // not run with --allow-natives-syntax
  }
}

const getStatus = native<(f: Fn) => number>('return %GetOptimizationStatus(f)');
export const prepareForOptimization = native<(f: Fn) => void>('%PrepareFunctionForOptimization(f)');
export const optimizeOnNextCall = native<(f: Fn) => void>('%OptimizeFunctionOnNextCall(f)');

export const hasNatives = getStatus !== undefined;

// V8 11.3 (Node 20) src/runtime/runtime-test.cc, OptimizationStatus.
const BITS: [number, string][] = [
  [4, 'optimized'],
  [5, 'maglev'],
  [6, 'turbofan'],
  [7, 'interpreted'],
  [8, 'marked-for-optimization'],
  [9, 'marked-for-concurrent-optimization'],
  [10, 'optimizing-concurrently'],
  [15, 'baseline (sparkplug)'],
];

export function status(f: Fn): number {
  if (!getStatus) throw new Error('needs node --allow-natives-syntax');
  return getStatus(f);
}

export const isOptimized = (f: Fn): boolean => (status(f) & (1 << 4)) !== 0;

export function describeStatus(f: Fn): string {
  const s = status(f);
  return BITS.filter(([bit]) => s & (1 << bit)).map(([, name]) => name).join(', ') || `status ${s}`;
}

/** The tier of a function, or, when the compiler split its body, how many of its parts are optimised. */
export function describeTier(f: Fn, parts: readonly Fn[]): string {
  if (parts.length === 0) return describeStatus(f);
  return `${parts.length} parts, ${parts.filter(isOptimized).length} optimized`;
}

/**
 * The module text with its internal part functions (`name$1`, `name$2`, … for a body split in
 * parts) exported too, so that their tier can be read; and those names.
 */
export function exposeParts(code: string): { code: string; parts: string[] } {
  const parts = [...code.matchAll(/^function (\w+\$\d+)\(/gm)].map((m) => m[1]!);
  if (parts.length === 0) return { code, parts };
  return { code: code.replace(/export \{([^}]*)\};/, (_, names: string) => `export {${names.trimEnd()}, ${parts.join(', ')} };`), parts };
}

/** The parts of `name` (`name$1`, …) among a module's exports. */
export function partsOf(mod: Record<string, unknown>, parts: readonly string[], name: string): Fn[] {
  return parts.filter((p) => new RegExp(`^${name}\\$\\d+$`).test(p)).map((p) => mod[p] as Fn);
}
