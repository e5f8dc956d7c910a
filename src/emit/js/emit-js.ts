import type { LineMap } from '../../diagnostics/span.ts';
import { headerName, printable } from '../../diagnostics/printable.ts';
import { assertNever } from '../../syntax/ast.ts';
import { definesOf, isTwoPassLogsumexp, readsOf, resultLength, type Callee, type Expr, type Instr, type IrFunction, type Operand, type Param } from '../../ir/ir.ts';
import { printWidth } from '../format.ts';
import { countInstructions, maxInstructionsPerFunction, splitFunction } from './split-function.ts';
import { helpersFor } from './helpers.ts';
import { hasPartialSums, printPartialSums } from './partial-sums.ts';
import { derivativeResults, derivativeReturn, hessianFunction, jacobianFunction, tangentArgument, tangentPrologue, type DerivativeVariant } from './exports.ts';
import { calledFunctionName, chunkName, exportSpecifier, gradientIntoName, gradientName, hessianName, hvpName, jacobianColumnsName, jacobianName, jvpName, vjpIntoName, vjpName, cotangentParameterName, isTemporary, localFunctionName, outParameterName, propertyKey, reductionStateName, scratchName } from '../names.ts';
import { isBoolean, isKept, isMutable, notRead, readMoreThanOnce, VariableTable } from './variables.ts';
import { additivePrecedence, printNumber, printOp, primaryPrecedence, relationalPrecedence, type Printed } from './print-expr.ts';
import type { CalledForm } from '../../ad/calls.ts';

export interface EmitInput {
  readonly filename: string;
  readonly version: string;
  readonly lines: LineMap;
  /**
   * Per source function, in source order: its IR (value, gradient and the other derivatives asked
   * for), or the sections emitted for it by an earlier compile (`reuse`, from compile-cache.ts;
   * functions without arrays only).
   */
  readonly functions: Iterable<EmitFunction | { readonly reuse: EmittedFunction }>;
  /** Check that every number argument is a number (a TypeError naming the function and parameter). */
  readonly checkArgs?: boolean;
  /** The derivatives the compile was asked for (`--derivatives`), named in the header; absent: the default (grad). */
  readonly derivatives?: readonly string[];
  /** Told what each function emitted from IR made, and whether it can be reused in another module. */
  readonly emitted?: (made: EmittedFunction, reusable: boolean) => void;
  /**
   * Another target's code (src/emit/wasm/): sections placed before the export list once every
   * function is emitted, and the local each export takes instead of the JS function's (its
   * WebAssembly twin), if any.
   */
  readonly appendix?: () => readonly Section[];
  readonly exportAs?: (local: string) => string | undefined;
  /**
   * The functions whose calls stay calls and the forms of them the module calls (src/ad/calls.ts),
   * asked for once every function above is emitted (their code says which forms they call).
   */
  readonly calls?: () => readonly KeptFunction[];
}

/** A function compiled once and called (src/ir/call-graph.ts), with the forms of it the module calls. */
export interface KeptFunction {
  readonly name: string;
  /** Why it is kept, said in a comment above its forms. */
  readonly why: string;
  /** Whether something calls its value (`f$primal`: an alias of the value function, or a form in `forms`). */
  readonly primal: boolean;
  /** Its forms may run while they are running (recursion): each call allocates its own arrays. */
  readonly reentrant?: boolean;
  readonly forms: readonly CalledForm[];
}

/** What one source function contributes to a module: its sections and its exports. */
export interface EmittedFunction {
  readonly name: string;
  readonly sections: readonly Section[];
  readonly exports: readonly string[];
  /** The forms of kept functions its code calls (src/ad/calls.ts), for a compile that reuses it. */
  readonly calls?: readonly Callee[];
}

/**
 * Generated lines, each with the source offset it comes from (for source maps), if any. A module is
 * a list of sections (the header, each function, its gradient, the export list) that `format.ts`
 * formats one by one and joins with blank lines.
 */
export class Section {
  readonly lines: string[] = [];
  readonly origins: (number | undefined)[] = [];

  push(line: string, origin?: number): void {
    // A line made by + is a tree of its pieces (V8's cons strings: one per concatenation past a
    // few characters) until it is read; reading a character copies it into one flat string. Done
    // here, the trees die young, and what every garbage collection until the module is joined
    // copies is the line's text, not a tree several times its size.
    line.charCodeAt(0);
    this.lines.push(line);
    this.origins.push(origin);
  }

  get text(): string {
    return this.lines.join('\n');
  }
}

/**
 * One source function's IR: its value, and each derivative asked for: the gradient (fGrad and,
 * with array parameters, fGradInto), forward mode (fJvp), forward over reverse (fHvp, and
 * fHessian made of fHvp calls).
 */
export interface EmitFunction {
  readonly value: IrFunction;
  readonly gradient?: IrFunction;
  readonly jvp?: IrFunction;
  /** Export fJvp (else only fJacobian uses it). */
  readonly exportJvp?: boolean;
  readonly jacobian?: boolean;
  /** Reverse mode seeded with the caller's cotangent (fVjp; fJacobian's reverse rows). */
  readonly vjp?: IrFunction;
  /** Export fVjp (else only fJacobian uses it). */
  readonly exportVjp?: boolean;
  /**
   * fJacobian's reverse rows run vjp's forward sweep once and its reverse sweep once per row (its
   * reverse sweep only reads what the forward sweep made: ad/repeat-reverse.ts); else each row is
   * a call of f$vjpInto, both sweeps.
   */
  readonly rowsFromOneForwardSweep?: boolean;
  /** fJacobian's forward columns: forward mode with several directions (ad/forward.ts), emitJacobianColumns. */
  readonly jacobianColumns?: IrFunction;
  readonly hvp?: IrFunction;
  /** Export fHvp (else only fHessian uses it). */
  readonly exportHvp?: boolean;
  readonly hessian?: boolean;
  /** The value function calls itself (recursion): its arrays are new per call, never work arrays another call of it would overwrite. */
  readonly reentrant?: boolean;
}

export function emitModule(input: EmitInput): Section[] {
  const sections: Section[] = [];
  const header = new Section();
  header.push(headerComment(input.version, input.filename));
  if (input.derivatives === undefined) {
    header.push(`// For each function f(...) the module exports f, which returns the value, and fGrad, which`);
    header.push(`// returns { value, gradient }: the gradient by reverse-mode automatic differentiation.`);
  } else {
    // Asked for with --derivatives: say which exports those are (each function's comment says more).
    const results: Record<string, string> = {
      grad: 'fGrad → { value, gradient }',
      jvp: 'fJvp → { value, tangent }',
      vjp: 'fVjp → { value, gradient }',
      jacobian: 'fJacobian → { value, jacobian }',
      hessian: 'fHessian → { value, gradient, hessian }',
      hvp: 'fHvp → { value, gradient, hvp }',
    };
    header.push(`// For each function f(...) the module exports f, which returns the value, and of the derivatives`);
    header.push(`// asked for (${input.derivatives.join(', ')}) those that apply to f:`);
    for (const d of input.derivatives) if (results[d]) header.push(`//   ${results[d]}`);
  }
  sections.push(header);
  // The helpers the functions below call, decided once they are written.
  const helpers = new Section();
  sections.push(helpers);
  const exports: string[] = [];
  const exportOf = (local: string, exported: string) => exportSpecifier(input.exportAs?.(local) ?? local, exported);
  const context: FunctionContext = { lines: input.lines, slots: { next: 0 }, checkArgs: input.checkArgs === true };
  for (const item of input.functions) {
    if ('reuse' in item) {
      sections.push(...item.reuse.sections);
      exports.push(...item.reuse.exports);
      continue;
    }
    const { value, gradient, jvp, exportJvp, jacobian, vjp, exportVjp, hvp, exportHvp, hessian } = item;
    const firstSection = sections.length;
    const firstExport = exports.length;
    const slotsBefore = context.slots.next;
    // Work-array slots are numbered across the module: only a function that takes none stands alone.
    const done = () => {
      const made = { name: value.name, sections: sections.slice(firstSection), exports: exports.slice(firstExport) };
      input.emitted?.(made, !value.params.some((p) => p.shape) && context.slots.next === slotsBefore);
    };
    const local = localFunctionName(value.name);
    const withArrays = value.params.some((p) => p.shape);
    const signature = `(${value.params.map((p) => p.sourceName).join(', ')})`;
    const what = value.result ? `the value, a new ${value.result.kind === 'mat' ? 'array of Float64Array rows' : 'Float64Array'}` : 'the value';
    sections.push(...emitFunction(value, local, value.name, `${value.name}${signature}: ${what}.`, 'value', item.reentrant ? { ...context, reentrant: true } : context));
    exports.push(exportOf(local, value.name));
    if (vjp) {
      const name = vjpName(value.name);
      const wrt = vjp.gradient!.map((g) => g.param.sourceName);
      const doc =
        `${name}(cotangent, ${value.params.map((p) => p.sourceName).join(', ')}): { value, gradient }, the gradient of ⟨cotangent, ${value.name}⟩ ` +
        `(cotangent has the value's shape)${wrt.length > 0 ? ` with respect to ${wrt.join(', ')}` : ''}, by reverse mode.`;
      sections.push(...emitFunction(vjp, localFunctionName(name), name, doc, 'vjp', context));
      if (exportVjp !== false) exports.push(exportOf(localFunctionName(name), name));
      if (jacobian && item.rowsFromOneForwardSweep) {
        // fJacobian runs fVjp's forward sweep once and its reverse sweep per row (emitJacobianRows).
        const jname = jacobianName(value.name);
        sections.push(emitJacobianRows(vjp, localFunctionName(jname), jname, jacobianColumnsName(value.name), context));
      } else if (jacobian) {
        // fJacobian's reverse rows: the same sweeps, writing each row into the Jacobian (no allocation per row).
        const into = vjpIntoName(value.name);
        const intoDoc =
          `${into}(out, cotangent, ${value.params.map((p) => p.sourceName).join(', ')}): ${name}'s sweeps, writing the gradient into out's ` +
          `arrays (the rows of ${jacobianName(value.name)}, zeroed first) and out's numbers; the value goes to a work array (allocating nothing).`;
        sections.push(...emitFunction(vjp, into, name, intoDoc, 'vjpInto', context));
      }
    }
    if (jvp) {
      const name = jvpName(value.name);
      const along = jvp.tangent!.seeds.map((s) => s.param.sourceName);
      const doc =
        `${name}(tangent, ${value.params.map((p) => p.sourceName).join(', ')}): { value, tangent }, the derivative of ${value.name} ` +
        `along the direction tangent gives${along.length > 0 ? ` (keys ${along.join(', ')}; a missing key is 0)` : ''}, by forward mode.`;
      sections.push(...emitFunction(jvp, localFunctionName(name), name, doc, 'jvp', context));
      if (exportJvp !== false) exports.push(exportOf(localFunctionName(name), name));
    }
    if (jacobian && vjp && item.jacobianColumns) {
      const jname = jacobianName(value.name);
      // The forward columns, several per run of the value's computation.
      sections.push(emitJacobianColumns(item.jacobianColumns, jacobianColumnsName(value.name), jname, context));
      // Without one forward sweep for every row, each row is a call of f$vjpInto.
      if (!item.rowsFromOneForwardSweep) sections.push(jacobianFunction(vjp, localFunctionName(jname), local, jacobianColumnsName(value.name), vjpIntoName(value.name), jsString));
      exports.push(exportOf(localFunctionName(jname), jname));
    }
    if (hvp) {
      const name = hvpName(value.name);
      const doc =
        `${name}(v, ${value.params.map((p) => p.sourceName).join(', ')}): { value, gradient, hvp }, hvp being the Hessian of ${value.name} ` +
        `times v, by forward mode over the gradient's code (forward over reverse).`;
      sections.push(...emitFunction(hvp, localFunctionName(name), name, doc, 'hvp', context));
      if (exportHvp) exports.push(exportOf(localFunctionName(name), name));
      if (hessian) {
        const hname = hessianName(value.name);
        sections.push(hessianFunction(hvp, localFunctionName(hname), localFunctionName(name), jsString));
        exports.push(exportOf(localFunctionName(hname), hname));
      }
    }
    // A function returning an array has no gradient (its derivatives are Jacobians).
    if (!gradient) {
      done();
      continue;
    }
    const wrt = gradient.gradient!.map((g) => g.param.sourceName);
    const consts = gradient.params.filter((p) => p.isConst).map((p) => p.sourceName);
    const of =
      (wrt.length > 0 ? ` with respect to ${wrt.join(', ')}.` : ' (it has no differentiated parameters).') +
      (consts.length > 0 ? ` Not differentiated (const): ${consts.join(', ')}.` : '');
    const doc = `${gradientName(value.name)}${signature}: the value of ${value.name} and its gradient${of}`;
    sections.push(...emitFunction(gradient, localFunctionName(gradientName(value.name)), gradientName(value.name), doc, 'gradient', context));
    exports.push(exportOf(localFunctionName(gradientName(value.name)), gradientName(value.name)));
    if (withArrays) {
      const into = gradientIntoName(value.name);
      const intoDoc =
        `${into}(out, ${value.params.map((p) => p.sourceName).join(', ')}): the value of ${value.name}; writes its gradient into ` +
        `out's arrays (zeroed first, allocating nothing) and out's numbers${of}`;
      sections.push(...emitFunction(gradient, into, into, intoDoc, 'into', context));
      exports.push(exportOf(into, into));
    }
    done();
  }
  for (const kept of input.calls?.() ?? []) sections.push(keptFunctionSection(kept, context));
  if (input.appendix) sections.push(...input.appendix());
  const footer = new Section();
  // One line when it fits, else one name a line, as prettier writes it.
  const exportLine = `export { ${exports.join(', ')} };`;
  if (exportLine.length <= printWidth) footer.push(exportLine);
  else {
    footer.push('export {');
    for (const name of exports) footer.push(`  ${name},`);
    footer.push('};');
  }
  sections.push(footer);
  // Exactly the helpers the code calls (and those they call), whatever the parameters' types.
  // (Read line by line: joining each section's lines here, or listing them in one array, would
  // copy the module once more.)
  for (const helper of helpersFor(sections.map((s) => s.lines))) {
    if (helpers.lines.length > 0) helpers.push('');
    for (const line of helper.split('\n')) helpers.push(line);
  }
  if (helpers.lines.length === 0) sections.splice(sections.indexOf(helpers), 1);
  return sections;
}

/**
 * The first line of a generated file. The file name is never cut, and a name holding a line break
 * or another control character is written as a JSON string (`"a\nb.ad"`), so it cannot end the
 * comment and its exact text can be read back.
 */
export function headerComment(version: string, filename: string): string {
  return `// Generated by adc ${version} from ${headerName(filename)}. Do not edit: change the .ad file instead.`;
}

/**
 * `if (test) return value;` in prettier's layout: on one line when it fits in the print width,
 * else the return on the next line, indented (a test or value too long for its own line is left to
 * prettier, which breaks it further).
 */
export function ifReturn(indent: string, test: string, value: string): string[] {
  const line = `${indent}if (${test}) return ${value};`;
  return line.length <= printWidth ? [line] : [`${indent}if (${test})`, `${indent}  return ${value};`];
}

/**
 * A `//` comment quoting user text (a source line, a file name): characters JavaScript reads as a
 * line break (U+2028, U+2029) become spaces, and the text is cut so the line stays within the
 * print width (never the indentation: a comment always keeps at least 20 characters).
 */
export function comment(indent: string, text: string): string {
  // Other control characters (a terminal escape in a `.ad` comment) are shown escaped: `\x1b`.
  const clean = printable(text.replace(/[\r\n\u2028\u2029]/g, ' '), true);
  const room = Math.max(20, printWidth - indent.length - 3);
  return `${indent}// ${clean.length <= room ? clean : `${clean.slice(0, room - 1)}…`}`;
}


type Variant = 'value' | 'gradient' | 'into' | 'vjp' | 'vjpInto' | DerivativeVariant;

/** What every function of a module shares while it is emitted. */
interface FunctionContext {
  readonly lines: LineMap;
  /** The next work-array slot (`$work(slot, …)`), one per array of each generated function. */
  readonly slots: { next: number };
  readonly checkArgs: boolean;
  /** Arrays are allocated per call, not from the work-array pool (a function that calls itself). */
  readonly reentrant?: boolean;
}

/** One generated function (`local` in the module, exported as `exported`), as one or more sections. */
/**
 * What emitFunction asks of a function's top-level instructions, in one pass over them: whether
 * one is a loop or an array, whether one is a call, and how many instructions they hold at any depth.
 */
function topLevel(blocks: readonly (readonly Instr[])[]): { loops: boolean; calls: boolean; size: number } {
  let loops = false;
  let calls = false;
  let size = 0;
  for (const block of blocks) {
    for (let k = 0; k < block.length; k++) {
      const i = block[k];
      if (i.kind === 'loop' || i.kind === 'array') loops = true;
      else if ((i.kind === 'const' || i.kind === 'let') && i.expr?.op === 'call') calls = true;
      size += i.kind === 'loop' || i.kind === 'if' ? countInstructions([i]) : 1;
    }
  }
  return { loops, calls, size };
}

function emitFunction(fn: IrFunction, local: string, exported: string, doc: string, variant: Variant, context: FunctionContext): Section[] {
  const { lines, slots } = context;
  const body = fn.body;
  const derivative = variant === 'jvp' || variant === 'hvp';
  const reverse = variant === 'value' ? [] : (fn.reverse ?? []);
  const results = derivative ? derivativeResults(fn) : [fn.value, ...(fn.result?.rows ? [fn.result.rows] : []), ...(fn.gradient ?? []).map((g) => g.adjoint)];
  const first = variant === 'into' ? [outParameterName] : variant === 'vjp' ? [cotangentParameterName] : variant === 'vjpInto' ? [outParameterName, cotangentParameterName] : derivative ? [tangentArgument] : [];
  const params = [...first, ...fn.params.map((p) => p.name)].join(', ');
  // (A call returning an array, an adjoint function's, would cross chunks as a number: not split.)
  const { loops: hasLoops, calls: hasCalls, size } = topLevel([body, reverse]);
  // How each array is allocated: a returned gradient, the caller's (fGradInto), or a work array.
  const gradients = new Map((fn.gradient ?? []).flatMap((g) => (g.param.shape && g.adjoint.kind === 'var' ? [[g.adjoint.name, g.param] as const] : [])));
  const allocate = (instr: Extract<Instr, { kind: 'array' }>, length: string, rows: string | undefined): string => {
    const param = gradients.get(instr.target);
    // (fJacobian's rows need no value: fVjpInto puts it in a work array.)
    if (instr.returned && variant === 'vjpInto' && !rows) return `$work(${slots.next++}, ${length})`;
    if (instr.returned) return rows ? `$matrix(${rows}, ${length})` : `new Float64Array(${length})`;
    // A matrix of rows that is no gradient (one computed by grad(f, W)(…) inside the language) is
    // made per call: the work-array pool keeps flat arrays only.
    if (!param && rows) return `$matrix(${rows}, ${length})`;
    if (!param && context.reentrant) return `new Float64Array(${length})`;
    if (!param) return instr.overwritten ? `$work(${slots.next++}, ${length}, false)` : `$work(${slots.next++}, ${length})`;
    const what = jsString(`${exported}: out.${param.sourceName}`);
    const into = `${outParameterName}${member(param.sourceName)}`;
    if (variant === 'into' || variant === 'vjpInto') return rows ? `$intoRows(${into}, ${rows}, ${length}, ${what})` : `$into(${into}, ${length}, ${what})`;
    return rows ? `$matrix(${rows}, ${length})` : `new Float64Array(${length})`;
  };
  // (fVjp is not split: its chunks would not see the cotangent; a vector result's seed is a loop
  // anyway. Nor are functions returning arrays, nor forward-mode ones.) A body with loops splits
  // only between its top-level statements, so it needs at least two of them past the chunk size.
  const splittable = variant === 'value' || variant === 'gradient' || (variant === 'into' && hasLoops);
  if (splittable && !hasCalls && !fn.result && size > maxInstructionsPerFunction) {
    const checks = [...argumentChecks(fn, exported, context.checkArgs), ...(hasLoops ? [...prologue(fn, exported), ...(variant === 'into' ? aliasChecks(fn, exported) : [])] : [])];
    const split = emitSplit(fn, local, doc, results, checks, lines, { reverse, first, sizes: hasLoops ? sizeNames(fn) : [], allocate, exported, variant });
    if (split) return split;
  }
  const printer = new BodyPrinter(lines, inliningOf([body, reverse], [body, reverse], results), fn.name, allocate);
  const out = printer.out;
  out.push(`/** ${doc} */`, fn.span.start);
  out.push(`function ${local}(${params}) {`, fn.span.start);
  const checks = [...argumentChecks(fn, exported, context.checkArgs), ...prologue(fn, exported), ...(variant === 'into' ? aliasChecks(fn, exported) : [])];
  for (const line of checks) out.push(`  ${line}`, fn.span.start);
  if (derivative) {
    for (const line of tangentPrologue(fn, exported, jsString)) out.push(`  ${line}`, fn.span.start);
    printer.statements(body, '  ', false);
    out.push(`  return ${derivativeReturn(fn, variant, (o) => printer.operand(o).text)};`, fn.span.start);
    out.push('}');
    return [out];
  }
  if (variant !== 'value') {
    if (body.length > 0) out.push('  // Forward sweep: the value, keeping what the reverse sweep reads.');
    printer.statements(body, '  ', false);
    if ((variant === 'vjp' || variant === 'vjpInto') && fn.result) {
      // The cotangent has the value's shape: its length is checked once the value's is known.
      const length = printer.operand(resultLength(body, (fn.value as { name: string }).name)).text;
      if (fn.result.rows) {
        // A matrix's cotangent is rows like the value: checked, then read as one flat array.
        const rows = printer.operand(fn.result.rows).text;
        out.push(`  ${cotangentParameterName} = $cotangentRows(${cotangentParameterName}, ${rows}, ${length}, ${jsString(`${exported}: cotangent`)});`, fn.span.start);
      } else {
        out.push(`  $expect(${cotangentParameterName}, ${length}, ${jsString(`${exported}: cotangent`)}, "the value's length");`, fn.span.start);
      }
    }
    if (reverse.length > 0) out.push('  // Reverse sweep: each adjoint is ∂(result)/∂(variable), from the result back to the parameters.');
    printer.statements(reverse, '  ', true);
  } else {
    printer.statements(body, '  ', false);
  }
  if (variant === 'into' || variant === 'vjpInto') {
    for (const g of fn.gradient ?? []) {
      if (g.param.shape) continue;
      const value = printer.operand(g.adjoint).text;
      // Assigning out.__proto__ would set out's prototype (or do nothing, for a number): define it.
      if (g.param.sourceName === '__proto__') {
        out.push(`  Object.defineProperty(${outParameterName}, '__proto__', { value: ${value}, writable: true, enumerable: true, configurable: true });`, fn.span.start);
      } else {
        out.push(`  ${outParameterName}${member(g.param.sourceName)} = ${value};`, fn.span.start);
      }
    }
    out.push(`  return ${printer.operand(fn.value).text};`, fn.span.start);
  } else {
    out.push(`  return ${returnValue(fn, (o) => printer.operand(o).text)};`, fn.span.start);
  }
  out.push('}');
  return [out];
}

/**
 * fJacobian by reverse rows from one forward sweep, for a function returning an array whose
 * reverse sweep only reads what the forward sweep made (`reverseSweepRepeatable`): the forward
 * sweep of fVjp runs once (the value, and everything the reverse sweep reads: the forward sweep's
 * variables and arrays are kept as they are), then, when the rule picks rows, the reverse sweep
 * runs once per output element i, seeded with the unit cotangent e_i, writing ∂value_i/∂p
 * straight into the Jacobian's row i. Otherwise the forward columns (`f$jacobianColumns`), which
 * compute the value again with the tangents of several columns beside it (emitJacobianColumns).
 */
function emitJacobianRows(fn: IrFunction, local: string, exported: string, columnsLocal: string, context: FunctionContext): Section {
  const { lines, slots } = context;
  const body = fn.body;
  const reverse = fn.reverse ?? [];
  const wrt = fn.gradient!.map((g) => g.param);
  const rows = fn.result!.rows;
  const sizeOf = (s: number | { readonly name: string }) => (typeof s === 'number' ? String(s) : s.name);
  const dimsOf = (p: Param): string[] => (p.shape ? p.shape.sizes.map(sizeOf) : []);
  const valueAt = rows ? ['$i', '$ic'] : ['$i'];
  const valueDims = rows ? ['$m', '$mc'] : ['$m'];
  const at = (indices: readonly string[]) => indices.map((i) => `[${i}]`).join('');
  const rowOf = (p: Param) => `$j${member(p.sourceName)}${at(valueAt)}`;
  const gradients = new Map((fn.gradient ?? []).flatMap((g) => (g.param.shape && g.adjoint.kind === 'var' ? [[g.adjoint.name, g.param] as const] : [])));
  const allocate = (instr: Extract<Instr, { kind: 'array' }>, length: string, rowCount: string | undefined): string => {
    const param = gradients.get(instr.target);
    // An array parameter's adjoint is the Jacobian's row i: new zeros, written by row i's sweep only.
    if (param) return rowOf(param);
    if (instr.returned) return rowCount ? `$matrix(${rowCount}, ${length})` : `new Float64Array(${length})`;
    if (rowCount) return `$matrix(${rowCount}, ${length})`;
    return instr.overwritten ? `$work(${slots.next++}, ${length}, false)` : `$work(${slots.next++}, ${length})`;
  };
  // (The reverse sweep runs in a loop: nothing of the forward sweep is printed inside it.)
  const rowsLoop: Instr = { kind: 'loop', index: '$i', from: { kind: 'const', value: 0 }, to: { kind: 'const', value: 0 }, descending: false, body: reverse, origin: { span: fn.span, statement: fn.span } };
  const results = [fn.value, ...(rows ? [rows] : []), ...fn.gradient!.map((g) => g.adjoint)];
  const printer = new BodyPrinter(lines, inliningOf([body, reverse], [body, [rowsLoop]], results), fn.name, allocate);
  const out = printer.out;
  const params = fn.params.map((p) => p.name).join(', ');
  const sources = fn.params.map((p) => p.sourceName).join(', ');
  const shape = rows ? 'm × c outputs' : 'm outputs';
  out.push(`/** ${local}(${sources}): { value, jacobian }, jacobian[p] = ∂${fn.name}/∂p (${shape} × p): one forward sweep, then one reverse sweep per output (reverse rows) or one ${jvpName(fn.name)} per input (forward columns), whichever is fewer. */`, fn.span.start);
  out.push(`function ${local}(${params}) {`, fn.span.start);
  for (const line of [...argumentChecks(fn, exported, context.checkArgs), ...prologue(fn, exported)]) out.push(`  ${line}`, fn.span.start);
  out.push('  // Forward sweep, once: the value, and what every reverse sweep reads (kept as they are:', fn.span.start);
  out.push("  // the reverse sweep assigns none of the forward sweep's variables and writes none of its arrays).", fn.span.start);
  printer.statements(body, '  ', false);
  const flat = printer.operand(fn.value).text;
  const length = printer.operand(resultLength(body, (fn.value as { name: string }).name)).text;
  if (rows) {
    out.push(`  const $m = ${printer.operand(rows).text};`, fn.span.start);
    out.push(`  const $mc = $m > 0 ? ${length} / $m : 0;`, fn.span.start);
  } else {
    out.push(`  const $m = ${length};`, fn.span.start);
  }
  const value = rows ? `$rows(${flat}, $m)` : flat;
  const scalars = wrt.filter((p) => !p.shape).length;
  const arrays = wrt.filter((p) => p.shape).map((p) => dimsOf(p).join(' * '));
  const total = [...arrays, ...(scalars > 0 || arrays.length === 0 ? [String(scalars)] : [])];
  out.push(`  const $n = ${total.join(' + ')}; // the total input size`, fn.span.start);
  const outputs = rows ? '$m * $mc' : '$m';
  // (Measured, README "Derivatives": with the forward columns computed several at a time, a
  // column costs 0.4–1.2 values and a reverse sweep from the shared forward sweep about as much or
  // more on a softmax, whose outputs each depend on every input (they cross at m ≈ 0.5–1·n), far
  // less on functions whose outputs each read a few inputs; m < n keeps rows for both.)
  out.push(`  // The rule: reverse rows (${rows ? 'm·c' : 'm'} reverse sweeps) when there are fewer outputs than inputs (${rows ? 'm·c < n' : 'm < n'}: a reverse`, fn.span.start);
  out.push('  // sweep from this forward sweep costs about as much as a forward column), else forward columns (several', fn.span.start);
  out.push('  // per run of the value: f$jacobianColumns); $jacobianMode forces one of them.', fn.span.start);
  for (const line of ifReturn('  ', `$jacobianMode === 'forward' || ($jacobianMode !== 'reverse' && !(${outputs} < $n))`, `${columnsLocal}(${params})`)) out.push(line, fn.span.start);
  const zeros = (dims: readonly string[]) => (dims.length === 0 ? '0' : dims.length === 1 ? `new Float64Array(${dims[0]})` : dims.length === 2 ? `$matrix(${dims[0]}, ${dims[1]})` : `$block([${dims.join(', ')}])`);
  const entries = wrt.map((p) => `${propertyKey(p.sourceName)}: ${zeros([...valueDims, ...dimsOf(p)])}`);
  out.push(`  const $j = ${entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}'};`, fn.span.start);
  out.push(`  // Row i: the reverse sweep seeded with the unit cotangent e_i (its zero adjoints skip their work).`, fn.span.start);
  out.push(`  const ${cotangentParameterName} = new Float64Array(${length});`, fn.span.start);
  let indent = '  ';
  valueAt.forEach((index, d) => {
    out.push(`${indent}for (let ${index} = 0; ${index} < ${valueDims[d]}; ${index}++) {`, fn.span.start);
    indent += '  ';
  });
  const flatAt = rows ? '$i * $mc + $ic' : '$i';
  out.push(`${indent}${cotangentParameterName}[${flatAt}] = 1;`, fn.span.start);
  printer.loopStatements(reverse, indent, true);
  out.push(`${indent}${cotangentParameterName}[${flatAt}] = 0;`, fn.span.start);
  for (const g of fn.gradient!) if (!g.param.shape) out.push(`${indent}$j${member(g.param.sourceName)}${at(valueAt)} = ${printer.operand(g.adjoint).text};`, fn.span.start);
  for (const _ of valueAt) {
    indent = indent.slice(2);
    out.push(`${indent}}`, fn.span.start);
  }
  out.push(`  return { value: ${value}, jacobian: $j };`, fn.span.start);
  out.push('}');
  return out;
}

/**
 * fJacobian's forward columns, K at a time from one primal computation: `fn` is forward mode with
 * K directions (ad/forward.ts: each active variable has K tangents, `t$x` … `t$x$cK`), so one run
 * of its body computes the value, and every intermediate the tangents read, once, and the
 * tangents of K columns beside it. The body runs once per chunk of K inputs, each direction seeded
 * with the unit tangent of one input (zeros past the last), and each direction's tangent of the
 * value is the Jacobian's column for that input. At least once: with no inputs it computes the
 * value. (Unrolled K-direction forward mode rather than a tangent array over the columns per
 * variable: the printed code is ordinary forward mode, and loops with state, kept calls and
 * reductions work as they do in fJvp.)
 */
function emitJacobianColumns(fn: IrFunction, local: string, exported: string, context: FunctionContext): Section {
  const { lines, slots } = context;
  const body = fn.body;
  const t = fn.tangent!;
  const directions = t.directions ?? [{ seeds: t.seeds.map((s) => s.tangent), value: t.value }];
  const K = directions.length;
  const wrt = t.seeds.map((s) => s.param);
  const rows = fn.result!.rows;
  const valueName = (fn.value as { name: string }).name;
  // The value is returned (new per chunk: the last one is); the tangents of the value are read
  // into the Jacobian after each chunk, so they are work arrays, like every other array here.
  const allocate = (instr: Extract<Instr, { kind: 'array' }>, length: string, rowCount: string | undefined): string => {
    if (rowCount) return `$matrix(${rowCount}, ${length})`;
    if (instr.target === valueName) return `new Float64Array(${length})`;
    return instr.overwritten ? `$work(${slots.next++}, ${length}, false)` : `$work(${slots.next++}, ${length})`;
  };
  const results = [fn.value, ...(rows ? [rows] : []), ...directions.flatMap((d) => (d.value ? [d.value] : []))];
  const chunk: Instr = { kind: 'loop', index: '$b', from: { kind: 'const', value: 0 }, to: { kind: 'const', value: 0 }, descending: false, body, origin: { span: fn.span, statement: fn.span } };
  const printer = new BodyPrinter(lines, inliningOf([body], [[chunk]], results), fn.name, allocate);
  const out = printer.out;
  const params = fn.params.map((p) => p.name).join(', ');
  const sources = fn.params.map((p) => p.sourceName).join(', ');
  const sizeOf = (s: number | { readonly name: string }) => (typeof s === 'number' ? String(s) : s.name);
  const dimsOf = (p: Param): string[] => (p.shape ? p.shape.sizes.map(sizeOf) : []);
  const at = (indices: readonly string[]) => indices.map((i) => `[${i}]`).join('');
  const zeros = (dims: readonly string[]) => (dims.length === 0 ? '0' : dims.length === 1 ? `new Float64Array(${dims[0]})` : dims.length === 2 ? `$matrix(${dims[0]}, ${dims[1]})` : `$block([${dims.join(', ')}])`);
  const at0 = fn.span.start;
  out.push(`/** ${local}(${sources}): { value, jacobian }, fJacobian by forward columns, ${K} at a time: one run of the value's computation per ${K} inputs, with ${K} tangents beside it. */`, at0);
  out.push(`function ${local}(${params}) {`, at0);
  for (const line of prologue(fn, exported)) out.push(`  ${line}`, at0);
  // Each parameter's inputs are columns offset … offset + size - 1, in parameter order.
  const offsets: string[] = [];
  let offset = '0';
  for (const p of wrt) {
    offsets.push(offset);
    const size = p.shape ? dimsOf(p).join(' * ') : '1';
    offset = offset === '0' ? size : `${offset} + ${size}`;
  }
  out.push(`  const $n = ${offset}; // the total input size: the columns`, at0);
  out.push(`  // ${K} directions per run of the body (the tangents t$x, t$x$c2, …): the array parameters' seeds, zeros but`, at0);
  out.push('  // for the one input of each direction, set before the body and put back to zeros after it.', at0);
  directions.forEach((d) => wrt.forEach((p, k) => {
    if (p.shape) out.push(`  const ${d.seeds[k]} = ${zeros(dimsOf(p))};`, at0);
  }));
  out.push(`  let $value, $j, ${rows ? '$m, $mc' : '$m'};`, at0);
  // Column `column`'s place in the k-th input (`$k` when 0 ≤ it < the input's size), and the element $k of an input's array.
  // (The offset in parentheses only when it is a sum: prettier drops them around a name or a product.)
  const indexIn = (column: string, k: number) => (offsets[k] === '0' ? column : offsets[k]!.includes(' + ') ? `${column} - (${offsets[k]})` : `${column} - ${offsets[k]}`);
  const elementK = (dims: readonly string[]) => (dims.length === 1 ? '[$k]' : `[($k / ${dims[1]}) | 0][$k % ${dims[1]}]`);
  // Sets (1) or clears (0) the seed of direction d: the element of column $b + d, if in p.
  const seed = (indent: string, d: number, one: 0 | 1) =>
    wrt.forEach((p, k) => {
      const name = directions[d]!.seeds[k]!;
      const column = d === 0 ? '$b' : `$b + ${d}`;
      if (!p.shape) {
        if (one) out.push(`${indent}const ${name} = ${column} === ${offsets[k]} ? 1 : 0;`, at0);
        return;
      }
      const dims = dimsOf(p);
      const index = indexIn(column, k);
      const element = `${name}${elementK(dims)}`;
      // (In prettier's layout, a block's statements one a line: `compile` then has nothing to redo.)
      out.push(`${indent}if (${index} >= 0 && ${index} < ${dims.join(' * ')}) {`, at0);
      out.push(`${indent}  const $k = ${index};`, at0);
      out.push(`${indent}  ${element} = ${one};`, at0);
      out.push(`${indent}}`, at0);
    });
  out.push(`  for (let $b = 0; $b === 0 || $b < $n; $b += ${K}) {`, at0);
  for (let d = 0; d < K; d++) seed('    ', d, 1);
  printer.loopStatements(body, '    ', false);
  const flat = printer.operand(fn.value).text;
  const length = printer.operand(resultLength(body, valueName)).text;
  const valueDims = rows ? ['$m', '$mc'] : ['$m'];
  const valueAt = rows ? ['$i', '$ic'] : ['$i'];
  out.push(`    if ($b === 0) {`, at0);
  out.push(`      $value = ${rows ? `$rows(${flat}, ${printer.operand(rows).text})` : flat};`, at0);
  if (rows) {
    out.push(`      $m = ${printer.operand(rows).text};`, at0);
    out.push(`      $mc = $m > 0 ? ${length} / $m : 0;`, at0);
  } else {
    out.push(`      $m = ${length};`, at0);
  }
  const entries = wrt.map((p) => `${propertyKey(p.sourceName)}: ${zeros([...valueDims, ...dimsOf(p)])}`);
  out.push(`      $j = ${entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}'};`, at0);
  out.push('    }', at0);
  out.push('    // Each direction\'s tangent of the value is the column of its input.', at0);
  directions.forEach((d, k) => {
    if (!d.value) return; // the value does not depend on the inputs: the column stays zeros
    const tangent = printer.operand(d.value).text;
    const column = k === 0 ? '$b' : `$b + ${k}`;
    wrt.forEach((p, q) => {
      const dims = dimsOf(p);
      const index = indexIn(column, q);
      const flatAt = rows ? '$i * $mc + $ic' : '$i';
      const inner = dims.length === 0 ? '' : elementK(dims);
      const loops = valueAt.map((i, n) => `for (let ${i} = 0; ${i} < ${valueDims[n]}; ${i}++) `).join('');
      const write = `${loops}$j${member(p.sourceName)}${at(valueAt)}${inner} = ${tangent}[${flatAt}];`;
      if (dims.length === 0) out.push(`    if (${column} === ${offsets[q]}) ${write}`, at0);
      else {
        out.push(`    if (${index} >= 0 && ${index} < ${dims.join(' * ')}) {`, at0);
        out.push(`      const $k = ${index};`, at0);
        out.push(`      ${write}`, at0);
        out.push('    }', at0);
      }
    });
  });
  for (let d = 0; d < K; d++) seed('    ', d, 0);
  out.push('  }', at0);
  out.push('  return { value: $value, jacobian: $j };', at0);
  out.push('}');
  return out;
}

/**
 * The forms of a function whose calls stay calls, internal to the module (never exported): each a
 * function of numbers returning a number, or an array of numbers for several results.
 */
function keptFunctionSection(kept: KeptFunction, context: FunctionContext): Section {
  const out = new Section();
  for (const line of kept.why.split('\n')) out.push(comment('', line));
  if (kept.primal && !kept.forms.some((f) => f.callee.kind === 'primal')) out.push(`const ${calledFunctionName(kept.name, 'primal')} = ${localFunctionName(kept.name)};`);
  for (const form of kept.forms) {
    const { ir } = form;
    // An array returned to the caller (an array parameter's adjoint, or its tangent) is new per
    // call; so is every array of a form that may run inside itself. Others are work arrays.
    const returned = new Set(form.results.flatMap((o) => (o.kind === 'var' ? [o.name] : [])));
    const allocate = (instr: Extract<Instr, { kind: 'array' }>, length: string, rows: string | undefined): string => {
      if (rows) throw new Error(`internal error: a called form allocates a matrix of rows`);
      if (instr.returned || returned.has(instr.target) || kept.reentrant) return `new Float64Array(${length})`;
      return instr.overwritten ? `$work(${context.slots.next++}, ${length}, false)` : `$work(${context.slots.next++}, ${length})`;
    };
    const reverse = ir.reverse ?? [];
    const printer = new BodyPrinter(context.lines, inliningOf([ir.body, reverse], [ir.body, reverse], form.results), kept.name, allocate);
    const name = calledFunctionName(kept.name, form.callee.kind, form.callee.wrt);
    const wrt = form.callee.wrt?.map((k) => ir.params[k].sourceName);
    const args = ir.params.map((p) => p.sourceName).join(', ');
    const docs: Record<typeof form.callee.kind, string> = {
      primal: `${name}(${args}): the value of ${kept.name}, its arrays flat.`,
      gradient: wrt
        ? `${name}(${args}): [the value of ${kept.name}, its derivative with respect to each parameter], by its forward sweep and then its reverse sweep; for ${wrt.join(', ')} only (the other arguments are constant where it is called: their entries are 0).`
        : `${name}(${args}): [the value of ${kept.name}, its derivative with respect to each parameter], by its forward sweep and then its reverse sweep.`,
      tangent: `${name}(${args}, their tangents): the tangent of ${kept.name}'s value, by forward mode.`,
      gradientTangent: `${name}(${args}, their tangents): the tangents of ${calledFunctionName(kept.name, 'gradient')}'s results, by forward mode over it.`,
      adjoint: `${name}(${args}, the adjoint of the result): [the adjoint of each parameter], by ${kept.name}'s forward sweep and then its reverse sweep seeded with it.`,
      adjointTangent: `${name}(${args}, the adjoint of the result, their tangents, its tangent): the tangents of ${calledFunctionName(kept.name, 'adjoint')}'s results, by forward mode over it.`,
    };
    const p = printer.out;
    p.push(`/** ${docs[form.callee.kind]} */`, ir.span.start);
    p.push(`function ${name}(${form.params.join(', ')}) {`, ir.span.start);
    printer.statements(ir.body, '  ', false);
    printer.statements(reverse, '  ', true);
    const results = form.results.map((o) => printer.operand(o).text);
    // (An adjoint form returns a list however many parameters it has: its caller reads entry k.)
    p.push(`  return ${results.length === 1 && form.callee.kind !== 'adjoint' && form.callee.kind !== 'adjointTangent' ? results[0] : `[${results.join(', ')}]`};`, ir.span.start);
    p.push('}');
    out.lines.push('', ...p.lines);
    out.origins.push(undefined, ...p.origins);
  }
  return out;
}

/**
 * A JavaScript string literal, quoted as prettier quotes it (single quotes unless the text has
 * more of them than double quotes), so formatted and unformatted output agree.
 */
export function jsString(text: string): string {
  const singles = (text.match(/'/g) ?? []).length;
  const doubles = (text.match(/"/g) ?? []).length;
  const quote = singles > doubles ? '"' : "'";
  const escaped = text.replace(/[\\\n\r\u2028\u2029]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\u2028': '\\u2028', '\u2029': '\\u2029' })[c]!);
  return quote + escaped.split(quote).join(`\\${quote}`) + quote;
}

/** `.name`, or `["name"]` where a property access would not do. */
export function member(name: string): string {
  return name === '__proto__' ? `["__proto__"]` : `.${name}`;
}

/**
 * Binds the sizes of array parameters from their lengths and checks every other length against
 * them: a size comes from the first vector or row count that has it; a size that is only a row
 * length comes from the first of those matrices that has a row (0 if none has).
 */
export function prologue(fn: IrFunction, exported: string): string[] {
  const lines: string[] = [];
  const bound = new Map<string, string>();
  const shaped = fn.params.filter((p) => p.shape);
  const what = (p: Param) => jsString(`${exported}: ${p.sourceName}`);
  const describe = (size: number | { sourceName: string; name: string }) =>
    jsString(typeof size === 'number' ? 'its fixed size' : bound.get(size.name)!);
  // Lengths and row counts.
  for (const p of shaped) {
    const size = p.shape!.sizes[0];
    const kind = p.shape!.kind === 'mat' ? 'row count' : 'length';
    if (typeof size !== 'number' && !bound.has(size.name)) {
      bound.set(size.name, `${size.sourceName} (the ${kind} of ${p.sourceName})`);
      lines.push(`const ${size.name} = $length(${p.name}, ${what(p)});`);
    } else {
      lines.push(`$expect(${p.name}, ${typeof size === 'number' ? size : size.name}, ${what(p)}, ${describe(size)});`);
    }
  }
  // Row lengths: a size first bound here takes the first non-empty matrix's.
  const matrices = shaped.filter((p) => p.shape!.kind === 'mat');
  for (const p of matrices) {
    const size = p.shape!.sizes[1];
    if (typeof size !== 'number' && !bound.has(size.name)) {
      const sharing = matrices.filter((q) => { const s = q.shape!.sizes[1]; return typeof s !== 'number' && s.name === size.name; });
      const first = sharing.reduceRight((otherwise, q) => `$columns(${q.name}, ${what(q)}, ${otherwise})`, '0');
      // Named after the first matrix: the others only stand in for it when it has no rows.
      bound.set(size.name, `${size.sourceName} (the row length of ${p.sourceName})`);
      lines.push(`const ${size.name} = ${first};`);
    }
    lines.push(`$expectRows(${p.name}, ${typeof size === 'number' ? size : size.name}, ${what(p)}, ${describe(size)});`);
  }
  return lines;
}

/**
 * With `checkArgs`, a check that each number parameter was passed a number: JavaScript would
 * otherwise turn a string into a number or undefined into NaN, silently. (Array parameters are
 * always checked, by the prologue.)
 */
export function argumentChecks(fn: IrFunction, exported: string, checkArgs: boolean): string[] {
  if (!checkArgs) return [];
  return fn.params.filter((p) => !p.shape).map((p) => `$number(${p.name}, ${jsString(`${exported}: ${p.sourceName}`)});`);
}

/**
 * fGradInto zeroes the caller's arrays before writing the gradient into them: one that is also an
 * argument (out.x === x, or another parameter's array, or a row of a matrix argument) would be
 * destroyed, and two out arrays that are one would mix two gradients. Checked first, before
 * anything is written; matrices row by row, since a shallow copy shares the rows.
 */
export function aliasChecks(fn: IrFunction, exported: string): string[] {
  const lines: string[] = [];
  const outputs = (fn.gradient ?? []).filter((g) => g.param.shape).map((g) => g.param);
  const into = (p: Param) => `${outParameterName}${member(p.sourceName)}`;
  // Which helper compares an out array (p) with another array (q), by their kinds.
  const helper = (p: Param, q: Param) => {
    const [a, b] = [p.shape!.kind, q.shape!.kind];
    return a === 'mat' ? (b === 'mat' ? '$distinctRows' : '$rowsDistinctFrom') : b === 'mat' ? '$distinctFromRows' : '$distinct';
  };
  outputs.forEach((p, n) => {
    const what = jsString(`${exported}: out.${p.sourceName}`);
    for (const q of fn.params.filter((q) => q.shape)) lines.push(`${helper(p, q)}(${into(p)}, ${q.name}, ${what}, ${jsString(`the argument ${q.sourceName}`)});`);
    for (const q of outputs.slice(0, n)) lines.push(`${helper(p, q)}(${into(p)}, ${into(q)}, ${what}, ${jsString(`out.${q.sourceName}`)});`);
  });
  if (lines.length > 0) lines.unshift("// out's arrays are zeroed, then written: none may be an argument or another out array.");
  return lines;
}

function returnValue(fn: IrFunction, operand: (o: Operand) => string): string {
  const value = fn.result?.rows ? `$rows(${operand(fn.value)}, ${operand(fn.result.rows)})` : operand(fn.value);
  if (!fn.gradient) return value;
  const entries = fn.gradient.map((g) => `${propertyKey(g.param.sourceName)}: ${operand(g.adjoint)}`);
  return `{ value: ${value}, gradient: ${entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}'} }`;
}

/** The size names a function's array parameters bind (declared by its prologue). */
function sizeNames(fn: IrFunction): string[] {
  const names = new Set<string>();
  for (const p of fn.params) for (const size of p.shape?.sizes ?? []) if (typeof size !== 'number') names.add(size.name);
  return [...names];
}

interface SplitOptions {
  readonly reverse: readonly Instr[];
  /** Parameters before the function's own (`$out` for fGradInto). */
  readonly first: readonly string[];
  /** Size names the main function binds (in `checks`), passed on to each chunk. */
  readonly sizes: readonly string[];
  readonly allocate: ConstructorParameters<typeof BodyPrinter>[3];
  readonly exported: string;
  readonly variant: Variant;
}

/**
 * A function too big for V8 to optimise, as chunk functions and a main function that calls them
 * in order (split-function.ts). Crossing values live in one scratch array per function: a
 * Float64Array, or (when arrays cross, in a function with loops) a plain array. Undefined when
 * the body does not split (one top-level statement holds it all, a loop).
 */
function emitSplit(fn: IrFunction, local: string, doc: string, results: readonly Operand[], checks: readonly string[], lines: LineMap, options: SplitOptions): Section[] | undefined {
  const top = fn.body.concat(options.reverse);
  const paramNames = [...options.first, ...fn.params.map((p) => p.name), ...options.sizes];
  const split = splitFunction(top, new Set(paramNames), results);
  if (split.chunks.length < 2) return undefined;
  const { table } = split;
  const scratch = scratchName(local);
  // (By the variable's number in the table; -1, never mentioned, has no slot.)
  const slot = (v: number) => `${scratch}[${v >= 0 && table.slot[v] >= 0 ? table.slot[v] : undefined}]`;
  const load = (v: number) => (v >= 0 && table.flags[v] & isBoolean ? `${slot(v)} !== 0` : slot(v));
  const store = (v: number) => `${slot(v)} = ${table.flags[v] & isBoolean ? `+${table.names[v]}` : table.names[v]};`;
  const sections: Section[] = [];
  const header = new Section();
  header.push(`// ${local} is split into ${split.chunks.length} functions so that V8 optimises each of them.`);
  // (Arrays cross chunks too: a plain array holds them and the numbers, a few per call.)
  header.push(`const ${scratch} = ${split.holdsArrays ? `new Array(${Math.max(1, split.slots)}).fill(0)` : `new Float64Array(${Math.max(1, split.slots)})`};`);
  sections.push(header);
  // Where each chunk starts in `top`: the reverse sweep starts at fn.body.length.
  let start = 0;
  split.chunks.forEach((chunk, c) => {
    const printer = new BodyPrinter(lines, inlinableTemporaries(table, [chunk.instrs], [], chunk.liveOut), fn.name, options.allocate);
    const out = printer.out;
    out.push(`function ${chunkName(local, c + 1)}(${paramNames.join(', ')}) {`, fn.span.start);
    for (const v of chunk.liveIn) out.push(`  ${chunk.updated.has(v) ? 'let' : 'const'} ${table.names[v]} = ${load(v)};`);
    // Source-line comments for the reverse sweep only, as in an unsplit gradient.
    const firstReverse = options.reverse.length > 0 && fn.body.length < start + chunk.instrs.length ? Math.max(0, fn.body.length - start) : -1;
    start += chunk.instrs.length;
    printer.statements(chunk.instrs, '  ', false, 0, firstReverse < 0 ? chunk.instrs.length : firstReverse);
    if (firstReverse >= 0) printer.statements(chunk.instrs, '  ', true, firstReverse);
    for (const v of chunk.liveOut) out.push(`  ${store(v)}`);
    out.push('}');
    sections.push(out);
  });
  const main = new Section();
  main.push(`/** ${doc} */`, fn.span.start);
  main.push(`function ${local}(${[...options.first, ...fn.params.map((p) => p.name)].join(', ')}) {`, fn.span.start);
  for (const line of checks) main.push(`  ${line}`, fn.span.start);
  split.chunks.forEach((_, c) => main.push(`  ${chunkName(local, c + 1)}(${paramNames.join(', ')});`));
  const operand = (o: Operand) => (o.kind === 'const' ? printNumber(o.value).text : paramNames.includes(o.name) ? o.name : load(table.find(o.name)));
  if (options.variant === 'into') {
    for (const g of fn.gradient ?? []) {
      if (g.param.shape) continue;
      const value = operand(g.adjoint);
      if (g.param.sourceName === '__proto__') {
        main.push(`  Object.defineProperty(${outParameterName}, '__proto__', { value: ${value}, writable: true, enumerable: true, configurable: true });`, fn.span.start);
      } else {
        main.push(`  ${outParameterName}${member(g.param.sourceName)} = ${value};`, fn.span.start);
      }
    }
    main.push(`  return ${operand(fn.value)};`, fn.span.start);
  } else {
    main.push(`  return ${returnValue(fn, operand)};`, fn.span.start);
  }
  main.push('}');
  sections.push(main);
  return sections;
}

/** Prints instructions as statements into a section, inlining the given temporaries. */
class BodyPrinter {
  readonly out = new Section();
  private lastLine = -1;
  /** The statement of the last instruction printed with source lines (the next is often of the same one). */
  private lastStatement = -1;

  /** Where the references of the operation being printed start in the table's refs (-1: look its operands up by name). */
  private base = -1;
  /** The loop depth of the instructions being printed, in the blocks inlinableTemporaries read. */
  private depth = 0;
  private readonly table: VariableTable;
  private readonly facts: number;

  constructor(
    private readonly lines: LineMap,
    inlining: Inlining,
    private readonly fnName = '',
    private readonly allocate?: (instr: Extract<Instr, { kind: 'array' }>, length: string, rows: string | undefined) => string,
  ) {
    this.table = inlining.table;
    this.facts = inlining.facts;
  }

  /** An operand: a constant, a variable's name, or the expression of a temporary inlined in its place. */
  operand = (o: Operand): Printed => (o.kind === 'const' ? printNumber(o.value) : this.variable(o.name, this.table.find(o.name)));

  /** Operand k of the operation whose references start at `base` (printOp's callback), by its number. */
  private readonly argument = (o: Operand, k: number): Printed => {
    if (o.kind === 'const') return printNumber(o.value);
    return this.variable(o.name, this.base >= 0 ? this.table.refs[this.base + 1 + k] : this.table.find(o.name));
  };

  /** The variable numbered v (-1: never mentioned), called `name`. */
  private variable(name: string, v: number): Printed {
    const { table } = this;
    const inlined = v >= 0 && table.facts[v] === this.facts ? table.inlined[v] : undefined;
    if (inlined === undefined) return { text: name, prec: primaryPrecedence };
    const base = this.base;
    this.base = table.def[v];
    const printed = printOp(inlined, this.argument);
    this.base = base;
    return printed;
  }

  /** Prints the body of a loop in the blocks being printed (one loop deeper). */
  loopStatements(block: readonly Instr[], indent: string, sourceLines: boolean): void {
    this.depth++;
    this.statements(block, indent, sourceLines);
    this.depth--;
  }

  /**
   * Whether a temporary is printed where it is read, not as a statement: read once (at the loop
   * depth of its definition), never kept, and no operand of it ever assigned. Decided when its
   * definition is reached, in program order (uses come after it): how many operations an inlined
   * expression nests is counted from its operands', and past a few dozen a line is unreadable and
   * the printer (which recurses into inlined temporaries) no longer shallow for any input. (A
   * loop body printed twice, as partial sums print it, decides the same again.) `at`: where its
   * references start in the table (-1: look them up by name).
   */
  private inlines(i: Extract<Instr, { kind: 'const' }>, at: number): boolean {
    const { table, facts } = this;
    const { refs, flags, nesting } = table;
    const f = at < 0 ? table.find(i.target) : refs[at];
    if (f < 0 || table.facts[f] !== facts || table.reads[f] !== this.depth || flags[f] & isKept || !isTemporary(i.target)) return false;
    let d = 1;
    const args = i.expr.args;
    for (let j = 0; j < args.length; j++) {
      const a = args[j];
      if (a.kind !== 'var') continue;
      // (Counted by inlinableTemporaries: its facts are this analysis's.)
      const fa = at < 0 ? table.find(a.name) : refs[at + 1 + j];
      if (flags[fa] & isMutable) return false;
      d = Math.max(d, 1 + nesting[fa]);
    }
    if (d > maxInlineDepth) return false;
    nesting[f] = d;
    table.inlined[f] = i.expr;
    table.def[f] = at;
    return true;
  }

  /** Prints block[from … to - 1]. */
  statements(block: readonly Instr[], indent: string, sourceLines: boolean, from = 0, to = block.length): void {
    const { out, operand, lines } = this;
    const { table } = this;
    const starts = table.startsOf(block);
    for (let k = from; k < to; k++) {
      const instr = block[k];
      const at = instr.origin.span.start;
      if (sourceLines && instr.origin.statement.start !== this.lastStatement) {
        // (An instruction of the statement before is on its line: only a new statement is looked up.)
        this.lastStatement = instr.origin.statement.start;
        const line = lines.lineIndex(this.lastStatement) + 1;
        if (line !== this.lastLine) {
          this.lastLine = line;
          out.push(comment(indent, `line ${line}: ${lines.lineText(line, 4 * printWidth).trim()}`), instr.origin.statement.start);
        }
      }
      if (instr.kind === 'if') {
        if (instr.then.length === 0) {
          // Only the else branch does anything: test the negated condition.
          const c = operand(instr.condition);
          out.push(`${indent}if (!${c.prec >= primaryPrecedence ? c.text : `(${c.text})`}) {`, at);
          this.statements(instr.else, indent + '  ', sourceLines);
          out.push(`${indent}}`, at);
          continue;
        }
        out.push(`${indent}if (${operand(instr.condition).text}) {`, at);
        this.statements(instr.then, indent + '  ', sourceLines);
        if (instr.else.length > 0) {
          out.push(`${indent}} else {`, at);
          this.statements(instr.else, indent + '  ', sourceLines);
        }
        out.push(`${indent}}`, at);
        continue;
      }
      if (instr.kind === 'loop' || instr.kind === 'store' || instr.kind === 'array' || instr.kind === 'check') {
        this.arrayStatement(instr, indent, sourceLines);
        continue;
      }
      // Its target's and operands' records, by position.
      const base = starts === undefined ? -1 : starts[k];
      if (instr.kind === 'const' && this.inlines(instr, base)) continue;
      this.base = base;
      const expr = instr.expr ? printOp(instr.expr, this.argument).text : undefined;
      switch (instr.kind) {
        case 'const':
          out.push(`${indent}const ${instr.target} = ${expr};`, at);
          break;
        case 'let':
          out.push(expr === undefined ? `${indent}let ${instr.target};` : `${indent}let ${instr.target} = ${expr};`, at);
          break;
        case 'set':
          out.push(`${indent}${instr.target} = ${expr};`, at);
          break;
        case 'add':
          // `d$x += -(a * b)` reads better as `d$x -= a * b` (the same IEEE operation).
          if (instr.expr.op === 'neg') out.push(`${indent}${instr.target} -= ${this.argument(instr.expr.args[0], 0).text};`, at);
          else out.push(`${indent}${instr.target} += ${expr};`, at);
          break;
        default:
          assertNever(instr);
      }
      this.base = -1;
    }
  }

  private arrayStatement(instr: Extract<Instr, { kind: 'loop' | 'store' | 'array' | 'check' }>, indent: string, sourceLines: boolean): void {
    const { out } = this;
    const text = (o: Operand) => this.operand(o).text;
    const at = instr.origin.span.start;
    const note = instr.kind === 'check' ? undefined : instr.note;
    // A note may have several lines.
    if (note) for (const line of `${note[0].toUpperCase()}${note.slice(1)}.`.split('\n')) out.push(comment(indent, line), at);
    switch (instr.kind) {
      case 'array': {
        if (!this.allocate) throw new Error('internal error: no allocation for arrays here');
        const declare = instr.declared ? '' : 'const ';
        out.push(`${indent}${declare}${instr.target} = ${this.allocate(instr, text(instr.length), instr.rows && text(instr.rows))};`, at);
        return;
      }
      case 'store': {
        const target = `${instr.array}[${text(instr.index)}]`;
        if (!instr.accumulate) out.push(`${indent}${target} = ${printOp(instr.expr, this.operand).text};`, at);
        else if (instr.expr.op === 'neg') out.push(`${indent}${target} -= ${text(instr.expr.args[0])};`, at);
        else out.push(`${indent}${target} += ${printOp(instr.expr, this.operand).text};`, at);
        return;
      }
      case 'check': {
        const i = this.operand(instr.index);
        const n = this.operand(instr.length);
        const line = this.lines.position(instr.origin.statement.start).line;
        const where = jsString(`${this.fnName}, line ${line}: ${instr.message} is `);
        if (instr.bound) {
          out.push(`${indent}if (!Number.isSafeInteger(${i.text})) {`, at);
          out.push(`${indent}  throw new RangeError(${where} + ${i.text} + ', not a whole number a loop can count to (within 2^53)');`, at);
          out.push(`${indent}}`, at);
          return;
        }
        const last = `(${n.prec >= primaryPrecedence ? n.text : `(${n.text})`} - 1)`;
        if (instr.from) {
          // An array let defines the elements from its range's start (checked not negative) on.
          const f = this.operand(instr.from);
          const start = f.prec >= primaryPrecedence ? f.text : `(${f.text})`;
          out.push(`${indent}if (!(${i.text} >>> 0 === ${i.text} && ${i.text} >= ${start} && ${i.text} < ${n.text})) {`, at);
          out.push(`${indent}  throw new RangeError(${where} + ${i.text} + ', outside the elements defined, ' + ${start} + '..' + ${last});`, at);
        } else {
          out.push(`${indent}if (!(${i.text} >>> 0 === ${i.text} && ${i.text} < ${n.text})) {`, at);
          out.push(`${indent}  throw new RangeError(${where} + ${i.text} + ', outside 0..' + ${last});`, at);
        }
        out.push(`${indent}}`, at);
        return;
      }
      case 'loop': {
        if (isTwoPassLogsumexp(instr)) {
          this.twoPassLogsumexp(instr, indent, sourceLines);
          return;
        }
        if (hasPartialSums(instr)) {
          printPartialSums({ push: (line, origin) => out.push(line, origin), statements: (b, ind, s) => this.loopStatements(b, ind, s), operand: this.operand, comment }, instr, indent, sourceLines);
          return;
        }
        const r = instr.reduction;
        const state = (what: string) => reductionStateName(r!.target, what);
        // Declared here, or before (a reduction in a branch, whose result the reverse sweep reads).
        const letOf = instr.declared ? '' : 'let ';
        const constOf = instr.declared ? '' : 'const ';
        if (r) {
          switch (r.op) {
            case 'sum':
              out.push(`${indent}${letOf}${r.target} = 0;`, at);
              break;
            case 'max':
            case 'min':
              out.push(`${indent}${letOf}${r.target} = ${r.op === 'max' ? '-' : ''}Infinity;`, at);
              out.push(`${indent}${letOf}${r.arg} = -1;`, at);
              break;
            case 'prod':
              out.push(`${indent}${letOf}${r.nonzero} = 1;`, at);
              out.push(`${indent}${letOf}${r.zeros} = 0;`, at);
              break;
            case 'logsumexp':
              out.push(`${indent}let ${state('max')} = -Infinity;`, at);
              out.push(`${indent}let ${state('sum')} = 0;`, at);
              break;
          }
        }
        const i = instr.index;
        // (A bound that binds less tightly than the comparison or `- 1` around it is parenthesised:
        // a schedule's bound may be a `c ? a : b`.)
        const from = this.operand(instr.from);
        const to = this.operand(instr.to);
        const within = (p: Printed, prec: number) => (p.prec > prec ? p.text : `(${p.text})`);
        if (instr.descending) {
          const start = instr.to.kind === 'const' ? String(instr.to.value - 1) : `${within(to, additivePrecedence - 1)} - 1`;
          out.push(`${indent}for (let ${i} = ${start}; ${i} >= ${within(from, relationalPrecedence)}; ${i}--) {`, at);
        } else {
          out.push(`${indent}for (let ${i} = ${from.text}; ${i} < ${within(to, relationalPrecedence)}; ${i}++) {`, at);
        }
        if (instr.exit) {
          // A while: its condition, from the state at the start of the iteration, and the stop.
          this.loopStatements(instr.exit.body, indent + '  ', sourceLines);
          const c = this.operand(instr.exit.condition);
          out.push(`${indent}  if (!${c.prec >= primaryPrecedence ? c.text : `(${c.text})`}) break;`, at);
        }
        this.loopStatements(instr.body, indent + '  ', sourceLines);
        if (r) {
          const v = text(r.value);
          const inner = indent + '  ';
          switch (r.op) {
            case 'sum':
              out.push(`${inner}${r.target} += ${v};`, at);
              break;
            case 'max':
            case 'min':
              // The first index reaching the extreme (the first term is always taken, -Infinity
              // included); a NaN term makes the result NaN, as Math.max does.
              out.push(`${inner}if (${v} ${r.op === 'max' ? '>' : '<'} ${r.target} || ${r.arg} < 0 || ${v} !== ${v}) {`, at);
              out.push(`${inner}  ${r.target} = ${v};`, at);
              out.push(`${inner}  ${r.arg} = ${i};`, at);
              out.push(`${inner}}`, at);
              break;
            case 'prod':
              // Zeros are counted, not multiplied in, so the derivative at a zero is exact.
              out.push(`${inner}if (${v} === 0) ${r.zeros}++;`, at);
              out.push(`${inner}else ${r.nonzero} *= ${v};`, at);
              break;
            case 'logsumexp':
              // One pass: the sum of exp(term - max so far) over the terms other than the maximum
              // (whose own term is 1, added by log1p: log(1 + 2e-8) would keep 8 digits), rescaled
              // when the maximum grows. A term of -Infinity adds 0, and one of +Infinity equal to
              // the maximum adds nothing (∞ - ∞).
              out.push(`${inner}if (${v} > ${state('max')}) {`, at);
              out.push(`${inner}  ${state('sum')} = (${state('sum')} + 1) * Math.exp(${state('max')} - ${v});`, at);
              out.push(`${inner}  ${state('max')} = ${v};`, at);
              out.push(`${inner}} else if (${v} !== -Infinity && ${v} !== Infinity) {`, at);
              out.push(`${inner}  ${state('sum')} += Math.exp(${v} - ${state('max')});`, at);
              out.push(`${inner}}`, at);
              break;
          }
        }
        out.push(`${indent}}`, at);
        if (r?.op === 'prod') out.push(`${indent}${constOf}${r.target} = ${r.zeros} === 0 ? ${r.nonzero} : 0 * ${r.nonzero};`, at);
        if (r?.op === 'logsumexp') out.push(`${indent}${constOf}${r.target} = ${state('max')} + Math.log1p(${state('sum')});`, at);
        return;
      }
    }
  }

  /**
   * A logsumexp whose body is cheap to compute twice (isTwoPassLogsumexp): a first pass finds the
   * maximum M and its first index, a second adds exp(term - M) over the other terms, so that
   * R = M + log1p(sum) (log1p: the maximum's own term, 1, is not added, which keeps the digits of a
   * sum dominated by it). With a tape (a gradient's forward sweep), the second pass also stores
   * every exp(term - M), and `scale` = 1 / (1 + sum) makes ∂R/∂term = exp(term - R) their product.
   * Terms of ±Infinity add nothing (a +Infinity maximum gives R = +Infinity, all -Infinity gives
   * -Infinity); a NaN term makes the sum NaN.
   */
  private twoPassLogsumexp(instr: Extract<Instr, { kind: 'loop' }>, indent: string, sourceLines: boolean): void {
    const { out } = this;
    const r = instr.reduction!;
    const at = instr.origin.span.start;
    const state = (what: string) => reductionStateName(r.target, what);
    const i = instr.index;
    const head = `${indent}for (let ${i} = ${this.operand(instr.from).text}; ${i} < ${this.operand(instr.to).text}; ${i}++) {`;
    const inner = indent + '  ';
    const v = this.operand(r.value).text;
    out.push(comment(indent, 'logsumexp in two passes: the maximum (no exp), then exp(term - maximum).'), at);
    out.push(`${indent}let ${state('max')} = -Infinity;`, at);
    out.push(`${indent}let ${state('first')} = -1;`, at);
    out.push(head, at);
    this.loopStatements(instr.body, inner, sourceLines);
    out.push(`${inner}if (${v} > ${state('max')}) {`, at);
    out.push(`${inner}  ${state('max')} = ${v};`, at);
    out.push(`${inner}  ${state('first')} = ${i};`, at);
    out.push(`${inner}}`, at);
    out.push(`${indent}}`, at);
    out.push(`${indent}let ${state('sum')} = 0;`, at);
    out.push(head, at);
    this.loopStatements(instr.body, inner, sourceLines);
    const counted = `${i} !== ${state('first')} && ${v} !== -Infinity && ${v} !== Infinity`;
    const tape = r.tape;
    if (tape) {
      const offset = this.operand(tape.offset);
      const position = tape.offset.kind === 'const' && tape.offset.value === 0 ? i : `${offset.text} + ${i}`;
      out.push(comment(inner, 'Stored for the reverse sweep, which reads exp(term - result) as this times the scale.'), at);
      out.push(`${inner}const ${state('exp')} = Math.exp(${v} - ${state('max')});`, at);
      out.push(`${inner}${tape.array}[${position}] = ${state('exp')};`, at);
      out.push(`${inner}if (${counted}) ${state('sum')} += ${state('exp')};`, at);
    } else {
      out.push(`${inner}if (${counted}) ${state('sum')} += Math.exp(${v} - ${state('max')});`, at);
    }
    out.push(`${indent}}`, at);
    const constOf = instr.declared ? '' : 'const ';
    out.push(`${indent}${constOf}${r.target} = ${state('max')} + Math.log1p(${state('sum')});`, at);
    if (tape) out.push(`${indent}${constOf}${tape.scale} = 1 / (1 + ${state('sum')});`, at);
  }
}

/** What the printer reads of each variable (its record's inlining facts of analysis `facts`). */
interface Inlining {
  readonly table: VariableTable;
  readonly facts: number;
}

/** A new table of the variables in `printed` (the blocks a printer prints), and the temporaries to inline in `blocks`. */
function inliningOf(printed: readonly (readonly Instr[])[], blocks: readonly (readonly Instr[])[], results: readonly Operand[]): Inlining {
  const table = new VariableTable();
  for (const block of printed) table.walk(block);
  return inlinableTemporaries(table, blocks, results);
}

/**
 * Temporaries read exactly once whose operands never change are printed where they are used, so
 * `const $t1 = x * x; return $t1 + 1;` reads `return x * x + 1;`. Values are not reordered past a
 * change of their operands: anything read through a mutable (`let`) variable stays a statement.
 * This counts, in the blocks read one after another, the reads of each variable and at which loop
 * depth, which are assigned and which are kept, as a new analysis of the table (each chunk of a
 * split function has its own); the printer decides at each definition (BodyPrinter.inlines).
 */
function inlinableTemporaries(table: VariableTable, blocks: readonly (readonly Instr[])[], results: readonly Operand[], keep: readonly number[] = []): Inlining {
  // The loop depth of each variable's one read, or `readMoreThanOnce`: a value is never moved
  // into a loop, and one read twice is not inlined. (Each mention in a walked block is read by
  // its variable's number in the table's references, without looking its name up.)
  const facts = table.newAnalysis();
  const fact = (v: number): number => {
    if (table.facts[v] !== facts) {
      table.facts[v] = facts;
      table.reads[v] = notRead;
      table.flags[v] &= ~(isMutable | isKept);
      table.nesting[v] = 0;
      table.inlined[v] = undefined;
      table.def[v] = -1;
    }
    return v;
  };
  const named = (name: string) => fact(table.variable(name));
  const keepVariable = (v: number) => (table.flags[fact(v)] |= isKept);
  const mutable = (v: number) => (table.flags[fact(v)] |= isMutable);
  for (const v of keep) keepVariable(v);
  const countVariable = (v: number, depth: number) => {
    fact(v);
    table.reads[v] = table.reads[v] === notRead ? depth : readMoreThanOnce;
  };
  const count = (o: Operand, depth: number) => {
    if (o.kind === 'var') countVariable(table.variable(o.name), depth);
  };
  const countAll = (ops: readonly Operand[], depth: number) => {
    for (const o of ops) count(o, depth);
  };
  const walk = (block: readonly Instr[], depth: number) => {
    const starts = table.startsOf(block);
    for (let k = 0; k < block.length; k++) {
      const i = block[k];
      switch (i.kind) {
        case 'loop': {
          count(i.from, depth);
          count(i.to, depth);
          if (i.exit) {
            walk(i.exit.body, depth + 1);
            count(i.exit.condition, depth + 1);
          }
          walk(i.body, depth + 1);
          const r = i.reduction;
          if (r) {
            count(r.value, depth + 1);
            // Only a sum prints its term once.
            if (r.op !== 'sum' && r.value.kind === 'var') keepVariable(named(r.value.name));
          }
          for (const d of definesOf(i)) mutable(named(d));
          break;
        }
        case 'if':
          count(i.condition, depth);
          walk(i.then, depth);
          walk(i.else, depth);
          break;
        case 'store': {
          // The array is written through its name (a row may be a temporary): it stays a variable.
          const f = named(i.array);
          keepVariable(f);
          mutable(f);
          countAll(readsOf(i), depth);
          break;
        }
        case 'check':
          // Printed more than once.
          for (const o of readsOf(i)) if (o.kind === 'var') keepVariable(named(o.name));
          countAll(readsOf(i), depth);
          break;
        case 'array':
          countAll(readsOf(i), depth);
          break;
        default: {
          // const, let, set, add: nearly every instruction.
          const at = starts === undefined ? -1 : starts[k];
          const { refs } = table;
          if (at < 0) countAll(readsOf(i), depth);
          else if (i.expr) {
            const n = i.expr.args.length;
            for (let j = 1; j <= n; j++) {
              const r = refs[at + j];
              if (r >= 0) countVariable(r, depth);
            }
          }
          if (i.kind !== 'const') mutable(at < 0 ? named(i.target) : refs[at]);
        }
      }
    }
  };
  results.forEach((o) => count(o, 0));
  for (const block of blocks) walk(block, 0);
  // (Which of them are inlined is decided as the printer reaches each definition: BodyPrinter.inlines.)
  return { table, facts };
}

const maxInlineDepth = 24;
