/**
 * The built-in functions of the language: arity, how the value is computed in JavaScript, and how
 * to evaluate it at compile time (constant folding). Their derivatives are in src/ad/rules.ts;
 * adding a built-in means one entry here and one there (the compiler checks both tables agree).
 */
export interface Builtin {
  readonly arity: number;
  /** The JavaScript function that computes it, e.g. `Math.sin`. */
  readonly js: string;
  readonly evaluate: (...args: number[]) => number;
}

const math1 = (name: keyof Math & string): Builtin => ({ arity: 1, js: `Math.${name}`, evaluate: Math[name] as (x: number) => number });
const math2 = (name: keyof Math & string): Builtin => ({ arity: 2, js: `Math.${name}`, evaluate: Math[name] as (x: number, y: number) => number });

export const builtins = {
  sin: math1('sin'),
  cos: math1('cos'),
  tan: math1('tan'),
  asin: math1('asin'),
  acos: math1('acos'),
  atan: math1('atan'),
  atan2: math2('atan2'),
  sinh: math1('sinh'),
  cosh: math1('cosh'),
  tanh: math1('tanh'),
  exp: math1('exp'),
  log: math1('log'),
  log1p: math1('log1p'),
  expm1: math1('expm1'),
  log2: math1('log2'),
  log10: math1('log10'),
  sqrt: math1('sqrt'),
  cbrt: math1('cbrt'),
  abs: math1('abs'),
  hypot: math2('hypot'),
  min: math2('min'),
  max: math2('max'),
  sign: math1('sign'),
  floor: math1('floor'),
  ceil: math1('ceil'),
} as const satisfies Record<string, Builtin>;

export type BuiltinName = keyof typeof builtins;

/** Names the language accepts for built-ins: the table plus aliases that lower to another operation. */
export const builtinArity: ReadonlyMap<string, number> = new Map<string, number>([
  ...Object.entries(builtins).map(([name, b]) => [name, b.arity] as [string, number]),
  ['ln', 1],
  ['pow', 2],
  // Over vectors: lowered to loops (src/ir/lower.ts), not operations.
  ['dot', 2],
  ['norm', 1],
]);

export function isBuiltin(name: string): name is BuiltinName {
  return Object.prototype.hasOwnProperty.call(builtins, name);
}

export const constants: ReadonlyMap<string, number> = new Map([
  ['pi', Math.PI],
  ['e', Math.E],
]);
