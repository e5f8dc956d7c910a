import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../cli/write-file.ts';

/** Writes `text` unless the file already holds it, so watchers see no change when nothing changed. */
export function writeIfChanged(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) return;
  } catch {
    // missing or unreadable: write it
  }
  writeFileAtomic(path, text);
}
