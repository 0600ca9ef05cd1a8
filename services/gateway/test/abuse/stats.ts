/**
 * Small statistics for the abuse tests: percentiles, and the two-sample Kolmogorov–Smirnov test
 * used to compare latency distributions (test-matrix A1).
 */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * D: the largest distance between the two empirical distribution functions; p: the asymptotic
 * probability of a D at least this large if both samples came from one distribution
 * (Q_KS(λ) = 2 Σ (−1)^(j−1) e^(−2 j² λ²), with Stephens' small-sample correction of λ).
 */
export function kolmogorovSmirnov(a: readonly number[], b: readonly number[]): { d: number; p: number } {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i]! <= v) i++;
    while (j < y.length && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const n = Math.sqrt((x.length * y.length) / (x.length + y.length));
  const lambda = (n + 0.12 + 0.11 / n) * d;
  // The series does not converge near 0, where Q_KS is 1 (Q_KS(0.3) > 0.99999).
  if (lambda < 0.3) return { d, p: 1 };
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: Math.min(1, Math.max(0, p)) };
}
