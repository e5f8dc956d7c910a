import type { NameSupply } from './builder.ts';
import { bufferElements } from './buffer-elements.ts';
import { constify } from './constify.ts';
import { eliminateCommon } from './eliminate-common.ts';
import { eliminateDead } from './eliminate-dead.ts';
import { foldBranches } from './fold-branches.ts';
import type { IrFunction } from './ir.ts';
import { reduceStrength } from './reduce-strength.ts';

/** The optimisation pipeline, each pass its own file: see ARCHITECTURE.md for what each removes. */
export function optimize(fn: IrFunction, names: NameSupply): IrFunction {
  let f = foldBranches(constify(fn));
  f = reduceStrength(f, names);
  f = eliminateCommon(f);
  f = bufferElements(f, names);
  return eliminateDead(f);
}
