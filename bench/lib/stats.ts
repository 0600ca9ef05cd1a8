/** Small statistics over repetitions and latency samples. */

export const median = (xs: readonly number[]): number => {
  const finite = xs.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const s = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const min = (xs: readonly number[]): number => Math.min(...xs.filter(Number.isFinite));
export const max = (xs: readonly number[]): number => Math.max(...xs.filter(Number.isFinite));

/** The p-th percentile (0-100) of unsorted samples, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Adds status counts of `from` into `into`. */
export function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}
