import { it, expect } from 'vitest';
import fc from 'fast-check';
import { caseArb } from './arbitrary.ts';
import { evaluate, gradient, printProgram } from './program.ts';
let checked = 0, total = 0;
for (const seed of Array.from({length: 60}, (_, i) => i + 1)) it('seed ' + seed, () => {
  fc.assert(fc.property(caseArb({ maxDepth: 3 }), ({ program, fn, args }) => {
    const f = program.functions.find((g) => g.name === fn)!;
    if (args.some((x) => x !== 0 && Math.abs(x) < 1e-3)) return;
    const r = gradient(program, fn, args);
    const free = f.params.flatMap((q, i) => (q.isConst ? [] : [i]));
    free.forEach((i, k) => {
      total++;
      const traces = new Set<string>();
      const along = (t: number) => { const tr: (boolean | number)[] = []; const y = evaluate(program, fn, args.map((x, j) => (j === i ? t : x)), { onChoice: (c) => tr.push(c) }); traces.add(tr.join()); return y; };
      const x = args[i];
      const h = 1e-6 * Math.max(1, Math.abs(x));
      const ys = [along(x - h), along(x), along(x + h)];
      const g = r.gradient[k];
      if (traces.size > 1 || ![g, ...ys].every(Number.isFinite) || ys[0] === ys[2]) return;
      const noise = (1e-13 * Math.max(...ys.map(Math.abs))) / h;
      const tol = 1e-3 * (1 + Math.abs(g)) + noise;
      const [left, right] = [(ys[1] - ys[0]) / h, (ys[2] - ys[1]) / h];
      if (Math.abs(left - right) > tol) return; // too curved or ill-conditioned for finite differences
      checked++;
      const fdv = (ys[2] - ys[0]) / (2 * h);
      expect(Math.abs(g - fdv), `${printProgram(program)}\n${fn}(${args}) d/d${f.params[i].name} g=${g} fd=${fdv}`).toBeLessThan(tol);
    });
  }), { numRuns: 3000, seed });
  console.log(checked, total);
});
