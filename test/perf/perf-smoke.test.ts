import { describe, expect, it } from 'vitest';
import { runBench, type BenchRun } from '../../bench/bench.js';

/**
 * Perf smoke (issue 8, item 5): the edge and full-chain scenarios of the real bench (bench/bench.ts)
 * at reduced duration, one repetition. It fails only on errors (a non-2xx status, a socket error or
 * a JSON-RPC error where 2xx is expected) or on a ratio far below its target (under a quarter of
 * it); a stall shows as a collapsed ratio: CI machines are noisy, so anything
 * finer belongs to `npm run bench`, not here. Runs in its own vitest project, after every other
 * test and alone, so the other tests' CPU load does not pass for a regression.
 */
const FAR_BELOW = 0.25;
/**
 * Targets the product misses today (docs/performance.md, "What limits each missed target"): a
 * quarter of the target would fail every run, so until the cause is fixed their floor is half the
 * lowest ratio this smoke has measured, which still catches a collapse. Remove an entry once its
 * target is within reach.
 */
const KNOWN_MISS_FLOOR: Record<string, { ratio: number; why: string }> = {
  'chain-throughput': { ratio: 0.06, why: "half of 0.12 x, the lowest smoke figure so far; mcp-proxy's per-call CPU (about 2.5 ms) limits it" },
};
/** Capacity signals, not errors: a noisy machine may not hold the fixed rate or answer in 2 s. */
const CAPACITY = new Set(['below-rate', 'timeout']);

describe('perf smoke', () => {
  let run: BenchRun;

  it('runs the edge and full-chain scenarios with their baselines, without a single error', async () => {
    run = await runBench({
      only: ['edge-apikey-redis', 'chain-call'],
      durationSec: 2,
      reps: 1,
      connections: 16,
      sessionConcurrency: 4,
      idleSessions: 0,
      databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
      log: () => undefined,
    });
    expect(run.rows.map((r) => r.scenario).sort()).toEqual(['caddy-echo', 'chain-call', 'direct-echo', 'direct-sdk', 'edge-apikey-redis']);
    for (const row of run.rows) {
      const errors = Object.fromEntries(Object.entries(row.errors).filter(([status]) => !CAPACITY.has(status)));
      expect({ scenario: row.scenario, errors }).toEqual({ scenario: row.scenario, errors: {} });
      expect(row.rps, row.scenario).toBeGreaterThan(0);
    }
  }, 150_000);

  it('keeps the edge and chain throughput within reach of their targets (> 1/4 of each; a known miss above its regression floor)', () => {
    expect(run, 'the bench did not run').toBeDefined();
    const throughput = run.targets.filter((t) => t.id === 'edge-throughput' || t.id === 'chain-throughput');
    expect(throughput.map((t) => t.id).sort()).toEqual(['chain-throughput', 'edge-throughput']);
    for (const t of throughput) {
      const known = KNOWN_MISS_FLOOR[t.id];
      // score = measured ratio / target ratio (0.6 for both): the known-miss floor is a ratio.
      const floor = known ? known.ratio / 0.6 : FAR_BELOW;
      expect({ target: t.target, measured: t.measured, farBelow: t.score < floor }).toEqual({ target: t.target, measured: t.measured, farBelow: false });
    }
  });
});
