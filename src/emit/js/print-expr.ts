import { builtins, isBuiltin } from '../../ir/builtins.ts';
import type { Expr, Op, Operand } from '../../ir/ir.ts';
import { calledFunctionName } from '../names.ts';

/**
 * JavaScript precedence of each IR operation, so the printer writes the fewest parentheses that
 * keep the meaning (esbuild's js_printer works the same way). Higher binds tighter.
 */
const jsPrecedence = {
  select: 2,
  or: 3,
  and: 4,
  equality: 8,
  relational: 9,
  additive: 11,
  multiplicative: 12,
  exponent: 13,
  prefix: 14,
  primary: 20,
} as const;

const binary: Partial<Record<Op, { text: string; prec: number }>> = {
  add: { text: '+', prec: jsPrecedence.additive },
  sub: { text: '-', prec: jsPrecedence.additive },
  mul: { text: '*', prec: jsPrecedence.multiplicative },
  div: { text: '/', prec: jsPrecedence.multiplicative },
  lt: { text: '<', prec: jsPrecedence.relational },
  le: { text: '<=', prec: jsPrecedence.relational },
  gt: { text: '>', prec: jsPrecedence.relational },
  ge: { text: '>=', prec: jsPrecedence.relational },
  eq: { text: '===', prec: jsPrecedence.equality },
  ne: { text: '!==', prec: jsPrecedence.equality },
  and: { text: '&&', prec: jsPrecedence.and },
  or: { text: '||', prec: jsPrecedence.or },
};

export interface Printed {
  readonly text: string;
  readonly prec: number;
  /** The operator at the top, for prettier's clarifying parentheses (`(a / b) * c`). */
  readonly op?: Op;
}

const namedConstants = new Map<number, string>([
  [Math.PI, 'Math.PI'],
  [Math.E, 'Math.E'],
  [Math.LN2, 'Math.LN2'],
  [Math.LN10, 'Math.LN10'],
]);

export function printNumber(v: number): Printed {
  const named = namedConstants.get(v);
  if (named) return { text: named, prec: jsPrecedence.primary };
  if (Number.isNaN(v)) return { text: 'NaN', prec: jsPrecedence.primary };
  if (Object.is(v, -0)) return { text: '-0', prec: jsPrecedence.prefix };
  // prettier drops the `+` of an exponent (String(4e180) is "4e+180", prettier prints 4e180).
  const text = v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v).replace('e+', 'e');
  return { text, prec: text.startsWith('-') ? jsPrecedence.prefix : jsPrecedence.primary };
}

/**
 * Prints one operation. `operand` prints argument k: a variable's name, a constant, or (for a
 * temporary the emitter inlines) the whole expression that defines it.
 */
export function printOp(e: Expr, operand: (o: Operand, k: number) => Printed): Printed {
  const bin = binary[e.op];
  if (bin) {
    // Nearly every operation: its two operands printed without a list of them.
    const a = operand(e.args[0], 0);
    const b = operand(e.args[1], 1);
    // Like prettier, parenthesise a `*` inside a `/` and the reverse, though precedence needs none.
    const mixed = (e.op === 'mul' || e.op === 'div') && (a.op === 'mul' || a.op === 'div') && a.op !== e.op;
    const left = mixed || a.prec < bin.prec ? `(${a.text})` : a.text;
    return { text: `${left} ${bin.text} ${b.prec >= bin.prec + 1 ? b.text : `(${b.text})`}`, prec: bin.prec, op: e.op };
  }
  const args = e.args.map(operand);
  switch (e.op) {
    case 'pow':
      // `-x ** 2` is a syntax error in JavaScript: a unary base needs parentheses.
      // `x ** y ** z` is written `x ** (y ** z)`, as prettier does.
      return { text: `${wrap(args[0], jsPrecedence.prefix + 1)} ** ${wrap(args[1], jsPrecedence.exponent + 1)}`, prec: jsPrecedence.exponent, op: 'pow' };
    case 'neg': {
      const inner = wrap(args[0], jsPrecedence.prefix);
      return { text: inner.startsWith('-') ? `-(${inner})` : `-${inner}`, prec: jsPrecedence.prefix };
    }
    case 'not':
      return { text: `!${wrap(args[0], jsPrecedence.prefix)}`, prec: jsPrecedence.prefix };
    case 'copy':
      return args[0];
    case 'load':
    case 'row':
      return { text: `${wrap(args[0], jsPrecedence.primary)}[${args[1].text}]`, prec: jsPrecedence.primary };
    case 'call':
      return { text: `${calledFunctionName(e.callee!.fn, e.callee!.kind, e.callee!.wrt)}(${args.map((a) => a.text).join(', ')})`, prec: jsPrecedence.primary };
    case 'select':
      return {
        text: `${wrap(args[0], jsPrecedence.select + 1)} ? ${wrap(args[1], jsPrecedence.select)} : ${wrap(args[2], jsPrecedence.select)}`,
        prec: jsPrecedence.select,
      };
    default:
      if (isBuiltin(e.op)) return { text: `${builtins[e.op].js}(${args.map((a) => a.text).join(', ')})`, prec: jsPrecedence.primary };
      throw new Error(`internal error: cannot print '${e.op}'`);
  }
}

function wrap(p: Printed, min: number): string {
  return p.prec >= min ? p.text : `(${p.text})`;
}

export const primaryPrecedence = jsPrecedence.primary;
export const relationalPrecedence = jsPrecedence.relational;
export const additivePrecedence = jsPrecedence.additive;
