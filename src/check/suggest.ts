/**
 * "Did you mean" suggestions, with bounded work. A name is compared only with candidates whose
 * length is within the distance limit (at most 2) of its own, by an optimal-string-alignment
 * distance computed in a band of that width that stops as soon as every cell of a row exceeds
 * the limit: time O(length × 5) and memory O(length) per candidate, never a length × length
 * table. A `Suggester` also caps the total work of one compile (or one REPL input): past
 * `SUGGESTION_BUDGET` units (one per candidate looked at, plus one per table cell), diagnostics
 * come without a suggestion, so a file of thousands of typos among thousands of names stays fast.
 */

/** Work units one `Suggester` may spend: about 0.1 s. Deterministic (counted, not timed). */
export const SUGGESTION_BUDGET = 5_000_000;

export class Suggester {
  private spent = 0;

  constructor(private readonly budget: number = SUGGESTION_BUDGET) {}

  /** Work units spent so far (for tests and the fuzz searches). */
  get work(): number {
    return this.spent;
  }

  /** True once the budget ran out: later calls suggest nothing. */
  get exhausted(): boolean {
    return this.spent > this.budget;
  }

  /**
   * " (did you mean 'x'?)" for the nearest candidate, or "". A candidate must be closer than the
   * name is long (so 'y' never suggests 'e'); ties go to the longer common prefix ('sinn' → 'sin'),
   * then to the first in alphabetical order. When the budget runs out during the search, the
   * answer is "" rather than the best of the candidates seen so far, which might not be the nearest.
   */
  didYouMean(name: string, candidates: Iterable<string>): string {
    const limit = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
    const lower = name.toLowerCase();
    let best: string | undefined;
    let bestDistance = Infinity;
    let bestPrefix = 0;
    for (const c of candidates) {
      this.spent += 1;
      if (this.spent > this.budget) return '';
      if (Math.abs(c.length - name.length) > limit) continue;
      this.spent += Math.min(name.length, c.length) * (2 * limit + 1);
      if (this.spent > this.budget) return '';
      const d = distanceWithin(lower, c.toLowerCase(), limit);
      if (d > limit || d >= name.length || d >= c.length || d > bestDistance) continue;
      const prefix = commonPrefix(name, c);
      if (d < bestDistance || prefix > bestPrefix || (prefix === bestPrefix && best !== undefined && c < best)) {
        best = c;
        bestDistance = d;
        bestPrefix = prefix;
      }
    }
    return best === undefined ? '' : ` (did you mean '${best}'?)`;
  }
}

/** One suggestion with a budget of its own (the REPL's commands and names: one input at a time). */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  return new Suggester().didYouMean(name, candidates);
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The optimal string alignment distance between a and b (insertions, deletions, substitutions and
 * adjacent swaps) if it is at most `limit`, else `limit + 1`. Only the cells with |i − j| ≤ limit
 * are computed (any other cell's value exceeds the limit), in three rolling rows; a row whose
 * cells all exceed the limit ends the search (a swap reaches back two rows, but a cell ≤ limit − 1
 * two rows back would leave one ≤ limit in the row between).
 */
let rows = [new Int32Array(64), new Int32Array(64), new Int32Array(64)]; // reused: no allocation per candidate

export function distanceWithin(a: string, b: string, limit: number): number {
  const n = a.length;
  const m = b.length;
  const over = limit + 1;
  if (Math.abs(n - m) > limit) return over;
  if (rows[0].length < m + 2) rows = [0, 1, 2].map(() => new Int32Array(2 * (m + 2)));
  let [before, previous, current] = rows; // rows i − 2, i − 1 and i
  // Row 0. The rows are reused, so each row sets its band and the cells on either side: the only
  // cells the next two rows read.
  for (let j = 0; j <= Math.min(m, limit + 1); j++) previous[j] = Math.min(j, over);
  for (let i = 1; i <= n; i++) {
    const lo = Math.max(1, i - limit);
    const hi = Math.min(m, i + limit);
    // The cells just outside this row's band are read (left) or read by the next row (right).
    current[lo - 1] = lo === 1 ? Math.min(i, over) : over;
    current[hi + 1] = over;
    let rowMin = current[lo - 1];
    for (let j = lo; j <= hi; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      current[j] = Math.min(d, over);
      if (current[j] < rowMin) rowMin = current[j];
    }
    if (rowMin > limit) return over;
    [before, previous, current] = [previous, current, before];
  }
  return previous[m];
}
