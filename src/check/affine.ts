import { leftSpine, type Expr } from '../syntax/ast.ts';

/**
 * Linear forms `c0 + c1·s1 + c2·s2 + ...` over symbols (sizes, index variables), with integer
 * coefficients: how the checker proves an index in or out of range, and how lowering decides
 * which reads need no run-time check. The constant term has the key ''.
 */
export type Affine = ReadonlyMap<string, number>;

export const affineConstant = (c: number): Affine => new Map([['', c]]);
export const affineSymbol = (s: string): Affine => new Map([[s, 1]]);

export function affineCombine(a: Affine, b: Affine, scale = 1): Affine {
  const out = new Map(a);
  for (const [k, v] of b) {
    const sum = (out.get(k) ?? 0) + scale * v;
    if (sum === 0 && k !== '') out.delete(k);
    else out.set(k, sum);
  }
  return out;
}

const scaled = (a: Affine, c: number): Affine => new Map([...a].map(([k, v]) => [k, v * c] as const).filter(([k, v]) => v !== 0 || k === ''));
const constantOf = (a: Affine): number | undefined => ([...a.keys()].every((k) => k === '') ? (a.get('') ?? 0) : undefined);

/**
 * The affine form of an expression, or undefined when it is not one (a call, a product of two
 * variables, a division). `symbol` gives the form of a name (a size, an index variable), or
 * undefined for a name that is not affine.
 */
export function affineOf(e: Expr, symbol: (name: string) => Affine | undefined): Affine | undefined {
  switch (e.kind) {
    case 'number':
      return Number.isInteger(e.value) ? affineConstant(e.value) : undefined;
    case 'name':
      return symbol(e.name);
    case 'unary': {
      const a = affineOf(e.operand, symbol);
      if (!a || e.op === 'not') return undefined;
      return e.op === '-' ? scaled(a, -1) : a;
    }
    case 'binary': {
      const { base, chain } = leftSpine(e);
      let acc = affineOf(base, symbol);
      for (const node of chain) {
        if (!acc) return undefined;
        const right = affineOf(node.right, symbol);
        if (!right) return undefined;
        if (node.op === '+') acc = affineCombine(acc, right);
        else if (node.op === '-') acc = affineCombine(acc, right, -1);
        else if (node.op === '*') {
          const ca = constantOf(acc);
          const cb = constantOf(right);
          if (cb !== undefined) acc = scaled(acc, cb);
          else if (ca !== undefined) acc = scaled(right, ca);
          else return undefined;
        } else return undefined;
      }
      return acc;
    }
    default:
      return undefined;
  }
}

/** A half-open range `from..to` of an index variable, as forms (undefined when not affine). */
export interface AffineRange {
  readonly from: Affine | undefined;
  readonly to: Affine | undefined;
}

/**
 * The least (or greatest) value of a form as its index variables run over their ranges, as a form
 * over sizes only; undefined when some range is not affine. Index variables are replaced by an
 * end of their range, outermost last, so triangular ranges (`j in 0..i`) work.
 */
export function extreme(a: Affine, ranges: ReadonlyMap<string, AffineRange>, which: 'min' | 'max'): Affine | undefined {
  let form: Affine = a;
  for (let guard = 0; guard < 64; guard++) {
    const index = [...form.keys()].find((k) => ranges.has(k));
    if (index === undefined) return form;
    const c = form.get(index)!;
    const range = ranges.get(index)!;
    const low = c > 0 === (which === 'min');
    const end = low ? range.from : range.to && affineCombine(range.to, affineConstant(1), -1);
    if (!end) return undefined;
    const without = new Map(form);
    without.delete(index);
    form = affineCombine(without, end, c);
  }
  return undefined;
}

/** 'yes' when a form over sizes (each ≥ 0) is ≥ 0 for all sizes, 'no' when it is < 0 for all, else 'unknown'. */
export function signOf(a: Affine): 'nonNegative' | 'negative' | 'unknown' {
  const c = a.get('') ?? 0;
  const coefficients = [...a].filter(([k]) => k !== '').map(([, v]) => v);
  if (c >= 0 && coefficients.every((v) => v >= 0)) return 'nonNegative';
  if (c < 0 && coefficients.every((v) => v <= 0)) return 'negative';
  return 'unknown';
}

export function affineEqual(a: Affine, b: Affine): boolean {
  const d = affineCombine(a, b, -1);
  return [...d].every(([, v]) => v === 0);
}

/** `n - 1`, `2*m + 3`: a form for messages, with the symbols' display names. */
export function printAffine(a: Affine, display: (symbol: string) => string = (s) => s): string {
  const terms: string[] = [];
  for (const [k, v] of a) {
    if (k === '' || v === 0) continue;
    const name = display(k);
    const mag = Math.abs(v) === 1 ? name : `${Math.abs(v)}*${name}`;
    terms.push(terms.length === 0 ? (v < 0 ? `-${mag}` : mag) : v < 0 ? `- ${mag}` : `+ ${mag}`);
  }
  const c = a.get('') ?? 0;
  if (terms.length === 0) return String(c);
  if (c !== 0) terms.push(c < 0 ? `- ${-c}` : `+ ${c}`);
  return terms.join(' ');
}
