/**
 * The module-level helpers generated code may call: argument checks, work arrays kept between
 * calls (so a warm call allocates only the gradient it returns), returned and gradient matrices
 * and the caller's arrays of fGradInto. A module contains exactly the helpers its code calls, and the ones
 * those call: which is decided from the emitted text (`helpersFor`), never from parameter types,
 * so no code path can call a helper that is not there. Each name starts with `$`, which no user
 * name has (names.ts), and each helper reads only the globals names.ts lists in `globalsUsed`.
 */

interface Helper {
  /** The identifier the helper declares (a function, or the pool of work arrays). */
  readonly name: string;
  readonly text: string;
}

/** In the order they are printed. */
const helpers: readonly Helper[] = [
  {
    name: '$pool',
    text: `// Work arrays are kept between calls (one per array of each function, grown to the largest size
// seen), so a warm call allocates only what it returns.
const $pool = [];`,
  },
  {
    name: '$work',
    text: `/** A work array of at least \`length\` elements, reused by later calls; zeroed unless every element is written first. */
function $work(slot, length, zero = true) {
  let a = $pool[slot];
  if (a === undefined || a.length < length) $pool[slot] = a = new Float64Array(length);
  else if (zero) a.fill(0, 0, length);
  return a;
}`,
  },
  {
    name: '$describe',
    text: `/** What a bad argument was, for an error message (without calling any of its methods). */
function $describe(x) {
  if (typeof x === 'string') return \`the string '\${x.length > 20 ? \`\${x.slice(0, 20)}…\` : x}'\`;
  if (typeof x === 'bigint') return \`the bigint \${x}n\`;
  if (x === null || x === undefined || typeof x === 'boolean') return \`\${x}\`;
  return Array.isArray(x) ? 'an array' : \`a value of type \${typeof x}\`;
}`,
  },
  {
    name: '$number',
    text: `/** Checks a number argument (compiled with checkArgs). */
function $number(x, what) {
  if (typeof x !== 'number') {
    throw new TypeError(\`\${what} must be a number, but is \${$describe(x)}\`);
  }
}`,
  },
  {
    name: '$length',
    text: `/** The length of an array argument. */
function $length(a, what) {
  const n = a === null || a === undefined || typeof a === 'string' ? undefined : a.length;
  if (typeof n !== 'number') throw new TypeError(\`\${what} must be an array of numbers\`);
  return n;
}`,
  },
  {
    name: '$expect',
    text: `/** Checks an array argument's length against a size bound before it. */
function $expect(a, expected, what, size) {
  const n = $length(a, what);
  if (n !== expected) throw new RangeError(\`\${what} has \${n} elements, but \${size} is \${expected}\`);
}`,
  },
  {
    name: '$columns',
    text: `/** The row length of a matrix argument (an array of rows): its first row's, \`otherwise\` without rows. */
function $columns(m, what, otherwise) {
  return $length(m, what) > 0 ? $length(m[0], \`\${what}[0]\`) : otherwise;
}`,
  },
  {
    name: '$expectRows',
    text: `/** Checks the length of every row of a matrix argument. */
function $expectRows(m, columns, what, size) {
  for (let r = 0; r < m.length; r++) {
    const row = m[r];
    const n = row === null || row === undefined || typeof row === 'string' ? undefined : row.length;
    if (typeof n !== 'number') throw new TypeError(\`\${what}[\${r}] must be an array of numbers\`);
    if (n !== columns) {
      throw new RangeError(\`\${what}[\${r}] has \${n} elements, but \${size} is \${columns}\`);
    }
  }
}`,
  },
  {
    name: '$rows',
    text: `/** A returned matrix: \`rows\` Float64Array rows over the flat array \`a\` (row by row). */
function $rows(a, rows) {
  const columns = rows > 0 ? a.length / rows : 0;
  const m = new Array(rows);
  for (let r = 0; r < rows; r++) m[r] = a.subarray(r * columns, (r + 1) * columns);
  return m;
}`,
  },
  {
    name: '$jacobianMode',
    text: `/** How fJacobian sweeps: 'auto' chooses from the sizes (reverse rows when m < n, or 2m < n where each row runs both sweeps); 'forward' or 'reverse' forces one. */
const $jacobianMode = 'auto';`,
  },
  {
    name: '$tangentVector',
    text: `/** A tangent argument for a vector (fJvp, fHvp): zeros when absent, else checked. */
function $tangentVector(t, length, what) {
  if (t === undefined || t === null) return new Float64Array(length);
  $expect(t, length, what, "the parameter's length");
  return t;
}`,
  },
  {
    name: '$tangentRows',
    text: `/** A tangent argument for a matrix (fJvp, fHvp): rows of zeros when absent, else checked. */
function $tangentRows(t, rows, columns, what) {
  if (t === undefined || t === null) return $matrix(rows, columns);
  $expect(t, rows, what, "the parameter's row count");
  $expectRows(t, columns, what, "the parameter's row length");
  return t;
}`,
  },
  {
    name: '$cotangentRows',
    text: `/** fVjp's cotangent for a matrix value: \`rows\` rows (\`length\` numbers in all), checked, copied into one flat array. */
function $cotangentRows(c, rows, length, what) {
  $expect(c, rows, what, "the value's row count");
  const columns = rows > 0 ? length / rows : 0;
  $expectRows(c, columns, what, "the value's row length");
  const flat = new Float64Array(length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < columns; k++) flat[r * columns + k] = c[r][k];
  return flat;
}`,
  },
  {
    name: '$block',
    text: `/** A Jacobian or Hessian block of three or four dimensions: arrays of arrays of Float64Array rows. */
function $block(dims) {
  if (dims.length === 1) return new Float64Array(dims[0]);
  const a = new Array(dims[0]);
  for (let i = 0; i < dims[0]; i++) a[i] = $block(dims.slice(1));
  return a;
}`,
  },
  {
    name: '$matrix',
    text: `/** A matrix gradient: \`rows\` Float64Array rows over one buffer. */
function $matrix(rows, columns) {
  const buffer = new Float64Array(rows * columns);
  const m = new Array(rows);
  for (let r = 0; r < rows; r++) m[r] = buffer.subarray(r * columns, (r + 1) * columns);
  return m;
}`,
  },
  {
    name: '$aliased',
    text: `/** The error for a caller's gradient array that is also an argument (or another out array). */
function $aliased(what, other) {
  return new TypeError(\`\${what} is the same array as \${other}: the gradient would overwrite it\`);
}`,
  },
  {
    name: '$distinct',
    text: `/** Throws if a caller's gradient array is an argument: zeroing it would destroy that argument. */
function $distinct(a, b, what, other) {
  if (a === b) throw $aliased(what, other);
}`,
  },
  {
    name: '$distinctRows',
    text: `/** The same for matrices, row by row: a shallow copy of a matrix argument shares its rows. */
function $distinctRows(a, b, what, other) {
  $distinct(a, b, what, other);
  const n = a == null || b == null ? 0 : Math.min(a.length, b.length);
  for (let r = 0; r < n; r++) {
    if (a[r] === b[r]) throw $aliased(\`\${what}[\${r}]\`, \`\${other}[\${r}]\`);
  }
}`,
  },
  {
    name: '$rowsDistinctFrom',
    text: `/** A caller's matrix for a gradient, none of whose rows may be a vector argument. */
function $rowsDistinctFrom(m, v, what, other) {
  $distinct(m, v, what, other);
  const n = m == null ? 0 : m.length;
  for (let r = 0; r < n; r++) {
    if (m[r] === v) throw $aliased(\`\${what}[\${r}]\`, other);
  }
}`,
  },
  {
    name: '$distinctFromRows',
    text: `/** A caller's vector for a gradient, which may not be a row of a matrix argument. */
function $distinctFromRows(v, m, what, other) {
  $distinct(v, m, what, other);
  const n = m == null ? 0 : m.length;
  for (let r = 0; r < n; r++) {
    if (m[r] === v) throw $aliased(what, \`\${other}[\${r}]\`);
  }
}`,
  },
  {
    name: '$into',
    text: `/** A caller's array for a vector gradient: checked, and zeroed. */
function $into(a, length, what) {
  $expect(a, length, what, "the parameter's length");
  a.fill(0);
  return a;
}`,
  },
  {
    name: '$intoRows',
    text: `/** A caller's array of rows for a matrix gradient: checked, and zeroed. */
function $intoRows(m, rows, columns, what) {
  $expect(m, rows, what, "the parameter's row count");
  $expectRows(m, columns, what, "the parameter's row length");
  for (let r = 0; r < rows; r++) m[r].fill(0);
  return m;
}`,
  },
];

/** A use of a helper's name in code: not part of a longer identifier. */
const patterns = new Map(helpers.map((h) => [h, new RegExp(`(?<![\\w$])\\${h.name}(?![\\w$])`)]));
const mentions = (text: string, h: Helper) => patterns.get(h)!.test(text);
const byName = new Map(helpers.map((h) => [h.name, h]));
for (const h of helpers) if (!/^\$[A-Za-z]+$/.test(h.name)) throw new Error(`internal error: helper name ${h.name} is not $ and letters`);
const [shortest, longest] = [Math.min(...helpers.map((h) => h.name.length)), Math.max(...helpers.map((h) => h.name.length))];

/** Whether a character code is one of an identifier's as `patterns` reads them (`[\w$]`). */
const identifierCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
const letterCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/**
 * The helpers a line names, as `patterns` finds each: a `$` not inside a longer identifier, and
 * the identifier from it is a helper's name. Read character by character rather than by one
 * regular expression: generated code has a `$` in nearly every name (`$t4`, `d$x`), and most are
 * ruled out by the character before them or a digit after them without building a string.
 */
function scanHelpers(text: string, found: (h: Helper) => void): void {
  for (let at = text.indexOf('$'); at >= 0; at = text.indexOf('$', at + 1)) {
    if (at > 0 && identifierCode(text.charCodeAt(at - 1))) continue;
    let end = at + 1;
    while (end < text.length && letterCode(text.charCodeAt(end))) end++;
    // A helper's name is `$` and letters, then no identifier character.
    if (end - at < shortest || end - at > longest || (end < text.length && identifierCode(text.charCodeAt(end)))) continue;
    const h = byName.get(text.slice(at, end));
    if (h) found(h);
  }
}

/**
 * The text of the helpers the given code uses, and of the helpers they use, in table order (empty
 * when it uses none). A name quoted in a comment may add a helper that is not called; never the
 * reverse. The code (each section's lines) is read once, whatever its size (a 10,000-statement
 * gradient is megabytes): one scan finding every helper's name, rather than one scan per helper.
 */
export function helpersFor(code: readonly (readonly string[])[]): string[] {
  const used = new Set<Helper>();
  let pending: Helper[] = [];
  const found = (h: Helper) => {
    if (!used.has(h)) {
      used.add(h);
      pending.push(h);
    }
  };
  for (const lines of code) for (const text of lines) scanHelpers(text, found);
  while (pending.length > 0) {
    pending = helpers.filter((h) => !used.has(h) && pending.some((u) => mentions(u.text, h)));
    for (const h of pending) used.add(h);
  }
  return helpers.filter((h) => used.has(h)).map((h) => h.text);
}
