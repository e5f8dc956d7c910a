import type { LineMap, Span } from '../diagnostics/span.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import type { AdjointStep, AdjointTerm, ExplainEdge, ExplainNode, ExplainPath, InputPaths, NodeKind, NonFinite } from './types.ts';

/** A node as a view builds it; the sweeps fill in the rest. */
export interface DraftNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly label: string;
  readonly span: Span;
  readonly op: string;
  variable?: string;
  readonly value: number;
  readonly active: boolean;
}

export type DraftEdge = Omit<ExplainEdge, 'id'>;

/** The nodes and edges of one view, in forward order (every node after its arguments). */
export class Graph {
  readonly nodes: DraftNode[] = [];
  readonly edges: DraftEdge[] = [];
  private count = 0;

  constructor(
    private readonly source: string,
    private readonly lines: LineMap,
    private readonly functions: readonly FunctionDecl[],
  ) {}

  /** Ids already taken by inputs (a parameter may well be called `n1`). */
  readonly reserved = new Set<string>();

  nextId(): string {
    let id: string;
    do id = `n${++this.count}`;
    while (this.reserved.has(id));
    return id;
  }

  add(node: DraftNode): DraftNode {
    if (node.kind === 'input') this.reserved.add(node.id);
    this.nodes.push(node);
    return node;
  }

  /** For each edge, what the generated code adds to the argument's adjoint given the user's (ḡ ↦ …). */
  private readonly contributions: ((g: number) => number)[] = [];

  /**
   * For an edge from a call: what the callee's inlined reverse sweep adds to the argument's adjoint
   * when the call itself has no adjoint (an `if` inside the callee starts adjoints at 0).
   */
  private readonly detached = new Map<number, number>();

  edge(edge: DraftEdge, contribution?: (g: number) => number, detached?: number): void {
    if (detached !== undefined) this.detached.set(this.edges.length, detached);
    this.edges.push(edge);
    this.contributions.push(contribution ?? ((g) => g * edge.partial!));
  }

  /** Nodes whose adjoint the generated code starts at 0 before an `if` (by the `if`'s span). */
  readonly declared = new Map<string, Span>();

  declare(id: string, at: Span): void {
    if (!this.declared.has(id)) this.declared.set(id, at);
  }

  text(span: Span): string {
    return this.source.slice(span.start, span.end);
  }

  /** Source text on one line with single spaces, for labels. */
  label(span: Span): string {
    return this.text(span).replace(/\s+/g, ' ').trim();
  }

  /** The function whose declaration contains the span. */
  functionAt(span: Span): string {
    return this.functions.find((f) => f.span.start <= span.start && span.start < f.span.end)?.name ?? '';
  }

  /** Fills in adjoints, paths and the non-finite finder. `inputs` are the differentiated parameters' nodes. */
  finish(output: string, inputs: readonly string[], maxPaths: number) {
    const index = new Map(this.nodes.map((n, i) => [n.id, i] as const));
    const edges: ExplainEdge[] = this.edges.map((e, id) => ({ id, ...e }));
    const argEdges = new Map<string, ExplainEdge[]>(this.nodes.map((n) => [n.id, []]));
    const useEdges = new Map<string, ExplainEdge[]>(this.nodes.map((n) => [n.id, []]));
    for (const e of edges) {
      argEdges.get(e.from)!.push(e);
      useEdges.get(e.to)!.push(e);
    }

    // Which nodes the output depends on: parents come after their arguments, so one backward pass.
    const reaches = new Set([output]);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const id = this.nodes[i].id;
      if (reaches.has(id)) for (const e of argEdges.get(id)!) reaches.add(e.to);
    }

    // The reverse sweep, in the order the generated code visits the operations: last to first.
    // Like the generated code, a node has an adjoint when it is the output, when a user with an
    // adjoint sends it a term, or when an `if` started it at 0 (a branch, perhaps not taken, reads
    // it). Each term is what the generated code adds: the rule run at ḡ = adjoint(user), which is
    // adjoint(user) × partial up to rounding, and exactly 0 along a blocked edge. Terms are added
    // in the generated code's order too: users last to first, arguments in order.
    const adjoint = new Map<string, number>();
    const steps: AdjointStep[] = [];
    const outputNode = this.nodes[index.get(output)!];
    const isInput = (n: DraftNode) => n.kind === 'input';
    const order = [...[...this.nodes].reverse().filter((n) => !isInput(n)), ...this.nodes.filter(isInput)];
    for (const n of order) {
      if (!n.active) continue;
      const terms: AdjointTerm[] = useEdges
        .get(n.id)!
        .filter((e) => e.partial !== undefined && (adjoint.has(e.from) || this.detached.has(e.id)))
        .sort((a, b) => index.get(b.from)! - index.get(a.from)! || a.argIndex - b.argIndex)
        .map((e) => {
          const a = adjoint.get(e.from);
          const blocked = e.blocked ? { blocked: true as const } : {};
          if (a === undefined) return { edge: e.id, from: e.from, adjoint: undefined, partial: e.partial!, contribution: this.detached.get(e.id)!, ...blocked };
          return { edge: e.id, from: e.from, adjoint: a, partial: e.partial!, contribution: this.contributions[e.id](a), ...blocked };
        });
      const declaredAt = this.declared.get(n.id);
      const isOutput = n.id === output;
      if (terms.length === 0 && !declaredAt && !isOutput) continue;
      // The output's adjoint starts at 1; anything else that uses it (a parameter returned as it is) adds to that.
      let sum = isOutput ? 1 : terms.length > 0 ? terms[0].contribution : 0;
      for (const t of isOutput ? terms : terms.slice(1)) sum += t.contribution;
      adjoint.set(n.id, sum);
      steps.push({ node: n.id, adjoint: sum, terms, ...(declaredAt ? { startedAtZeroBy: this.lines.position(declaredAt.start) } : {}) });
    }

    const nodes: ExplainNode[] = this.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      label: n.label,
      source: this.text(n.span),
      span: n.span,
      location: this.lines.position(n.span.start),
      in: this.functionAt(n.span),
      op: n.op,
      ...(n.variable !== undefined ? { variable: n.variable } : {}),
      value: n.value,
      active: n.active,
      reachesOutput: reaches.has(n.id),
      adjoint: adjoint.get(n.id),
    }));

    // Paths follow the edges that carry a derivative, from the output down.
    const flows = (e: ExplainEdge) => e.partial !== undefined && !e.blocked && reaches.has(e.from);
    const paths = inputs.map((input) => this.paths(output, input, argEdges, flows, maxPaths, adjoint.get(input) ?? 0));
    const nonFinite = findNonFinite(nodes, steps);
    return { nodes, edges, adjoints: steps, paths, nonFinite: nonFinite.first, nonFiniteAdjoint: nonFinite.adjoint, value: outputNode.value };
  }

  /** The paths from the output to one input along edges that carry derivative, depth first in argument order. */
  private paths(
    output: string,
    input: string,
    argEdges: ReadonlyMap<string, readonly ExplainEdge[]>,
    flows: (e: ExplainEdge) => boolean,
    maxPaths: number,
    adjoint: number,
  ): Omit<InputPaths, 'compiled'> {
    // The nodes from which the input can be reached, and how many paths lead there from the output.
    const leads = new Set([input]);
    for (const n of this.nodes) if (argEdges.get(n.id)!.some((e) => flows(e) && leads.has(e.to))) leads.add(n.id);
    const counts = new Map<string, number>([[output, 1]]);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const id = this.nodes[i].id;
      const c = counts.get(id);
      if (c === undefined) continue;
      for (const e of argEdges.get(id)!) if (flows(e)) counts.set(e.to, (counts.get(e.to) ?? 0) + c);
    }
    const count = leads.has(output) ? (counts.get(input) ?? 0) : 0;

    const found: ExplainPath[] = [];
    if (leads.has(output) && maxPaths > 0) {
      // Iterative depth-first search: paths can be as long as the function.
      const stack: { node: string; next: number }[] = [{ node: output, next: 0 }];
      const taken: ExplainEdge[] = [];
      while (stack.length > 0 && found.length < maxPaths) {
        const top = stack[stack.length - 1];
        if (top.node === input) {
          const partials = taken.map((e) => e.partial!);
          let product = 1;
          for (const p of partials) product *= p;
          found.push({ nodes: stack.map((f) => f.node), edges: taken.map((e) => e.id), partials, product });
          stack.pop();
          taken.pop();
          continue;
        }
        const out = argEdges.get(top.node)!;
        let e: ExplainEdge | undefined;
        while (top.next < out.length && !e) {
          const candidate = out[top.next++];
          if (flows(candidate) && leads.has(candidate.to)) e = candidate;
        }
        if (e) {
          taken.push(e);
          stack.push({ node: e.to, next: 0 });
        } else {
          stack.pop();
          taken.pop();
        }
      }
    }
    let sum = 0;
    for (const p of found) sum += p.product;
    return { input, count, paths: found, truncated: found.length < count, sum, adjoint };
  }
}

function findNonFinite(nodes: readonly ExplainNode[], steps: readonly AdjointStep[]): { first: NonFinite | undefined; adjoint: NonFinite | undefined } {
  const byId = new Map(nodes.map((n) => [n.id, n] as const));
  const step = steps.find((s) => !Number.isFinite(s.adjoint));
  let adjoint: NonFinite | undefined;
  if (step) {
    const via = step.terms.find((t) => !Number.isFinite(t.contribution));
    adjoint = {
      node: step.node,
      what: 'adjoint',
      number: step.adjoint,
      location: byId.get(step.node)!.location,
      ...(via ? { via } : {}),
      ...(step.startedAtZeroBy ? { startedAtZeroBy: step.startedAtZeroBy } : {}),
    };
  }
  const bad = nodes.find((n) => !Number.isFinite(n.value));
  const first: NonFinite | undefined = bad ? { node: bad.id, what: 'value', number: bad.value, location: bad.location } : adjoint;
  return { first, adjoint };
}
