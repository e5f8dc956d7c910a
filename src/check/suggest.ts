/**
 * " (did you mean 'x'?)" for the nearest candidate, or "". A candidate must be closer than the
 * name is long (so 'y' never suggests 'e'); ties go to the longer common prefix ('sinn' → 'sin').
 */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestScore: [number, number] = [Infinity, 0];
  const limit = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d > limit || d >= name.length || d >= c.length) continue;
    const prefix = commonPrefix(name, c);
    if (d < bestScore[0] || (d === bestScore[0] && (prefix > bestScore[1] || (prefix === bestScore[1] && best !== undefined && c < best)))) {
      best = c;
      bestScore = [d, prefix];
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
