import { costlyOps, type Instr, type Operand } from '../../ir/ir.ts';
import { laneCounterName, laneEndName, partialSumName } from '../names.ts';
import { primaryPrecedence, relationalPrecedence, type Printed } from './print-expr.ts';

type Loop = Extract<Instr, { kind: 'loop' }>;

/**
 * Several accumulators for a long sum (the JavaScript target). A sum added in index order is one
 * chain of dependent additions: each waits for the one before (about 4 cycles), however cheap the
 * term. A dot product's loop is then bound by that chain, not by its loads and multiplications.
 * Four partial sums, each taking every fourth term, are four chains V8 runs side by side; they
 * are added at the end.
 *
 * The order is the wasm target's (src/emit/wasm/vectorize.ts: two f64x2 accumulators, four
 * iterations per step): iterations from + 4q … from + 4q + 3 add into parts 0, 1, 2, 3; then, if
 * two or three iterations are left, the next two into parts 0 and 1; the parts are added as
 * (p0 + p2) + (p1 + p3), its lanes' order; the last iteration, if one is left, is added to that.
 * A sum both targets compute this way has the same bits on both.
 *
 * The decision depends only on what every export's copy of the loop shares, so that f, fGrad's
 * forward sweep, fGradInto, fJvp and fHvp (whose copies add stores, saved values and the
 * tangents' arithmetic) sum a loop in the same order and return the same value to the bit:
 * a sum over an ascending loop without state, whose body is straight-line code (values, stores,
 * accumulations, checks: no inner loop, no branch) with no costly operation (`costlyOps` in ir.ts:
 * a body taking an exp or a call is bound by it, not by the additions, and derivatives add costly
 * operations only where the value has one), whose index is only an address (`readsAtIndex`), and
 * whose trip count is not a known small number.
 */
export const partialSumCount = 4;

/** A known trip count below this is summed in index order (unrolling it gains nothing). */
const shortLoop = 8;

/** Whether a loop's sum is printed with four partial sums. */
export function hasPartialSums(loop: Loop): boolean {
  if (loop.reduction?.op !== 'sum' || loop.descending || loop.exit || loop.carried || loop.carriedArrays || loop.schedule) return false;
  if (loop.from.kind === 'const' && loop.to.kind === 'const' && loop.to.value - loop.from.value < shortLoop) return false;
  if (!loop.body.every((i) => (i.kind === 'const' && !costlyOps.has(i.expr.op)) || i.kind === 'store' || i.kind === 'add' || i.kind === 'check')) return false;
  return readsAtIndex(loop);
}

/**
 * Whether the loop's index is only an address: the index of a read or write, itself or plus a
 * value the loop does not change (`x[i]`, `L[k·D + j·D + c]`), never a number in the arithmetic
 * (`i * s`, `x[2 * i]`, a stride `z[k·h]`). These are the loops the wasm target vectorises (its
 * `plan`), so a sum this pass splits is, there too, summed in the same order; and the copies of a
 * loop in derivatives (tangent and adjoint arrays read and written at the same addresses) keep it.
 */
function readsAtIndex(loop: Loop): boolean {
  const offsets = new Set([loop.index]);
  const defined = new Set<string>();
  const isOffset = (o: Operand | undefined) => o?.kind === 'var' && offsets.has(o.name);
  const invariant = (o: Operand | undefined) => o !== undefined && (o.kind === 'const' || !defined.has(o.name)) && !isOffset(o);
  for (const i of loop.body) {
    if (i.kind === 'const') {
      const [a, b] = i.expr.args;
      defined.add(i.target);
      if ((i.expr.op === 'copy' && isOffset(a)) || (i.expr.op === 'add' && ((isOffset(a) && invariant(b)) || (isOffset(b) && invariant(a))))) {
        offsets.add(i.target);
        continue;
      }
      const numbers = i.expr.op === 'load' ? [a] : i.expr.args;
      if (numbers.some(isOffset)) return false;
    } else if (i.kind === 'store' || i.kind === 'add') {
      if (i.expr.args.some(isOffset) || (i.kind === 'store' && i.old && isOffset(i.old))) return false;
    }
  }
  return !isOffset(loop.reduction!.value);
}

/** What the JavaScript emitter's body printer lends to print such a loop. */
export interface LoopPrinter {
  push(line: string, origin?: number): void;
  statements(block: readonly Instr[], indent: string, sourceLines: boolean): void;
  operand(o: Operand): Printed;
  comment(indent: string, text: string): string;
}

/**
 * Prints a loop `hasPartialSums` accepts: each iteration's body in a block of its own that binds
 * the loop's index (`const i = i$lanes + 1`), so the body's names stay local to one iteration.
 */
export function printPartialSums(p: LoopPrinter, loop: Loop, indent: string, sourceLines: boolean): void {
  const r = loop.reduction!;
  const at = loop.origin.span.start;
  const i = loop.index;
  const lanes = laneCounterName(i);
  const part = (k: number) => partialSumName(r.target, k);
  const from = p.operand(loop.from).text;
  // The end is read three times: a computed one is taken once.
  let to = p.operand(loop.to);
  const inner = indent + '  ';
  p.push(p.comment(indent, 'Summed in four partial sums, the iterations taken in turn: four chains'), at);
  p.push(p.comment(indent, "of additions side by side, in the wasm target's order (the last bits"), at);
  p.push(p.comment(indent, 'may differ from adding in index order).'), at);
  if (loop.to.kind === 'var' && to.text !== loop.to.name) {
    const end = laneEndName(i);
    p.push(`${indent}const ${end} = ${to.text};`, at);
    to = { text: end, prec: primaryPrecedence };
  }
  const end = to.prec > relationalPrecedence ? to.text : `(${to.text})`;
  for (let k = 0; k < partialSumCount; k++) p.push(`${indent}let ${part(k)} = 0;`, at);
  p.push(`${indent}let ${lanes} = ${from};`, at);
  const iteration = (offset: number, add: string, at2: string) => {
    p.push(`${at2}{`, at);
    p.push(`${at2}  const ${i} = ${offset === 0 ? lanes : `${lanes} + ${offset}`};`, at);
    p.statements(loop.body, at2 + '  ', sourceLines);
    p.push(`${at2}  ${add} += ${p.operand(r.value).text};`, at);
    p.push(`${at2}}`, at);
  };
  p.push(`${indent}for (; ${lanes} + ${partialSumCount - 1} < ${end}; ${lanes} += ${partialSumCount}) {`, at);
  for (let k = 0; k < partialSumCount; k++) iteration(k, part(k), inner);
  p.push(`${indent}}`, at);
  p.push(`${indent}if (${lanes} + 1 < ${end}) {`, at);
  iteration(0, part(0), inner);
  iteration(1, part(1), inner);
  p.push(`${inner}${lanes} += 2;`, at);
  p.push(`${indent}}`, at);
  p.push(`${indent}${loop.declared ? '' : 'let '}${r.target} = ${part(0)} + ${part(2)} + (${part(1)} + ${part(3)});`, at);
  p.push(`${indent}if (${lanes} < ${end}) {`, at);
  p.push(`${inner}const ${i} = ${lanes};`, at);
  p.statements(loop.body, inner, sourceLines);
  p.push(`${inner}${r.target} += ${p.operand(r.value).text};`, at);
  p.push(`${indent}}`, at);
}
