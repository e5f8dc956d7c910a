import { builtins, isBuiltin } from './builtins.ts';
import type { Op } from './ir.ts';

/**
 * One IR operation on numbers, as the generated JavaScript computes it; conditions are 1 (true)
 * and 0 (false). Used for constant folding, and by `adc explain`'s interpreter, so both agree
 * with the emitted code.
 */
export function evaluateOp(op: Op, v: readonly number[]): number {
  switch (op) {
    case 'add':
      return v[0] + v[1];
    case 'sub':
      return v[0] - v[1];
    case 'mul':
      return v[0] * v[1];
    case 'div':
      return v[0] / v[1];
    case 'neg':
      return -v[0];
    case 'pow':
      return v[0] ** v[1];
    case 'copy':
      return v[0];
    case 'select':
      return v[0] !== 0 ? v[1] : v[2];
    case 'lt':
      return +(v[0] < v[1]);
    case 'le':
      return +(v[0] <= v[1]);
    case 'gt':
      return +(v[0] > v[1]);
    case 'ge':
      return +(v[0] >= v[1]);
    case 'eq':
      return +(v[0] === v[1]);
    case 'ne':
      return +(v[0] !== v[1]);
    case 'and':
      return +(v[0] !== 0 && v[1] !== 0);
    case 'or':
      return +(v[0] !== 0 || v[1] !== 0);
    case 'not':
      return +(v[0] === 0);
    default:
      if (isBuiltin(op)) return (builtins[op].evaluate as (...a: number[]) => number)(...v);
      throw new Error(`internal error: cannot evaluate '${String(op)}'`);
  }
}
