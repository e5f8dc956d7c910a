import { builtins, isBuiltin } from '../ir/builtins.ts';
import { argumentName, labeller, shorten } from './labels.ts';
import type { ExplainEdge, ExplainNode, ExplainResult, NonFinite, PointValue } from './types.ts';

/** 15 significant digits, as the seed prints them: 7238.22947387088. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(15)));
}

/**
 * A parameter's value in the report's first line: a number, or a vector or matrix written as in
 * the REPL (`[1, 2]`, `[[1, 2], [3, 4]]`), its middle left out past `max` elements a row (and rows).
 */
export function formatValue(v: PointValue, format: (x: number) => string = formatNumber, max = 8): string {
  const list = <T>(items: readonly T[], show: (x: T) => string) =>
    `[${(items.length <= max ? items.map(show) : [...items.slice(0, max / 2).map(show), `… ${items.length - max} more …`, ...items.slice(-max / 2).map(show)]).join(', ')}]`;
  if (typeof v === 'number') return format(v);
  return v.length > 0 && typeof v[0] !== 'number' ? list(v as readonly (readonly number[])[], (row) => list(row, format)) : list(v as readonly number[], format);
}

/** Columns padded to their widest cell, up to 60 characters (a longer cell just pushes its row on). */
const table = (rows: readonly (readonly string[])[], indent = '  '): string[] => {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.min(60, Math.max(widths[i] ?? 0, c.length))));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
};

/** Equal up to rounding (or both the same non-finite number); `scale`: the size of the terms summed, for cancellation. */
const close = (a: number, b: number, scale = 0) => Object.is(a, b) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b), scale);

const maxTerms = 6;
const maxFactors = 10;

/** The human-readable report of `adc explain`. */
export function formatExplain(r: ExplainResult, filename?: string): string {
  const byId = new Map(r.nodes.map((n) => [n.id, n] as const));
  const node = (id: string) => byId.get(id)!;
  const short = (n: ExplainNode) => shorten(n.label, 40);
  const pathLabel = labeller(r.nodes, 24);
  const where = (n: ExplainNode) => `${n.location.line}:${n.location.column}${n.in && n.in !== r.function ? ` in ${n.in}` : ''}`;
  const named = (n: ExplainNode) => (n.kind === 'input' ? n.id : `${n.id} ${short(n)}`);
  const out: string[] = [];

  const args = r.point.map((p) => `${p.name} = ${formatValue(p.value)}`).join(', ');
  out.push(`${r.function}(${args}) = ${formatNumber(r.value)}${filename ? `    (${filename})` : ''}`);
  out.push(
    r.view === 'collapsed'
      ? 'Graph: one node per user-function call, built-in, operator and `if` of the body (--expand: one node per operation).'
      : r.view === 'expanded'
        ? 'Graph: one node per operation, calls inlined (as the compiler differentiates it).'
        : `Graph: the computation run at this point: one node per operation run and per array element${
            r.control?.some((c) => c.kind !== 'if') ? ', loops unrolled (t=2: in iteration t = 2)' : ''
          }${r.control?.some((c) => c.kind === 'if') ? ', only the branches taken' : ''}, calls inlined.`,
  );
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  out.push(`${plural(r.nodes.length, 'node')}, ${plural(r.edges.length, 'edge')}; output ${r.output}.`);
  if (r.control && r.control.length > 0) {
    out.push('', 'Control flow at this point: what each `if` and loop did');
    out.push(
      ...table(
        r.control.map((c) => {
          const times = c.reached === 1 ? '' : ` (reached ${c.reached} times)`;
          let what: string;
          if (c.kind === 'if') what = c.reached === 1 ? `took the ${c.then ? 'then' : 'else'} branch` : `then ${c.then ?? 0} times, else ${c.else ?? 0} times`;
          else {
            what = `${plural(c.iterations ?? 0, 'iteration')}${times}`;
            if (c.kind === 'while') what += c.reachedMax ? `; reached its max${c.reached === 1 ? '' : ` ${c.reachedMax} times`}` : '; stopped by its condition';
          }
          return [`${c.location.line}:${c.location.column}`, c.text, what];
        }),
      ),
    );
  }

  out.push('', 'Forward sweep: each node’s value, in evaluation order');
  out.push(
    ...table(
      r.nodes.map((n) => {
        const notes = [
          n.id === r.output ? 'output' : '',
          n.kind === 'input' ? (n.active ? 'input' : 'const input') : '',
          n.variable && n.kind !== 'input' && !n.variable.includes('$') ? `let ${n.variable}` : '',
          n.kind !== 'input' && !n.active ? 'constant' : '',
          n.kind !== 'input' && !n.reachesOutput ? 'no path to the output' : '',
        ].filter(Boolean);
        // An array element's input shows its id (`x[1]`), a parameter its declaration.
        const text = n.kind === 'input' && n.label !== n.id ? n.id : n.kind === 'call' || (n.kind === 'input' && n.label === n.id && !n.id.includes('[')) ? shorten(n.source.replace(/\s+/g, ' '), 50) : n.kind === 'input' ? n.id : short(n);
        return [n.id, text, formatNumber(n.value), where(n), notes.join(', ')];
      }),
    ),
  );

  out.push('', 'Edge partials: ∂user/∂argument at this point');
  const partialName = (e: ExplainEdge) => {
    const from = node(e.from);
    if (e.parameter !== undefined) return `∂${from.label}/∂${argumentName(e, r.edges, (id) => pathLabel(node(id)))}`;
    if (from.kind === 'reduction') return `∂/∂term${e.argIndex + 1}`;
    const unary = from.op === 'neg' || from.op === 'copy' || (isBuiltin(from.op) && builtins[from.op].arity === 1);
    return unary ? '∂/∂arg' : `∂/∂arg${e.argIndex + 1}`;
  };
  out.push(
    ...table(
      r.edges.map((e) => {
        const to = node(e.to);
        const value =
          e.partial === undefined
            ? !to.active || !node(e.from).active
              ? '— (not differentiated: constant)'
              : '— (zero: no derivative rule)'
            : e.blocked
              ? `${formatNumber(e.partial)} (blocked: the rule sends exactly 0 here, whatever the adjoint)`
              : formatNumber(e.partial);
        return [named(node(e.from)), '→', named(to), partialName(e), value];
      }),
    ),
  );

  if (r.forward) {
    const f = r.forward;
    out.push('', `Forward mode: tangent = Σ partial × tangent(argument), with respect to ${f.input} (its tangent 1, the other inputs' 0)`);
    const edgesFrom = new Map<string, ExplainEdge[]>();
    for (const e of r.edges) edgesFrom.set(e.from, [...(edgesFrom.get(e.from) ?? []), e]);
    const rows = r.nodes
      .filter((n) => n.tangent !== undefined)
      .map((n) => {
        if (n.kind === 'input') return [n.id, '', formatNumber(n.tangent!), '(seed)'];
        const terms = (edgesFrom.get(n.id) ?? [])
          .filter((e) => e.partial !== undefined && node(e.to).tangent !== undefined)
          .map((e) => (e.blocked ? `0 [${e.to}, blocked]` : `${formatNumber(e.partial!)} × ${formatNumber(node(e.to).tangent!)} [${e.to}]`));
        const shown = terms.length > maxTerms ? [...terms.slice(0, maxTerms), `… (${terms.length - maxTerms} more)`] : terms;
        return [n.id, short(n), formatNumber(n.tangent!), `= ${shown.join(' + ')}`];
      });
    out.push(...table(rows));
    const check = close(f.tangent, f.compiled, Math.abs(f.tangent)) ? '' : '  ≠ generated code: please report this';
    out.push(`  ∂${r.function}/∂${f.input} = ${formatNumber(f.tangent)} (the output's tangent); generated ${r.function}Jvp: ${formatNumber(f.compiled)}${check}`);
  }

  out.push('', 'Reverse sweep: adjoint = Σ adjoint(user) × partial, in the order the generated code computes them');
  if (r.adjoints.some((s) => s.startedAtZeroBy)) {
    out.push('  (an adjoint the generated code starts at 0 — before an `if` whose branches add to it, or under the guard');
    out.push('   of another such adjoint — sends nothing while it is 0: the code skips it)');
  }
  if (r.adjoints.length === 0) out.push('  (the output does not depend on a differentiated input: every adjoint is 0)');
  out.push(
    ...table(
      r.adjoints.map((s) => {
        const n = node(s.node);
        let how: string;
        if (s.node === r.output && s.terms.length === 0) how = '(output)';
        else {
          const terms = s.terms
            .slice(0, maxTerms)
            .map((t) =>
              t.adjoint === undefined
                ? `${formatNumber(t.contribution)} [${t.from}: from inside ${node(t.from).label}, which has no adjoint]`
                : t.blocked
                  ? `0 [${t.from}, blocked]`
                  : `${formatNumber(t.adjoint)} × ${formatNumber(t.partial)}${close(t.contribution, t.adjoint * t.partial) ? '' : ` (computed as ${formatNumber(t.contribution)})`} [${t.from}]`,
            );
          if (s.terms.length > maxTerms) terms.push(`… (${s.terms.length - maxTerms} more)`);
          if (s.node === r.output) terms.unshift('1 [output]');
          how = terms.length > 0 ? `= ${terms.join(' + ')}` : '= 0';
          if (s.startedAtZeroBy) {
            const at = `${s.startedAtZeroBy.line}:${s.startedAtZeroBy.column}`;
            how += s.adjoint === 0 && n.kind !== 'input' ? `  (started at 0 for ${at}; sends nothing while 0)` : `  (started at 0 for ${at})`;
          }
        }
        return [n.id, n.kind === 'input' ? '' : short(n), formatNumber(s.adjoint), how];
      }),
    ),
  );

  out.push('', 'Paths from the output to each input: the product of the partials along each, summed');
  for (const p of r.inputs) {
    const count =
      p.count === 1 ? '1 path' : !Number.isFinite(p.count) ? 'more than 10^308 paths' : `${p.count > Number.MAX_SAFE_INTEGER ? `about ${formatNumber(p.count)}` : p.count} paths`;
    out.push(`  ∂${r.function}/∂${p.input}: ${count}${p.truncated ? `, the first ${p.paths.length} listed (--max-paths)` : ''}`);
    const rows = p.paths.map((path) => {
      const labels = path.nodes.map((id) => pathLabel(node(id)));
      const names = `(${(labels.length <= maxFactors ? labels : [...labels.slice(0, 4), `… ${labels.length - 8} more …`, ...labels.slice(-4)]).join(', ')})`;
      const factors = path.partials.length === 0 ? '' : path.partials.length <= maxFactors ? `${path.partials.map(formatNumber).join(' × ')} = ` : `${path.partials.length} factors: `;
      return [names, `${factors}${formatNumber(path.product)}`];
    });
    // Sums in another order differ by rounding, which cancellation makes as large as the terms.
    const magnitude = r.adjoints.find((a) => a.node === p.input)?.terms.reduce((m, t) => m + Math.abs(t.contribution), 0) ?? 0;
    const pathMagnitude = p.paths.reduce((m, q) => m + Math.abs(q.product), 0);
    // Unrolled, the generated code's guard on an adjoint of exactly 0 (0 × ∞ sends nothing) is not reproduced.
    const unguarded = r.view === 'unrolled' && !Number.isFinite(p.adjoint) && Number.isFinite(p.compiled);
    let check = close(p.adjoint, p.compiled, Math.max(magnitude, pathMagnitude))
      ? ''
      : unguarded
        ? '  ≠ generated code, which skips an adjoint of exactly 0 (0 × ∞) that this unrolled graph multiplies'
        : '  ≠ generated code: please report this';
    if (!p.truncated && !close(p.sum, p.adjoint, pathMagnitude) && !check) check = '  ≠ sum: see the reverse sweep and the non-finite numbers below';
    if (p.truncated) {
      if (p.paths.length > 0) rows.push(['sum of these', formatNumber(p.sum)]);
      rows.push(['sum of all paths', `${formatNumber(p.adjoint)} (the adjoint of ${p.input}); generated code: ${formatNumber(p.compiled)}${check}`]);
    } else {
      rows.push(['sum', `${formatNumber(p.sum)} (adjoint of ${p.input}: ${formatNumber(p.adjoint)}; generated code: ${formatNumber(p.compiled)})${check}`]);
    }
    out.push(...table(rows, '    '));
  }
  const fixed = r.point.filter((p) => p.isConst);
  if (fixed.length > 0) out.push(`  (${fixed.map((p) => p.name).join(', ')}: const, not differentiated)`);

  out.push('');
  const describe = (nf: NonFinite, title: string) => {
    const n = node(nf.node);
    let line = `${title}: the ${nf.what} of ${named(n)} is ${formatNumber(nf.number)}, at ${where(n)}`;
    if (nf.via) {
      const from = node(nf.via.from);
      const how = nf.via.adjoint === undefined ? `the reverse sweep inside ${from.label}` : `adjoint ${formatNumber(nf.via.adjoint)} × partial ${formatNumber(nf.via.partial)}`;
      line += `; it comes from ${named(from)} (${how}) at ${where(from)}`;
    }
    return `${line}.`;
  };
  if (!r.nonFinite) out.push('Non-finite numbers: none.');
  else out.push(describe(r.nonFinite, 'First non-finite number'));
  if (r.nonFiniteAdjoint && r.nonFiniteAdjoint !== r.nonFinite) out.push(describe(r.nonFiniteAdjoint, 'First non-finite adjoint'));
  return out.join('\n');
}
