/**
 * A set of variable names that costs no hash-table insertion for most of them. The names the
 * compiler makes by counting (`$t12`, a temporary, and `$d12`, its adjoint: src/emit/names.ts) are
 * the bulk of a large function's names, and a Set of strings is slow at that size (each insertion
 * or lookup misses the cache, and the table is rebuilt as it grows): their number, read back from
 * the name, indexes a byte array instead. Every other name (a user's, `$saved3`, `$tt5`) is kept
 * in a Set. A name is read as a number only when it is exactly `$t` or `$dt` then digits without a
 * leading zero, so two names never share a slot.
 */
export class NameSet {
  private temporaries = new Uint8Array(256);
  private readonly others = new Set<string>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(name: string): boolean {
    const slot = slotOf(name);
    if (slot < 0) return this.others.has(name);
    return slot < this.temporaries.length && this.temporaries[slot] === 1;
  }

  add(name: string): void {
    const slot = slotOf(name);
    if (slot < 0) {
      const before = this.others.size;
      this.others.add(name);
      this.count += this.others.size - before;
      return;
    }
    if (slot >= this.temporaries.length) {
      let length = this.temporaries.length * 2;
      while (length <= slot) length *= 2;
      const grown = new Uint8Array(length);
      grown.set(this.temporaries);
      this.temporaries = grown;
    }
    if (this.temporaries[slot] === 0) {
      this.temporaries[slot] = 1;
      this.count++;
    }
  }
}

/** The largest temporary number read from a name (larger ones are kept by name: the array stays small). */
const MAX_NUMBER = 1 << 24;

/** `$t12` → 24, `$dt12` (its adjoint) → 25; -1 for any other name. */
export function slotOf(name: string): number {
  const length = name.length;
  if (length < 3 || length > 12 || name.charCodeAt(0) !== 36) return -1;
  let at = 2;
  const kind = name.charCodeAt(1);
  if (kind === 100) {
    if (name.charCodeAt(2) !== 116) return -1;
    at = 3;
  } else if (kind !== 116) return -1;
  let n = name.charCodeAt(at) - 48;
  if (!(n >= 1 && n <= 9)) return -1;
  for (let k = at + 1; k < length; k++) {
    const digit = name.charCodeAt(k) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  if (n >= MAX_NUMBER) return -1;
  return kind === 116 ? 2 * n : 2 * n + 1;
}

/** A Map from variable names, with NameSet's array for the counted names. Values are never undefined. */
export class NameMap<V> {
  private temporaries: (V | undefined)[] = [];
  // The slots given a value since the last `live()` (some deleted since, some listed twice): copy
  // and restore walk these, not the whole array, so that their cost is the entries held and not
  // the largest number seen (the reverse sweep copies its adjoints at every loop with state: 2,000
  // loops in a row took 2.6× the time when each copy was the array's length).
  private slots: number[] = [];
  private readonly others = new Map<string, V>();

  get(name: string): V | undefined {
    const slot = slotOf(name);
    if (slot < 0) return this.others.get(name);
    return slot < this.temporaries.length ? this.temporaries[slot] : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: V): this {
    const slot = slotOf(name);
    if (slot < 0) {
      this.others.set(name, value);
      return this;
    }
    // (Filled in order, so the array stays a packed one, not a dictionary.)
    while (this.temporaries.length <= slot) this.temporaries.push(undefined);
    if (this.temporaries[slot] === undefined) this.slots.push(slot);
    this.temporaries[slot] = value;
    return this;
  }

  delete(name: string): void {
    const slot = slotOf(name);
    if (slot < 0) this.others.delete(name);
    else if (slot < this.temporaries.length) this.temporaries[slot] = undefined;
  }

  /** The slots holding a value, each once (and `slots` made that list). */
  private live(): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const slot of this.slots) {
      if (this.temporaries[slot] === undefined || seen.has(slot)) continue;
      seen.add(slot);
      out.push(slot);
    }
    this.slots = out;
    return out;
  }

  /** A copy, to go back to later (`restore`); its cost is the entries held. */
  copy(): NameMap<V> {
    const c = new NameMap<V>();
    // (The copy's array has holes below the slots it holds: it is only read, by get and restore.)
    for (const slot of this.live()) {
      c.temporaries[slot] = this.temporaries[slot];
      c.slots.push(slot);
    }
    this.others.forEach((v, k) => c.others.set(k, v));
    return c;
  }

  /** Makes this map hold what `from` holds (a copy of this map made earlier). */
  restore(from: NameMap<V>): void {
    for (const slot of this.slots) this.temporaries[slot] = undefined;
    this.slots = [];
    for (const slot of from.live()) {
      while (this.temporaries.length <= slot) this.temporaries.push(undefined);
      this.temporaries[slot] = from.temporaries[slot];
      this.slots.push(slot);
    }
    this.others.clear();
    from.others.forEach((v, k) => this.others.set(k, v));
  }
}
