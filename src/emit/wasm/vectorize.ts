import type { Instr } from '../../ir/ir.ts';
import type { Selector } from './select.ts';

export function vectorizeLoop(_s: Selector, _loop: Extract<Instr, { kind: 'loop' }>): boolean {
  return false;
}
