// Hand-written gradient of the seed's §2.3 example: f(x1, x2) = sin(π·x1^(x2^x1)) + cos(π·ln x1).
// With b = x2^x1 and a = x1^b: ∂a/∂x1 = a·(b/x1 + ln x1 · b · ln x2), ∂a/∂x2 = a · ln x1 · x1 · b / x2.
export function fGrad(x1, x2) {
  const l1 = Math.log(x1);
  const b = x2 ** x1;
  const a = x1 ** b;
  const pa = Math.PI * a;
  const pl = Math.PI * l1;
  const value = Math.sin(pa) + Math.cos(pl);
  const ga = Math.PI * Math.cos(pa) * a; // ∂f/∂a · a
  const gab = ga * l1 * b; // ∂f/∂b · b
  return {
    value,
    gradient: {
      x1: (ga * b - Math.PI * Math.sin(pl)) / x1 + gab * Math.log(x2),
      x2: (gab * x1) / x2,
    },
  };
}
