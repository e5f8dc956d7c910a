import type { DiagnosticBag } from '../diagnostics/diagnostic.ts';
import type { Expr, FunctionDecl, Statement } from '../syntax/ast.ts';
import { assertNever, leftSpine } from '../syntax/ast.ts';

type Type = 'number' | 'condition' | 'unknown';

/**
 * Numbers and conditions do not mix: arithmetic, calls and results take numbers; `if`, `and`, `or`
 * and `not` take conditions. A `let` may hold either. Runs after name resolution; names it could not
 * resolve are 'unknown' and never reported twice.
 */
export function checkTypes(fn: FunctionDecl, diagnostics: DiagnosticBag): void {
  // The type of each `let` and `var` that is not a number (most are numbers: they are not kept).
  const lets = new Map<string, Type>();
  const holds = (name: string, type: Type) => {
    if (type !== 'number') lets.set(name, type);
    else if (lets.size > 0) lets.delete(name);
  };

  const expect = (e: Expr, want: 'number' | 'condition', got: Type = typeOf(e)): void => {
    if (got === 'unknown' || got === want) return;
    const what = describe(e);
    if (want === 'number') diagnostics.error('conditionAsNumber', e.span, what);
    else diagnostics.error('numberAsCondition', e.span, what);
  };

  const typeOf = (e: Expr): Type => {
    switch (e.kind) {
      case 'number':
        return 'number';
      case 'name':
        return lets.size === 0 ? 'number' : (lets.get(e.name) ?? 'number');
      case 'index':
        e.indices.forEach((i) => expect(i, 'number'));
        return 'number';
      case 'element':
        typeOf(e.base);
        e.indices.forEach((i) => expect(i, 'number'));
        return 'number';
      case 'list':
        // An array: its items are numbers (or lists); where an array may stand is check-shapes.ts's business.
        e.items.forEach((i) => expect(i, 'number'));
        return 'unknown';
      case 'reduce':
        if (e.binder.range) {
          expect(e.binder.range.from, 'number');
          expect(e.binder.range.to, 'number');
        }
        expect(e.body, 'number');
        return 'number';
      case 'call':
      case 'derivative':
        e.args.forEach((a) => expect(a, 'number'));
        return 'number';
      case 'unary':
        expect(e.operand, e.op === 'not' ? 'condition' : 'number');
        return e.op === 'not' ? 'condition' : 'number';
      case 'binary': {
        // A chain is typed from the inside out, without recursing down its left side.
        const { base, chain } = leftSpine(e);
        let left = typeOf(base);
        for (const node of chain) {
          const operands = logical.has(node.op) ? 'condition' : 'number';
          expect(node.left, operands, left);
          expect(node.right, operands);
          left = operands === 'condition' || comparison.has(node.op) ? 'condition' : 'number';
        }
        return left;
      }
      case 'if': {
        expect(e.condition, 'condition');
        const a = typeOf(e.then);
        const b = typeOf(e.else);
        if (a === 'condition' || b === 'condition') {
          // Branches must be numbers: a conditional that picks between conditions is not a number.
          if (a === 'condition') diagnostics.error('conditionAsNumber', e.then.span, describe(e.then));
          if (b === 'condition') diagnostics.error('conditionAsNumber', e.else.span, describe(e.else));
          return 'unknown';
        }
        return 'number';
      }
      default:
        return assertNever(e);
    }
  };

  const block = (body: readonly Statement[]): void => {
    for (const s of body) {
      switch (s.kind) {
        case 'let':
          if (s.indices) {
            for (const b of s.indices) {
              if (b.range) {
                expect(b.range.from, 'number');
                expect(b.range.to, 'number');
              }
            }
            expect(s.value, 'number');
          } else holds(s.name, typeOf(s.value));
          break;
        case 'var':
          // A variable holds a number: a condition would have no derivative to carry.
          expect(s.value, 'number');
          holds(s.name, 'number');
          break;
        case 'assign':
          s.indices?.forEach((i) => expect(i, 'number'));
          expect(s.value, 'number');
          break;
        case 'for':
          if (s.binder.range) {
            expect(s.binder.range.from, 'number');
            expect(s.binder.range.to, 'number');
          }
          block(s.body);
          break;
        case 'while':
          expect(s.condition, 'condition');
          if (s.limit) expect(s.limit, 'number');
          block(s.body);
          break;
        case 'if':
          expect(s.condition, 'condition');
          block(s.then);
          block(s.else);
          break;
        case 'return':
          if (typeOf(s.value) === 'condition') diagnostics.error('functionReturnsCondition', s.value.span, fn.name);
          break;
        default:
          assertNever(s);
      }
    }
  };
  block(fn.body);
}

const logical: ReadonlySet<string> = new Set(['and', 'or']);
const comparison: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

function describe(e: Expr): string {
  switch (e.kind) {
    case 'name':
      return `'${e.name}'`;
    case 'binary':
      return `this '${e.op}'`;
    case 'unary':
      return `this '${e.op}'`;
    case 'call':
      return `'${e.callee}(...)'`;
    case 'derivative':
      return `'${e.transform}(...)(...)'`;
    case 'index':
      return `'${e.array}[...]'`;
    case 'element':
      return `this element`;
    case 'list':
      return `this list`;
    case 'reduce':
      return `'${e.op}(...)'`;
    case 'if':
      return `this 'if'`;
    case 'number':
      return `${e.value}`;
    default:
      return assertNever(e);
  }
}
