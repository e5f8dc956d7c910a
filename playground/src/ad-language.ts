/** Syntax highlighting for `.ad` (a CodeMirror StreamLanguage): the keywords of src/syntax/lexer.ts and the builtins of src/ir/builtins.ts. */
import { StreamLanguage, type StringStream } from '@codemirror/language';
import { builtins, constants } from '../../src/ir/builtins.ts';

const keywords = new Set(['fn', 'let', 'var', 'return', 'if', 'then', 'else', 'and', 'or', 'not', 'const', 'in', 'for', 'while']);
const types = new Set(['vec', 'mat']);
const reductions = new Set(['sum', 'prod', 'max', 'min', 'logsumexp', 'dot', 'norm']);
const functions = new Set([...Object.keys(builtins), ...reductions]);

interface State {
  /** The previous word was `fn`: the next identifier is a definition. */
  afterFn: boolean;
}

export const adLanguage = StreamLanguage.define<State>({
  name: 'ad',
  startState: () => ({ afterFn: false }),
  token(stream: StringStream, state: State): string | null {
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return 'comment';
    if (stream.match(/^(?:\d+(?:\.(?!\.)\d*)?|\.\d+)(?:[eE][+-]?\d*)?/)) return 'number';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (state.afterFn) {
        state.afterFn = false;
        return 'def';
      }
      if (w === 'fn') state.afterFn = true;
      if (keywords.has(w)) return 'keyword';
      if (types.has(w)) return 'typeName';
      if (constants.has(w)) return 'atom';
      if (functions.has(w)) return 'builtin';
      return 'variableName';
    }
    if (stream.match(/^(?:\*\*|&&|\|\||<=|>=|==|!=|\.\.|[-+*/^<>=!%])/)) return 'operator';
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '#' } },
});
