import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { describe, expect, it } from 'vitest';
import { compile, LineMap } from '../src/index.ts';

const source = `# a model
fn loss(w, b, const x, const y) {
  let r = w * x + b - y
  return r * r
}
`;

describe('source maps', () => {
  it('map generated lines back to the .ad line and column of what they compute', async () => {
    const result = await compile(source, { filename: 'model.ad', sourceMap: true });
    const map = new TraceMap(result.map! as ConstructorParameters<typeof TraceMap>[0]);
    expect(map.sources).toEqual(['model.ad']);
    expect(result.map!.sourcesContent).toEqual([source]);
    const generated = result.code!.split('\n');
    const lines = new LineMap(source);
    const at = (text: string) => {
      const line = generated.findIndex((l) => l.includes(text));
      expect(line, text).toBeGreaterThanOrEqual(0);
      const col = generated[line].length - generated[line].trimStart().length;
      return originalPositionFor(map, { line: line + 1, column: col });
    };
    // `const r = …` in the value function comes from the expression of `let r` (line 3, column 11).
    expect(at('const r =')).toMatchObject({ source: 'model.ad', line: 3, column: 10 });
    expect(lines.position(source.indexOf('w * x'))).toEqual({ line: 3, column: 11 });
    // The function header maps to `fn loss`.
    expect(at('function loss(')).toMatchObject({ line: 2, column: 0 });
    // A reverse-sweep comment maps to the statement it names.
    expect(at('// line 4:')).toMatchObject({ line: 4, column: 2 });
  });

  it('leaves the code as our printer wrote it (prettier cannot carry a map)', async () => {
    const mapped = await compile(source, { sourceMap: true });
    const plain = await compile(source, { format: false });
    expect(mapped.code).toBe(plain.code);
  });
});
