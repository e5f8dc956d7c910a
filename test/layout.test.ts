import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The pipeline is the folder layout (ARCHITECTURE.md): syntax → check → ir → ad → emit. A stage
 * imports the stages before it, never one after it, except where listed below with the reason.
 * Type-only imports count too: they tie a stage's code to a later stage's shapes all the same.
 */
const src = fileURLToPath(new URL('../src/', import.meta.url));
const stages = ['syntax', 'check', 'ir', 'ad', 'emit'] as const;

/** Imports of a later stage that are there on purpose: `from → to` (paths under src/). */
const allowed = new Map<string, string>([
  // Every generated identifier is decided in one module, which lowering, AD and the checks
  // (names a user may not take) all read: the names test checks them in one place.
  ['* → emit/names.ts', 'names are decided in one place'],
  // The built-in functions and constants are the language's: the checks resolve names against them.
  ['check/* → ir/builtins.ts', 'the table of built-ins'],
  // Which calls stay calls is decided once, by the call graph; the checks ask it so that they
  // refuse exactly what lowering would not inline.
  ['check/* → ir/call-graph.ts', 'one decision of which calls stay calls'],
]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports or re-exports, statically or with `import()`, as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(src, resolve(dirname(file), s)).split('\\').join('/'));
}

const stageOf = (path: string): number => stages.indexOf(path.split('/')[0] as (typeof stages)[number]);

function isAllowed(from: string, to: string): boolean {
  const stage = from.split('/')[0];
  return allowed.has(`* → ${to}`) || allowed.has(`${stage}/* → ${to}`) || allowed.has(`${from} → ${to}`);
}

describe('layout', () => {
  it('no stage of the pipeline imports a later one', () => {
    const backwards: string[] = [];
    for (const file of filesUnder(src)) {
      const from = relative(src, file).split('\\').join('/');
      const stage = stageOf(from);
      if (stage < 0) continue; // the driver, cli, repl, explain, plugins: wiring over every stage
      for (const to of importsOf(file)) {
        if (stageOf(to) > stage && !isAllowed(from, to)) backwards.push(`${from} → ${to}`);
      }
    }
    expect(backwards).toEqual([]);
  });

  it('finds the imports it checks (a scan that matched nothing would pass anything)', () => {
    expect(importsOf(join(src, 'ad/nested.ts'))).toEqual(expect.arrayContaining(['ir/ir.ts', 'emit/names.ts', 'ad/reverse.ts']));
    expect(importsOf(join(src, 'emit/js/emit-js.ts'))).toContain('ad/calls.ts');
    // The allow-list is not a blanket: lowering importing AD would be reported.
    expect(isAllowed('ir/lower.ts', 'ad/nested.ts')).toBe(false);
    expect(stageOf('ad/nested.ts')).toBeGreaterThan(stageOf('ir/lower.ts'));
  });

  it('each target of the emitter is a folder of its own', () => {
    const emit = readdirSync(join(src, 'emit'), { withFileTypes: true });
    expect(emit.filter((e) => e.isDirectory()).map((e) => e.name).sort()).toEqual(['js', 'wasm']);
  });
});
