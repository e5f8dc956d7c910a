import { format } from 'prettier';

/** Prettier with fixed options, so output never depends on a user's prettier configuration. */
export async function formatCode(code: string): Promise<string> {
  return format(code, { parser: 'babel', printWidth: 100, singleQuote: true, trailingComma: 'all' });
}
