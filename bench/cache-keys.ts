/**
 * A one-line edit with the compile cache (what `adc compile --watch` and the bundler plugins do
 * per edit, prettier left out), this worktree against another checkout's `src/`, interleaved:
 *
 *   npx tsx bench/cache-keys.ts /work/s10base/src
 *
 * Two files: bench/scale.ts's watch file (1,000 lines, 100 functions of 10 lines; the edit
 * changes a number in f50) and a linear call chain of 1,000 one-line functions (f_i calls
 * f_{i-1}; the edit changes a number in the last, which nothing calls, so only it is compiled
 * again and the rest is keying and reuse). Each round: a first compile with a fresh cache per
 * checkout, then edits alternating between two versions, each timed (wall, in this process).
 * Prints the median edit per checkout, and the characters the keys were built from (this
 * worktree's `keyedLast`; before, the total length of the keys).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Api = typeof import('../src/index.ts');
const base = process.argv[2];
if (!base) throw new Error('usage: npx tsx bench/cache-keys.ts BASE/src');
const here: Api = await import('../src/index.ts');
const before: Api = await import(pathToFileURL(resolve(base, 'index.ts')).href);

/** bench/scale.ts's watch file: 100 functions of 10 lines, every fifth calling the one before it. */
function watchFile(k: number): string {
  const out: string[] = [];
  for (let f = 0; f < 100; f++) {
    out.push(`fn f${f}(x, y) {`);
    for (let i = 0; i < 7; i++) out.push(`  let a${i} = ${i === 0 ? (f % 5 === 4 ? `f${f - 1}(x, y) * 0.5` : 'x * y') : `sin(a${i - 1}) * ${f === 50 && i === 3 ? k : ((i + f) % 7) + 1} + y`}`);
    out.push('  return a6', '}');
  }
  return out.join('\n') + '\n';
}

function chainFile(k: number): string {
  return Array.from({ length: 1_000 }, (_, i) => `fn f${i}(x) = ${i === 0 ? 'x' : `f${i - 1}(x)`} * ${i === 999 ? k : 2} + 1`).join('\n') + '\n';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const [name, file] of [['1,000-line file (100 functions), edit in f50', watchFile], ['chain of 1,000 functions, edit in the last', chainFile]] as const) {
  const times = { before: [] as number[], after: [] as number[] };
  const keyed = { before: 0, after: 0 };
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    for (const [which, api] of (round % 2 ? [['after', here], ['before', before]] : [['before', before], ['after', here]]) as [keyof typeof times, Api][]) {
      const cache = new api.CompileCache();
      // Before: the total length of the keys, the text they were built from.
      let keyChars = 0;
      const c = cache as unknown as { key?: (...a: unknown[]) => string };
      if (which === 'before' && c.key) {
        const key = c.key.bind(cache);
        c.key = (...a: unknown[]) => {
          const k = key(...a);
          keyChars += k.length;
          return k;
        };
      }
      api.compileSync(file(3), { cache });
      for (let e = 0; e < 6; e++) {
        keyChars = 0;
        const t = performance.now();
        const r = api.compileSync(file(e % 2 ? 3 : 5), { cache });
        times[which].push(performance.now() - t);
        if (r.code === undefined) throw new Error('did not compile');
      }
      keyed[which] = which === 'before' ? keyChars : (cache as unknown as { keyedLast: number }).keyedLast;
    }
  }
  console.log(`${name}: edit median before ${median(times.before).toFixed(1)} ms, after ${median(times.after).toFixed(1)} ms (${(median(times.after) / median(times.before)).toFixed(2)}×, ${times.after.length} edits each); key text before ${keyed.before.toLocaleString('en-US')} chars, after ${keyed.after.toLocaleString('en-US')}`);
}
