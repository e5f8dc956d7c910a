/**
 * Hostile input for the compiler, shared by test/robustness.test.ts (a fixed number of seeded
 * cases in `npm test`) and test/fuzz/compiler.fuzz.ts (`npm run fuzz`, for as long as asked):
 * the contract check (`examine`) and seeded generators of random bytes, token soups, mutations
 * of valid files, and random programs that parse or are valid.
 */
import { Script } from 'node:vm';
import { expect } from 'vitest';
import { compileSync, formatDiagnostics, type CompileResult } from '../../src/index.ts';

// ---- helpers ---------------------------------------------------------------------------------

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
export const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export function preview(source: string): string {
  return JSON.stringify(source.length > 300 ? `${source.slice(0, 200)}…(${source.length} chars)…${source.slice(-60)}` : source);
}

/** The export list is ESM syntax; the rest of a module must parse as a strict-mode script. */
export function syntaxError(code: string): string | undefined {
  const body = code.replace(/\nexport \{[^}]*\};?\s*$/, '\n');
  try {
    new Script(`'use strict';\n${body}`);
    return undefined;
  } catch (e) {
    return String(e);
  }
}

/**
 * Compiles and checks the contract: returns the result (unless it threw) and a description of
 * what went wrong, if anything. `format` also runs formatDiagnostics on the first 20 diagnostics.
 */
export function examine(source: string, options: { format?: boolean; checkCode?: boolean } = {}): { result?: CompileResult; problem?: string } {
  let result: CompileResult;
  try {
    result = compileSync(source, { filename: 'fuzz.ad' });
  } catch (e) {
    const stack = e instanceof Error ? (e.stack ?? String(e)).split('\n').slice(0, 4).join(' | ') : String(e);
    return { problem: `compileSync threw: ${stack}` };
  }
  const fail = (problem: string) => ({ result, problem });
  if (result.code === undefined && !result.diagnostics.some((d) => d.severity === 'error')) return fail('no code and no error');
  for (const d of result.diagnostics) {
    for (const s of [d.span, ...d.notes.map((n) => n.span)]) {
      if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start <= s.end && s.end <= source.length)) {
        return fail(`${d.code} '${d.message.slice(0, 80)}' has span ${s.start}..${s.end}, outside 0..${source.length}`);
      }
    }
  }
  if (options.format !== false) {
    try {
      formatDiagnostics(result.diagnostics.slice(0, 20), source, 'fuzz.ad');
    } catch (e) {
      return fail(`formatDiagnostics threw: ${String(e)}`);
    }
  }
  if (result.code !== undefined && options.checkCode) {
    const err = syntaxError(result.code);
    if (err) return fail(`generated code does not parse: ${err}`);
  }
  return { result };
}

/** Runs a deterministic set of cases and fails with the first few violations, each reproducible. */
export function expectNoViolations(cases: Iterable<{ label: string; source: string }>, options: { checkCode?: boolean } = {}): number {
  const problems: string[] = [];
  let count = 0;
  for (const { label, source } of cases) {
    count++;
    const { problem } = examine(source, options);
    if (problem && problems.length < 5) problems.push(`${label}: ${problem}\n    input: ${preview(source)}`);
    else if (problem) problems.push(label);
  }
  expect(problems, `${problems.length} of ${count} cases failed`).toEqual([]);
  return count;
}

/** A large input: must not throw, and (unless it compiles) must report a diagnostic inside the file. */
export function expectGraceful(source: string, expectation: 'diagnostic' | 'either'): CompileResult {
  const { result, problem } = examine(source, { format: source.length < 2_000_000 });
  expect(problem).toBeUndefined();
  const r = result!;
  if (expectation === 'diagnostic') expect(r.code, 'expected a diagnostic, not code').toBeUndefined();
  if (r.code === undefined) {
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics[0].span.start).toBeGreaterThanOrEqual(0);
    expect(r.diagnostics[0].span.start).toBeLessThanOrEqual(source.length);
  }
  return r;
}

export function timed<T>(label: string, f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  const ms = performance.now() - t0;
  console.log(`${label}: ${ms.toFixed(0)} ms`);
  return { value, ms };
}

export const repeat = (s: string, n: number) => s.repeat(n);
export const list = (n: number, item: (i: number) => string, sep: string) => Array.from({ length: n }, (_, i) => item(i)).join(sep);

// ---- random inputs ---------------------------------------------------------------------------

/** The language's tokens, some near-misses, and separators, for token soups and insertions. */
export const vocabulary = [
  'fn', 'let', 'return', 'if', 'then', 'else', 'and', 'or', 'not', 'const',
  'x', 'y', 'f', 'g', 'a', 'sin', 'atan2', 'hypot', 'max', 'pi', 'e', 'fGrad', 'class', '__proto__', 'constructor',
  '0', '1', '2.5', '.5', '3.', '1e3', '1e-3', '1e', '1e+', '1e400', '0x10', '007',
  '(', ')', '{', '}', ',', ';', '<', '<=', '>', '>=', '==', '!=', '=', '+', '-', '*', '/', '^',
  '$', '@', '!', '.', '&&', '"', "'", '\\', '\u00e9', '\u03c0', '\ud83d\ude00', '\ud800', '\u0000', '\ufeff',
  '# comment\n', '\n', '\r\n', '\r', '\t',
];
export const separators = [' ', ' ', ' ', '', '\n'];

export function* randomByteCases(count: number, seed: number) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const length = int(rand, 0, i % 10 === 0 ? 20_000 : 600);
    const bytes = Buffer.alloc(length);
    for (let j = 0; j < length; j++) bytes[j] = int(rand, 0, 255);
    const encoding = (['utf8', 'latin1', 'utf16le'] as const)[i % 3];
    yield { label: `random bytes #${i} (seed ${seed}, ${encoding})`, source: bytes.toString(encoding) };
  }
}

export function* tokenSoupCases(count: number, seed: number) {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const length = int(rand, 0, 40);
    let source = rand() < 0.5 ? 'fn f(x, y) = ' : rand() < 0.5 ? 'fn f(x, y) { ' : '';
    for (let j = 0; j < length; j++) source += pick(rand, vocabulary) + pick(rand, separators);
    yield { label: `token soup #${i} (seed ${seed})`, source };
  }
}

/** Splits source into tokens with their offsets (whitespace and comments are kept in place). */
export function tokens(source: string): { start: number; end: number; text: string }[] {
  const re = /#[^\r\n]*|\s+|[A-Za-z_][A-Za-z0-9_]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d*)?|<=|>=|==|!=|[\s\S]/gu;
  const out: { start: number; end: number; text: string }[] = [];
  for (const m of source.matchAll(re)) {
    if (/^\s|^#/.test(m[0])) continue;
    out.push({ start: m.index, end: m.index + m[0].length, text: m[0] });
  }
  return out;
}

export function* mutationCases(source: string, count: number, seed: number) {
  const rand = prng(seed);
  const toks = tokens(source);
  const splice = (start: number, end: number, text: string) => source.slice(0, start) + text + source.slice(end);
  for (let i = 0; i < count; i++) {
    const k = int(rand, 0, toks.length - 1);
    const t = toks[k];
    const op = pick(rand, ['delete', 'insert', 'replace', 'swap', 'swap-far'] as const);
    let mutated: string;
    let what: string;
    switch (op) {
      case 'delete':
        mutated = splice(t.start, t.end, '');
        what = `deleted '${t.text}' at ${t.start}`;
        break;
      case 'insert': {
        const ins = rand() < 0.5 ? pick(rand, vocabulary) : pick(rand, toks).text;
        mutated = splice(t.start, t.start, `${ins} `);
        what = `inserted '${ins}' at ${t.start}`;
        break;
      }
      case 'replace': {
        const rep = rand() < 0.5 ? pick(rand, vocabulary) : pick(rand, toks).text;
        mutated = splice(t.start, t.end, rep);
        what = `replaced '${t.text}' at ${t.start} by '${rep}'`;
        break;
      }
      case 'swap':
      case 'swap-far': {
        const j = op === 'swap' ? Math.min(k + 1, toks.length - 1) : int(rand, 0, toks.length - 1);
        const [a, b] = k < j ? [t, toks[j]] : [toks[j], t];
        mutated = source.slice(0, a.start) + b.text + source.slice(a.end, b.start) + a.text + source.slice(b.end);
        what = `swapped '${a.text}' at ${a.start} with '${b.text}' at ${b.start}`;
        break;
      }
    }
    yield { label: `mutation #${i} (seed ${seed}): ${what}`, source: mutated };
  }
}

/**
 * Random programs that parse, with names, arities, conditions and statements chosen at random:
 * unknown names, wrong arities, conditions used as numbers, recursion, duplicate names, a `return`
 * in the wrong place. They exercise the checker, and, when they pass it, the back end.
 */
export function* randomProgramCases(count: number, seed: number) {
  const rand = prng(seed);
  const functionNames = ['f', 'g', 'h', 'default', 'constructor', 'fGrad', 'sin', 'pi'];
  const builtinNames = ['sin', 'exp', 'log', 'sqrt', 'abs', 'atan2', 'hypot', 'pow', 'min', 'max', 'sign', 'floor', 'log1p', 'cbrt', 'tanh'];
  const variableNames = ['x', 'y', 'z', 'c', 'a', 'b', 'pi', 'e', 'w', '__proto__', 'class', 'f'];
  const binaryOps = ['+', '-', '*', '/', '^', '+', '*', '<', '<=', '>', '>=', '==', '!=', 'and', 'or'];
  const numbers = ['0', '1', '2', '0.5', '1e-3', '3e2', '1e308', '1e400'];
  const expr = (depth: number): string => {
    const r = rand();
    if (depth <= 0 || r < 0.25) return rand() < 0.4 ? pick(rand, numbers) : pick(rand, variableNames);
    if (r < 0.4) {
      const name = rand() < 0.7 ? pick(rand, builtinNames) : pick(rand, functionNames);
      const arity = rand() < 0.8 ? (['atan2', 'hypot', 'pow', 'min', 'max'].includes(name) ? 2 : 1) : int(rand, 0, 3);
      return `${name}(${Array.from({ length: arity }, () => expr(depth - 1)).join(', ')})`;
    }
    if (r < 0.5) return `${pick(rand, ['-', '+', 'not ', '- -'])}${expr(depth - 1)}`;
    if (r < 0.6) return `(${expr(depth - 1)})`;
    if (r < 0.75) return `if ${expr(depth - 1)} then ${expr(depth - 1)} else ${expr(depth - 1)}`;
    return `${expr(depth - 1)} ${pick(rand, binaryOps)} ${expr(depth - 1)}`;
  };
  for (let i = 0; i < count; i++) {
    const functions: string[] = [];
    for (let k = int(rand, 1, 4); k > 0; k--) {
      const params = Array.from({ length: int(rand, 0, 3) }, () => `${rand() < 0.2 ? 'const ' : ''}${pick(rand, variableNames)}`);
      const head = `fn ${pick(rand, functionNames)}(${params.join(', ')})`;
      if (rand() < 0.5) {
        functions.push(`${head} = ${expr(4)}`);
      } else {
        const statements = Array.from({ length: int(rand, 0, 3) }, () => `let ${pick(rand, variableNames)} = ${expr(3)}`);
        const ret = `return ${expr(3)}`;
        if (rand() < 0.9) statements.push(ret);
        else statements.splice(int(rand, 0, statements.length), 0, ret);
        functions.push(`${head} {\n  ${statements.join(pick(rand, ['\n  ', '; ']))}\n}`);
      }
    }
    yield { label: `random program #${i} (seed ${seed})`, source: functions.join('\n') };
  }
}

/**
 * Random valid programs: names in scope, right arities, conditions only where conditions go, calls
 * only to earlier functions. They exercise lowering, differentiation, optimisation and printing.
 */
export function* validProgramCases(count: number, seed: number) {
  const rand = prng(seed);
  const unary = ['sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'exp', 'log', 'ln', 'log1p', 'expm1', 'log2', 'log10', 'sqrt', 'cbrt', 'abs', 'sign', 'floor', 'ceil'];
  const binary = ['atan2', 'pow', 'hypot', 'min', 'max'];
  const paramPool = ['x', 'y', 'z', 'w', 'class', 'Math', '__proto__', 'arguments', 'new', 'undefined', 'NaN', 'd', 't1'];
  for (let i = 0; i < count; i++) {
    const declared: { name: string; arity: number }[] = [];
    const functions: string[] = [];
    for (let k = int(rand, 1, 4); k > 0; k--) {
      const name = rand() < 0.15 ? pick(rand, ['default', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']) : `f${declared.length}`;
      if (declared.some((f) => f.name === name)) continue;
      const params = [...new Set(Array.from({ length: int(rand, 1, 4) }, () => pick(rand, paramPool)))];
      const scope = [...params];
      const num = (depth: number): string => {
        const r = rand();
        if (depth <= 0 || r < 0.3) return rand() < 0.3 ? pick(rand, ['0', '1', '2', '0.5', '3', 'pi', 'e', '1e-8', '1e300']) : pick(rand, scope);
        if (r < 0.45) return `${pick(rand, unary)}(${num(depth - 1)})`;
        if (r < 0.5) return `${pick(rand, binary)}(${num(depth - 1)}, ${num(depth - 1)})`;
        if (r < 0.58 && declared.length > 0) {
          const f = pick(rand, declared);
          return `${f.name}(${Array.from({ length: f.arity }, () => num(depth - 1)).join(', ')})`;
        }
        if (r < 0.65) return `-${num(depth - 1)}`;
        // Parenthesised: `if c then a else b < t` would take `b < t` as its else branch.
        if (r < 0.75) return `(if ${cond(depth - 1)} then ${num(depth - 1)} else ${num(depth - 1)})`;
        if (r < 0.8) return `(${num(depth - 1)})`;
        return `${num(depth - 1)} ${pick(rand, ['+', '-', '*', '/', '^', '*', '+'])} ${num(depth - 1)}`;
      };
      const cond = (depth: number): string => {
        const r = rand();
        if (depth <= 0 || r < 0.6) return `${num(depth - 1)} ${pick(rand, ['<', '<=', '>', '>=', '==', '!='])} ${num(depth - 1)}`;
        if (r < 0.75) return `not ${cond(depth - 1)}`;
        return `${cond(depth - 1)} ${pick(rand, ['and', 'or'])} ${cond(depth - 1)}`;
      };
      const head = `fn ${name}(${params.map((p) => (rand() < 0.2 ? `const ${p}` : p)).join(', ')})`;
      if (rand() < 0.5) {
        functions.push(`${head} = ${num(4)}`);
      } else {
        const lets: string[] = [];
        for (let j = int(rand, 0, 4); j > 0; j--) {
          const v = `v${j}`;
          if (scope.includes(v)) continue;
          lets.push(`let ${v} = ${num(3)}`);
          scope.push(v);
        }
        functions.push(`${head} {\n  ${[...lets, `return ${num(3)}`].join('\n  ')}\n}`);
      }
      declared.push({ name, arity: params.length });
    }
    yield { label: `valid program #${i} (seed ${seed})`, source: functions.join('\n') };
  }
}

