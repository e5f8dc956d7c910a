/** ANSI colours for the JavaScript that adc generates (a small, fixed vocabulary: no full JS lexer needed). */
const token =
  /(\/\*[\s\S]*?\*\/|\/\/[^\n]*)|\b(function|return|const|let|if|else|export|as)\b|(Math\.[A-Za-z0-9]+)|(?<![\w$.])(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)/g;

const paint = (code: string, text: string) => `\x1b[${code}m${text}\x1b[0m`;

export function highlight(code: string): string {
  return code.replace(token, (whole, comment?: string, keyword?: string, math?: string, number?: string) => {
    if (comment) return paint('90', comment);
    if (keyword) return paint('35', keyword);
    if (math) return paint('36', math);
    if (number) return paint('33', number);
    return whole;
  });
}
