import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { measure, type LoadSettings, type Measured } from './lib/measure.js';
import { rowsOf, table, type Row } from './lib/report.js';
import type { Family } from './lib/scenario.js';
import { startBench, type Bench } from './lib/stack.js';
import { evaluateTargets, type TargetResult } from './lib/targets.js';
import { baselines } from './scenarios/baselines.js';
import { chain } from './scenarios/chain.js';
import { sharedChain } from './scenarios/chain-stack.js';
import { edge } from './scenarios/edge.js';
import { idleSessions } from './scenarios/idle-sessions.js';
import { stdio } from './scenarios/stdio.js';
import { users } from './scenarios/users.js';

export interface BenchOptions extends LoadSettings {
  /** Scenario names (and `idle-sessions`); their baselines are added. Empty: everything. */
  only: readonly string[];
  idleSessions: number;
  databaseUrl: string;
  redisUrl: string;
  log?: (line: string) => void;
}

export interface BenchRun {
  date: string;
  machine: { cpus: number; model: string; node: string; caddy: string; wrk: string };
  settings: LoadSettings & { idleSessions: number };
  results: Measured[];
  rows: Row[];
  probes: Record<string, Record<string, number | string>>;
  targets: TargetResult[];
  table: string;
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!.trim();
  } catch (err) {
    return ((err as { stdout?: string }).stdout ?? '').split('\n')[0]!.trim() || 'unknown';
  }
}

/** Every family in run order: baselines first, the idle sessions last (they leave memory behind). */
function families(bench: () => Bench, chainStack: ReturnType<typeof sharedChain>, idle: number): Family[] {
  return [baselines(bench), edge(bench), chain(bench, chainStack), users(bench, chainStack), stdio(bench, chainStack), idleSessions(bench, idle)];
}

/** Names to run: the requested ones plus, transitively, their baselines and origins. */
export function selection(all: readonly Family[], only: readonly string[]): Set<string> | null {
  if (only.length === 0) return null;
  const edges = new Map(all.flatMap((f) => f.names.map((n) => [n.name, [n.baseline, n.origin ?? n.baseline]] as const)));
  const picked = new Set<string>();
  const visit = (name: string) => {
    if (picked.has(name)) return;
    picked.add(name);
    for (const next of edges.get(name) ?? []) visit(next);
  };
  for (const name of only) {
    if (name !== 'idle-sessions' && !edges.has(name)) throw new Error(`unknown scenario ${name}; known: ${[...edges.keys(), 'idle-sessions'].join(', ')}`);
    visit(name);
  }
  return picked;
}

/**
 * Starts the upstreams, then each family with a selected scenario (its processes stop after it),
 * measures, and evaluates the targets. The CLI (run.ts) and the perf smoke test call this.
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let bench: Bench | null = null;
  const get = () => bench!;
  const chainStack = sharedChain(get);
  const all = families(get, chainStack, options.idleSessions);
  const picked = selection(all, options.only);
  const results: Measured[] = [];
  const probes: BenchRun['probes'] = {};
  bench = await startBench(options.databaseUrl, options.redisUrl);
  try {
    for (const family of all) {
      const wanted = family.name === 'idle-sessions' ? !picked || picked.has('idle-sessions') : family.names.some((n) => !picked || picked.has(n.name));
      if (!wanted) continue;
      log(`${family.name}: starting`);
      const started = await family.start();
      try {
        for (const s of started.scenarios) {
          if (picked && !picked.has(s.name)) continue;
          results.push(await measure(s, options, log));
        }
        for (const p of started.probes ?? []) {
          probes[p.name] = await p.run();
          log(`  ${p.name}: ${JSON.stringify(probes[p.name])}`);
        }
      } finally {
        await started.stop();
      }
    }
  } finally {
    await chainStack.stop();
    await bench.stop();
  }
  const rows = rowsOf(results);
  return {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      caddy: version('caddy', ['version']),
      wrk: version('wrk', ['--version']),
    },
    settings: { durationSec: options.durationSec, reps: options.reps, connections: options.connections, sessionConcurrency: options.sessionConcurrency, idleSessions: options.idleSessions },
    results,
    rows,
    probes,
    targets: evaluateTargets(rows, probes),
    table: table(rows, options.connections, options.sessionConcurrency),
  };
}
