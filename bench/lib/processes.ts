import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  log: () => string;
}

const ROOT = new URL('../..', import.meta.url).pathname;

export function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): BenchProcess {
  let log = '';
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log = (log + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
  return { name, child, log: () => log };
}

/**
 * A TypeScript entry point run by Node through tsx. BENCH_NODE_OPTIONS adds Node flags to every
 * service (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for a profile of a run).
 */
export function startNode(name: string, entry: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): BenchProcess {
  const flags = (process.env.BENCH_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  return start(name, process.execPath, [...flags, '--import', 'tsx', entry, ...extraArgs], env);
}

export async function waitHealthy(p: BenchProcess, url: string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited:\n${p.log()}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.name} not healthy at ${url}:\n${p.log()}`);
}

export async function stop(p: BenchProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const done = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(t);
}

const TICKS = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The process and every live descendant (a stdio upstream is a child of the proxy that runs it). */
function tree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    const ppid = Number(f[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** CPU seconds (user + system) used so far by the process and its descendants. */
export function cpuSeconds(p: BenchProcess): number {
  return tree(p.child.pid!).reduce((sum, pid) => {
    const f = statFields(pid);
    return f ? sum + (Number(f[11]) + Number(f[12])) / TICKS : sum;
  }, 0);
}

/** VmRSS and VmHWM (peak RSS since start) of the process itself, in MB. */
export function memory(p: BenchProcess): { rssMb: number; hwmMb: number } {
  try {
    const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, hwmMb: NaN };
  }
}

/**
 * Samples the RSS of each process every `intervalMs` while a load runs; `stop()` returns the
 * highest sample per process name (the RSS under that load, not the peak of the whole run).
 */
export function sampleRss(procs: readonly BenchProcess[], intervalMs = 250): { stop(): Record<string, number> } {
  const peak: Record<string, number> = {};
  const take = () => {
    for (const p of procs) {
      const { rssMb } = memory(p);
      if (Number.isFinite(rssMb)) peak[p.name] = Math.max(peak[p.name] ?? 0, rssMb);
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
