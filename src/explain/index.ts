/** `adc explain`: the expression graph of a function at a point, its sweeps and its paths (issue 8). */
export { explain, explainToJson, ExplainError, defaultMaxPaths } from './explain.ts';
export { formatExplain, formatNumber } from './text.ts';
export { maxSvgSize, svgTooLarge, toDot, toSvg } from './dot.ts';
export { explainCommand, parsePoint, type ExplainCommandOptions } from './cli.ts';
export type * from './types.ts';
