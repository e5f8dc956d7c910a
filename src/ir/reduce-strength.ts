import { simplify } from './builder.ts';
import { NameMap } from './name-set.ts';
import { mapBodies } from './constify.ts';
import { constant, declaredIn, forEachInstr, mapNested, readsOf, variable, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';
import type { NameSupply } from './builder.ts';

/**
 * Cheaper forms of the same operation:
 *   x^2 → x·x, x^3 → x·x·x, x^4 → (x·x)·(x·x), x^-1 → 1/x, x^1 → x, x^0 → 1
 *   -a·b → -(a·b), a + (-b) → a - b, a - (-b) → a + b, -(-a) → a, 100·(2·x) → 200·x
 * Integer powers by multiplication may differ from Math.pow in the last bit (one rounding per
 * multiplication). x^0.5 is left to Math.pow, which V8 already computes with sqrt: replacing it
 * would be wrong at -0 and -Infinity (Math.pow(-Infinity, 0.5) is Infinity, sqrt gives NaN).
 *
 * Then, in loops, a power of a loop-invariant base with the loop's index as exponent (`t^j`, and
 * `t^(j + c)`) becomes a running product (see runningPowers below).
 */
export function reduceStrength(fn: IrFunction, names: NameSupply): IrFunction {
  // Definitions of `neg` results and of constant products, to see through them one step.
  // (Keyed by name with temporaries by number, name-set.ts: most names here are temporaries.)
  const negated = new NameMap<Operand>();
  const definitions = new NameMap<Expr>();
  // An instruction nothing applies to is kept as it is (most are: a new object for each would
  // only feed the garbage collector).
  // The block being rewritten and the instruction at hand, for `temp` (one closure for the
  // function, not one per instruction).
  let out: Instr[] = [];
  let at: Instr | undefined;
  const temp = (e: Expr): Operand => {
    const target = names.temp();
    out.push({ kind: 'const', target, expr: e, origin: at!.origin });
    return variable(target);
  };
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const outer = out;
    out = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      if (instr.kind === 'if' || instr.kind === 'loop') {
        const nested = mapNested(instr, rewrite);
        out.push(nested);
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
      at = instr;
      const reduced = reduce(instr.expr, negated, temp, definitions);
      const s = simplify(reduced);
      const expr: Expr = 'op' in s ? s : { op: 'copy', args: [s] };
      if (instr.kind === 'const' && expr.op === 'neg') negated.set(instr.target, expr.args[0]);
      // (constFactor reads only products with a constant: the others are not kept.)
      if (instr.kind === 'const' && expr.op === 'mul' && (expr.args[0].kind === 'const' || expr.args[1].kind === 'const')) definitions.set(instr.target, expr);
      out.push(expr === instr.expr ? instr : { ...instr, expr });
    }
    const done = out;
    out = outer;
    return done;
  };
  return runningPowers(mapBodies(fn, rewrite), names);
}

const isPowerOfTwo = (c: number) => c !== 0 && Number.isFinite(c) && 2 ** Math.round(Math.log2(Math.abs(c))) === Math.abs(c);
/** c1·(c2·x) = (c1·c2)·x exactly: c2 (the inner factor) a power of two, neither below 1 in size. */
const exactProduct = (c1: number, c2: number) => Math.abs(c1) >= 1 && Math.abs(c2) >= 1 && isPowerOfTwo(c2) && Number.isFinite(c1 * c2);

/** `c·x` when the variable was defined as a product with a constant. */
function constFactor(o: Operand, definitions: NameMap<Expr>): { c: number; x: Operand } | undefined {
  if (o.kind !== 'var') return undefined;
  const d = definitions.get(o.name);
  if (!d || d.op !== 'mul') return undefined;
  const [p, q] = d.args;
  if (p.kind === 'const' && q.kind === 'var') return { c: p.value, x: q };
  if (q.kind === 'const' && p.kind === 'var') return { c: q.value, x: p };
  return undefined;
}

/** What `o` is the negation of, when it was defined as one. */
function negationOf(o: Operand | undefined, negated: NameMap<Operand>): Operand | undefined {
  return o && o.kind === 'var' ? negated.get(o.name) : undefined;
}

function reduce(e: Expr, negated: NameMap<Operand>, temp: (e: Expr) => Operand, definitions: NameMap<Expr>): Expr {
  // (No destructuring and no closure: this runs on every instruction, and each would be garbage.)
  const a = e.args[0];
  const b = e.args[1];
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
      const na = negationOf(a, negated);
      if (na) return { op: 'neg', args: [temp({ op: 'mul', args: [na, b] })] };
      const nb = negationOf(b, negated);
      if (nb) return { op: 'neg', args: [temp({ op: 'mul', args: [a, nb] })] };
      return e;
    }
    case 'add': {
      const nb = negationOf(b, negated);
      if (nb) return { op: 'sub', args: [a, nb] };
      const na = negationOf(a, negated);
      if (na) return { op: 'sub', args: [b, na] };
      return e;
    }
    case 'sub': {
      const nb = negationOf(b, negated);
      return nb ? { op: 'add', args: [a, nb] } : e;
    }
    case 'neg': {
      const na = negationOf(a, negated);
      return na ? { op: 'copy', args: [na] } : e;
    }
    default:
      return e;
  }
}

// ---------------------------------------------------------------------------------------------
// Running powers

/**
 * `a^(i + c)` in a loop over `i`, with `a` unchanged by the loop and `c` a whole number, becomes a
 * running product: `let p = a^(from + c)` before the loop, `p` in place of the power, and
 * `p = p * a` as the body's last instruction (a state the loop carries). Math.pow with a variable
 * exponent costs tens of nanoseconds; a multiplication, one.
 *
 * Exactness: a^(e+1) = a^e·a for every whole e ≥ 0 and every a, ±0, ±∞ and NaN included
 * (0^0 = 1, NaN^0 = 1), so only rounding differs: p after k steps is within about k roundings
 * (k·2^-53 relative) of Math.pow's result. Hence only a constant `from + c ≥ 0`: from a negative
 * exponent 0^-1·0 would be NaN where 0^0 is 1.
 *
 * A loop counting down (the reverse sweep's) is turned to count up when its iterations cannot
 * see each other (they only read values from before the loop and add into adjoints nobody reads
 * inside it): the sums it adds then come in the other order, the same numbers up to rounding.
 */
function runningPowers(fn: IrFunction, names: NameSupply): IrFunction {
  // Code without a loop has no index to make powers of: returned as it is, not copied.
  if (!hasLoop(fn.body) && !(fn.reverse && hasLoop(fn.reverse))) return fn;
  // (A loop of pushes, not a flatMap: straight-line code would make an array per instruction.)
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      if (instr.kind === 'if') out.push(mapNested(instr, rewrite));
      else if (instr.kind !== 'loop') out.push(instr);
      else for (const i of withRunningPowers(mapNested(instr, rewrite) as Loop, names)) out.push(i);
    }
    return out;
  };
  return mapBodies(fn, rewrite);
}

/** Whether a block holds a loop, at any depth. */
function hasLoop(block: readonly Instr[]): boolean {
  for (let k = 0; k < block.length; k++) {
    const i = block[k];
    if (i.kind === 'loop' || (i.kind === 'if' && (hasLoop(i.then) || hasLoop(i.else)))) return true;
  }
  return false;
}

type Loop = Extract<Instr, { kind: 'loop' }>;

/** The loop with its index powers made running products, and the instructions before it that start them. */
function withRunningPowers(loop: Loop, names: NameSupply): Instr[] {
  if (loop.exit || loop.from.kind !== 'const') return [loop];
  const from = loop.from.value;
  const local = declaredIn(loop.body);
  const changed = new Set<string>();
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'set' || i.kind === 'add' || i.kind === 'let') changed.add(i.target);
  });
  const invariant = (o: Operand) => o.kind === 'const' || (!local.has(o.name) && !changed.has(o.name) && !(loop.carried ?? []).includes(o.name));
  // Exponents of the form index + c, by the variable holding them (the index itself: c = 0).
  const offsets = new Map<string, number>([[loop.index, 0]]);
  for (const i of loop.body) {
    if (i.kind !== 'const') continue;
    const [a, b] = i.expr.args;
    const isIndex = (o: Operand | undefined) => o?.kind === 'var' && o.name === loop.index;
    const whole = (o: Operand | undefined) => o?.kind === 'const' && Number.isSafeInteger(o.value);
    if (i.expr.op === 'add' && isIndex(a) && whole(b)) offsets.set(i.target, (b as { value: number }).value);
    else if (i.expr.op === 'add' && whole(a) && isIndex(b)) offsets.set(i.target, (a as { value: number }).value);
    else if (i.expr.op === 'sub' && isIndex(a) && whole(b)) offsets.set(i.target, -(b as { value: number }).value);
  }
  // The powers to replace, in the body and its branches (not nested loops: their own index).
  const powers = new Map<string, { base: Operand; offset: number; name: string }>();
  const keyOf = (base: Operand, offset: number) => `${base.kind === 'const' ? `#${base.value}` : base.name}^${offset}`;
  const find = (block: readonly Instr[]) => {
    for (const i of block) {
      if (i.kind === 'if') {
        find(i.then);
        find(i.else);
      }
      if ((i.kind !== 'const' && i.kind !== 'set' && i.kind !== 'let') || !i.expr || i.expr.op !== 'pow') continue;
      const [base, exponent] = i.expr.args;
      const offset = exponent.kind === 'var' ? offsets.get(exponent.name) : undefined;
      if (offset === undefined || from + offset < 0 || !invariant(base)) continue;
      const key = keyOf(base, offset);
      if (!powers.has(key)) powers.set(key, { base, offset, name: names.power() });
    }
  };
  find(loop.body);
  if (powers.size === 0) return [loop];
  if (loop.descending && !iterationsIndependent(loop)) return [loop];
  const replace = (block: readonly Instr[]): Instr[] =>
    block.map((i): Instr => {
      if (i.kind === 'if') return { ...i, then: replace(i.then), else: replace(i.else) };
      if ((i.kind !== 'const' && i.kind !== 'set' && i.kind !== 'let') || !i.expr || i.expr.op !== 'pow') return i;
      const [base, exponent] = i.expr.args;
      const offset = exponent.kind === 'var' ? offsets.get(exponent.name) : undefined;
      const p = offset === undefined ? undefined : powers.get(keyOf(base, offset));
      return p ? { ...i, expr: { op: 'copy', args: [variable(p.name)] } } : i;
    });
  const origin = loop.origin;
  const before: Instr[] = [];
  const updates: Instr[] = [];
  for (const p of powers.values()) {
    const e = from + p.offset;
    const start: Expr = e === 0 ? { op: 'copy', args: [constant(1)] } : e === 1 ? { op: 'copy', args: [p.base] } : { op: 'pow', args: [p.base, constant(e)] };
    before.push({ kind: 'let', target: p.name, expr: start, origin });
    updates.push({ kind: 'set', target: p.name, expr: { op: 'mul', args: [variable(p.name), p.base] }, origin });
  }
  const what = `unning power${powers.size === 1 ? '' : 's'} of ${loop.index} (one multiplication per iteration, not a power): ${[...powers.values()].map((p) => p.name).join(', ')}`;
  const lines = [
    ...(loop.note ? [`${loop.note}.`] : []),
    ...(loop.descending ? ['Counted up (its iterations are independent, so any order adds the same terms);', `r${what}`] : [`R${what}`]),
  ];
  const note = lines.join('\n');
  const carried = [...(loop.carried ?? []), ...[...powers.values()].map((p) => p.name)];
  return [...before, { ...loop, descending: false, body: [...replace(loop.body), ...updates], carried, note }];
}

/**
 * Whether a loop's iterations may run in any order: none writes what another reads. Its body sets
 * no variable from outside it, stores only by accumulating (`+=`), reads no array it accumulates
 * into and no outside variable it adds to, and holds no loop with state.
 */
function iterationsIndependent(loop: Loop): boolean {
  if (loop.carried || loop.reduction) return false;
  const local = declaredIn(loop.body);
  const accumulated = new Set<string>();
  let independent = true;
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'set' && !local.has(i.target)) independent = false;
    if (i.kind === 'add' && !local.has(i.target)) accumulated.add(i.target);
    if (i.kind === 'store') {
      if (!i.accumulate) independent = false;
      accumulated.add(i.array);
    }
    if (i.kind === 'loop' && (i.carried || i.exit)) independent = false;
  });
  forEachInstr(loop.body, (i) => {
    const reads = i.kind === 'store' ? [i.index, ...i.expr.args] : readsOf(i);
    for (const o of reads) if (o.kind === 'var' && accumulated.has(o.name)) independent = false;
  });
  return independent;
}
