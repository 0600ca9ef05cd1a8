import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

export function startNode(name: string, entry: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): BenchProcess {
  return start(name, process.execPath, ['--import', 'tsx', entry, ...extraArgs], env);
}

export async function waitHealthy(p: BenchProcess, url: string, timeoutMs = 30_000): Promise<void> {
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
  if (p.child.exitCode !== null) return;
  const done = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await done;
  clearTimeout(t);
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) the process has used so far, and its RSS in MB. */
export function usage(p: BenchProcess): { cpuSeconds: number; rssMb: number } {
  const pid = p.child.pid!;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: (utime + stime) / TICKS, rssMb: (rssPages * 4096) / 1024 / 1024 };
}
