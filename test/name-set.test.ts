import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjointName, temporaryName } from '../src/emit/names.ts';
import { NameMap, NameSet, slotOf } from '../src/ir/name-set.ts';

// Names of every kind a function holds: counted temporaries and their adjoints (kept by number),
// and names that only look like them (leading zeros, other prefixes, huge numbers), user names.
const nameArb = fc.oneof(
  fc.nat({ max: 3000 }).map((n) => temporaryName(n + 1)),
  fc.nat({ max: 3000 }).map((n) => adjointName(temporaryName(n + 1))),
  fc.nat({ max: 3000 }).map((n) => `$t0${n}`),
  fc.nat({ max: 3000 }).map((n) => `$dt0${n}`),
  fc.nat({ max: 3000 }).map((n) => `$d${n + 1}`),
  fc.nat({ max: 3000 }).map((n) => `$tt${n + 1}`),
  fc.integer({ min: 2 ** 24 - 2, max: 2 ** 40 }).map((n) => temporaryName(n)),
  fc.constantFrom('$t', '$dt', '$', 'x', 'd$x', 'v12', '$saved3', '$power4', '$t1x', '$t٣'),
);

describe('NameSet and NameMap', () => {
  it('read a temporary and its adjoint as two different numbers, and no other name as a number', () => {
    expect(slotOf('$t12')).toBe(24);
    expect(slotOf(adjointName('$t12'))).toBe(25);
    for (const name of ['$t012', '$d12', '$tt12', 'x', '$t', '$dt', '$t1x', `$t${2 ** 24}`]) expect(slotOf(name)).toBe(-1);
  });

  it('hold the same names as a Set and a Map, through any sequence of changes', () => {
    const op = fc.tuple(fc.constantFrom('add', 'delete', 'copy', 'restore'), nameArb, fc.integer());
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(nameArb, { maxLength: 50 }), (ops, probes) => {
        const set = new NameSet();
        const model = new Set<string>();
        const map = new NameMap<number>();
        const mapModel = new Map<string, number>();
        let saved: { map: NameMap<number>; model: Map<string, number> } | undefined;
        for (const [kind, name, value] of ops) {
          if (kind === 'add') {
            set.add(name);
            model.add(name);
            map.set(name, value);
            mapModel.set(name, value);
          } else if (kind === 'delete') {
            map.delete(name);
            mapModel.delete(name);
          } else if (kind === 'copy') {
            saved = { map: map.copy(), model: new Map(mapModel) };
          } else if (saved) {
            map.restore(saved.map);
            mapModel.clear();
            saved.model.forEach((v, k) => mapModel.set(k, v));
          }
          expect(set.size).toBe(model.size);
        }
        for (const name of [...probes, ...model, ...mapModel.keys()]) {
          expect(set.has(name)).toBe(model.has(name));
          expect(map.get(name)).toBe(mapModel.get(name));
          expect(map.has(name)).toBe(mapModel.has(name));
        }
      }),
    );
  });
  it('copy and restore walk the entries held, not every number seen (the reverse sweep copies at each loop)', () => {
    const map = new NameMap<number>();
    for (let n = 1; n <= 100_000; n++) map.set(temporaryName(n), n);
    for (let n = 1; n < 100_000; n++) map.delete(temporaryName(n));
    const copy = map.copy();
    // (Its slots: the work copy and restore do. One entry is held, so one slot, not 100,000.)
    expect((copy as unknown as { slots: number[] }).slots).toHaveLength(1);
    expect(copy.get(temporaryName(100_000))).toBe(100_000);
    expect(copy.get(temporaryName(5))).toBeUndefined();
    map.set(temporaryName(7), 7);
    map.restore(copy);
    expect(map.get(temporaryName(7))).toBeUndefined();
    expect(map.get(temporaryName(100_000))).toBe(100_000);
    expect((map as unknown as { slots: number[] }).slots).toHaveLength(1);
  });
});
