import { quotePath } from './printable.ts';

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
  numberTooLarge: {
    code: 'AD1099',
    text: (text: string) => `the number '${text}' is too large for a double (the largest is about 1.8e308)`,
  },
  numberUnderflows: {
    code: 'AD1098',
    text: (text: string) => `the number '${text}' is too small for a double and becomes 0 (the smallest is about 5e-324)`,
  },
  expressionTooDeep: {
    code: 'AD1006',
    text: (limit: number) => `expression nested too deeply (the limit is ${limit} levels); split it with 'let'`,
  },
  // Habits from other languages (AD1007): the same code for each, with the .ad way to write it.
  starStarPower: { code: 'AD1007', text: () => `'**' is not an operator in .ad: write a power with '^', as in x ^ 2` },
  slashComment: { code: 'AD1007', text: () => `'//' does not start a comment in .ad: comments start with '#'` },
  ternary: { code: 'AD1007', text: () => `'?' is not an operator in .ad: write a choice as 'if x > 0 then a else b'` },
  logicalSymbol: { code: 'AD1007', text: (found: string, word: string) => `'${found}' is not an operator in .ad: write '${word}'` },
  assignInCondition: { code: 'AD1007', text: () => `'=' defines a name in .ad: to compare, write '=='` },
  expressionStatement: {
    code: 'AD1007',
    text: () => `an expression alone is not a statement in .ad: to return its value, write 'return' before it`,
  },
  missingFn: { code: 'AD1007', text: (name: string) => `a function definition starts with 'fn': write 'fn ${name}(…) = …'` },
  foreignFunctionKeyword: {
    code: 'AD1007',
    text: (word: string) => `'${word}' does not define functions in .ad: write 'fn f(x) = …' or 'fn f(x) { … return … }'`,
  },
  topLevelValue: {
    code: 'AD1007',
    text: (word: string) => `a file holds only functions, so '${word}' cannot start one: define values with 'let' inside a function`,
  },
  compoundAssignment: {
    code: 'AD1007',
    text: (operator: string, name: string) => `'${operator}=' is not an operator in .ad: write '${name} = ${name} ${operator} …'`,
  },
  letList: {
    code: 'AD1007',
    text: () => `one 'let' defines one name: give the next its own 'let', on a new line or after ';'`,
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
    // `what` names the generated function's kind: 'gradient', 'forward-mode (jvp)', 'Hessian', …
    text: (name: string, owner: string, what: string) => `function '${name}' collides with the ${what} function generated for '${owner}'`,
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
  unboundedRecursion: {
    code: 'AD3008',
    text: (name: string) =>
      `'${name}' calls itself here without a bound adc can check: pass 'p - c' for a number parameter p (c a positive number), or arrays whose lengths make a size p that much smaller, and call it only inside 'if p > k then …' (or >=)`,
  },
  inlinedTooDeep: {
    code: 'AD3005',
    text: (name: string, limit: number) =>
      `'${name}' nests too deeply once its calls are inlined (the limit is ${limit} levels; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks); split expressions with 'let'`,
  },
  inlinedTooLarge: {
    code: 'AD3006',
    text: (name: string, size: number, inlined: number, limit: number) =>
      `'${name}' grows to ${size} operations once calls are inlined, ${inlined} of them from its calls (the limit is ${limit} from calls; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks); call large array functions from fewer places`,
  },
  inliningGrowsFile: {
    code: 'AD3007',
    text: (name: string, size: number, limit: number) =>
      `inlining calls grows this file to ${size} operations by '${name}' (the limit here is ${limit}; calls of functions that take arrays and return a number are always inlined, as are calls returning arrays in 'for', 'while' and 'if' blocks); call large array functions from fewer places`,
  },
  derivativeTooLarge: {
    code: 'AD3009',
    text: (name: string, size: number, limit: number) =>
      `this derivative of '${name}' would build ${size >= 1e9 ? 'more than 1,000,000,000' : `about ${size}`} operations (the limit is ${limit}): a derivative inlines every call in '${name}' and expands the derivatives it takes, so each level of derivatives of derivatives multiplies the code; differentiate fewer levels`,
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

  // Arrays (AD6xxx)
  unknownArrayType: { code: 'AD6001', text: (kind: string) => `unknown type '${kind}': a parameter is a number (no type), vec[n] or mat[m, n]` },
  wrongSizeCount: {
    code: 'AD6002',
    text: (kind: string, expected: number, found: number) => `'${kind}' takes ${expected} size${expected === 1 ? '' : 's'}, but ${found} ${found === 1 ? 'was' : 'were'} given`,
  },
  invalidSize: { code: 'AD6003', text: (text: string) => `invalid size '${text}': a size is a name or a whole number` },
  sizeClash: { code: 'AD6004', text: (name: string) => `'${name}' is both a size and a parameter; give the size its own name` },
  arrayAsNumber: {
    code: 'AD6005',
    text: (name: string, type: string) => `'${name}' is an array (${type}); use an element such as ${name}[i], or a reduction such as sum(i: ${name}[i])`,
  },
  notAnArray: { code: 'AD6006', text: (name: string) => `'${name}' is a number, not an array: it cannot be indexed` },
  wrongIndexCount: {
    code: 'AD6007',
    text: (name: string, rank: number, found: number) =>
      `'${name}' has ${rank} dimension${rank === 1 ? '' : 's'}, but ${found} ${found === 1 ? 'index was' : 'indices were'} given`,
  },
  notAReduction: { code: 'AD6008', text: (name: string) => `'${name}' does not take an index variable; only sum, prod, max, min and logsumexp do` },
  cannotInferRange: {
    code: 'AD6009',
    text: (name: string) => `cannot tell the range of '${name}': it indexes no array directly; give it one, as in '${name} in 0..n'`,
  },
  conflictingRanges: {
    code: 'AD6010',
    text: (name: string, first: string, firstSize: string, second: string, secondSize: string) =>
      `the range of '${name}' is ambiguous: ${first} has ${firstSize} elements there but ${second} has ${secondSize}; give the range, as in '${name} in 0..${firstSize}'`,
  },
  indexOutOfRange: {
    code: 'AD6011',
    text: (array: string, index: string, reach: string, bound: string) => `${array}[...] reads outside the array: ${index} reaches ${reach}, ${bound}`,
  },
  arrayExpected: {
    code: 'AD6012',
    text: (fn: string, param: string, type: string) => `'${fn}' expects an array for '${param}' (${type}); pass the name of one`,
  },
  numberExpected: { code: 'AD6013', text: (fn: string, param: string, name: string) => `'${fn}' expects a number for '${param}', but '${name}' is an array` },
  sizeMismatch: {
    code: 'AD6014',
    text: (fn: string, size: string, first: string, second: string) => `'${fn}' needs one value of its size '${size}', but gets ${first} and ${second}`,
  },
  indexShadows: { code: 'AD6015', text: (name: string) => `'${name}' is already defined; an index variable needs its own name` },
  reductionNeedsIndex: {
    code: 'AD6017',
    text: (name: string) => `'${name}' takes an index variable and a term, as in ${name}(i: x[i]) or ${name}(i in 0..n: x[i])`,
  },
  readBeforeDefined: {
    code: 'AD6097',
    text: (array: string, index: string, reach: string, from: string) =>
      `${array}[...] reads an element ${array} does not define: ${index} reaches ${reach}, and ${array} is defined from ${from} on`,
  },
  partlyDefinedArray: {
    code: 'AD6096',
    text: (array: string, from: string, reader: string) =>
      `'${array}' is defined from element ${from} on, not 0, but ${reader} reads every element; read the defined ones by index, over their range`,
  },
  partlyDefinedRange: {
    code: 'AD6095',
    text: (index: string, array: string, from: string, other: string, otherFrom: string, to: string) =>
      `the range of '${index}' is ambiguous: ${array} is defined from ${from} on, ${other} from ${otherFrom}; give the range, as in '${index} in ${from}..${to}'`,
  },
  indexNotWhole: {
    code: 'AD6099',
    text: (array: string, index: string) => `${array}[...] is read at index ${index}: an index is a whole number from 0 to 2^53`,
  },
  rangeTooLarge: {
    code: 'AD6098',
    text: (name: string, bound: string) => `the range of '${name}' has the bound ${bound}: no loop can count past 2^53`,
  },
  arraysInLoop: {
    code: 'AD6016',
    text: (fn: string) => `'${fn}' defines arrays, so it cannot be called inside a reduction or an array definition; call it from a statement`,
  },

  // Arrays as values: lists and functions returning arrays (AD604x)
  arrayValueAsNumber: {
    code: 'AD6040',
    text: (what: string, type: string) => `${what} is an array (${type}), not a number; use an element such as ${what === 'this list' ? '[a, b][k]' : 'g(x)[i]'}, or pass it to an array parameter`,
  },
  notAnArrayResult: { code: 'AD6041', text: (fn: string) => `'${fn}' returns a number, not an array: its result cannot be indexed` },
  raggedList: { code: 'AD6042', text: (what: string) => `a list is a vec (numbers) or a mat (lists of one length), but this one mixes ${what}` },
  listTooDeep: { code: 'AD6043', text: () => `lists nest two levels at most (a mat of rows); this one is a third level` },
  arrayPerIndex: {
    code: 'AD6044',
    text: (what: string, index: string) =>
      `${what} makes an array, computed once before its statement, so it cannot use the index variable '${index}'; compute what depends on '${index}' outside it`,
  },

  // Variables, assignment and loops (AD7xxx)
  assignToLet: { code: 'AD7001', text: (name: string) => `'${name}' is defined by 'let' and cannot be assigned; declare it with 'var ${name} = ...' to change it` },
  assignToParameter: { code: 'AD7002', text: (name: string) => `'${name}' is a parameter and cannot be assigned; copy it first: 'var ${name}2 = ${name}'` },
  assignToIndex: { code: 'AD7003', text: (name: string) => `'${name}' is a loop or index variable and cannot be assigned` },
  usedBeforeVar: { code: 'AD7004', text: (name: string) => `'${name}' is used before its 'var'` },
  whileWithoutMax: {
    code: 'AD7005',
    text: () => `'while' needs a bound on its number of iterations, as in 'while x > 0 max 1000 { ... }' (an unbounded loop could hang its caller)`,
  },
  forWithoutRange: { code: 'AD7006', text: (name: string) => `'for ${name}' needs a range, as in 'for ${name} in 0..n { ... }'` },
  returnInBlock: { code: 'AD7007', text: () => `'return' must be the last statement of the function, outside loops and 'if' blocks` },
  arrayAssignedToNumber: {
    code: 'AD7008',
    text: (name: string, what: string) => `'${name}' is a number, but ${what} is an array; declare an array variable with its type, as in 'var ${name}: vec[n] = ...'`,
  },
  statefulCodeInLoop: {
    code: 'AD7010',
    text: (fn: string) => `'${fn}' uses 'var', loops or 'if' blocks, so it cannot be called inside a reduction or an array definition; call it from a statement`,
  },
  // (AD7011, a derivative making an array inside a block, was refused until it was built: the code is not reused.)
  arrayLengthInBlock: {
    code: 'AD7014',
    text: (name: string, used: string) =>
      `the range of '${name}' uses '${used}', which can change inside this block; an array made in a 'for', 'while' or 'if' block keeps one length (over sizes, numbers and parameters), as it is allocated once before the block`,
  },

  arrayVarShape: {
    code: 'AD7012',
    text: (name: string, type: string, what: string, got: string) => `'${name}' is ${type}, but ${what} is ${got}; an array variable keeps its shape`,
  },
  arrayVarSize: {
    code: 'AD7013',
    text: (size: string, name: string) => `'${size}' in the type of '${name}' must be a size of a parameter (as 'n' in 'x: vec[n]') or a whole number`,
  },

  // Derivatives inside the language: grad(f, x)(args), jvp(f, x)(args, v), jacobian(f, x)(args) (AD8xxx)
  notADerivative: {
    code: 'AD8001',
    text: (name: string) =>
      `'${name}(…)(…)' calls the result of a call, which only a derivative has: write grad(f, x)(args), jvp(f, x)(args, v) or jacobian(f, x)(args), or call '${name}' once`,
  },
  derivativeOfWhat: {
    code: 'AD8002',
    text: (transform: string) => `${transform} takes a function of this file and, optionally, one of its parameters: ${transform}(f)(args) or ${transform}(f, x)(args)`,
  },
  derivativeUnknownParameter: {
    code: 'AD8003',
    text: (fn: string, param: string, params: string) => `'${fn}' has no parameter '${param}' (its parameters: ${params})`,
  },
  derivativeWhichParameter: {
    code: 'AD8004',
    text: (transform: string, fn: string, count: number, first: string) =>
      count === 0
        ? `every parameter of '${fn}' is const: name the one to differentiate, as in ${transform}(${fn}, ${first})`
        : `'${fn}' has ${count} differentiated parameters: name the one to differentiate, as in ${transform}(${fn}, ${first})`,
  },
  derivativeOfArrayFunction: {
    code: 'AD8005',
    text: (fn: string, type: string) =>
      `'${fn}' returns an array (${type}), so it has no gradient; grad needs a function returning a number (jacobian(${fn}, x)(…) is its Jacobian, jvp(${fn}, x)(…, v) its derivative along v)`,
  },
  derivativeOfStatefulCode: {
    code: 'AD8006',
    text: (transform: string, fn: string) => `${transform} of '${fn}' is not supported yet: '${fn}' (or a function it calls) uses 'var', loops or 'if' blocks`,
  },
  derivativeOfRecursion: {
    code: 'AD8008',
    text: (transform: string, fn: string) => `${transform} of '${fn}' is not supported yet: '${fn}' (or a function it calls) calls itself (recursion)`,
  },
  derivativeInLoop: {
    code: 'AD8007',
    text: (transform: string, fn: string) =>
      `the ${transform === 'grad' ? 'gradient' : transform === 'jvp' ? 'derivative' : 'Jacobian'} of '${fn}' works on arrays, so ${transform}(${fn}, …)(…) cannot stand inside a reduction or an array definition (it would run once per index); compute it in a 'let' before, or in a 'for' loop`,
  },
  jvpArgumentCount: {
    code: 'AD8009',
    text: (fn: string, params: number, got: number) =>
      `jvp(${fn}, …) takes ${fn}'s ${params} argument${params === 1 ? '' : 's'} and then the direction (${params + 1} in all), but got ${got}`,
  },
  jvpDirectionShape: {
    code: 'AD8010',
    text: (param: string, type: string, got: string) => `the direction of a jvp has the shape of '${param}' (${type}), but this is ${got}`,
  },
  jacobianRank: {
    code: 'AD8011',
    text: (fn: string, type: string, param: string, paramType: string) =>
      `the Jacobian of '${fn}' (returning ${type}) with respect to '${param}' (${paramType}) would have more than two dimensions, which the language has no arrays for; take jvp(${fn}, ${param})(…, v), or the Jacobian of one row`,
  },

  // Files and the command line (AD5xxx)
  cannotRead: { code: 'AD5001', text: (path: string, why: string) => `cannot read ${quotePath(path)}: ${why}` },
  cannotWrite: { code: 'AD5002', text: (path: string, why: string) => `cannot write ${quotePath(path)}: ${why}` },
  outputIsInput: { code: 'AD5003', text: (input: string, output: string) => `refusing to overwrite the input ${quotePath(input)} with its output ${quotePath(output)} (the same file)` },
  outputIsFolder: {
    code: 'AD5004',
    text: (output: string) => `the output ${quotePath(output)} is a folder; give -o a file name in it (such as model.js), or write into it with --out-dir`,
  },
  sameOutput: {
    code: 'AD5005',
    text: (first: string, second: string, output: string) => `${quotePath(first)} and ${quotePath(second)} would both be written to ${quotePath(output)}; compile them into different folders`,
  },
  commonJsOutput: {
    code: 'AD5006',
    text: (output: string) => `the output ${quotePath(output)} would hold an ES module, which Node reads as CommonJS from a .cjs file; name it .js or .mjs`,
  },
  stdinNotAlone: { code: 'AD5007', text: () => `'-' (standard input) is read once: give it as the only input file` },
  stdinOutDir: { code: 'AD5008', text: () => `standard input has no file name to write into --out-dir; name the output with -o model.js, or leave it on standard output` },
  stdoutOneInput: { code: 'AD5009', text: () => `-o - writes one module to standard output, so it takes one input file; use --out-dir for several` },
  stdoutBeside: {
    code: 'AD5010',
    text: (option: string) => `${option} writes a file beside the output, and standard output has no such place; name the output with -o model.js`,
  },
  stdoutOutDir: { code: 'AD5013', text: () => `--out-dir takes a folder; for the module on standard output use -o - (one input)` },
  stdioWatch: { code: 'AD5011', text: () => `--watch recompiles files when they change; '-' (standard input or output) is not a file it can watch or rewrite` },
  commonJsPackage: {
    code: 'AD5012',
    text: (output: string, packageJson: string) =>
      `${quotePath(output)} holds an ES module, but ${quotePath(packageJson)} says "type": "commonjs", so Node will not import it; name it .mjs (-o), or make the package "type": "module" (a bundler reads it either way)`,
  },
  derivativeNotBuilt: {
    code: 'AD5040',
    text: (kind: string) =>
      `the derivative '${kind}' is not available in this version (available: grad, jvp, vjp, jacobian, hvp, hessian)`,
  },
  unknownTarget: { code: 'AD5041', text: (target: string) => `unknown target '${target}' (available: js, wasm)` },

  // The WebAssembly target (AD8xxx)
  wasmUnsupported: {
    code: 'AD5042',
    text: (fn: string, what: string) => `the wasm target cannot compile ${what} in '${fn}' yet; compile this file with the JS target (--target js)`,
  },
} as const;

export type MessageId = keyof typeof messages;

/** Texts of the related notes that point at another place ("first defined here"). */
export const notes = {
  firstDefinedHere: 'first defined here',
  definedHere: 'defined here',
  generatedFor: (generated: string) => `'${generated}' is generated for this function`,
} as const;
