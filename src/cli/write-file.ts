import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes through a temporary file in the same folder and renames it into place, so a reader (or a
 * killed compile) sees either the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, text: string): void {
  writeFilesTogether([{ path, text }]);
}

/**
 * Writes several files as one: each goes to a temporary file beside its target first, and only
 * when every one of them is written are they renamed into place. A failure before that (a full
 * disk, a folder where a file should be) removes the temporary files and leaves every target as it
 * was, so a compile never leaves a `.d.ts` or `.map` without its `.js`.
 *
 * An existing target that is a symbolic link is written through: the file it points to is
 * replaced (the link stays a link), and a replaced file keeps its permission bits.
 */
export function writeFilesTogether(files: readonly { readonly path: string; readonly text: string }[]): void {
  const staged: { temp: string; target: string }[] = [];
  try {
    for (const { path, text } of files) {
      const target = writeTarget(path);
      const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      staged.push({ temp, target });
      writeFileSync(temp, text, { flag: 'wx' });
      const mode = existingMode(target);
      if (mode !== undefined) chmodSync(temp, mode);
    }
    for (const { temp, target } of staged) renameSync(temp, target);
  } catch (error) {
    for (const { temp } of staged) rmSync(temp, { force: true });
    throw error;
  }
}

/** The file a write to `path` should replace: the path itself, or where the symbolic link at it points. */
export function writeTarget(path: string): string {
  let link;
  try {
    link = lstatSync(path);
  } catch {
    return path; // nothing there yet
  }
  if (!link.isSymbolicLink()) return path;
  // realpath fails on a link to a missing file (ENOENT): reported as the write's error.
  return realpathSync(path);
}

function existingMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/**
 * Who a path is, for telling whether two paths are one file: its real path (links and `..`
 * resolved; for a file not yet there, its folder's real path and its name), and for an existing
 * file its device and inode too, which also catches hard links.
 */
export function fileIdentity(path: string): { readonly real: string; readonly inode?: string } {
  try {
    const stat = statSync(path);
    return { real: realpathSync(path), inode: `${stat.dev}:${stat.ino}` };
  } catch {
    try {
      return { real: join(realpathSync(dirname(path)), basename(path)) };
    } catch {
      return { real: resolve(path) };
    }
  }
}

/** Whether two identities are the same file. */
export function sameIdentity(a: ReturnType<typeof fileIdentity>, b: ReturnType<typeof fileIdentity>): boolean {
  return a.real === b.real || (a.inode !== undefined && a.inode === b.inode);
}

/**
 * Whether writing `output` would overwrite `input`: the same file under another name (a symbolic
 * link to it or to a folder on the way, `..`, a hard link).
 */
export function isSameFile(input: string, output: string): boolean {
  return sameIdentity(fileIdentity(input), fileIdentity(output));
}
