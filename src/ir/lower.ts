import type { Span } from '../diagnostics/span.ts';
import { assertNever, leftSpine, type BinaryOp, type Expr, type FunctionDecl } from '../syntax/ast.ts';
import { constants, isBuiltin } from './builtins.ts';
import { isTemporary } from '../emit/names.ts';
import { Builder, NameSupply } from './builder.ts';
import { constant, variable, type IrFunction, type Op, type Operand, type Param } from './ir.ts';

/** The IR operation of each binary operator of the language. */
export const binaryOps: Readonly<Record<BinaryOp, Op>> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '^': 'pow',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
  '==': 'eq',
  '!=': 'ne',
  and: 'and',
  or: 'or',
};

/**
 * Lowers a checked function to IR. Calls to other user functions are inlined: their bodies are
 * lowered again with the arguments bound to their parameters (see ARCHITECTURE.md for why).
 */
export function lowerFunction(fn: FunctionDecl, functions: ReadonlyMap<string, FunctionDecl>): { ir: IrFunction; names: NameSupply } {
  const names = new NameSupply();
  const b = new Builder(names, { span: fn.span, statement: fn.span });
  const params: Param[] = fn.params.map((p) => ({ name: names.user(p.name), sourceName: p.name, isConst: p.isConst }));
  const scope = new Map(fn.params.map((p, i) => [p.name, variable(params[i].name)] as const));
  const value = lowerBody(fn, scope, b, functions);
  return { ir: { name: fn.name, params, body: b.current, value, span: fn.span }, names };
}

function lowerBody(fn: FunctionDecl, scope: Map<string, Operand>, b: Builder, functions: ReadonlyMap<string, FunctionDecl>): Operand {
  for (const s of fn.body) {
    b.origin = { span: s.value.span, statement: s.span };
    if (s.kind === 'return') return lowerExpr(s.value, scope, b, functions);
    if (s.value.kind === 'if') {
      // The conditional's result variable is the user's variable itself.
      const target = b.names.user(s.name);
      lowerIf(s.value, (x) => lowerExpr(x, scope, b, functions), b, target);
      scope.set(s.name, variable(target));
    } else {
      const before = b.current.length;
      const value = lowerExpr(s.value, scope, b, functions);
      // A constant (3 < 4 included) is used as the constant, so conditions on it fold.
      scope.set(s.name, value.kind === 'const' ? value : bindLet(s.name, value, b.current.length > before, b, s.value.span));
    }
  }
  throw new Error(`internal error: '${fn.name}' reached lowering without a return`);
}

/**
 * Names a `let`'s value after the user's variable: when the value is the temporary that the
 * `let`'s own expression just made (`emitted`), that instruction is renamed; otherwise (a
 * constant, a parameter, another variable) a copy is made, which copy propagation removes later.
 */
function bindLet(sourceName: string, value: Operand, emitted: boolean, b: Builder, span: Span): Operand {
  const target = b.names.user(sourceName);
  const block = b.current;
  const last = block[block.length - 1];
  if (emitted && value.kind === 'var' && isTemporary(value.name) && last.kind === 'const' && last.target === value.name) {
    block[block.length - 1] = { ...last, target };
  } else {
    b.emit({ kind: 'const', target, expr: { op: 'copy', args: [value] }, origin: { ...b.origin, span } });
  }
  return variable(target);
}

function lowerExpr(e: Expr, scope: Map<string, Operand>, b: Builder, functions: ReadonlyMap<string, FunctionDecl>): Operand {
  const saved = b.origin;
  b.origin = { span: e.span, statement: saved.statement };
  const sub = (x: Expr) => lowerExpr(x, scope, b, functions);
  try {
    switch (e.kind) {
      case 'number':
        return constant(e.value);
      case 'name':
        return scope.get(e.name) ?? constant(constants.get(e.name)!);
      case 'unary': {
        const operand = sub(e.operand);
        if (e.op === '+') return operand;
        return b.op(e.op === '-' ? 'neg' : 'not', operand);
      }
      case 'binary': {
        // Chains are lowered from the inside out in a loop: a long sum costs no stack.
        const { base, chain } = leftSpine(e);
        let acc = sub(base);
        for (const node of chain) {
          const right = sub(node.right);
          b.origin = { span: node.span, statement: saved.statement };
          acc = b.op(binaryOps[node.op], acc, right);
        }
        return acc;
      }
      case 'call': {
        const args = e.args.map(sub);
        if (e.callee === 'ln') return b.op('log', ...args);
        if (e.callee === 'pow') return b.op('pow', ...args);
        if (isBuiltin(e.callee)) return b.op(e.callee, ...args);
        return inlineCall(functions.get(e.callee)!, args, b, functions);
      }
      case 'if':
        return lowerIf(e, sub, b, b.names.temp());
      default:
        return assertNever(e);
    }
  } finally {
    b.origin = saved;
  }
}

/**
 * `if c then a else b` becomes a declared result, set in each branch: only the branch taken is
 * computed, so a value that is NaN on the other side (log of a negative) never leaks through.
 */
function lowerIf(e: Extract<Expr, { kind: 'if' }>, sub: (x: Expr) => Operand, b: Builder, target: string): Operand {
  const condition = sub(e.condition);
  if (condition.kind === 'const') {
    // Decided at compile time (e.g. after inlining a call with constant arguments).
    const taken = sub(condition.value !== 0 ? e.then : e.else);
    b.emit({ kind: 'let', target, expr: { op: 'copy', args: [taken] }, origin: b.origin });
    return variable(target);
  }
  return b.choose(condition, () => sub(e.then), () => sub(e.else), target);
}

function inlineCall(callee: FunctionDecl, args: Operand[], b: Builder, functions: ReadonlyMap<string, FunctionDecl>): Operand {
  const scope = new Map(callee.params.map((p, i) => [p.name, args[i]] as const));
  const saved = b.origin;
  try {
    return lowerBody(callee, scope, b, functions);
  } finally {
    b.origin = saved;
  }
}
