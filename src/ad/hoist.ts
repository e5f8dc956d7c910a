import { definesOf, type Instr, type Origin } from '../ir/ir.ts';
import { assertNever } from '../syntax/ast.ts';

/**
 * The reverse sweep runs after the whole forward sweep, outside the forward sweep's `if` blocks,
 * yet it reads values computed inside them. This moves the declaration of every variable defined
 * inside a branch to the top of its scope (`let v;`) and turns its definition into `v = ...`. The
 * scope is the function, or the body of the innermost loop: the reverse sweep recomputes a loop's
 * body, declarations included, in its own loop.
 */
export function hoistBranchLocals(body: readonly Instr[], origin: Origin): Instr[] {
  const hoisted: string[] = [];
  // (One instruction for each, or none: a loop, not flatMap, which made an array per instruction.)
  const rewrite = (block: readonly Instr[], nested: boolean): Instr[] => {
    const out: Instr[] = [];
    for (const instr of block) {
      const r = rewriteOne(instr, nested);
      if (r) out.push(r);
    }
    return out;
  };
  const rewriteOne = (instr: Instr, nested: boolean): Instr | undefined => {
    switch (instr.kind) {
      case 'if':
        return { ...instr, then: rewrite(instr.then, true), else: rewrite(instr.else, true) };
      case 'loop': {
        const body = hoistBranchLocals(instr.body, instr.origin);
        const exit = instr.exit && { ...instr.exit, body: hoistBranchLocals(instr.exit.body, instr.origin) };
        // (Declared before already: hoisted by an earlier pass, such as a nested gradient's.)
        if (!nested || !instr.reduction || instr.declared) return { ...instr, body, ...(exit && { exit }) };
        // A reduction in a branch: its result and state outlive the branch, like its values.
        hoisted.push(...definesOf(instr));
        return { ...instr, body, declared: true };
      }
      case 'array':
        if (!nested || instr.declared) return instr;
        hoisted.push(instr.target);
        return { ...instr, declared: true };
      case 'const':
        if (!nested) return instr;
        hoisted.push(instr.target);
        return { kind: 'set', target: instr.target, expr: instr.expr, origin: instr.origin };
      case 'let':
        if (!nested) return instr;
        hoisted.push(instr.target);
        return instr.expr ? { kind: 'set', target: instr.target, expr: instr.expr, origin: instr.origin } : undefined;
      case 'set':
      case 'add':
      case 'store':
      case 'check':
        return instr;
      default:
        return assertNever(instr);
    }
  };
  const rewritten = rewrite(body, false);
  return [...hoisted.map((target): Instr => ({ kind: 'let', target, expr: undefined, origin })), ...rewritten];
}
