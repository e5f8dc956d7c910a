/**
 * Every identifier in generated code is decided here. User names cannot contain `$`, so every name
 * the compiler makes up contains one and can never collide with a user's:
 *   x, rate          a user's parameter or `let`, kept as written when JavaScript allows it
 *   class$, Math$    a user name that JavaScript reserves or that generated code relies on
 *   a$2              a second variable from the same user name (after inlining a call)
 *   $t4              a temporary
 *   $saved5          an array of values stored for the reverse sweep
 *   $prefix5, $suffix6  a product's partial products before and after each term (its reverse sweep)
 *   d$x, $dt4        the adjoint (∂f/∂·) of a user variable, of a temporary
 *   dx, dW$2         an adjoint of `grad(f, x)(…)` inside the language (nestedAdjointBase): renamed
 *                    from d$x through the NameSupply like a user name, so it is unique in its
 *                    function (a user's `dx` then becomes `dx$2`) and the caller's own adjoint of
 *                    the same variable (d$x) is another name
 *   tx, tv$2         a tangent of `jvp(f, x)(…)` inside the language (nestedTangentBase): renamed
 *                    from t$x the same way, apart from the caller's own tangent t$x
 * A user name never starts with `$`, and the part of a generated name before its first `$` is a
 * user name (or `d`, followed by `$` and a user name), so no two rules can produce the same name.
 * Exported names are the user's function names exactly (`export { class$ as class }`), and
 * `${name}Grad` for each gradient (`${name}GradInto` too with arrays): the checker reports a user
 * function with such a name. Module helpers are `$`-prefixed (`$length`, `$work`: helpers.ts).
 *
 * Generated code reads a few globals (`Math.sin`, `new Float64Array`, `throw new RangeError`). A
 * user name equal to one of them is renamed (`Array` → `Array$`) wherever it is declared, so no
 * function, parameter or `let` can shadow them; test/names.test.ts runs the output in a realm that
 * has only these globals, so a new one cannot be used without being listed here.
 */

const reservedWords = new Set(
  (
    'await break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if implements import in instanceof interface let new null package private protected public return static ' +
    'super switch this throw true try typeof var void while with yield async of get set'
  ).split(' '),
);

/** The globals generated code reads (values, helpers, argument checks, error messages). */
export const globalsUsed: readonly string[] = ['Math', 'Infinity', 'NaN', 'undefined', 'Float64Array', 'Array', 'Object', 'RangeError', 'TypeError', 'WebAssembly', 'Uint8Array'];

/** Names that are legal but would change meaning or shadow what generated code uses. */
const sensitiveNames = new Set(['arguments', 'eval', 'globalThis', 'Symbol', ...globalsUsed]);

/** A user's identifier as a JavaScript local name. */
export function localName(userName: string): string {
  return reservedWords.has(userName) || sensitiveNames.has(userName) ? `${userName}$` : userName;
}

/** The n-th (n ≥ 2) variable made from one local name, when inlining repeats a callee's names. */
export function duplicateName(base: string, n: number): string {
  return `${base.endsWith('$') ? base : `${base}$`}${n}`;
}

export function temporaryName(n: number): string {
  return `$t${n}`;
}

/** An array of values the forward sweep stores for the reverse sweep. */
export function savedName(n: number): string {
  return `$saved${n}`;
}

/**
 * A product's partial products, made by its reverse sweep: `$prefix5[k]` is the product of the terms
 * before term k, `$suffix6[k]` of those after it.
 */
export function partialProductName(which: 'prefix' | 'suffix', n: number): string {
  return `$${which}${n}`;
}

/** Whether a name is a product's partial products (partialProductName's). */
export function isPartialProductName(name: string): boolean {
  return /^\$(prefix|suffix)\d+$/.test(name);
}

/** The running power `base^index` a loop keeps in place of computing the power per iteration (reduce-strength.ts). */
export function runningPowerName(n: number): string {
  return `$power${n}`;
}

export function isRunningPowerName(name: string): boolean {
  return /^\$power\d+$/.test(name);
}

export function isTemporary(name: string): boolean {
  return name.startsWith('$t');
}

/**
 * The user-like base name of an adjoint of a nested gradient (`d$x$2` → `dx`), given to the
 * NameSupply, which makes it unique. Temporaries' adjoints become temporaries.
 */
export function nestedAdjointBase(adjoint: string): string {
  return `d${adjoint.replace(/^d\$/, '').replace(/\$.*$/, '')}`;
}

/** Whether a name is an adjoint's (adjointName's): `d$x`, `$dt4`. */
export function isAdjointName(name: string): boolean {
  return name.startsWith('d$') || name.startsWith('$d');
}

export function adjointName(variable: string): string {
  return isTemporary(variable) ? `$d${variable.slice(1)}` : `d$${variable}`;
}

/** A variable's tangent in forward mode (its derivative along the seeded direction): `t$x`, `$tt5`. */
export function tangentName(variable: string): string {
  return isTemporary(variable) ? `$t${variable.slice(1)}` : `t$${variable}`;
}

/**
 * A variable's tangent along direction d ≥ 1 of several (fJacobian's forward columns, computed K
 * at a time from one primal computation): `t$x$c2`, `$tt5$c2` for the second direction (the first
 * is tangentName's). No other rule ends a name in `$c` and digits (duplicates end in `$` and digits).
 */
export function directionTangentName(variable: string, d: number): string {
  return `${tangentName(variable)}$c${d + 1}`;
}

/** Whether a name is a tangent's (tangentName's): `t$x`, `$tt5` (a temporary is `$t5`). */
export function isTangentName(name: string): boolean {
  return name.startsWith('t$') || /^\$t[^0-9]/.test(name);
}

/** The user-like base of a tangent of `jvp(f, x)(…)` inside the language: t$x → tx, t$d$w$2 → td. */
export function nestedTangentBase(tangent: string): string {
  return `t${tangent.replace(/^t\$/, '').replace(/\$.*$/, '')}`;
}

/** The exported name of a function's gradient. */
export function gradientName(functionName: string): string {
  return `${functionName}Grad`;
}

/** The exported names of a function's forward-mode derivative, Hessian-vector product and Hessian. */
export function jvpName(functionName: string): string {
  return `${functionName}Jvp`;
}
export function vjpName(functionName: string): string {
  return `${functionName}Vjp`;
}
export function hvpName(functionName: string): string {
  return `${functionName}Hvp`;
}
export function jacobianName(functionName: string): string {
  return `${functionName}Jacobian`;
}
export function hessianName(functionName: string): string {
  return `${functionName}Hessian`;
}

/** The gradient written into caller-provided arrays, for functions with array parameters. */
export function gradientIntoName(functionName: string): string {
  return `${functionName}GradInto`;
}

/** The state a reduction keeps while it runs (`$t4$max`, the running maximum of a logsumexp). */
export function reductionStateName(target: string, what: string): string {
  return `${target}$${what}`;
}

/**
 * A long sum in partial sums (emit/js/partial-sums.ts): part k of the sum (`$t4$part0`), and the
 * counter that steps over its loop's iterations (`i$lanes`, each iteration's block binding the
 * loop's own index from it) and the end it runs to (`i$end`, when the bound is computed).
 */
export function partialSumName(target: string, k: number): string {
  return `${target}$part${k}`;
}
export function laneCounterName(index: string): string {
  return `${index}$lanes`;
}
export function laneEndName(index: string): string {
  return `${index}$end`;
}

/** A property key in an object literal; `__proto__` must be computed or it sets the prototype. */
export function propertyKey(name: string): string {
  if (name === '__proto__') return `["__proto__"]`;
  return name;
}

/** An export name: any identifier name is allowed after `as`. */
export function exportSpecifier(local: string, exported: string): string {
  return local === exported ? local : `${local} as ${exported}`;
}

/** A function's name inside the module; exported under the user's name as written. */
export function localFunctionName(name: string): string {
  return name.endsWith('Grad') || name.endsWith('GradInto') ? name : localName(name);
}

/** fVjp's first parameter in JavaScript (and the IR variable the reverse sweep is seeded from): the cotangent. */
export const cotangentParameterName = '$cotangent';

/** fGradInto's first parameter in JavaScript: the object receiving the gradient. */
export const outParameterName = '$out';

/**
 * fGradInto's first parameter in TypeScript declarations, which name their parameters after the
 * user's: `out`, or `out$` when a parameter is already called `out`.
 */
export function declaredOutName(parameters: readonly string[]): string {
  return parameters.includes('out') ? 'out$' : 'out';
}

/**
 * The compiled forms of a function whose calls stay calls (src/ad/calls.ts), internal to the
 * module: `f$primal` (the value; a form of its own for a function taking or returning arrays, which
 * takes and returns them flat), `f$gradient`, `f$tangent`, `f$gradientTangent`, `f$adjoint`
 * (a function returning an array: the arguments' adjoints given the result's) and `f$adjointTangent`; a gradient form
 * for some parameters only has their positions after it (`f$gradient$1$2`). A word after the `$` is never a duplicate (`f$2`), chunk
 * (`f$1`) or scratch (`f$scratch`) name, and user names cannot contain `$`.
 */
export function calledFunctionName(functionName: string, kind: 'primal' | 'gradient' | 'tangent' | 'gradientTangent' | 'adjoint' | 'adjointTangent', wrt?: readonly number[]): string {
  const local = localFunctionName(functionName);
  // A gradient form for some parameters only: their positions after it (`f$gradient$1$2`).
  return `${local.endsWith('$') ? local : `${local}$`}${kind}${wrt ? wrt.map((k) => `$${k}`).join('') : ''}`;
}

/**
 * fJacobian's reverse rows (module-local, not exported): fVjp writing its gradient into the caller's
 * arrays (the Jacobian's rows) instead of new ones, its value into a work array: `f$vjpInto`.
 */
export function vjpIntoName(functionName: string): string {
  const local = localFunctionName(functionName);
  return `${local.endsWith('$') ? local : `${local}$`}vjpInto`;
}

/** The n-th chunk of a function split for V8 (split-function.ts), and their shared scratch array. */
export function chunkName(local: string, n: number): string {
  return `${local}$${n}`;
}

export function scratchName(local: string): string {
  return `${local}$scratch`;
}

/**
 * The WebAssembly target (src/emit/wasm/): a function's glue calling its wasm twin, the export
 * choosing between it and the JS function (`f$export`), and where an array argument is copied
 * into linear memory (`w$at`, a byte address).
 */
export function wasmGlueName(local: string): string {
  return `${local}$wasm`;
}
export function wasmExportName(local: string): string {
  return `${local}$export`;
}
export function wasmAddressName(param: string): string {
  return `${param}$at`;
}

/**
 * fJacobian's forward columns (module-local, not exported) when fJacobian itself runs the forward
 * sweep once and its reverse rows from it: the value given, one fJvp per input, `f$jacobianColumns`.
 */
export function jacobianColumnsName(functionName: string): string {
  const local = localFunctionName(functionName);
  return `${local.endsWith('$') ? local : `${local}$`}jacobianColumns`;
}
