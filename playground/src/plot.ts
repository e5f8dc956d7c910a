/** A plot of f and ∂f/∂p along one parameter p, as SVG text: two panels sharing the p axis. */

const width = 460;
const height = 130;
const pad = { left: 64, right: 10, top: 18, bottom: 8 };

/** 4 significant digits, in exponent form past 10⁶ so a label fits the margin. */
const fmt = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-4) ? x.toExponential(2) : String(Number(x.toPrecision(4))));
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(xs: readonly number[], ys: readonly number[], at: number, top: number, colour: string, title: string): string {
  const finite = ys.filter(Number.isFinite);
  if (finite.length === 0) return `<text x="${pad.left}" y="${top + 40}">${escape(title)}: no finite values here</text>`;
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const x0 = xs[0];
  const x1 = xs.at(-1)!;
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) => top + pad.top + ((hi - y) / (hi - lo)) * (height - pad.top - pad.bottom);
  // A gap in the line wherever the function is not finite.
  let path = '';
  let pen = false;
  xs.forEach((x, i) => {
    if (!Number.isFinite(ys[i])) return void (pen = false);
    path += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(ys[i]).toFixed(1)}`;
    pen = true;
  });
  const zero = lo < 0 && hi > 0 ? `<line x1="${pad.left}" x2="${width - pad.right}" y1="${sy(0)}" y2="${sy(0)}" stroke="#ccc"/>` : '';
  return [
    `<text x="${pad.left}" y="${top + 12}" font-weight="bold">${escape(title)}</text>`,
    `<text x="${pad.left - 4}" y="${sy(hi) + 4}" text-anchor="end">${fmt(hi)}</text>`,
    `<text x="${pad.left - 4}" y="${sy(lo) + 4}" text-anchor="end">${fmt(lo)}</text>`,
    zero,
    `<line x1="${sx(at)}" x2="${sx(at)}" y1="${top + pad.top}" y2="${top + height - pad.bottom}" stroke="#999" stroke-dasharray="3 3"/>`,
    `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`,
  ].join('');
}

export function plotSvg(xs: readonly number[], values: readonly number[], slopes: readonly number[], at: number, fn: string, param: string): string {
  const axis = `<text x="${pad.left}" y="${2 * height + 22}">${escape(param)} from ${fmt(xs[0])} to ${fmt(xs.at(-1)!)} (dashed: the point)</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${2 * height + 30}" font-family="sans-serif" font-size="11" role="img" aria-label="${escape(fn)} and its derivative along ${escape(param)}">` +
    panel(xs, values, at, 0, '#1f6feb', `${fn}`) +
    panel(xs, slopes, at, height, '#e8590c', `∂${fn}/∂${param}`) +
    axis +
    '</svg>'
  );
}
