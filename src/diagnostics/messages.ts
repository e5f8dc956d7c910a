/**
 * Every diagnostic the compiler can report, with its code. Message texts live here and nowhere
 * else, so they stay consistent and can be listed in the README.
 */
export const messages = {
  // Lexing and parsing (AD1xxx)
  unknownCharacter: { code: 'AD1001', text: (what: string) => `unknown ${what}` },
  unexpectedToken: { code: 'AD1002', text: (found: string, expected: string) => `unexpected ${found}, expected ${expected}` },
  nestingTooDeep: { code: 'AD1003', text: (limit: number) => `nesting too deep (the limit is ${limit} levels)` },
  invalidNumber: { code: 'AD1004', text: (text: string) => `invalid number '${text}'` },
  emptyFile: { code: 'AD1005', text: () => `no functions in this file (expected 'fn name(params) = expr')` },
  expressionTooDeep: {
    code: 'AD1006',
    text: (limit: number) => `expression nested too deeply (the limit is ${limit} levels); split it with 'let'`,
  },

  // Names (AD2xxx)
  unknownVariable: { code: 'AD2001', text: (name: string, hint: string) => `unknown variable '${name}'${hint}` },
  unknownFunction: { code: 'AD2002', text: (name: string, hint: string) => `unknown function '${name}'${hint}` },
  duplicateParameter: { code: 'AD2003', text: (name: string) => `duplicate parameter '${name}'` },
  duplicateFunction: { code: 'AD2004', text: (name: string) => `duplicate function '${name}'` },
  duplicateLet: { code: 'AD2005', text: (name: string) => `'${name}' is already defined in this function` },
  shadowsConstant: { code: 'AD2006', text: (name: string) => `'${name}' is a built-in constant and cannot be redefined` },
  shadowsBuiltin: { code: 'AD2007', text: (name: string) => `'${name}' is a built-in function and cannot be redefined` },
  generatedNameCollision: {
    code: 'AD2008',
    text: (name: string, owner: string) => `function '${name}' collides with the gradient function generated for '${owner}'`,
  },
  notAFunction: { code: 'AD2009', text: (name: string) => `'${name}' is a variable, not a function` },
  notAVariable: { code: 'AD2010', text: (name: string) => `'${name}' is a function; call it with arguments` },
  usedBeforeDefinition: { code: 'AD2011', text: (name: string) => `'${name}' is used before its 'let'` },

  // Functions and calls (AD3xxx)
  wrongArgumentCount: {
    code: 'AD3001',
    text: (name: string, expected: number, found: number) =>
      `'${name}' takes ${expected} argument${expected === 1 ? '' : 's'}, but ${found} ${found === 1 ? 'was' : 'were'} given`,
  },
  recursion: { code: 'AD3002', text: (cycle: string) => `recursion is not supported: ${cycle}` },
  inlinedTooDeep: {
    code: 'AD3005',
    text: (name: string, limit: number) =>
      `'${name}' nests too deeply once its calls are inlined (the limit is ${limit} levels); split expressions with 'let'`,
  },
  inlinedTooLarge: {
    code: 'AD3006',
    text: (name: string, size: number, limit: number) =>
      `'${name}' grows to ${size} operations once calls are inlined (the limit is ${limit}); call large functions from fewer places`,
  },
  inliningGrowsFile: {
    code: 'AD3007',
    text: (name: string, size: number, limit: number) =>
      `inlining calls grows this file to ${size} operations by '${name}' (the limit here is ${limit}); call large functions from fewer places`,
  },
  missingReturn: { code: 'AD3003', text: (name: string) => `function '${name}' has no 'return' at the end of its block` },
  statementAfterReturn: { code: 'AD3004', text: () => `'return' must be the last statement of a block` },

  // Types (AD4xxx)
  conditionAsNumber: { code: 'AD4001', text: (what: string) => `expected a number, but ${what} is a condition` },
  numberAsCondition: {
    code: 'AD4002',
    text: (what: string) => `expected a condition (a comparison such as 'x > 0'), but ${what} is a number`,
  },
  functionReturnsCondition: { code: 'AD4003', text: (name: string) => `function '${name}' must return a number, not a condition` },

  // Files and the command line (AD5xxx)
  cannotRead: { code: 'AD5001', text: (path: string, why: string) => `cannot read '${path}': ${why}` },
  cannotWrite: { code: 'AD5002', text: (path: string, why: string) => `cannot write '${path}': ${why}` },
} as const;

export type MessageId = keyof typeof messages;

/** Texts of the related notes that point at another place ("first defined here"). */
export const notes = {
  firstDefinedHere: 'first defined here',
  definedHere: 'defined here',
  generatedFor: (generated: string) => `'${generated}' is generated for this function`,
} as const;
