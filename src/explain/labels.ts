/**
 * Node labels as the report and the drawing show them: the source text, shortened to a width. Two
 * different texts can shorten to the same one (`x * x * x * …`); those are told apart by the node's
 * id, `x * x * x * … [n11]`, so a path or a drawing never shows two nodes as one. Nodes whose whole
 * texts are equal (two calls `g2`) keep the same label, as in the usual drawing of the graph.
 */
import type { ExplainEdge, ExplainNode } from './types.ts';

export const shorten = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** A function giving each node its label shortened to `max` characters, with its id where that is ambiguous. */
export function labeller(nodes: readonly ExplainNode[], max: number): (n: ExplainNode) => string {
  const texts = new Map<string, Set<string>>();
  for (const n of nodes) {
    const short = shorten(n.label, max);
    const full = texts.get(short) ?? new Set<string>();
    full.add(n.label);
    texts.set(short, full);
  }
  return (n) => {
    const short = shorten(n.label, max);
    return texts.get(short)!.size > 1 ? `${short} [${n.id}]` : short;
  };
}

/**
 * What a call's edge differentiates by, named after the caller's argument (`∂g/∂y` for `g(y)`,
 * whatever g calls its parameter); when the same node is passed twice, with its position.
 */
export function argumentName(e: ExplainEdge, edges: readonly ExplainEdge[], label: (id: string) => string): string {
  const twice = edges.some((o) => o !== e && o.from === e.from && o.to === e.to);
  return twice ? `${label(e.to)} (argument ${e.argIndex + 1})` : label(e.to);
}
