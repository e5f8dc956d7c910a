import { simplify } from './builder.ts';
import { mapBodies } from './constify.ts';
import { constant, variable, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';
import type { NameSupply } from './builder.ts';

/**
 * Cheaper forms of the same operation:
 *   x^2 → x·x, x^3 → x·x·x, x^4 → (x·x)·(x·x), x^-1 → 1/x, x^0.5 → sqrt(x), x^1 → x, x^0 → 1
 *   -a·b → -(a·b), a + (-b) → a - b, a - (-b) → a + b, -(-a) → a
 * Integer powers by multiplication may differ from Math.pow in the last bit (one rounding per
 * multiplication); x^0.5 differs from sqrt only at -0 and -Infinity (README, "Optimisations").
 */
export function reduceStrength(fn: IrFunction, names: NameSupply): IrFunction {
  // Definitions of `neg` results, to see through a negation one step.
  const negated = new Map<string, Operand>();
  const rewrite = (block: readonly Instr[]): Instr[] =>
    block.flatMap((instr): Instr[] => {
      if (instr.kind === 'if') return [{ ...instr, then: rewrite(instr.then), else: rewrite(instr.else) }];
      if (!instr.expr) return [instr];
      const extra: Instr[] = [];
      const temp = (e: Expr): Operand => {
        const target = names.temp();
        extra.push({ kind: 'const', target, expr: e, origin: instr.origin });
        return variable(target);
      };
      const reduced = reduce(instr.expr, negated, temp);
      const s = simplify(reduced);
      const expr: Expr = 'op' in s ? s : { op: 'copy', args: [s] };
      if (instr.kind === 'const' && expr.op === 'neg') negated.set(instr.target, expr.args[0]);
      return [...extra, { ...instr, expr }];
    });
  return mapBodies(fn, rewrite);
}

function reduce(e: Expr, negated: ReadonlyMap<string, Operand>, temp: (e: Expr) => Operand): Expr {
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
        case 0.5:
          return { op: 'sqrt', args: [a] };
        default:
          return e;
      }
    }
    case 'mul': {
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
