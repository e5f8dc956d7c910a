/** The adc REPL: `startRepl` runs a session over streams; `Session` is its logic, with no I/O. */
export { startRepl, runRepl, type ReplOptions } from './repl.ts';
export { Session, signature, extractFunctions, type Definition, type Defined, type DerivativeCommand, type Failure, type GradientEntry, type HessianBlock, type Outcome, type Samples } from './session.ts';
export { Interpreter, isIncomplete, type InterpreterOptions, type Reply } from './interpreter.ts';
export { completions, commands, commandNames, builtinNames, derivativeWords } from './complete.ts';
export { Assembly, Problems, fileText, problemAt, slice, typed, type Piece, type Problem, type Segment, type Where } from './assembly.ts';
export { renderPlot, tick, type PlotOptions } from './plot.ts';
export { highlight } from './highlight.ts';
