import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Instr, Operand } from '../src/ir/ir.ts';
import { forEachInstr } from '../src/ir/ir.ts';
import { hasReferences, isKept, VariableTable } from '../src/emit/js/variables.ts';

/**
 * The emitter's variable table (src/emit/js/variables.ts) numbers a function's variables in one
 * walk and records, by position, the numbers of each const/let/set/add's target and operands; the
 * passes after it (splitting, inlining, printing) read them instead of looking names up. Checked
 * against a plain Map numbering of the names in the same walk order, on random blocks of
 * instructions nested in branches and loops, past the sizes where the table's arrays grow.
 */
const origin = { span: { start: 0, end: 0 }, statement: { start: 0, end: 0 } };
const names = fc.oneof(
  fc.integer({ min: 0, max: 600 }).map((n) => `$t${n}`),
  fc.constantFrom('x', 'y', 'd$x', 'v0'),
);
const operand: fc.Arbitrary<Operand> = fc.oneof(
  names.map((name) => ({ kind: 'var' as const, name })),
  fc.double({ noNaN: true }).map((value) => ({ kind: 'const' as const, value })),
);
const simple: fc.Arbitrary<Instr> = fc
  .tuple(fc.constantFrom('const', 'let', 'set', 'add'), names, fc.constantFrom('add', 'mul', 'sin', 'copy'), fc.array(operand, { minLength: 2, maxLength: 2 }), fc.boolean())
  .map(([kind, target, op, args, bare]) => {
    const expr = { op, args: op === 'sin' || op === 'copy' ? args.slice(0, 1) : args };
    return (kind === 'let' && bare ? { kind, target, origin } : { kind, target, expr, origin }) as Instr;
  });
const { block } = fc.letrec((tie) => ({
  block: fc.array(fc.oneof({ depthSize: 'small', withCrossShrink: true }, simple, simple, simple, tie('nested')), { maxLength: 40 }) as fc.Arbitrary<Instr[]>,
  nested: fc.oneof(
    fc.tuple(operand, tie('block'), tie('block')).map(([condition, then, otherwise]) => ({ kind: 'if', condition, then, else: otherwise, origin }) as unknown as Instr),
    fc.tuple(tie('block'), fc.option(tie('block'), { nil: undefined })).map(
      ([body, exit]) =>
        ({
          kind: 'loop',
          index: 'i',
          from: { kind: 'const', value: 0 },
          to: { kind: 'const', value: 4 },
          descending: false,
          body,
          ...(exit ? { exit: { body: exit, condition: { kind: 'var', name: 'x' } } } : {}),
          origin,
        }) as unknown as Instr,
    ),
  ),
}));

describe('the variable table', () => {
  it('records every target and operand by position, each name numbered once, in any nesting', () => {
    fc.assert(
      fc.property(fc.array(block, { minLength: 1, maxLength: 6 }), (blocks) => {
        const table = new VariableTable();
        for (const b of blocks) table.walk(b);
        // The oracle: names numbered in order of first mention, target before operands.
        const numbers = new Map<string, number>();
        const number = (name: string) => numbers.get(name) ?? (numbers.set(name, numbers.size), numbers.size - 1);
        const check = (b: readonly Instr[]) => {
          const starts = table.startsOf(b);
          expect(starts).toBeDefined();
          b.forEach((i, k) => {
            if (!hasReferences(i)) {
              expect(starts![k]).toBe(-1);
            } else {
              const at = starts![k];
              expect(table.refs[at]).toBe(number(i.target));
              (i.expr?.args ?? []).forEach((a, j) => expect(table.refs[at + 1 + j]).toBe(a.kind === 'var' ? number(a.name) : -1));
            }
            if (i.kind === 'if') {
              check(i.then);
              check(i.else);
            } else if (i.kind === 'loop') {
              if (i.exit) check(i.exit.body);
              check(i.body);
            }
          });
        };
        blocks.forEach(check);
        expect(table.names).toEqual([...numbers.keys()]);
        for (const [name, n] of numbers) expect(table.find(name)).toBe(n);
        expect(table.find('never mentioned')).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps what it knows of each variable as its arrays grow', () => {
    const table = new VariableTable();
    const body: Instr[] = [];
    for (let n = 0; n < 5000; n++) {
      const args: Operand[] = [{ kind: 'var', name: `$t${n >> 1}` }, { kind: 'const', value: n }];
      body.push({ kind: 'const', target: `$t${n}`, expr: { op: 'add', args }, origin } as Instr);
    }
    // Facts set on the first variables, then thousands more made: still there, the new ones fresh.
    table.walk(body.slice(0, 100));
    for (let v = 0; v < 100; v++) {
      table.lastTouch[v] = v;
      table.flags[v] |= isKept;
    }
    table.walk(body);
    let instructions = 0;
    forEachInstr(body, () => instructions++);
    expect(table.names.length).toBe(5000);
    for (let v = 0; v < 5000; v++) {
      expect(table.lastTouch[v]).toBe(v < 100 ? v : -1);
      expect(table.flags[v] & isKept).toBe(v < 100 ? isKept : 0);
      expect(table.slot[v]).toBe(-1);
    }
    // Three references per instruction (target, two operands), in the order walked.
    const starts = table.startsOf(body)!;
    body.forEach((_, k) => {
      expect(starts[k]).toBe(300 + 3 * k);
      expect(table.refs[starts[k]]).toBe(k);
      expect(table.refs[starts[k] + 1]).toBe(k >> 1);
      expect(table.refs[starts[k] + 2]).toBe(-1);
    });
    expect(table.refsLength).toBe(3 * (100 + instructions));
  });
});
