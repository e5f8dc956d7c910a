import { compileSync } from '../compile.ts';
import { gradientName, jvpName } from '../emit/names.ts';

/** An argument as the generated code takes it: a number, a `Float64Array` for a `vec`, rows for a `mat`. */
export type Argument = number | Float64Array | Float64Array[];

type Exported = (...args: unknown[]) => { value: number; gradient?: Record<string, Argument>; tangent?: number };

/**
 * The generated JavaScript of a file (the CLI's own output, with `fGrad` and `fJvp`), loaded
 * synchronously: the module's closing `export { … };` list becomes the return value of a function
 * around the same code. explain checks its graph against these numbers, so they come from the
 * code users run rather than from explain's own interpreter.
 */
export function generatedModule(source: string): { grad(fn: string, args: readonly Argument[]): { value: number; gradient: Record<string, Argument> }; jvp(fn: string, tangent: Record<string, Argument>, args: readonly Argument[]): { value: number; tangent: number } } {
  const { code } = compileSync(source, { derivatives: ['grad', 'jvp'] });
  if (code === undefined) throw new Error('internal error: a file explain could check does not compile');
  const exports = loadSync(code) as Record<string, Exported>;
  const get = (name: string) => {
    const f = exports[name];
    if (typeof f !== 'function') throw new Error(`internal error: the generated code has no '${name}'`);
    return f;
  };
  return {
    grad: (fn, args) => {
      const r = get(gradientName(fn))(...args);
      return { value: r.value, gradient: r.gradient ?? {} };
    },
    jvp: (fn, tangent, args) => {
      const r = get(jvpName(fn))(tangent, ...args);
      return { value: r.value, tangent: r.tangent as number };
    },
  };
}

/**
 * Generated module code run without a module loader: its closing `export { a, b as c };` list
 * becomes `return { a, c: b };` around the same code. (The tests load modules the same way.)
 */
export function loadSync(code: string): Record<string, unknown> {
  const list = /export \{([^}]*)\};\s*$/.exec(code);
  if (!list) throw new Error('internal error: generated code without an export list');
  const entries = list[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec) => {
      const [local, exported = local] = spec.split(/\s+as\s+/);
      return `${JSON.stringify(exported)}: ${local}`;
    });
  return new Function(`"use strict";\n${code.slice(0, list.index)}\nreturn { ${entries.join(', ')} };`)() as Record<string, unknown>;
}
