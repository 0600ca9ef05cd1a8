/**
 * An open-loop load for the deployment tests: requests leave on schedule whatever the answers do
 * (a slow or restarting service cannot slow the load down), and each request says itself whether it
 * was served. Bounded by its duration.
 */

export interface Outcome {
  kind: string;
  /** Milliseconds from the start of the load. */
  at: number;
  ms: number;
  /** HTTP status, 0 when no answer came. */
  status: number;
  served: boolean;
  detail?: string;
}

export type Shot = (i: number) => { kind: string; run: () => Promise<{ status: number; served: boolean; detail?: string }> };

/** Sends `rps` requests a second for `durationMs`, or earlier until `done()` says so; resolves when all have answered. */
export async function openLoop(rps: number, durationMs: number, shot: Shot, done: () => boolean = () => false): Promise<Outcome[]> {
  const started = performance.now();
  const total = Math.floor((rps * durationMs) / 1000);
  const outcomes: Outcome[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total && !done(); i++) {
    const due = started + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const { kind, run } = shot(i);
    const sent = performance.now();
    pending.push(
      run().then(
        (r) => void outcomes.push({ kind, at: sent - started, ms: performance.now() - sent, ...r }),
        (err: Error) => void outcomes.push({ kind, at: sent - started, ms: performance.now() - sent, status: 0, served: false, detail: err.message }),
      ),
    );
  }
  await Promise.all(pending);
  return outcomes.sort((a, b) => a.at - b.at);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One line the test prints, and docs/operations.md quotes. */
export function report(id: string, figures: Record<string, unknown>): void {
  // eslint-disable-next-line no-console
  console.log(`[deploy ${id}] ${JSON.stringify(figures)}`);
}
