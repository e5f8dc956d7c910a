import { headerComment } from './js/emit-js.ts';
import type { FunctionInfo } from '../compile.ts';
import { declaredOutName, exportSpecifier, gradientIntoName, gradientName, hessianName, hvpName, jacobianName, jvpName, localName, vjpName } from './names.ts';

export interface DeclarationOptions {
  /** The `.ad` file named in the header. */
  readonly filename: string;
  readonly version: string;
}

/**
 * The TypeScript declarations (`model.d.ts`) of the module adc generates for these functions:
 *
 *   export declare function f(x: number, y: number): number;
 *   export declare function fGrad(x: number, y: number): { value: number; gradient: { x: number; y: number } };
 *
 * Exported names, parameter names and gradient keys are the ones the user wrote; `const`
 * parameters are absent from the gradient type, exactly as from the gradient object. A `vec`
 * parameter takes any array-like of numbers and its gradient is a Float64Array; a `mat` takes an
 * array of rows and its gradient is an array of Float64Array rows (fGradInto: the caller's).
 */
export function emitDeclarations(functions: readonly FunctionInfo[], options: DeclarationOptions): string {
  const lines = [headerComment(options.version, options.filename), ''];
  const renamed: string[] = [];
  for (const fn of functions) {
    const params = fn.params.map((p) => `${localName(p.name)}: ${argumentType[p.type ?? 'number']}`).join(', ');
    const signature = fn.params.map((p) => (p.isConst ? `const ${p.name}` : p.name)).join(', ');
    const differentiated = fn.params.filter((p) => !p.isConst);
    const gradient = differentiated.length === 0 ? '{}' : `{ ${differentiated.map((p) => `${typeKey(p.name)}: ${gradientType[p.type ?? 'number']}`).join('; ')} }`;
    const withRespectTo = differentiated.length === 0 ? 'it has no differentiated parameters' : `with respect to ${differentiated.map((p) => p.name).join(', ')}`;
    // A function may be named like a reserved word (`fn class`): declare it under the local name
    // the JavaScript uses and export it under the user's name, as the module does.
    const local = localName(fn.name);
    const declare = local === fn.name ? 'export declare function' : 'declare function';
    if (local !== fn.name) renamed.push(exportSpecifier(local, fn.name));
    lines.push(`/** \`fn ${fn.name}(${signature})\`: the value${fn.result ? `, a new ${fn.result}` : ''}. */`);
    const valueType = gradientType[fn.result ?? 'number'];
    lines.push(`${declare} ${local}(${params}): ${valueType};`);
    // A direction: the gradient's keys, each optional (a missing key is 0).
    const direction = differentiated.length === 0 ? '{}' : `{ ${differentiated.map((p) => `${typeKey(p.name)}?: ${argumentType[p.type ?? 'number']}`).join('; ')} }`;
    if (fn.exports.jvp) {
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value and its derivative along \`tangent\` (forward mode). */`);
      lines.push(`export declare function ${jvpName(fn.name)}(tangent: ${direction}, ${params}): { value: ${valueType}; tangent: ${valueType} };`);
    }
    if (fn.exports.vjp) {
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value and the gradient of ⟨cotangent, value⟩ (reverse mode; cotangent has the value's shape). */`);
      lines.push(`export declare function ${vjpName(fn.name)}(cotangent: ${fn.result ? argumentType[fn.result] : 'number'}, ${params}): { value: ${valueType}; gradient: ${gradient} };`);
    }
    if (fn.exports.jacobian) {
      const jacobian = differentiated.length === 0 ? '{}' : `{ ${differentiated.map((p) => `${typeKey(p.name)}: ${blockType(dimensions(fn.result) + dimensions(p.type))}`).join('; ')} }`;
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value and its Jacobian, jacobian[p] = ∂value/∂p (the value's shape × p's shape). */`);
      lines.push(`export declare function ${jacobianName(fn.name)}(${params}): { value: ${valueType}; jacobian: ${jacobian} };`);
    }
    if (fn.exports.hvp) {
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value, the gradient and the Hessian times \`v\` (forward over reverse). */`);
      lines.push(`export declare function ${hvpName(fn.name)}(v: ${direction}, ${params}): { value: number; gradient: ${gradient}; hvp: ${gradient} };`);
    }
    if (fn.exports.hessian) {
      const block = (p: { type?: 'vec' | 'mat' }, q: { type?: 'vec' | 'mat' }) => blockType(dimensions(p.type) + dimensions(q.type));
      const hessian =
        differentiated.length === 0
          ? '{}'
          : `{ ${differentiated.map((p) => `${typeKey(p.name)}: { ${differentiated.map((q) => `${typeKey(q.name)}: ${block(p, q)}`).join('; ')} }`).join('; ')} }`;
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value, the gradient and the Hessian, hessian[p][q] = ∂²/∂p∂q (forward over reverse). */`);
      lines.push(`export declare function ${hessianName(fn.name)}(${params}): { value: number; gradient: ${gradient}; hessian: ${hessian} };`);
    }
    // A function returning an array has no gradient (its derivatives are Jacobians).
    if (fn.result || !fn.exports.grad) continue;
    lines.push(`/** \`fn ${fn.name}(${signature})\`: the value and its exact gradient (${withRespectTo}). */`);
    lines.push(`export declare function ${gradientName(fn.name)}(${params}): { value: number; gradient: ${gradient} };`);
    if (fn.params.some((p) => p.type)) {
      const out = differentiated.map((p) => (p.type ? `${typeKey(p.name)}: ${intoType[p.type]}` : `${typeKey(p.name)}?: number`)).join('; ');
      lines.push(`/** \`fn ${fn.name}(${signature})\`: the value; writes the gradient into \`out\` (its arrays are zeroed first). */`);
      const outName = declaredOutName(fn.params.map((p) => localName(p.name)));
      lines.push(`export declare function ${gradientIntoName(fn.name)}(${outName}: { ${out} }, ${params}): number;`);
    }
  }
  if (renamed.length > 0) lines.push(`export { ${renamed.join(', ')} };`);
  // An empty export keeps a file without functions a module.
  if (functions.length === 0) lines.push('export {};');
  return lines.join('\n') + '\n';
}

const argumentType = { number: 'number', vec: 'ArrayLike<number>', mat: 'ArrayLike<ArrayLike<number>>' } as const;
const gradientType = { number: 'number', vec: 'Float64Array', mat: 'Float64Array[]' } as const;
const intoType = { vec: 'Float64Array | number[]', mat: 'ArrayLike<Float64Array | number[]>' } as const;

/** The number of dimensions of a number, a vec or a mat. */
const dimensions = (type: 'vec' | 'mat' | undefined) => (type === 'mat' ? 2 : type === 'vec' ? 1 : 0);

/**
 * A Jacobian or Hessian block of this many dimensions: a number, a Float64Array, rows of them, and
 * (three or four dimensions, a matrix with a vector or a matrix) arrays of rows.
 */
function blockType(dims: number): string {
  return dims === 0 ? 'number' : `Float64Array${'[]'.repeat(dims - 1)}`;
}

/** A property name in an object type; `__proto__` is quoted so no reader takes it for the prototype. */
function typeKey(name: string): string {
  return name === '__proto__' ? `"__proto__"` : name;
}
