import type { IrFunction, Operand, Param } from '../../ir/ir.ts';
import { propertyKey } from '../names.ts';
import { ifReturn, Section } from './emit-js.ts';

/**
 * What each derivative export adds around its body: its leading parameter, the lines that read
 * it, and its result object. The body itself is printed by emit-js.ts like any other function.
 *
 *   fJvp(tangent, ...args) → { value, tangent }     forward mode
 *   fHvp(v, ...args)       → { value, gradient, hvp } forward over reverse
 */
export type DerivativeVariant = 'jvp' | 'hvp';

/** The object of tangents fJvp and fHvp take first. */
export const tangentArgument = '$tangent';

/** `.name`, or `["name"]` where a property access would not do. */
export function member(name: string): string {
  return name === '__proto__' ? `["__proto__"]` : `.${name}`;
}

const sizeOf = (s: number | { readonly name: string }) => (typeof s === 'number' ? String(s) : s.name);

/**
 * Reads each seeded parameter's tangent from the caller's object: a missing key is 0 (zeros for
 * an array); an array's tangent is checked against the parameter's sizes.
 */
export function tangentPrologue(fn: IrFunction, local: string, jsString: (text: string) => string): string[] {
  return (fn.tangent?.seeds ?? []).map(({ param, tangent }) => {
    const from = `${tangentArgument}${member(param.sourceName)}`;
    const what = jsString(`${local}: ${tangentArgument.slice(1)}.${param.sourceName}`);
    if (!param.shape) return `const ${tangent} = ${from} ?? 0;`;
    const [first, second] = param.shape.sizes;
    if (param.shape.kind === 'vec') return `const ${tangent} = $tangentVector(${from}, ${sizeOf(first)}, ${what});`;
    return `const ${tangent} = $tangentRows(${from}, ${sizeOf(first)}, ${sizeOf(second)}, ${what});`;
  });
}

/** A result's tangent, or zeros of its shape where it does not depend on the seeds. */
function tangentValue(fn: IrFunction, operand: (o: Operand) => string): string {
  const t = fn.tangent!.value;
  if (!fn.result) return t ? operand(t) : '0';
  const flat = t ? operand(t) : `new Float64Array(${operand(fn.value)}.length)`;
  return fn.result.rows ? `$rows(${flat}, ${operand(fn.result.rows)})` : flat;
}

/** Zeros shaped like a parameter's gradient. */
function zerosLike(p: Param): string {
  if (!p.shape) return '0';
  const [first, second] = p.shape.sizes;
  return p.shape.kind === 'vec' ? `new Float64Array(${sizeOf(first)})` : `$matrix(${sizeOf(first)}, ${sizeOf(second)})`;
}

export function derivativeReturn(fn: IrFunction, variant: DerivativeVariant, operand: (o: Operand) => string): string {
  const value = fn.result?.rows ? `$rows(${operand(fn.value)}, ${operand(fn.result.rows)})` : operand(fn.value);
  if (variant === 'jvp') return `{ value: ${value}, tangent: ${tangentValue(fn, operand)} }`;
  const gradient = fn.gradient!.map((g) => `${propertyKey(g.param.sourceName)}: ${operand(g.adjoint)}`);
  const hvp = fn.gradient!.map((g, k) => {
    const t = fn.tangent!.gradient![k];
    return `${propertyKey(g.param.sourceName)}: ${t ? operand(t) : zerosLike(g.param)}`;
  });
  const object = (entries: string[]) => (entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}');
  return `{ value: ${value}, gradient: ${object(gradient)}, hvp: ${object(hvp)} }`;
}

/** The operands a derivative export returns (for the printer's inlining). */
export function derivativeResults(fn: IrFunction): Operand[] {
  const t = fn.tangent!;
  return [fn.value, ...(fn.result?.rows ? [fn.result.rows] : []), ...(t.value ? [t.value] : []), ...(fn.gradient ?? []).map((g) => g.adjoint), ...(t.gradient ?? []).flatMap((o) => (o ? [o] : []))];
}

/** `[i][k]`: the index expressions of a block element. */
const at = (indices: readonly string[]) => indices.map((i) => `[${i}]`).join('');

/**
 * Zeros of these dimensions: 0, a Float64Array, Float64Array rows over one buffer ($matrix), or
 * (three or four dimensions) arrays of those ($block).
 */
function zeros(dims: readonly string[]): string {
  if (dims.length === 0) return '0';
  if (dims.length === 1) return `new Float64Array(${dims[0]})`;
  if (dims.length === 2) return `$matrix(${dims[0]}, ${dims[1]})`;
  return `$block([${dims.join(', ')}])`;
}

/** `for` loops over each index below its dimension, around `body`, at `indent`. */
function nested(out: Section, indices: readonly string[], dims: readonly string[], indent: string, body: (indent: string) => void): void {
  if (indices.length === 0) return body(indent);
  out.push(`${indent}for (let ${indices[0]} = 0; ${indices[0]} < ${dims[0]}; ${indices[0]}++) {`);
  nested(out, indices.slice(1), dims.slice(1), `${indent}  `, body);
  out.push(`${indent}}`);
}

/**
 * The sizes of the differentiated parameters, read from the arguments: `$nK` (a vector's length,
 * a matrix's row count) and `$cK` (a matrix's row length, 0 without rows).
 */
function parameterDims(wrt: readonly Param[], out: Section, local: string, jsString: (text: string) => string): Map<Param, string[]> {
  const dims = new Map<Param, string[]>();
  wrt.forEach((p, k) => {
    if (!p.shape) return dims.set(p, []);
    const what = jsString(`${local}: ${p.sourceName}`);
    out.push(`  const $n${k + 1} = $length(${p.name}, ${what});`);
    if (p.shape.kind === 'vec') return dims.set(p, [`$n${k + 1}`]);
    out.push(`  const $c${k + 1} = $columns(${p.name}, ${what}, 0);`);
    return dims.set(p, [`$n${k + 1}`, `$c${k + 1}`]);
  });
  return dims;
}

/**
 * fJacobian(...args) → { value, jacobian: { [param]: J } } for a function returning an array: J is
 * ∂value/∂param shaped (value's shape) × (param's shape), nested in that order, as JAX's
 * `jacobian` returns: J[i] (J[i][c] for a matrix value) has the parameter's shape. So a vector of
 * m gives a Float64Array of m for a scalar parameter, m rows of n for a vec[n], m arrays of rows
 * for a mat; a matrix of m rows of c gives m × c rows for a scalar parameter, m × c × n for a
 * vec[n], and so on (up to four dimensions, arrays of arrays of Float64Array rows).
 * This form is for a function whose reverse sweep cannot run several times after one forward
 * sweep (a loop with state: ad/repeat-reverse.ts). Chosen at run time from the sizes, m being the
 * value's size and n the total input size: when 2m < n, reverse rows (one fVjp per output element,
 * seeded with a unit cotangent: m sweeps of both kinds); else forward columns (`columnsLocal`,
 * several columns per run of the value's computation: emit-js.ts, emitJacobianColumns).
 * `$jacobianMode` (a module constant, 'auto') forces one path when it is 'forward' or 'reverse':
 * the tests compare both.
 */
export function jacobianFunction(vjp: IrFunction, local: string, valueLocal: string, columnsLocal: string, vjpLocal: string, jsString: (text: string) => string): Section {
  const out = new Section();
  const params = vjp.params.map((p) => p.name).join(', ');
  const wrt = vjp.gradient!.map((g) => g.param);
  const matrixValue = vjp.result?.rows !== undefined;
  const object = (entries: string[]) => (entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}');
  const shape = matrixValue ? 'm × c outputs' : 'm outputs';
  const sources = vjp.params.map((p) => p.sourceName).join(', ');
  out.push(`/** ${local}(${sources}): { value, jacobian }, jacobian[p] = ∂${vjp.name}/∂p (${shape} × p), by forward columns (${columnsLocal}) or one ${vjpLocal} per output (reverse rows), whichever is fewer. */`);
  out.push(`function ${local}(${params}) {`);
  // The value's dimensions and indices: m (and c, a matrix value's row length).
  const valueDims = matrixValue ? ['$m', '$mc'] : ['$m'];
  const valueAt = matrixValue ? ['$i', '$ic'] : ['$i'];
  const dims = parameterDims(wrt, out, local, jsString);
  out.push(`  // The value (and m, its ${matrixValue ? 'row count, and c, its row length' : 'length'}) by one evaluation of the function itself.`);
  out.push(`  const $value = ${valueLocal}(${params});`);
  out.push('  const $m = $value.length;');
  if (matrixValue) out.push('  const $mc = $m > 0 ? $value[0].length : 0;');
  const scalars = wrt.filter((p) => !p.shape).length;
  const arrays = wrt.filter((p) => p.shape).map((p) => dims.get(p)!.join(' * '));
  const total = [...arrays, ...(scalars > 0 || arrays.length === 0 ? [String(scalars)] : [])];
  out.push(`  const $n = ${total.join(' + ')}; // the total input size`);
  const outputs = matrixValue ? '$m * $mc' : '$m';
  // (Measured, README "Derivatives": a row here, both sweeps of fVjp, costs 1.5–2 forward columns.)
  out.push(`  // The rule: reverse rows (${matrixValue ? 'm·c' : 'm'} calls of fVjp, both sweeps each) when there are fewer than half as many outputs`);
  out.push(`  // as inputs (${matrixValue ? '2·m·c < n' : '2m < n'}: a row costs about two forward columns), else forward columns (which compute`);
  out.push('  // the value again, with several columns per run of it); $jacobianMode forces one of them.');
  for (const line of ifReturn('  ', `$jacobianMode === 'forward' || ($jacobianMode !== 'reverse' && !(2 * ${outputs} < $n))`, `${columnsLocal}(${params})`)) out.push(line);
  out.push(`  const $j = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${zeros([...valueDims, ...dims.get(p)!])}`))};`);
  out.push(`  const $u = ${zeros(valueDims)};`);
  // Each row's sweeps write its gradient straight into the Jacobian's row (out's arrays), and its
  // numbers into $out: no array or object is made per row.
  out.push('  const $out = {};');
  const setOut = (key: string, value: string) =>
    key === '__proto__' ? `Object.defineProperty($out, '__proto__', { value: ${value}, writable: true, enumerable: true, configurable: true });` : `$out${member(key)} = ${value};`;
  nested(out, valueAt, valueDims, '  ', (indent) => {
    out.push(`${indent}$u${at(valueAt)} = 1;`);
    for (const p of wrt) if (p.shape) out.push(`${indent}${setOut(p.sourceName, `$j${member(p.sourceName)}${at(valueAt)}`)}`);
    out.push(`${indent}${vjpLocal}($out, $u, ${params});`);
    out.push(`${indent}$u${at(valueAt)} = 0;`);
    for (const p of wrt) if (!p.shape) out.push(`${indent}$j${member(p.sourceName)}${at(valueAt)} = $out${member(p.sourceName)};`);
  });
  out.push('  return { value: $value, jacobian: $j };');
  out.push('}');
  return out;
}

/**
 * fHessian(...args) → { value, gradient, hessian }, hessian[p][q] = ∂²f/∂p∂q shaped (p's shape) ×
 * (q's shape), nested in that order: a number, a Float64Array, rows, or (a matrix with a vector
 * or a matrix) arrays of rows, hessian[p][q][i] (or [i][k]) having q's shape. Built from one fHvp
 * per input direction: column by column, with a unit tangent seeded in each scalar and each
 * element of each array parameter. A Hessian of n inputs costs n Hessian-vector products (each a
 * small constant times the gradient).
 */
export function hessianFunction(hvp: IrFunction, local: string, hvpLocal: string, jsString: (text: string) => string): Section {
  const out = new Section();
  const params = hvp.params.map((p) => p.name).join(', ');
  const wrt = hvp.gradient!.map((g) => g.param);
  const object = (entries: string[]) => (entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}');
  out.push(`/** ${local}(${hvp.params.map((p) => p.sourceName).join(', ')}): { value, gradient, hessian }, hessian[p][q] = ∂²${hvp.name}/∂p∂q, one ${hvpLocal} per input direction (forward over reverse). */`);
  out.push(`function ${local}(${params}) {`);
  const dims = parameterDims(wrt, out, local, jsString);
  const indices = (p: Param, prefix: string) => dims.get(p)!.map((_, d) => (d === 0 ? prefix : `${prefix}2`));
  out.push(`  const $seed = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${zeros(dims.get(p)!)}`))};`);
  out.push(`  const $h = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${object(wrt.map((q) => `${propertyKey(q.sourceName)}: ${zeros([...dims.get(p)!, ...dims.get(q)!])}`))}`))};`);
  out.push('  let $r;');
  for (const q of wrt) {
    const seed = `$seed${member(q.sourceName)}`;
    const qAt = indices(q, '$j');
    const column = (indent: string) => {
      out.push(`${indent}$r = ${hvpLocal}($seed, ${params});`);
      for (const p of wrt) {
        const h = `$h${member(p.sourceName)}${member(q.sourceName)}`;
        const got = `$r.hvp${member(p.sourceName)}`;
        const pAt = indices(p, '$i');
        // A scalar direction's column has p's shape: the product itself is the block.
        if (!q.shape) out.push(`${indent}${h} = ${got};`);
        else if (!p.shape) out.push(`${indent}${h}${at(qAt)} = ${got};`);
        else if (p.shape.kind === 'vec') out.push(`${indent}for (let $i = 0; $i < ${dims.get(p)![0]}; $i++) ${h}[$i]${at(qAt)} = ${got}[$i];`);
        else nested(out, pAt, dims.get(p)!, indent, (inner) => out.push(`${inner}${h}${at(pAt)}${at(qAt)} = ${got}${at(pAt)};`));
      }
    };
    if (!q.shape) {
      out.push(`  // ∂/∂${q.sourceName}: one Hessian-vector product along it.`);
      out.push(`  ${seed} = 1;`);
      column('  ');
      out.push(`  ${seed} = 0;`);
    } else {
      out.push(`  // ∂/∂${q.sourceName}${q.shape.kind === 'vec' ? '[j]' : '[j][k]'}: one Hessian-vector product along each element.`);
      nested(out, qAt, dims.get(q)!, '  ', (indent) => {
        out.push(`${indent}${seed}${at(qAt)} = 1;`);
        column(indent);
        out.push(`${indent}${seed}${at(qAt)} = 0;`);
      });
    }
  }
  out.push(`  if ($r === undefined) $r = ${hvpLocal}($seed, ${params});`);
  out.push('  return { value: $r.value, gradient: $r.gradient, hessian: $h };');
  out.push('}');
  return out;
}
