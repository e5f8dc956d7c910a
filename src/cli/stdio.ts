/**
 * `-` is standard input as an input and standard output as `-o`, as in most Unix tools. A file
 * really named `-` is reached as `./-`.
 */
export const stdio = '-';
/** How the input `-` is named in diagnostics and in a source map (as gcc and node name it). */
export const stdinName = '<stdin>';

/** Standard input read to its end; invalid UTF-8 becomes U+FFFD, as for a file. */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}
