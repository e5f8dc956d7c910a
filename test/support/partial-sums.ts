/**
 * The order in which the JavaScript target adds a long sum's terms (src/emit/js/partial-sums.ts,
 * README "Arrays"), written out from its description for hand-written references: terms
 * 4q … 4q + 3 into parts 0..3, then two more into parts 0 and 1 when two or three are left,
 * (p0 + p2) + (p1 + p3), then the last term. `partialSumsOrderWith` takes the addition and zero
 * (dual numbers in the oracles).
 */
export function partialSumsOrderWith<T>(terms: ArrayLike<T>, add: (a: T, b: T) => T, zero: T): T {
  const n = terms.length;
  const parts = [zero, zero, zero, zero];
  let t = 0;
  for (; t + 4 <= n; t += 4) for (let k = 0; k < 4; k++) parts[k] = add(parts[k]!, terms[t + k]!);
  if (t + 2 <= n) {
    parts[0] = add(parts[0]!, terms[t]!);
    parts[1] = add(parts[1]!, terms[t + 1]!);
    t += 2;
  }
  let s = add(add(parts[0]!, parts[2]!), add(parts[1]!, parts[3]!));
  if (t < n) s = add(s, terms[t]!);
  return s;
}

export function partialSumsOrder(terms: ArrayLike<number>): number {
  return partialSumsOrderWith(terms, (a, b) => a + b, 0);
}
