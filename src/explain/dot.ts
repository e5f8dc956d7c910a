import { argumentName, labeller } from './labels.ts';
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
  const title = `${r.function}(${r.point.map((p) => `${p.name} = ${short(p.value)}`).join(', ')}) = ${short(r.value)}`;
  lines.push(`digraph ${quote(r.function)} {`);
  lines.push(`  graph [rankdir=TB, label=${quote(title)}, labelloc=t, fontname="Helvetica", nodesep=0.5, ranksep=0.6];`);
  lines.push('  node [fontname="Helvetica", fontsize=11, shape=ellipse];');
  lines.push('  edge [fontname="Helvetica", fontsize=10, color="#444444"];');
  const clip = labeller(r.nodes, 32);
  const byId = new Map(r.nodes.map((n) => [n.id, n] as const));
  for (const n of r.nodes) {
    const text = [clip(n), `= ${short(n.value)}`];
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

/** The drawing as SVG, laid out by Graphviz itself (compiled to WebAssembly: @viz-js/viz). */
export async function toSvg(r: ExplainResult): Promise<string> {
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(r), { format: 'svg' });
}
