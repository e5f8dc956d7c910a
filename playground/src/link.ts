/**
 * The shareable state of the page in the URL fragment (issue 18):
 * `#code=<base64url of the UTF-8 source>&fn=graph&at=x1=2,x2=3`. Pure functions, tested in Node.
 */
export interface LinkState {
  readonly code: string;
  readonly fn?: string;
  /** Parameter name → the text typed for it (a number, or JSON for an array). */
  readonly at: Readonly<Record<string, string>>;
  /** The Hessian is shown (`&d=hessian`; absent: not). */
  readonly hessian?: boolean;
}

/** UTF-8 bytes → base64url without padding (RFC 4648 §5). */
export function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** base64url (padded or not) → text; undefined when it is not base64url of valid UTF-8. */
export function fromBase64Url(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(encoded)) return undefined;
  try {
    const binary = atob(encoded.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The `at` value: `name=value` pairs joined by commas. An array value is JSON and has commas of its
 * own, so a value runs until the next `,name=` (a name is an identifier); values are URI-encoded.
 */
export function formatPoint(at: Readonly<Record<string, string>>): string {
  return Object.entries(at)
    .map(([name, value]) => `${name}=${encodeURIComponent(value.trim()).replace(/%2C/g, ',').replace(/%5B/g, '[').replace(/%5D/g, ']')}`)
    .join(',');
}

export function parsePoint(text: string): Record<string, string> {
  const at: Record<string, string> = {};
  const pair = /(?:^|,)([A-Za-z_][A-Za-z0-9_]*)=/g;
  const starts = [...text.matchAll(pair)];
  starts.forEach((m, i) => {
    const from = m.index! + m[0].length;
    const to = i + 1 < starts.length ? starts[i + 1].index! : text.length;
    try {
      at[m[1]] = decodeURIComponent(text.slice(from, to));
    } catch {
      at[m[1]] = text.slice(from, to);
    }
  });
  return at;
}

export function formatLink(state: LinkState): string {
  const parts = [`code=${toBase64Url(state.code)}`];
  if (state.fn) parts.push(`fn=${encodeURIComponent(state.fn)}`);
  if (Object.keys(state.at).length > 0) parts.push(`at=${formatPoint(state.at)}`);
  if (state.hessian) parts.push('d=hessian');
  return '#' + parts.join('&');
}

/** A fragment (with or without '#') → the state, or undefined when it holds no readable `code`. */
export function parseLink(fragment: string): LinkState | undefined {
  const fields = new Map<string, string>();
  for (const part of fragment.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const encoded = fields.get('code');
  const code = encoded === undefined ? undefined : fromBase64Url(encoded);
  if (code === undefined) return undefined;
  let fn: string | undefined;
  try {
    fn = fields.has('fn') ? decodeURIComponent(fields.get('fn')!) : undefined;
  } catch {
    fn = undefined;
  }
  const at = parsePoint(fields.get('at') ?? '');
  return fields.get('d') === 'hessian' ? { code, fn, at, hessian: true } : { code, fn, at };
}
