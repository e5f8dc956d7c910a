/**
 * The compile cache of watch mode and the bundler plugins: a compile that reuses functions from an
 * earlier one must produce exactly what compiling from scratch produces (code, source map,
 * declarations), whatever the edit; and it must reuse the functions the edit cannot change.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompileCache, compileSync } from '../src/index.ts';

const seed = readFileSync(new URL('../examples/seed.ad', import.meta.url), 'utf8');
const arrays = readFileSync(new URL('../examples/arrays.ad', import.meta.url), 'utf8');

/** Compiles `sources` in turn with one cache, checking each against a compile without it; returns the functions reused each time. */
function replay(sources: readonly string[], target: 'js' | 'wasm' = 'js'): number[] {
  const cache = new CompileCache();
  return sources.map((source) => {
    const warm = compileSync(source, { cache, sourceMap: true, dts: true, filename: 'model.ad', target });
    const cold = compileSync(source, { sourceMap: true, dts: true, filename: 'model.ad', target });
    expect(warm).toEqual(cold);
    return cache.reusedLast;
  });
}

describe('CompileCache', () => {
  it('reuses every function of an unchanged file, and the output is the same', () => {
    const count = compileSync(seed).functions.length;
    expect(replay([seed, seed, seed])).toEqual([0, count, count]);
  });

  it('after an edit in one function, recompiles it and its callers only', () => {
    // g2 is called by graph; editing g2 recompiles both, the other functions are reused.
    const edited = seed.replace('fn g2(x, y) = x ^ y', 'fn g2(x, y) = x ^ y + 0');
    expect(edited).not.toBe(seed);
    const count = compileSync(seed).functions.length;
    expect(replay([seed, edited])).toEqual([0, count - 2]);
  });

  it('moves reused functions when lines are added above them (line comments and source map)', () => {
    const moved = `# a comment\n\n${seed}`;
    const count = compileSync(seed).functions.length;
    expect(replay([seed, moved, seed])).toEqual([0, count, count]);
  });

  it('recompiles functions with arrays (their work-array slots are numbered across the module)', () => {
    const edited = arrays.replace(/\n/, '\n\n');
    const scalar = compileSync(arrays).functions.filter((f) => f.params.every((p) => !p.type)).length;
    expect(replay([arrays, edited])).toEqual([0, scalar]);
  });

  it('with --target wasm, compiles every function with arrays to WebAssembly in each compile and reuses the others', () => {
    // The wasm plan sees only functions compiled from IR: one the cache gave back would lose its
    // wasm code. Functions with arrays must therefore be compiled again, each time, into the module.
    const source = `${arrays}\n${seed}`;
    const edited = source.replace(/\n/, '\n\n');
    const functions = compileSync(source).functions;
    const withArrays = functions.filter((f) => f.params.some((p) => p.type)).map((f) => f.name);
    expect(withArrays.length).toBeGreaterThan(0);
    expect(replay([source, edited, source], 'wasm')).toEqual([0, functions.length - withArrays.length, functions.length - withArrays.length]);
    const cache = new CompileCache();
    compileSync(source, { cache, target: 'wasm' });
    const warm = compileSync(edited, { cache, target: 'wasm' }).code!;
    for (const name of withArrays) {
      expect(warm).toContain(`function ${name}$wasm(`);
      expect(warm).toContain(`const ${name}$export = $wasm === undefined ? ${name} : ${name}$wasm;`);
    }
  });

  it('after an edit deep in a call chain, recompiles that function and every caller, and nothing else', () => {
    // f0 ← f1 ← … ← f29 (each calls the one before), and five functions outside the chain.
    const chain = (k: number) => Array.from({ length: 30 }, (_, i) => `fn f${i}(x) = ${i === 0 ? 'x' : `f${i - 1}(x)`} * ${i === k ? 3 : 2} + 1`);
    const others = Array.from({ length: 5 }, (_, i) => `fn u${i}(x, y) = sin(x) * y + ${i}`);
    const file = (k: number) => [...others.slice(0, 2), ...chain(k), ...others.slice(2)].join('\n') + '\n';
    // Editing f10 recompiles f10 … f29 (20 functions); f0 … f9 and u0 … u4 are reused.
    expect(replay([file(-1), file(10), file(10), file(0)])).toEqual([0, 15, 35, 5]);
  });

  it('keys a function calling itself with its callers: an edit in it recompiles it and them only', () => {
    const file = (k: number) => `fn top(x) = pw(x, 3) + 1
fn own(x) = x * x
fn pw(x, const n) = if n > 0 then x * pw(x, n - 1) else ${k}
fn far(x) = own(x) * 2
`;
    expect(compileSync(file(1)).diagnostics).toEqual([]);
    // pw changes: pw and top are compiled again; own and far are not. Then lines move: all reused.
    expect(replay([file(1), file(2), `# moved\n\n${file(2)}`])).toEqual([0, 2, 4]);
  });

  it('builds keys in time linear in the file, even on a call chain 4,000 deep', () => {
    // The key work (characters read to build every key) per character of source is the same for
    // chains of 1,000 and 4,000 functions: keyed on callees' whole text, it grew 4× per 4× longer
    // chain (about 16× in all).
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `fn f${i}(x) = ${i === 0 ? 'x' : `f${i - 1}(x)`} * 2 + 1`).join('\n') + '\n';
    const work = [1_000, 4_000].map((n) => {
      const cache = new CompileCache();
      const source = chain(n);
      expect(compileSync(source, { cache }).diagnostics).toEqual([]);
      expect(cache.size).toBe(n);
      return { n, perChar: cache.keyedLast / source.length, keyed: cache.keyedLast };
    });
    const [small, large] = work as [(typeof work)[0], (typeof work)[0]];
    expect(large.keyed / small.keyed).toBeLessThan(4.5);
    expect(large.perChar / small.perChar).toBeLessThan(1.1);
    expect(small.perChar).toBeLessThan(4);
  });

  it('gives the output of a fresh compile after any sequence of edits (random lines, inserted, removed or changed)', () => {
    const lines = seed.split('\n');
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom('', '# note', 'fn extra(x) = x * 2', 'fn g3(x) = g2(x, 2) * 3') }),
      fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), text: fc.constant('') }),
      fc.record({ kind: fc.constant('tweak' as const), at: fc.nat(), text: fc.constantFrom(' + 0', ' * 1', '  ') }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const versions = [seed];
        let current = [...lines];
        for (const e of edits) {
          const i = e.at % (current.length + 1);
          if (e.kind === 'insert') current = [...current.slice(0, i), e.text, ...current.slice(i)];
          else if (e.kind === 'remove') current = [...current.slice(0, i), ...current.slice(i + 1)];
          // A tweak at the end of a line that ends an expression keeps the file valid; if not, both compiles fail alike.
          else current = current.map((l, k) => (k === i && /^fn .*=/.test(l) ? l + e.text : l));
          versions.push(current.join('\n'));
        }
        replay(versions);
      }),
      { numRuns: 40 },
    );
  });
});
