/**
 * renameVariables (src/ir/rename.ts), the one walk that copies a block under other names: for
 * nested derivatives and unroll-and-jam (a map of renames) and for the reverse sweep's recomputed
 * loop bodies (ad/loops.ts's cloneBody, with a callback naming each definition). Every name an
 * instruction holds is renamed, a logsumexp loop's tape and a loop's carried arrays included, and
 * the callback meets the definitions in the order the copy makes them.
 */
import { describe, expect, it } from 'vitest';
import { renameVariables } from '../src/ir/rename.ts';
import { constant, variable, type Instr, type Origin } from '../src/ir/ir.ts';

const origin: Origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
/** A logsumexp loop with a tape, carrying an array, whose body defines a const from the index. */
const block: Instr[] = [
  { kind: 'const', target: 'off', expr: { op: 'mul', args: [variable('k'), variable('n')] }, origin },
  {
    kind: 'loop',
    index: 'i',
    from: constant(0),
    to: variable('n'),
    descending: false,
    body: [{ kind: 'const', target: 't', expr: { op: 'load', args: [variable('x'), variable('i')] }, origin }],
    reduction: { op: 'logsumexp', target: 'r', value: variable('t'), tape: { array: 'tape', offset: variable('off'), scale: 's' } },
    carriedArrays: [{ name: 'buf', length: variable('m') }],
    origin,
  },
];

describe('renameVariables', () => {
  it('renames a reduction tape (its array, offset and scale) and carried arrays (name and length)', () => {
    const renames = new Map([
      ['off', 'off2'],
      ['tape', 'tape2'],
      ['s', 's2'],
      ['buf', 'buf2'],
      ['m', 'm2'],
      ['i', 'i2'],
      ['t', 't2'],
    ]);
    const [c, loop] = renameVariables(block, renames);
    expect(c).toMatchObject({ target: 'off2' });
    expect(loop).toMatchObject({
      index: 'i2',
      body: [{ target: 't2', expr: { args: [variable('x'), variable('i2')] } }],
      reduction: { target: 'r', value: variable('t2'), tape: { array: 'tape2', offset: variable('off2'), scale: 's2' } },
      carriedArrays: [{ name: 'buf2', length: variable('m2') }],
    });
    // The input is not changed.
    expect(block[1]).toMatchObject({ index: 'i', carriedArrays: [{ name: 'buf', length: variable('m') }] });
  });

  it("names each definition through the callback, after the operands it is computed from (cloneBody's order)", () => {
    const renames = new Map<string, string>();
    const met: string[] = [];
    const define = (name: string) => {
      met.push(name);
      renames.set(name, `${name}'`);
      return `${name}'`;
    };
    const [c, loop] = renameVariables(block, renames, undefined, define);
    // off, then the loop's index before its body's t, then the reduction's state after the body.
    expect(met).toEqual(['off', 'i', 't', 'r', 's']);
    expect(c).toMatchObject({ target: "off'" });
    expect(loop).toMatchObject({
      index: "i'",
      body: [{ target: "t'", expr: { args: [variable('x'), variable("i'")] } }],
      reduction: { target: "r'", value: variable("t'"), tape: { array: 'tape', offset: variable("off'"), scale: "s'" } },
      carriedArrays: [{ name: 'buf', length: variable('m') }],
    });
  });
});
