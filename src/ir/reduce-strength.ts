import { simplify } from './builder.ts';
import { mapBodies } from './constify.ts';
import { constant, mapNested, variable, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';
import type { NameSupply } from './builder.ts';

/**
 * Cheaper forms of the same operation:
 *   x^2 → x·x, x^3 → x·x·x, x^4 → (x·x)·(x·x), x^-1 → 1/x, x^1 → x, x^0 → 1
 *   -a·b → -(a·b), a + (-b) → a - b, a - (-b) → a + b, -(-a) → a, 100·(2·x) → 200·x
 * Integer powers by multiplication may differ from Math.pow in the last bit (one rounding per
 * multiplication). x^0.5 is left to Math.pow, which V8 already computes with sqrt: replacing it
 * would be wrong at -0 and -Infinity (Math.pow(-Infinity, 0.5) is Infinity, sqrt gives NaN).
 */
export function reduceStrength(fn: IrFunction, names: NameSupply): IrFunction {
  // Definitions of `neg` results and of constant products, to see through them one step.
  const negated = new Map<string, Operand>();
  const definitions = new Map<string, Expr>();
  // An instruction nothing applies to is kept as it is (most are: a new object for each would
  // only feed the garbage collector).
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (const instr of block) {
      if (instr.kind === 'if' || instr.kind === 'loop') {
        out.push(mapNested(instr, rewrite));
        continue;
      }
      if (instr.kind === 'store') {
        const s = simplify(instr.expr);
        out.push(s === instr.expr ? instr : { ...instr, expr: 'op' in s ? s : { op: 'copy', args: [s] } });
        continue;
      }
      if (instr.kind === 'array' || instr.kind === 'check' || !instr.expr) {
        out.push(instr);
        continue;
      }
      const temp = (e: Expr): Operand => {
        const target = names.temp();
        out.push({ kind: 'const', target, expr: e, origin: instr.origin });
        return variable(target);
      };
      const reduced = reduce(instr.expr, negated, temp, definitions);
      const s = simplify(reduced);
      const expr: Expr = 'op' in s ? s : { op: 'copy', args: [s] };
      if (instr.kind === 'const' && expr.op === 'neg') negated.set(instr.target, expr.args[0]);
      if (instr.kind === 'const') definitions.set(instr.target, expr);
      out.push(expr === instr.expr ? instr : { ...instr, expr });
    }
    return out;
  };
  return mapBodies(fn, rewrite);
}

const isPowerOfTwo = (c: number) => c !== 0 && Number.isFinite(c) && 2 ** Math.round(Math.log2(Math.abs(c))) === Math.abs(c);
/** c1·(c2·x) = (c1·c2)·x exactly: c2 (the inner factor) a power of two, neither below 1 in size. */
const exactProduct = (c1: number, c2: number) => Math.abs(c1) >= 1 && Math.abs(c2) >= 1 && isPowerOfTwo(c2) && Number.isFinite(c1 * c2);

/** `c·x` when the variable was defined as a product with a constant. */
function constFactor(o: Operand, definitions: ReadonlyMap<string, Expr>): { c: number; x: Operand } | undefined {
  if (o.kind !== 'var') return undefined;
  const d = definitions.get(o.name);
  if (!d || d.op !== 'mul') return undefined;
  const [p, q] = d.args;
  if (p.kind === 'const' && q.kind === 'var') return { c: p.value, x: q };
  if (q.kind === 'const' && p.kind === 'var') return { c: q.value, x: p };
  return undefined;
}

function reduce(e: Expr, negated: ReadonlyMap<string, Operand>, temp: (e: Expr) => Operand, definitions: ReadonlyMap<string, Expr>): Expr {
  const [a, b] = e.args;
  const neg = (o: Operand | undefined) => (o && o.kind === 'var' ? negated.get(o.name) : undefined);
  switch (e.op) {
    case 'pow': {
      if (b.kind !== 'const') return e;
      switch (b.value) {
        case 0:
          return { op: 'copy', args: [constant(1)] };
        case 1:
          return { op: 'copy', args: [a] };
        case 2:
          return { op: 'mul', args: [a, a] };
        case 3:
          return { op: 'mul', args: [temp({ op: 'mul', args: [a, a] }), a] };
        case 4: {
          const sq = temp({ op: 'mul', args: [a, a] });
          return { op: 'mul', args: [sq, sq] };
        }
        case -1:
          return { op: 'div', args: [constant(1), a] };
        default:
          return e;
      }
    }
    case 'mul': {
      // c1·(c2·x) → (c1·c2)·x when the inner c2 is a power of two and neither shrinks (|c| ≥ 1):
      // c2·x is then exact, and overflow happens in both forms or neither.
      const inner = a.kind === 'const' ? constFactor(b, definitions) : b.kind === 'const' ? constFactor(a, definitions) : undefined;
      const outer = a.kind === 'const' ? a.value : b.kind === 'const' ? b.value : undefined;
      if (inner && outer !== undefined && exactProduct(outer, inner.c)) return { op: 'mul', args: [constant(outer * inner.c), inner.x] };
      const na = neg(a);
      if (na) return { op: 'neg', args: [temp({ op: 'mul', args: [na, b] })] };
      const nb = neg(b);
      if (nb) return { op: 'neg', args: [temp({ op: 'mul', args: [a, nb] })] };
      return e;
    }
    case 'add': {
      const nb = neg(b);
      if (nb) return { op: 'sub', args: [a, nb] };
      const na = neg(a);
      if (na) return { op: 'sub', args: [b, na] };
      return e;
    }
    case 'sub': {
      const nb = neg(b);
      return nb ? { op: 'add', args: [a, nb] } : e;
    }
    case 'neg': {
      const na = neg(a);
      return na ? { op: 'copy', args: [na] } : e;
    }
    default:
      return e;
  }
}
