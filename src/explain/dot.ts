import { argumentName, labeller } from './labels.ts';
import { formatValue } from './text.ts';
import type { ExplainResult } from './types.ts';

/** 6 significant digits: enough to read a drawing. */
const short = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x));
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/**
 * The graph in Graphviz's DOT language, drawn like the seed's Fig. 2.1: the output at the top, an
 * edge from each node to each of its arguments, values (and adjoints) on nodes, partials on edges.
 * Inputs are boxes on the bottom rank, `if` results hexagons; the first non-finite node is red;
 * edges that carry no derivative (constant, no rule, or blocked) are dashed and unlabelled, and
 * what the output does not depend on is grey.
 */
export function toDot(r: ExplainResult): string {
  const bad = r.nonFinite?.node;
  const lines: string[] = [];
  const title =
    `${r.function}(${r.point.map((p) => `${p.name} = ${formatValue(p.value, short, 4)}`).join(', ')}) = ${short(r.value)}` +
    (r.forward ? `\ntangents with respect to ${r.forward.input}: ∂${r.function}/∂${r.forward.input} = ${short(r.forward.tangent)}` : '');
  lines.push(`digraph ${quote(r.function)} {`);
  lines.push(`  graph [rankdir=TB, label=${quote(title)}, labelloc=t, fontname="Helvetica", nodesep=0.5, ranksep=0.6];`);
  lines.push('  node [fontname="Helvetica", fontsize=11, shape=ellipse];');
  lines.push('  edge [fontname="Helvetica", fontsize=10, color="#444444"];');
  const clip = labeller(r.nodes, 32);
  const byId = new Map(r.nodes.map((n) => [n.id, n] as const));
  for (const n of r.nodes) {
    const text = [clip(n), `= ${short(n.value)}`];
    if (n.tangent !== undefined) text.push(`tangent ${short(n.tangent)}`);
    if (n.adjoint !== undefined) text.push(`adjoint ${short(n.adjoint)}`);
    const attrs = [`label=${quote(text.join('\n'))}`, `tooltip=${quote(`${n.source} (${n.location.line}:${n.location.column})`)}`];
    if (n.kind === 'input') attrs.push('shape=box');
    if (n.kind === 'if') attrs.push('shape=hexagon');
    if (n.id === r.output) attrs.push('peripheries=2');
    if (n.id === bad) attrs.push('color=red', 'fontcolor=red', 'penwidth=2');
    else if (!n.active || !n.reachesOutput) attrs.push('color="#999999"', 'fontcolor="#777777"');
    lines.push(`  ${quote(n.id)} [${attrs.join(', ')}];`);
  }
  const inputs = r.nodes.filter((n) => n.kind === 'input').map((n) => quote(n.id));
  if (inputs.length > 0) lines.push(`  { rank=sink; ${inputs.join('; ')}; }`);
  const offPath = new Set(r.nodes.filter((n) => !n.reachesOutput).map((n) => n.id));
  for (const e of r.edges) {
    const attrs: string[] = [];
    if (offPath.has(e.from)) attrs.push('color="#999999"', 'fontcolor="#777777"');
    if (e.partial !== undefined && !e.blocked) {
      const name = e.parameter !== undefined ? `∂/∂${argumentName(e, r.edges, (id) => clip(byId.get(id)!))} ` : '';
      attrs.push(`label=${quote(`${name}${short(e.partial)}`)}`);
      if (!Number.isFinite(e.partial)) attrs.push('color=red', 'fontcolor=red', 'penwidth=2');
    } else attrs.push('style=dashed', 'color="#999999"');
    lines.push(`  ${quote(e.from)} -> ${quote(e.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/**
 * The largest drawing laid out as SVG, counted in nodes plus edges. Profiled: building the graph is
 * linear (1,200 lets: under a second), the time is Graphviz's layout (@viz-js/viz), which grows
 * much faster than the graph: 90 nodes and 147 edges took 3.5 s, 270 nodes 328 s, and 3,600 ran out
 * of memory. At 150 it takes about a second. Larger graphs are written as DOT, to lay out elsewhere.
 */
export const maxSvgSize = 150;

/** Why `r` is too large to lay out as SVG (a sentence naming its size), or undefined when it is not. */
export function svgTooLarge(r: ExplainResult): string | undefined {
  const size = r.nodes.length + r.edges.length;
  if (size <= maxSvgSize) return undefined;
  return `the graph of '${r.function}' has ${r.nodes.length} nodes and ${r.edges.length} edges, too many to lay out as SVG in reasonable time (at most ${maxSvgSize} nodes and edges together)`;
}

/** The drawing as SVG, laid out by Graphviz itself (compiled to WebAssembly: @viz-js/viz). Throws past `maxSvgSize`. */
export async function toSvg(r: ExplainResult): Promise<string> {
  const tooLarge = svgTooLarge(r);
  if (tooLarge) throw new RangeError(`${tooLarge}; write it as DOT (toDot) instead`);
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(r), { format: 'svg' });
}
