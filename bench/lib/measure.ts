import { runFixedRate } from './fixed-rate.js';
import type { LoadResult } from './load.js';
import { cpuSeconds, sampleRss, type BenchProcess } from './processes.js';
import type { Scenario } from './scenario.js';
import { runSessions } from './session-driver.js';
import { addCounts } from './stats.js';
import { runWrk } from './wrk.js';

export interface LoadSettings {
  /** Seconds of the saturation load; c=1 and fixed-rate loads run half as long (at least 2 s). */
  durationSec: number;
  reps: number;
  /** Connections of the saturation load (wrk); the session driver runs `sessionConcurrency`. */
  connections: number;
  sessionConcurrency: number;
}

/** Every repetition's figures of one scenario. */
export interface Measured {
  scenario: string;
  baseline: string;
  origin: string;
  description: string;
  driver: 'wrk' | 'sessions';
  rate: number | null;
  rps: number[];
  c1: { p50: number[]; p90: number[]; p99: number[] };
  fixed: { p50: number[]; p90: number[]; p99: number[] };
  saturated: { p50: number[]; p90: number[]; p99: number[] };
  statuses: Record<string, number>;
  errors: Record<string, number>;
  cpuSecondsPer10k: number[];
  /** Highest RSS sampled during the saturation loads, per process, MB. */
  rssMb: Record<string, number>;
}

/** Seconds of the c=1 and fixed-rate loads: half the saturation load, at least 2 s. */
export const shortDuration = (durationSec: number) => Math.max(2, Math.round(durationSec / 2));

const push = (into: { p50: number[]; p90: number[]; p99: number[] }, r: LoadResult) => {
  into.p50.push(r.p50);
  into.p90.push(r.p90);
  into.p99.push(r.p99);
};

/** Saturation may queue: a request counts as timed out only after this long. */
const SATURATED_TIMEOUT_SEC = 10;

async function load(s: Scenario, connections: number, durationSec: number): Promise<LoadResult> {
  if (s.sessions) return runSessions(s.sessions, { concurrency: connections, durationSec });
  return runWrk(await s.request!(), { connections, threads: 2, durationSec, timeoutSec: connections > 1 ? SATURATED_TIMEOUT_SEC : undefined });
}

/**
 * Waits until the processes are idle (under 0.1 CPU over 300 ms, at most 15 s): a saturation
 * load leaves queued work behind (a 50-server fan-out per queued request) that would otherwise be
 * billed to the next load.
 */
async function settle(procs: readonly BenchProcess[]): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const before = procs.reduce((sum, p) => sum + cpuSeconds(p), 0);
    await new Promise((r) => setTimeout(r, 300));
    if (procs.reduce((sum, p) => sum + cpuSeconds(p), 0) - before < 0.03) return;
  }
}

/**
 * Per repetition: c=1 (wrk, one connection), fixed rate (autocannon), then saturation with CPU
 * (utime+stime of each process and its children, before/after) and RSS sampled during the load.
 */
export async function measure(s: Scenario, settings: LoadSettings, log: (line: string) => void): Promise<Measured> {
  const reps = Math.min(settings.reps, s.maxReps ?? Infinity);
  const short = shortDuration(settings.durationSec);
  const wide = s.sessions ? settings.sessionConcurrency : settings.connections;
  const m: Measured = {
    scenario: s.name,
    baseline: s.baseline,
    origin: s.origin ?? s.baseline,
    description: s.description,
    driver: s.sessions ? 'sessions' : 'wrk',
    rate: s.sessions ? null : (s.rate ?? null),
    rps: [],
    c1: { p50: [], p90: [], p99: [] },
    fixed: { p50: [], p90: [], p99: [] },
    saturated: { p50: [], p90: [], p99: [] },
    statuses: {},
    errors: {},
    cpuSecondsPer10k: [],
    rssMb: {},
  };
  await settle(s.processes);
  await load(s, wide, 1); // warm-up: connections, JIT, caches
  for (let rep = 0; rep < reps; rep++) {
    await settle(s.processes);
    const c1 = await load(s, 1, short);
    push(m.c1, c1);
    addCounts(m.statuses, c1.statuses);
    if (m.rate !== null && s.request) {
      const fixed = await runFixedRate(await s.request(), { rate: m.rate, durationSec: short, connections: 16 });
      push(m.fixed, fixed);
      addCounts(m.statuses, fixed.statuses);
    }
    const before = s.processes.reduce((sum, p) => sum + cpuSeconds(p), 0);
    const sampler = sampleRss(s.processes);
    const sat = await load(s, wide, settings.durationSec);
    const rss = sampler.stop();
    const cpu = s.processes.reduce((sum, p) => sum + cpuSeconds(p), 0) - before;
    for (const [name, mb] of Object.entries(rss)) m.rssMb[name] = Math.max(m.rssMb[name] ?? 0, mb);
    push(m.saturated, sat);
    addCounts(m.statuses, sat.statuses);
    m.rps.push(sat.goodRps);
    m.cpuSecondsPer10k.push(sat.requests > 0 ? (cpu / sat.requests) * 10_000 : NaN);
    log(`  ${s.name} rep ${rep + 1}/${reps}: ${sat.goodRps.toFixed(0)} good/s, c=1 p50 ${c1.p50.toFixed(3)} ms, statuses ${JSON.stringify({ ...c1.statuses, ...sat.statuses })}`);
  }
  m.errors = Object.fromEntries(Object.entries(m.statuses).filter(([k]) => !/^2\d\d$/.test(k)));
  return m;
}
