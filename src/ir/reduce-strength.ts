import { simplify } from './builder.ts';
import { NameMap } from './name-set.ts';
import { mapBodies } from './constify.ts';
import { constant, declaredIn, forEachInstr, hasLoop, mapNested, readsOf, variable, type Expr, type Instr, type IrFunction, type Operand } from './ir.ts';
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
  // What ownElement reads of the whole function: the constants defined once (the trip counts of
  // inner loops), and the flat arrays no other name refers to (no copy, row or select of them).
  const outside: Outside = { constants: new NameMap<Expr>(), arrays: new Set<string>() };
  const twice = new Set<string>();
  const aliased = new Set<string>();
  const collect = (i: Instr) => {
    if (i.kind === 'array' && !i.rows) outside.arrays.add(i.target);
    if ((i.kind === 'const' || i.kind === 'let' || i.kind === 'set') && i.expr && (i.expr.op === 'copy' || i.expr.op === 'row' || i.expr.op === 'select'))
      for (const o of i.expr.args) if (o.kind === 'var') aliased.add(o.name);
    if (i.kind !== 'const') return;
    if (outside.constants.has(i.target)) twice.add(i.target);
    outside.constants.set(i.target, i.expr);
  };
  forEachInstr(fn.body, collect);
  if (fn.reverse) forEachInstr(fn.reverse, collect);
  for (const name of twice) outside.constants.delete(name);
  for (const name of aliased) outside.arrays.delete(name);
  // (A loop of pushes, not a flatMap: straight-line code would make an array per instruction.)
  const rewrite = (block: readonly Instr[]): Instr[] => {
    const out: Instr[] = [];
    for (let k = 0; k < block.length; k++) {
      const instr = block[k];
      if (instr.kind === 'if') out.push(mapNested(instr, rewrite));
      else if (instr.kind !== 'loop') out.push(instr);
      else for (const i of withRunningPowers(mapNested(instr, rewrite) as Loop, names, outside)) out.push(i);
    }
    return out;
  };
  return mapBodies(fn, rewrite);
}

type Loop = Extract<Instr, { kind: 'loop' }>;

/** What runningPowers knows of the whole function, for ownElement. */
interface Outside {
  readonly constants: NameMap<Expr>;
  readonly arrays: Set<string>;
}

/** The loop with its index powers made running products, and the instructions before it that start them. */
function withRunningPowers(loop: Loop, names: NameSupply, outside: Outside): Instr[] {
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
  if (loop.descending && !iterationsIndependent(loop, outside)) return [loop];
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
 * no variable from outside it, stores only by accumulating (`+=`) or into an element of its own
 * (`ownElement`), reads no array it stores into and no outside variable it adds to, and holds no
 * loop with state.
 *
 * The answer must be the same for every copy of a loop: a value function's, and the forward
 * sweep's copy in fGrad, which also stores each iteration's costly values (a cosh, a nested
 * reduction's result) for its reverse sweep (src/ad/loops.ts), one element per iteration. Those
 * stores are of the own-element kind, so both copies count up, compute the same running powers and
 * add in the same order: f and fGrad return the same value to the bit.
 */
function iterationsIndependent(loop: Loop, outside: Outside): boolean {
  if (loop.carried || loop.reduction) return false;
  const local = declaredIn(loop.body);
  const written = new Set<string>();
  const stores = new Map<string, number>();
  let independent = true;
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'set' && !local.has(i.target)) independent = false;
    if (i.kind === 'add' && !local.has(i.target)) written.add(i.target);
    if (i.kind === 'store') {
      written.add(i.array);
      stores.set(i.array, (stores.get(i.array) ?? 0) + 1);
    }
    if (i.kind === 'loop' && (i.carried || i.exit)) independent = false;
  });
  if (!independent) return false;
  const own = ownElement(loop, outside);
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'store' && !i.accumulate && !(stores.get(i.array) === 1 && own(i))) independent = false;
    const reads = i.kind === 'store' ? [i.index, ...i.expr.args] : readsOf(i);
    for (const o of reads) if (o.kind === 'var' && written.has(o.name)) independent = false;
  });
  return independent;
}

/**
 * A test of whether a store writes an element of its own: different iterations of the loop write
 * different elements. Its index is, in each iteration `i`, in a block [i·W + s, i·W + s + W) with
 * W and s the same in every iteration, so the blocks do not meet:
 *   - the loop's index plus a value the loop does not change (W = 1): `saved[j]`, `saved[i·n + j]`;
 *   - a block times E plus the index of an inner loop less its start, E being that inner loop's
 *     trip count max(to - from, 0) with bounds the loop does not change (W · E): `saved[i·n + j]`
 *     in an inner loop over j in 0..n, as src/ad/loops.ts stores a nested loop's costly values.
 * `outside` holds the function's constants defined once, where E is defined (before the loops),
 * and its flat arrays no other name refers to: the array stored is one of those, allocated outside
 * the loop (as every saved value's is), so no other store in the loop writes it under another name.
 * With the array stored nowhere else in the loop and never read in it, the order the iterations
 * run in changes nothing. No old value to restore either.
 */
function ownElement(loop: Loop, outside: Outside): (store: Extract<Instr, { kind: 'store' }>) => boolean {
  const changed = new Set<string>();
  forEachInstr(loop.body, (i) => {
    if (i.kind === 'set' || i.kind === 'add' || i.kind === 'let') changed.add(i.target);
  });
  const declaredHere = declaredIn(loop.body);
  // The form of each constant of the body, by name (a name defined twice has none).
  type Form = { kind: 'fixed' } | { kind: 'block' } | { kind: 'scaled'; by: Operand } | { kind: 'index'; of: Loop } | { kind: 'within'; of: Loop };
  const forms = new Map<string, Form | undefined>();
  const fixed: Form = { kind: 'fixed' };
  const formOf = (o: Operand): Form | undefined => {
    if (o.kind === 'const') return fixed;
    if (o.name === loop.index) return { kind: 'block' };
    if (forms.has(o.name)) return forms.get(o.name);
    return declaredHere.has(o.name) || changed.has(o.name) ? undefined : fixed;
  };
  // What a name outside the loop is defined as, through copies.
  const resolve = (o: Operand): Operand => {
    for (let k = 0; k < 100 && o.kind === 'var'; k++) {
      const d = outside.constants.get(o.name);
      if (!d || d.op !== 'copy') break;
      o = d.args[0];
    }
    return o;
  };
  const same = (a: Operand, b: Operand) => {
    const [x, y] = [resolve(a), resolve(b)];
    return x.kind === 'const' ? y.kind === 'const' && Object.is(x.value, y.value) : y.kind === 'var' && x.name === y.name;
  };
  // Whether e is the trip count of inner loop m, max(to - from, 0), its bounds unchanged by the loop.
  const tripCount = (e: Operand, m: Loop) => {
    if (formOf(m.from)?.kind !== 'fixed' || formOf(m.to)?.kind !== 'fixed' || formOf(e)?.kind !== 'fixed') return false;
    const r = resolve(e);
    const d = r.kind === 'var' ? outside.constants.get(r.name) : undefined;
    if (!d || d.op !== 'max' || !same(d.args[1], constant(0))) return false;
    const span = resolve(d.args[0]);
    const sd = span.kind === 'var' ? outside.constants.get(span.name) : undefined;
    if (sd?.op === 'sub' && same(sd.args[0], m.to) && same(sd.args[1], m.from)) return true;
    return m.from.kind === 'const' && m.from.value === 0 && same(span, m.to);
  };
  const formOfExpr = (e: Expr): Form | undefined => {
    const op = e.op;
    if (e.args.every((o) => formOf(o)?.kind === 'fixed')) return op === 'load' || op === 'row' || op === 'call' ? undefined : fixed;
    if (op === 'copy') return formOf(e.args[0]);
    if (e.args.length !== 2) return undefined;
    const [x, y] = e.args;
    const a = formOf(x);
    const b = formOf(y);
    if (!a || !b) return undefined;
    if (op === 'add' && a.kind === 'block' && b.kind === 'fixed') return a;
    if (op === 'add' && a.kind === 'fixed' && b.kind === 'block') return b;
    if (op === 'sub' && a.kind === 'block' && b.kind === 'fixed') return a;
    if (op === 'mul' && a.kind === 'block' && b.kind === 'fixed') return { kind: 'scaled', by: y };
    if (op === 'mul' && a.kind === 'fixed' && b.kind === 'block') return { kind: 'scaled', by: x };
    if (op === 'sub' && a.kind === 'index' && b.kind === 'fixed' && same(y, a.of.from)) return { kind: 'within', of: a.of };
    if (op === 'add' && a.kind === 'scaled' && b.kind === 'within' && tripCount(a.by, b.of)) return { kind: 'block' };
    if (op === 'add' && a.kind === 'within' && b.kind === 'scaled' && tripCount(b.by, a.of)) return { kind: 'block' };
    return undefined;
  };
  // An inner loop's index is its distance from the start when that start is 0.
  const indexForm = (m: Loop): Form => (m.from.kind === 'const' && m.from.value === 0 ? { kind: 'within', of: m } : { kind: 'index', of: m });
  const seen = new Set<string>();
  const walk = (block: readonly Instr[]) => {
    for (const i of block) {
      if (i.kind === 'if') {
        walk(i.then);
        walk(i.else);
      } else if (i.kind === 'loop') {
        forms.set(i.index, indexForm(i));
        if (i.exit) walk(i.exit.body);
        walk(i.body);
      } else if (i.kind === 'const') {
        forms.set(i.target, seen.has(i.target) ? undefined : formOfExpr(i.expr));
        seen.add(i.target);
      }
    }
  };
  walk(loop.body);
  return (store) => !store.old && outside.arrays.has(store.array) && !declaredHere.has(store.array) && formOf(store.index)?.kind === 'block';
}
