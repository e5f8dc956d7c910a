import type { ExplainEdge, ExplainNode, ExplainResult, NonFinite } from './types.ts';

/** 15 significant digits, as the seed prints them: 7238.22947387088. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toPrecision(15)));
}

const shorten = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const table = (rows: readonly (readonly string[])[], indent = '  '): string[] => {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
};

const maxTerms = 6;
const maxFactors = 10;

/** The human-readable report of `adc explain`. */
export function formatExplain(r: ExplainResult, filename?: string): string {
  const byId = new Map(r.nodes.map((n) => [n.id, n] as const));
  const node = (id: string) => byId.get(id)!;
  const short = (n: ExplainNode) => shorten(n.label, 40);
  const where = (n: ExplainNode) => `${n.location.line}:${n.location.column}${n.in && n.in !== r.function ? ` in ${n.in}` : ''}`;
  const named = (n: ExplainNode) => (n.kind === 'input' ? n.id : `${n.id} ${short(n)}`);
  const out: string[] = [];

  const args = r.point.map((p) => `${p.name} = ${formatNumber(p.value)}`).join(', ');
  out.push(`${r.function}(${args}) = ${formatNumber(r.value)}${filename ? `    (${filename})` : ''}`);
  out.push(
    r.view === 'collapsed'
      ? 'Graph: one node per user-function call, built-in and operator of the body (--expand: one node per operation).'
      : 'Graph: one node per operation, calls inlined (as the compiler differentiates it).',
  );
  out.push(`${r.nodes.length} nodes, ${r.edges.length} edges; output ${r.output}.`);

  out.push('', 'Forward sweep: each node’s value, in evaluation order');
  out.push(
    ...table(
      r.nodes.map((n) => {
        const notes = [
          n.id === r.output ? 'output' : '',
          n.kind === 'input' ? (n.active ? 'input' : 'const input') : '',
          n.variable && n.kind !== 'input' && !n.variable.includes('$') ? `let ${n.variable}` : '',
          n.kind !== 'input' && !n.active ? 'constant' : '',
          n.kind !== 'input' && !n.reachesOutput ? 'unused' : '',
        ].filter(Boolean);
        const text = n.kind === 'call' || n.kind === 'input' ? shorten(n.source.replace(/\s+/g, ' '), 50) : short(n);
        return [n.id, text, formatNumber(n.value), where(n), notes.join(', ')];
      }),
    ),
  );

  out.push('', 'Edge partials: ∂user/∂argument at this point');
  const partialName = (e: ExplainEdge) => {
    const from = node(e.from);
    if (e.parameter !== undefined) return `∂${from.label}/∂${e.parameter}`;
    const arity = r.edges.filter((x) => x.from === e.from).length;
    return arity === 1 && from.op !== 'pow' ? '∂/∂arg' : `∂/∂arg${e.argIndex + 1}`;
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
              ? `${formatNumber(e.partial)} (blocked: nothing flows here at this point)`
              : formatNumber(e.partial);
        return [named(node(e.from)), '→', named(to), partialName(e), value];
      }),
    ),
  );

  out.push('', 'Reverse sweep: adjoint = Σ adjoint(user) × partial, in the order the generated code computes them');
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
                  : `${formatNumber(t.adjoint)} × ${formatNumber(t.partial)} [${t.from}]`,
            );
          if (s.terms.length > maxTerms) terms.push(`… (${s.terms.length - maxTerms} more)`);
          if (s.node === r.output) terms.unshift('1 [output]');
          else if (s.startedAtZeroBy) terms.unshift(`0 [started by the if at ${s.startedAtZeroBy.line}:${s.startedAtZeroBy.column}]`);
          how = `= ${terms.join(' + ')}`;
        }
        return [n.id, n.kind === 'input' ? '' : short(n), formatNumber(s.adjoint), how];
      }),
    ),
  );

  out.push('', 'Paths from the output to each input: the product of the partials along each, summed');
  for (const p of r.inputs) {
    const count = p.count === 1 ? '1 path' : `${p.count > Number.MAX_SAFE_INTEGER ? `about ${formatNumber(p.count)}` : p.count} paths`;
    out.push(`  ∂${r.function}/∂${p.input}: ${count}${p.truncated ? `, the first ${p.paths.length} listed (--max-paths)` : ''}`);
    const rows = p.paths.map((path) => {
      const names = `(${path.nodes.map((id) => shorten(node(id).label, 24)).join(', ')})`;
      const factors = path.partials.length === 0 ? '' : path.partials.length <= maxFactors ? `${path.partials.map(formatNumber).join(' × ')} = ` : `${path.partials.length} factors: `;
      return [names, `${factors}${formatNumber(path.product)}`];
    });
    const agrees = (a: number, b: number) => Object.is(a, b) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    let check = agrees(p.adjoint, p.compiled) ? '' : '  ≠ generated code: please report this';
    if (!p.truncated && !agrees(p.sum, p.adjoint) && !check) check = '  ≠ sum: see the reverse sweep and the non-finite numbers below';
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
    } else if (nf.what === 'adjoint' && nf.startedAtZeroBy) {
      line += `; the if at ${nf.startedAtZeroBy.line}:${nf.startedAtZeroBy.column} started it at 0`;
    }
    return `${line}.`;
  };
  if (!r.nonFinite) out.push('Non-finite numbers: none.');
  else out.push(describe(r.nonFinite, 'First non-finite number'));
  if (r.nonFiniteAdjoint && r.nonFiniteAdjoint !== r.nonFinite) out.push(describe(r.nonFiniteAdjoint, 'First non-finite adjoint'));
  return out.join('\n');
}
