import type { LineMap, Span } from '../diagnostics/span.ts';
import type { FunctionDecl } from '../syntax/ast.ts';
import type { Folded } from './partials.ts';
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

/** How the reverse sweep treats an edge, beyond its partial. */
export interface EdgeCode {
  /** ḡ ↦ what the generated code adds to the argument's adjoint when the user's adjoint is ḡ (default ḡ × partial). */
  readonly contribution?: (g: number) => number;
  /** For a call whose adjoint was started at 0: the same, as the callee's code then runs (under guards). */
  readonly guardedContribution?: (g: number) => number;
  /** For a call: what the callee's inlined reverse sweep adds even when the call has no adjoint. */
  readonly detached?: number;
  /** The rule hands ḡ itself to the argument (`a + b`, a copy): a first such term shares the user's adjoint. */
  readonly passThrough?: boolean;
  /** The argument's adjoint is guarded from the start when this edge creates it (a min/max, or an `if` inside a callee), here. */
  readonly zeroStartAt?: Span;
  /** The code when the user's adjoint is a compile-time constant c: it may fold, or be dropped. */
  readonly withConstant?: (c: number) => Folded;
}

/**
 * The nodes and edges of one view, in forward order (every node after its arguments), and the
 * reverse sweep over them, which follows what src/ad/reverse.ts makes the generated code do:
 *  - a term along each edge from a user with an adjoint: the rule's code run at ḡ = that adjoint;
 *  - some adjoints are started at 0 (before an `if` whose branches add to them, or inside the
 *    guard of another such adjoint), and while such an adjoint is exactly 0 its node sends
 *    nothing: the generated code skips it (`if (d != 0)`), so 0 × ∞ cannot appear.
 */
export class Graph {
  readonly nodes: DraftNode[] = [];
  readonly edges: DraftEdge[] = [];
  private readonly codes: EdgeCode[] = [];
  private count = 0;

  /** Ids already taken by inputs (a parameter may well be called `n1`). */
  readonly reserved = new Set<string>();

  /** Expanded view: the adjoints the compiled reverse sweep starts at 0, with where (exact, from the IR). */
  zeroStarted: ReadonlyMap<string, Span> | undefined;

  /**
   * Collapsed view: the nodes an `if` of the body starts at 0 (its branches add to them), with the
   * `if`'s span and the number of nodes made up to its end (users after that come first in reverse).
   */
  readonly declared = new Map<string, { readonly at: Span; readonly after: number }>();

  constructor(
    private readonly source: string,
    private readonly lines: LineMap,
    private readonly functions: readonly FunctionDecl[],
  ) {}

  nextId(): string {
    let id: string;
    do id = `n${++this.count}`;
    while (this.reserved.has(id));
    return id;
  }

  private readonly byId = new Map<string, DraftNode>();

  add(node: DraftNode): DraftNode {
    if (node.kind === 'input') this.reserved.add(node.id);
    this.nodes.push(node);
    this.byId.set(node.id, node);
    return node;
  }

  node(id: string): DraftNode {
    return this.byId.get(id)!;
  }

  edge(edge: DraftEdge, code: EdgeCode = {}): void {
    this.edges.push(edge);
    this.codes.push(code);
  }

  declare(id: string, at: Span, after: number): void {
    const seen = this.declared.get(id);
    if (!seen || seen.after < after) this.declared.set(id, { at, after });
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

  /**
   * Fills in adjoints, paths and the non-finite finder. `inputs` are the differentiated parameters'
   * nodes; `forward`, one of them, is seeded with tangent 1 for a forward sweep along the edges.
   */
  finish(output: string, inputs: readonly string[], maxPaths: number, forward?: string) {
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
    // Terms are added in that order too: users last to first, arguments in order.
    const adjoint = new Map<string, number>();
    const zero = new Map<string, Span>(); // adjoints started at 0, with where
    // Adjoints that are compile-time constants (the output's 1, and what only passes it on): the
    // generated code folds what they send, and drops what folds to 0.
    const constantAdjoint = new Map<string, number>();
    const silent = (id: string) => zero.has(id) && adjoint.get(id) === 0;
    const steps: AdjointStep[] = [];
    const outputNode = this.nodes[index.get(output)!];
    const isInput = (n: DraftNode) => n.kind === 'input';
    const order = [...[...this.nodes].reverse().filter((n) => !isInput(n)), ...this.nodes.filter(isInput)];
    for (const n of order) {
      if (!n.active) continue;
      const isOutput = n.id === output;
      const uses = useEdges
        .get(n.id)!
        .filter((e) => e.partial !== undefined && (adjoint.has(e.from) || this.codes[e.id].detached !== undefined))
        .sort((a, b) => index.get(b.from)! - index.get(a.from)! || a.argIndex - b.argIndex);

      // Is this adjoint started at 0? Decided by what reaches it first in the reverse sweep (a
      // contribution folded away to nothing does not count).
      const dropped = (e: ExplainEdge) => {
        const c = constantAdjoint.get(e.from);
        const code = this.codes[e.id];
        return c !== undefined && code.withConstant !== undefined && code.withConstant(c) === 'dropped';
      };
      if (!isOutput) {
        const live = uses.filter((e) => !dropped(e));
        const first = live[0];
        if (this.zeroStarted) {
          const at = this.zeroStarted.get(n.id);
          if (at) zero.set(n.id, at);
          // Sharing the adjoint of a user that was started at 0.
          else if (live.length === 1 && this.codes[first.id].passThrough && zero.has(first.from)) zero.set(n.id, zero.get(first.from)!);
        } else {
          const declared = this.declared.get(n.id);
          if (declared && (!first || declared.after >= index.get(first.from)! + 1)) zero.set(n.id, declared.at);
          else if (first && adjoint.has(first.from) && zero.has(first.from)) zero.set(n.id, zero.get(first.from)!);
          else if (first && this.codes[first.id].zeroStartAt) zero.set(n.id, this.codes[first.id].zeroStartAt!);
        }
      }

      const terms: AdjointTerm[] = [];
      let onlyConstant: number | undefined;
      for (const e of uses) {
        const blocked = e.blocked ? { blocked: true as const } : {};
        const code = this.codes[e.id];
        const a = adjoint.get(e.from);
        if (a === undefined) terms.push({ edge: e.id, from: e.from, adjoint: undefined, partial: e.partial!, contribution: code.detached!, ...blocked });
        else if (!silent(e.from)) {
          const c = constantAdjoint.get(e.from);
          const folded = c !== undefined && code.withConstant ? code.withConstant(c) : undefined;
          if (folded === 'dropped') continue;
          const run = (zero.has(e.from) ? code.guardedContribution : undefined) ?? code.contribution ?? ((g: number) => g * e.partial!);
          const contribution = folded ? folded.value : run(a);
          if (terms.length === 0) onlyConstant = folded?.constant ? folded.value : undefined;
          terms.push({ edge: e.id, from: e.from, adjoint: a, partial: e.partial!, contribution, ...blocked });
        }
      }
      const startedAt = zero.get(n.id);
      if (terms.length === 0 && !isOutput && !startedAt) continue;
      let sum = isOutput ? 1 : startedAt ? 0 : terms[0].contribution;
      for (const t of isOutput || startedAt ? terms : terms.slice(1)) sum += t.contribution;
      adjoint.set(n.id, sum);
      if (isOutput && terms.length === 0) constantAdjoint.set(n.id, 1);
      else if (!startedAt && !isOutput && terms.length === 1 && onlyConstant !== undefined) constantAdjoint.set(n.id, onlyConstant);
      steps.push({ node: n.id, adjoint: sum, terms, ...(startedAt ? { startedAtZeroBy: this.lines.position(startedAt.start) } : {}) });
    }

    // The forward sweep (the seed's §1): in evaluation order, each node's tangent is the sum over its
    // arguments of the edge's partial times the argument's tangent. Only what depends on the seeded
    // input gets one (forward mode writes no code for the rest); a blocked edge sends exactly 0.
    const tangent = new Map<string, number>();
    if (forward !== undefined) {
      tangent.set(forward, 1);
      for (const n of this.nodes) {
        if (n.kind === 'input') continue;
        let sum: number | undefined;
        for (const e of argEdges.get(n.id)!) {
          const t = tangent.get(e.to);
          if (t === undefined || e.partial === undefined) continue;
          sum = (sum ?? 0) + (e.blocked ? 0 : e.partial * t);
        }
        if (sum !== undefined) tangent.set(n.id, sum);
      }
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
      ...(forward !== undefined && tangent.has(n.id) ? { tangent: tangent.get(n.id) } : {}),
    }));

    // Paths follow the edges that carry a derivative, from the output down.
    const flows = (e: ExplainEdge) => e.partial !== undefined && !e.blocked && reaches.has(e.from);
    const paths = inputs.map((input) => this.paths(output, input, argEdges, flows, maxPaths, adjoint.get(input) ?? 0));
    const nonFinite = findNonFinite(nodes, steps);
    return { nodes, edges, adjoints: steps, paths, nonFinite: nonFinite.first, nonFiniteAdjoint: nonFinite.adjoint, value: outputNode.value, tangent: tangent.get(output) ?? 0 };
  }

  /** The paths from the output to one input along edges that carry a derivative, depth first in argument order. */
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
