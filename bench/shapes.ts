/**
 * Generated programs of shapes other than the let chain (bench/chain.ts), for the compile-time
 * bench (bench/scale.ts) and the linearity tests (test/scale.test.ts): the shapes that once made
 * compile time grow faster than the input.
 */

/** `n` loops in a row, each updating one state variable (reverse mode tapes each loop). */
export function loopsInARow(n: number): string {
  const loops = Array.from({ length: n }, (_, i) => `  for i in 0..3 { s = s * y + sin(s) * ${i + 1} }`);
  return ['fn f(x, y) {', '  var s = x', ...loops, '  return s', '}', ''].join('\n');
}

/** Loops nested `depth` deep around one update of a state variable. */
export function nestedLoops(depth: number): string {
  const lines = ['fn f(x, y) {', '  var s = x'];
  for (let i = 0; i < depth; i++) lines.push(`${'  '.repeat(i + 1)}for i${i} in 0..2 {`);
  lines.push(`${'  '.repeat(depth + 1)}s = s * y + sin(s)`);
  for (let i = depth - 1; i >= 0; i--) lines.push(`${'  '.repeat(i + 1)}}`);
  lines.push('  return s', '}', '');
  return lines.join('\n');
}

/** `n` branches in a row, each updating one state variable. */
export function branchesInARow(n: number): string {
  const branches = Array.from({ length: n }, (_, i) => `  if s > ${i} { s = s * y + sin(s) } else { s = s - y }`);
  return ['fn f(x, y) {', '  var s = x', ...branches, '  return s', '}', ''].join('\n');
}
