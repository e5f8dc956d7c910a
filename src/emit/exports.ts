import type { IrFunction, Operand, Param } from '../ir/ir.ts';
import { propertyKey } from './names.ts';
import { Section } from './emit-js.ts';

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

/**
 * fJacobian(...args) → { value, jacobian: { [param]: J } } for a function returning a vector of m
 * numbers: J is ∂value/∂param shaped (m) × (param): a Float64Array of m for a scalar parameter,
 * m rows of n for a vec[n]. Chosen at run time from the sizes, n being the total input size: when
 * m < n, reverse rows (one fVjp per output, seeded with a unit cotangent: m sweeps); else forward
 * columns (one fJvp per input, seeded with a unit tangent: n sweeps). So a dense Jacobian costs
 * min(m, n) sweeps. `$jacobianMode` (a module constant, 'auto') forces one path when it is
 * 'forward' or 'reverse': the tests compare both. Functions returning a matrix, or with differentiated matrix parameters, have
 * no fJacobian.
 */
export function jacobianFunction(jvp: IrFunction, vjp: IrFunction | undefined, local: string, valueLocal: string, jvpLocal: string, vjpLocal: string, jsString: (text: string) => string): Section {
  const out = new Section();
  const params = jvp.params.map((p) => p.name).join(', ');
  const wrt = jvp.tangent!.seeds.map((s) => s.param);
  const size = new Map<Param, string>();
  wrt.forEach((p, k) => p.shape && size.set(p, `$n${k + 1}`));
  const object = (entries: string[]) => (entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}');
  const how = vjp ? `one ${jvpLocal} per input (forward columns) or one ${vjpLocal} per output (reverse rows), whichever is fewer` : `by forward mode: one ${jvpLocal} per input`;
  out.push(`/** ${local}(${jvp.params.map((p) => p.sourceName).join(', ')}): { value, jacobian }, jacobian[p] = ∂${jvp.name}/∂p (m outputs × p), ${how}. */`);
  out.push(`function ${local}(${params}) {`);
  for (const [p, n] of size) out.push(`  const ${n} = $length(${p.name}, ${jsString(`${local}: ${p.sourceName}`)});`);
  out.push(`  const $seed = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${p.shape ? `new Float64Array(${size.get(p)})` : '0'}`))};`);
  out.push('  // The value (and m, its length) by one evaluation of the function itself.');
  out.push(`  const $value = ${valueLocal}(${params});`);
  out.push('  const $m = $value.length;');
  out.push(`  const $j = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${p.shape ? `$matrix($m, ${size.get(p)})` : 'new Float64Array($m)'}`))};`);
  if (vjp) {
    const scalars = wrt.filter((p) => !p.shape).length;
    const total = [...size.values(), ...(scalars > 0 || size.size === 0 ? [String(scalars)] : [])];
    out.push(`  const $n = ${total.join(' + ')}; // the total input size`);
    out.push('  // The rule: reverse rows (m sweeps) when there are fewer outputs than inputs (m < n), else');
    out.push('  // forward columns (n sweeps); $jacobianMode forces one of them.');
    out.push(`  if ($jacobianMode === 'reverse' || ($jacobianMode !== 'forward' && $m < $n)) {`);
    out.push('    const $u = new Float64Array($m);');
    out.push('    for (let $i = 0; $i < $m; $i++) {');
    out.push('      $u[$i] = 1;');
    out.push(`      const $g = ${vjpLocal}($u, ${params}).gradient;`);
    out.push('      $u[$i] = 0;');
    for (const p of wrt) {
      const target = `$j${member(p.sourceName)}`;
      const got = `$g${member(p.sourceName)}`;
      out.push(p.shape ? `      ${target}[$i].set(${got});` : `      ${target}[$i] = ${got};`);
    }
    out.push('    }');
    out.push('    return { value: $value, jacobian: $j };');
    out.push('  }');
  }
  out.push('  // Forward columns: n forward sweeps for n inputs.');
  out.push('  let $r;');
  for (const p of wrt) {
    const seed = `$seed${member(p.sourceName)}`;
    const target = `$j${member(p.sourceName)}`;
    if (!p.shape) {
      out.push(`  ${seed} = 1;`);
      out.push(`  $r = ${jvpLocal}($seed, ${params});`);
      out.push(`  ${seed} = 0;`);
      out.push(`  ${target}.set($r.tangent);`);
    } else {
      out.push(`  for (let $k = 0; $k < ${size.get(p)}; $k++) {`);
      out.push(`    ${seed}[$k] = 1;`);
      out.push(`    $r = ${jvpLocal}($seed, ${params});`);
      out.push(`    ${seed}[$k] = 0;`);
      out.push(`    for (let $i = 0; $i < $m; $i++) ${target}[$i][$k] = $r.tangent[$i];`);
      out.push('  }');
    }
  }
  out.push('  return { value: $value, jacobian: $j };');
  out.push('}');
  return out;
}

/**
 * fHessian(...args) → { value, gradient, hessian }, hessian[p][q] = ∂²f/∂p∂q shaped p × q (a
 * number, a Float64Array, or rows), built from one fHvp per input direction: column by column,
 * with a unit tangent seeded in each scalar and each element of each vector parameter. A
 * Hessian of n inputs costs n Hessian-vector products (each a small constant times the gradient).
 * Functions with differentiated matrix parameters have no fHessian (its blocks would have four
 * dimensions).
 */
export function hessianFunction(hvp: IrFunction, local: string, hvpLocal: string, jsString: (text: string) => string): Section {
  const out = new Section();
  const params = hvp.params.map((p) => p.name).join(', ');
  const wrt = hvp.gradient!.map((g) => g.param);
  const size = new Map<Param, string>();
  wrt.forEach((p, k) => p.shape && size.set(p, `$n${k + 1}`));
  const zeros = (p: Param) => (p.shape ? `new Float64Array(${size.get(p)})` : '0');
  const block = (p: Param, q: Param) => (!p.shape && !q.shape ? '0' : !p.shape ? zeros(q) : !q.shape ? zeros(p) : `$matrix(${size.get(p)}, ${size.get(q)})`);
  const object = (entries: string[]) => (entries.length > 0 ? `{ ${entries.join(', ')} }` : '{}');
  out.push(`/** ${local}(${hvp.params.map((p) => p.sourceName).join(', ')}): { value, gradient, hessian }, hessian[p][q] = ∂²${hvp.name}/∂p∂q, one ${hvpLocal} per input direction (forward over reverse). */`);
  out.push(`function ${local}(${params}) {`);
  for (const [p, n] of size) out.push(`  const ${n} = $length(${p.name}, ${jsString(`${local}: ${p.sourceName}`)});`);
  out.push(`  const $seed = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${zeros(p)}`))};`);
  out.push(`  const $h = ${object(wrt.map((p) => `${propertyKey(p.sourceName)}: ${object(wrt.map((q) => `${propertyKey(q.sourceName)}: ${block(p, q)}`))}`))};`);
  out.push('  let $r;');
  for (const q of wrt) {
    const seed = `$seed${member(q.sourceName)}`;
    const column = (at: string, indent: string) => {
      out.push(`${indent}$r = ${hvpLocal}($seed, ${params});`);
      for (const p of wrt) {
        const h = `$h${member(p.sourceName)}${member(q.sourceName)}`;
        const got = `$r.hvp${member(p.sourceName)}`;
        if (!q.shape) out.push(`${indent}${h} = ${got};`);
        else if (!p.shape) out.push(`${indent}${h}[${at}] = ${got};`);
        else out.push(`${indent}for (let $i = 0; $i < ${size.get(p)}; $i++) ${h}[$i][${at}] = ${got}[$i];`);
      }
    };
    if (!q.shape) {
      out.push(`  // ∂/∂${q.sourceName}: one Hessian-vector product along it.`);
      out.push(`  ${seed} = 1;`);
      column('', '  ');
      out.push(`  ${seed} = 0;`);
    } else {
      out.push(`  // ∂/∂${q.sourceName}[j]: one Hessian-vector product along each element.`);
      out.push(`  for (let $j = 0; $j < ${size.get(q)}; $j++) {`);
      out.push(`    ${seed}[$j] = 1;`);
      column('$j', '    ');
      out.push(`    ${seed}[$j] = 0;`);
      out.push('  }');
    }
  }
  out.push(`  if ($r === undefined) $r = ${hvpLocal}($seed, ${params});`);
  out.push('  return { value: $r.value, gradient: $r.gradient, hessian: $h };');
  out.push('}');
  return out;
}
