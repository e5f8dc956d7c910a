/**
 * The adc playground (issue 18): an editor for `.ad` with live diagnostics, the generated JavaScript
 * beside it, the value and gradient at a point (the Jacobian of a function returning a vector, the
 * Hessian on request), a plot along one parameter and `adc explain`'s graph with the paths to a
 * chosen input highlighted.
 * The page's state lives in the URL fragment (link.ts), so a copied link opens the same state.
 */
import { javascript } from '@codemirror/lang-javascript';
import { linter, lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, type DecorationSet } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import type { FunctionInfo } from '../../src/compile.ts';
import type { PointValue } from '../../src/explain/types.ts';
import { adLanguage } from './ad-language.ts';
import { CompilerClient } from './client.ts';
import { examples } from './examples.ts';
import { formatLink, parseLink } from './link.ts';
import { plotSvg } from './plot.ts';
import type { InputPaths, Problem, Reply } from './protocol.ts';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new CompilerClient();

// ---- state ------------------------------------------------------------------------------------

interface Compiled {
  source: string;
  code?: string;
  dts?: string;
  problems: readonly Problem[];
  functions: readonly FunctionInfo[];
}
let compiled: Compiled | undefined;
/** The text typed for each parameter, by name; kept across recompiles and functions. */
const fields: Record<string, string> = {};
let chosenFn: string | undefined;
let plotParam: string | undefined;
let graphShown = false;
/** Compile with fHessian too (the Hessian toggle), and show it for functions returning a number. */
let wantHessian = false;
/** The input whose paths are highlighted in the graph, if one is chosen. */
let pathInput: string | undefined;
/** The paths of the graph last drawn. */
let lastPaths: readonly InputPaths[] = [];

// ---- editors ----------------------------------------------------------------------------------

/** Highlights one source line (hovering a `// line N:` comment in the generated code). */
const markLine = StateEffect.define<number | undefined>();
const markedLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const e of tr.effects) {
      if (!e.is(markLine)) continue;
      if (e.value === undefined || e.value > tr.state.doc.lines) return Decoration.none;
      return Decoration.set([Decoration.line({ class: 'cm-linked-line' }).range(tr.state.doc.line(e.value).from)]);
    }
    return marks.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

let compileTimer: ReturnType<typeof setTimeout> | undefined;
const editor = new EditorView({
  parent: $('editor'),
  state: EditorState.create({
    doc: '',
    extensions: [
      basicSetup,
      adLanguage,
      lintGutter(),
      // Diagnostics are pushed with setDiagnostics when the worker answers; the linter source is empty.
      linter(null),
      markedLine,
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        clearTimeout(compileTimer);
        compileTimer = setTimeout(() => void recompile(), 250);
      }),
    ],
  }),
});

const output = new EditorView({
  parent: $('output'),
  state: EditorState.create({ doc: '', extensions: [basicSetup, javascript(), EditorState.readOnly.of(true), EditorView.editable.of(false)] }),
});
output.dom.addEventListener('mousemove', (event) => {
  const pos = output.posAtCoords({ x: event.clientX, y: event.clientY });
  const match = pos === null ? null : /\/\/ line (\d+):/.exec(output.state.doc.lineAt(pos).text);
  editor.dispatch({ effects: markLine.of(match ? Number(match[1]) : undefined) });
});
output.dom.addEventListener('mouseleave', () => editor.dispatch({ effects: markLine.of(undefined) }));

function setText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

// ---- compiling --------------------------------------------------------------------------------

let compileRun = 0;
async function recompile(): Promise<void> {
  const source = editor.state.doc.toString();
  const mine = ++compileRun;
  $('status').textContent = 'compiling…';
  // The default exports (fGrad; fJacobian for a function returning a vector), and fHessian when it is shown.
  const derivatives = wantHessian ? (['grad', 'jacobian', 'hessian'] as const) : undefined;
  const reply = await client.request({ kind: 'compile', source, derivatives }, 10_000);
  if (mine !== compileRun) return; // a newer edit (or toggle) is on its way
  if (reply.kind !== 'compiled') {
    $('status').textContent = reply.kind === 'failed' ? reply.message : '';
    return;
  }
  compiled = { source, code: reply.code, dts: reply.dts, problems: reply.problems, functions: reply.functions };
  showProblems(reply.problems);
  const errors = reply.problems.filter((p) => p.severity === 'error').length;
  $('status').textContent = errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : `compiled in ${reply.ms.toFixed(0)} ms`;
  $('status').dataset.state = errors > 0 ? 'errors' : 'ok';
  if (reply.code !== undefined) setText(output, reply.code);
  $('output').classList.toggle('stale', reply.code === undefined);
  for (const id of ['download-js', 'download-dts']) ($(id) as HTMLButtonElement).disabled = reply.code === undefined;
  if (reply.code !== undefined) showFunctions(reply.functions);
  await evaluate();
}

function showProblems(problems: readonly Problem[]): void {
  const doc = editor.state.doc;
  const diagnostics: LintDiagnostic[] = problems.map((p) => {
    const from = Math.min(p.from, doc.length);
    return { from, to: Math.min(Math.max(p.to, from), doc.length), severity: p.severity, message: `${p.message} [${p.code}]`, source: p.code };
  });
  editor.dispatch(setDiagnostics(editor.state, diagnostics));
  const list = $('problems');
  list.replaceChildren(
    ...problems.map((p) => {
      const li = document.createElement('li');
      li.dataset.line = String(p.line);
      li.dataset.code = p.code;
      li.className = p.severity;
      li.textContent = `${p.line}:${p.column} ${p.severity} ${p.code}: ${p.message}`;
      li.onclick = () => {
        editor.dispatch({ selection: { anchor: Math.min(p.from, editor.state.doc.length) }, scrollIntoView: true });
        editor.focus();
      };
      return li;
    }),
  );
  $('problems-title').textContent = problems.length === 0 ? 'No problems' : `Problems (${problems.length})`;
}

// ---- evaluation -------------------------------------------------------------------------------

function currentFunction(): FunctionInfo | undefined {
  return compiled?.functions.find((f) => f.name === chosenFn);
}

function showFunctions(functions: readonly FunctionInfo[]): void {
  const select = $<HTMLSelectElement>('fn');
  if (!functions.some((f) => f.name === chosenFn)) chosenFn = functions.at(-1)?.name;
  select.replaceChildren(...functions.map((f) => new Option(`${f.name}(${f.params.map((p) => p.name).join(', ')})`, f.name, false, f.name === chosenFn)));
  showFields();
}

function showFields(): void {
  const fn = currentFunction();
  const box = $('params');
  box.replaceChildren();
  if (!fn) return;
  for (const p of fn.params) {
    fields[p.name] ??= p.type === 'vec' ? '[1, 2]' : p.type === 'mat' ? '[[1, 0], [0, 1]]' : '1';
    const label = document.createElement('label');
    label.textContent = `${p.isConst ? 'const ' : ''}${p.name}${p.type ? `: ${p.type}` : ''}`;
    const input = document.createElement('input');
    input.name = p.name;
    input.value = fields[p.name];
    input.spellcheck = false;
    input.oninput = () => {
      fields[p.name] = input.value;
      void evaluate();
    };
    label.append(input);
    box.append(label);
  }
  const scalars = fn.params.filter((p) => !p.type && !p.isConst).map((p) => p.name);
  if (!plotParam || !scalars.includes(plotParam)) plotParam = scalars[0];
  $<HTMLSelectElement>('plot-param').replaceChildren(...scalars.map((n) => new Option(n, n, false, n === plotParam)));
}

/** The typed text for a parameter → an argument, or a message saying what is wrong with it. */
function readArgument(p: FunctionInfo['params'][number], text: string): { value: unknown } | { error: string } {
  if (!p.type) {
    const x = text.trim() === '' ? NaN : Number(text);
    return Number.isNaN(x) && text.trim() !== 'NaN' ? { error: `${p.name}: not a number` } : { value: x };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: `${p.name}: not JSON (${p.type === 'vec' ? '[1, 2, 3]' : '[[1, 2], [3, 4]]'})` };
  }
  const isVec = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (p.type === 'vec' ? !isVec(value) : !(Array.isArray(value) && value.every(isVec))) {
    return { error: `${p.name}: ${p.type === 'vec' ? 'a list of numbers' : 'a list of rows of numbers'}` };
  }
  return { value };
}

function readArguments(fn: FunctionInfo): { args: unknown[] } | { error: string } {
  const args: unknown[] = [];
  for (const p of fn.params) {
    const a = readArgument(p, fields[p.name] ?? '');
    if ('error' in a) return a;
    args.push(a.value);
  }
  return { args };
}

const show = (x: unknown): string =>
  typeof x === 'number' ? String(x) : ArrayBuffer.isView(x) ? `[${Array.from(x as Float64Array).join(', ')}]` : Array.isArray(x) ? `[${x.map(show).join(', ')}]` : String(x);

let evaluation = 0;
async function evaluate(): Promise<void> {
  syncLink();
  const fn = currentFunction();
  const result = $('result');
  if (!fn || compiled?.code === undefined) {
    // The source has errors: what is shown is the last program that compiled, greyed until it does again.
    result.dataset.state = 'stale';
    return;
  }
  const read = readArguments(fn);
  if ('error' in read) {
    result.dataset.state = 'error';
    $('value').textContent = read.error;
    clearDerivatives();
    return;
  }
  const mine = ++evaluation;
  const reply = await client.request({ kind: 'evaluate', code: compiled.code, fn: fn.name, args: read.args }, 5_000);
  if (mine !== evaluation) return;
  if (reply.kind !== 'evaluated') {
    result.dataset.state = 'error';
    $('value').textContent = reply.kind === 'failed' ? reply.message : '';
    clearDerivatives();
    return;
  }
  result.dataset.state = 'ok';
  const value = $('value');
  value.textContent = show(reply.value);
  value.dataset.value = show(reply.value);
  $('gradient').replaceChildren(
    ...Object.entries(reply.gradient ?? {}).map(([name, g]) => {
      const tr = document.createElement('tr');
      tr.dataset.name = name;
      tr.dataset.value = show(g);
      const th = document.createElement('th');
      th.textContent = `∂/∂${name}`;
      const td = document.createElement('td');
      td.textContent = show(g);
      tr.append(th, td);
      return tr;
    }),
  );
  showJacobian(fn, reply.value, reply.jacobian);
  showHessian(fn, reply.gradient, reply.hessian);
  void plot(fn, read.args);
  if (graphShown) void graph(fn, read.args);
}

function clearDerivatives(): void {
  $('gradient').replaceChildren();
  for (const id of ['jacobian', 'hessian']) $(id).replaceChildren();
  for (const id of ['jacobian-box', 'hessian-box']) $(id).hidden = true;
  $('derivative-note').textContent = '';
}

/** One scalar entry of a parameter: `x`, or `w[2]` (index `i`) for an element of a vector. */
interface Entry {
  readonly param: string;
  readonly index?: number;
  readonly label: string;
}

/** The scalar entries of each parameter, from a value of its shape (a number or a vector). */
function entriesOf(byParam: Record<string, unknown>): Entry[] {
  return Object.entries(byParam).flatMap(([param, v]) =>
    typeof v === 'number' ? [{ param, label: param }] : Array.from({ length: (v as ArrayLike<number>).length }, (_, index) => ({ param, index, label: `${param}[${index}]` })),
  );
}

/** A matrix as a table with its rows' and columns' names; each cell keeps the exact number in data-value. */
function matrixTable(table: HTMLElement, corner: string, rows: readonly string[], columns: readonly string[], cell: (r: number, c: number) => number): void {
  const head = document.createElement('tr');
  for (const text of [corner, ...columns]) {
    const th = document.createElement('th');
    th.textContent = text;
    head.append(th);
  }
  const body = rows.map((label, r) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.textContent = label;
    tr.append(th);
    columns.forEach((_, c) => {
      const td = document.createElement('td');
      const x = cell(r, c);
      td.dataset.value = String(x);
      td.textContent = Number.isFinite(x) ? String(Number(x.toPrecision(8))) : String(x);
      td.title = String(x);
      tr.append(td);
    });
    return tr;
  });
  table.replaceChildren(head, ...body);
}

/**
 * A function returning a vector of m numbers: its Jacobian (fJacobian) as one m-row table, a column
 * per scalar input (`t`, `p[0]`, `p[1]`): the blocks jacobian[p] side by side.
 */
function showJacobian(fn: FunctionInfo, value: unknown, jacobian: Record<string, unknown> | undefined): void {
  const box = $('jacobian-box');
  box.hidden = jacobian === undefined;
  const note = $('derivative-note');
  note.textContent = '';
  if (fn.result && jacobian === undefined) {
    const matrix = fn.params.find((p) => p.type === 'mat' && !p.isConst);
    note.textContent = fn.result === 'mat' ? `'${fn.name}' returns a matrix: adc builds no Jacobian for it (fJvp gives its derivatives).` : `'${fn.name}' has a differentiated matrix parameter '${matrix?.name}': adc builds no Jacobian for it.`;
  }
  if (jacobian === undefined) return;
  const m = (value as ArrayLike<number>).length;
  const columns = Object.entries(jacobian).flatMap(([param, block]) => {
    const first = (block as ArrayLike<unknown>)[0];
    // A scalar parameter's block is m numbers; a vec[n] parameter's, m rows of n.
    if (typeof first !== 'object') return [{ label: param, at: (k: number) => (block as ArrayLike<number>)[k] }];
    return Array.from({ length: (first as ArrayLike<number>).length }, (_, j) => ({ label: `${param}[${j}]`, at: (k: number) => (block as ArrayLike<ArrayLike<number>>)[k][j] }));
  });
  const rows = Array.from({ length: m }, (_, k) => `${fn.name}[${k}]`);
  matrixTable($('jacobian'), `∂${fn.name}/∂`, rows, columns.map((c) => c.label), (r, c) => columns[c].at(r));
}

/** fHessian's blocks hessian[p][q] as one symmetric table over every scalar input (`x`, `w[0]`, `w[1]`). */
function showHessian(fn: FunctionInfo, gradient: Record<string, unknown> | undefined, hessian: Record<string, Record<string, unknown>> | undefined): void {
  $('hessian-box').hidden = hessian === undefined;
  if (wantHessian && !fn.result && hessian === undefined) {
    const matrix = fn.params.find((p) => p.type === 'mat' && !p.isConst);
    if (matrix) $('derivative-note').textContent = `'${fn.name}' has a differentiated matrix parameter '${matrix.name}': adc builds no Hessian for it (its blocks would have four dimensions).`;
  }
  if (wantHessian && fn.result) $('derivative-note').textContent += ` A Hessian is of a function returning a number; '${fn.name}' returns ${fn.result === 'vec' ? 'a vector' : 'a matrix'}.`;
  if (hessian === undefined || gradient === undefined) return;
  const entries = entriesOf(gradient);
  const at = (a: Entry, b: Entry): number => {
    const block = hessian[a.param][b.param];
    if (a.index === undefined && b.index === undefined) return block as number;
    if (a.index === undefined) return (block as ArrayLike<number>)[b.index!];
    if (b.index === undefined) return (block as ArrayLike<number>)[a.index];
    return (block as ArrayLike<ArrayLike<number>>)[a.index][b.index!];
  };
  const labels = entries.map((e) => e.label);
  matrixTable($('hessian'), `∂²${fn.name}`, labels, labels, (r, c) => at(entries[r], entries[c]));
}

async function plot(fn: FunctionInfo, args: unknown[]): Promise<void> {
  const box = $('plot');
  if (fn.result) {
    box.textContent = `'${fn.name}' returns an array: there is no gradient to plot.`;
    return;
  }
  const index = fn.params.findIndex((p) => p.name === plotParam);
  if (index < 0 || compiled?.code === undefined) {
    box.textContent = 'No scalar parameter to plot along.';
    return;
  }
  const at = args[index] as number;
  const half = Number($<HTMLInputElement>('plot-width').value) || 1;
  const xs = Array.from({ length: 121 }, (_, i) => at - half + (2 * half * i) / 120);
  const reply = await client.request({ kind: 'plot', code: compiled.code, fn: fn.name, args, param: index, name: plotParam!, xs }, 5_000);
  if (reply.kind !== 'plotted') {
    box.textContent = reply.kind === 'failed' ? reply.message : '';
    return;
  }
  box.innerHTML = plotSvg(xs, reply.values, reply.slopes, at, fn.name, plotParam!);
}

let graphRun = 0;
async function graph(fn: FunctionInfo, args: unknown[]): Promise<void> {
  const box = $('graph');
  const mine = ++graphRun;
  box.dataset.state = 'loading';
  // Arrays go as plain nested arrays, as `adc explain --at x=[1,2]` reads them (one node per element).
  const plain = (a: unknown): PointValue => (typeof a === 'number' ? a : Array.isArray(a) ? a.map((r) => (r instanceof Float64Array ? [...r] : r)) : [...(a as Float64Array)]);
  const reply = await client.request({ kind: 'graph', source: compiled!.source, fn: fn.name, point: args.map(plain) }, 30_000);
  if (mine !== graphRun) return;
  box.dataset.state = reply.kind === 'graphed' ? 'ok' : 'error';
  const report = $('explain-text');
  if (reply.kind === 'graphed') {
    // Graphviz's SVG escapes the labels it draws (they come from the source text).
    if (reply.svg !== undefined) box.innerHTML = reply.svg;
    else box.textContent = reply.tooLarge ?? '';
    report.textContent = reply.text;
    lastPaths = reply.inputs;
  } else {
    box.textContent = reply.kind === 'failed' ? reply.message : '';
    report.textContent = '';
    lastPaths = [];
  }
  showPaths();
}

/**
 * The paths from the output to the chosen input: listed with the partials along each and their
 * product (summing to the gradient entry), and drawn in colour in the graph; hovering a path's row
 * shows that path alone.
 */
function showPaths(): void {
  const select = $<HTMLSelectElement>('path-input');
  if (!lastPaths.some((p) => p.input === pathInput)) pathInput = undefined;
  select.replaceChildren(new Option('none', '', false, pathInput === undefined), ...lastPaths.map((p) => new Option(p.input, p.input, false, p.input === pathInput)));
  const chosen = lastPaths.find((p) => p.input === pathInput);
  const table = $('paths');
  const short = (x: number) => (Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x));
  if (!chosen) {
    table.replaceChildren();
    highlight(undefined);
    return;
  }
  const all = { nodes: new Set(chosen.paths.flatMap((p) => p.nodes)), edges: new Set(chosen.paths.flatMap((p) => p.edges)) };
  const rows = chosen.paths.map((path) => {
    const tr = document.createElement('tr');
    tr.className = 'path';
    tr.dataset.product = String(path.product);
    tr.dataset.edges = path.edges.join(' ');
    const cells = [path.labels.join(' → '), path.partials.length > 0 ? `${path.partials.map(short).join(' × ')} =` : '', short(path.product)];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    tr.onmouseenter = () => highlight({ nodes: new Set(path.nodes), edges: new Set(path.edges) });
    tr.onmouseleave = () => highlight(all);
    return tr;
  });
  const sum = document.createElement('tr');
  sum.className = 'sum';
  sum.dataset.adjoint = String(chosen.adjoint);
  sum.dataset.compiled = String(chosen.compiled);
  const listed = chosen.truncated ? `the first ${chosen.paths.length} of ${chosen.count} paths; ` : '';
  const td = document.createElement('td');
  td.colSpan = 3;
  td.textContent = `${listed}sum over all paths: ${short(chosen.adjoint)} = ∂/∂${chosen.input} (generated code: ${short(chosen.compiled)})`;
  sum.append(td);
  table.replaceChildren(...rows, sum);
  highlight(all);
}

/** Colours the nodes and edges of the graph's SVG named in `on` (Graphviz titles them `n2` and `n2->x1`); undefined: none. */
function highlight(on: { nodes: ReadonlySet<string>; edges: ReadonlySet<string> } | undefined): void {
  const box = $('graph');
  box.classList.toggle('highlighting', on !== undefined);
  for (const g of box.querySelectorAll('svg g.node, svg g.edge')) {
    const title = g.querySelector('title')?.textContent ?? '';
    g.classList.toggle('on-path', on !== undefined && (g.classList.contains('node') ? on.nodes.has(title) : on.edges.has(title)));
  }
}

// ---- links, examples, downloads ---------------------------------------------------------------

function currentLink(): string {
  const fn = currentFunction();
  const at = Object.fromEntries((fn?.params ?? []).map((p) => [p.name, fields[p.name] ?? '']));
  return formatLink({ code: editor.state.doc.toString(), fn: chosenFn, at, hessian: wantHessian });
}

/** Keeps the address bar's fragment equal to the page's state (without adding history entries). */
function syncLink(): void {
  const link = currentLink();
  if (location.hash !== link) history.replaceState(null, '', link);
  $<HTMLInputElement>('link').value = location.href;
}

function openState(state: { code: string; fn?: string; at: Readonly<Record<string, string>>; hessian?: boolean }): void {
  Object.assign(fields, state.at);
  chosenFn = state.fn;
  setHessian(state.hessian === true);
  // The same text (a link to the same program, the Hessian toggled): no edit, so compile here.
  if (editor.state.doc.toString() === state.code) void recompile();
  else setText(editor, state.code);
}

function setHessian(on: boolean): void {
  wantHessian = on;
  $<HTMLInputElement>('want-hessian').checked = on;
}

$<HTMLSelectElement>('examples').replaceChildren(new Option('Examples…', ''), ...examples.map((e, i) => new Option(e.title, String(i))));
$<HTMLSelectElement>('examples').onchange = (event) => {
  const select = event.target as HTMLSelectElement;
  const example = examples[Number(select.value)];
  select.value = '';
  if (example) openState(example);
};
$<HTMLSelectElement>('fn').onchange = (event) => {
  chosenFn = (event.target as HTMLSelectElement).value;
  showFields();
  void evaluate();
};
$<HTMLSelectElement>('plot-param').onchange = (event) => {
  plotParam = (event.target as HTMLSelectElement).value;
  void evaluate();
};
$<HTMLDetailsElement>('graph-panel').ontoggle = (event) => {
  graphShown = (event.target as HTMLDetailsElement).open;
  if (graphShown) void evaluate();
};
$<HTMLInputElement>('plot-width').oninput = () => void evaluate();
$<HTMLInputElement>('want-hessian').onchange = (event) => {
  setHessian((event.target as HTMLInputElement).checked);
  void recompile();
};
$<HTMLSelectElement>('path-input').onchange = (event) => {
  pathInput = (event.target as HTMLSelectElement).value || undefined;
  showPaths();
};
$('copy-link').onclick = async () => {
  syncLink();
  const input = $<HTMLInputElement>('link');
  input.select();
  try {
    await navigator.clipboard.writeText(location.href);
    $('status').textContent = 'link copied';
  } catch {
    $('status').textContent = 'link selected: copy it with Ctrl+C';
  }
};

function download(name: string, text: string, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1_000);
}
$('download-js').onclick = () => compiled?.code !== undefined && download('playground.js', compiled.code, 'text/javascript');
$('download-dts').onclick = () => compiled?.dts !== undefined && download('playground.d.ts', compiled.dts, 'text/plain');

window.addEventListener('hashchange', () => {
  const state = parseLink(location.hash);
  if (state && location.hash !== currentLink()) openState(state);
});

openState(parseLink(location.hash) ?? examples[0]);
