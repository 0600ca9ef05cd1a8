import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@mcpgw/test-support';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  pid: number;
  port: number;
  url: string;
  output(): string;
  /** Resident set size, MB. */
  rssMb(): number;
  /** Open file descriptors. */
  fds(): number;
  stop(): Promise<void>;
}

/**
 * A service's real entry point (main.ts) in its own process, as `npm start` runs it, so RSS, file
 * descriptors and listening addresses are the service's own, not the test runner's. Resolves when
 * `ready` answers 200.
 */
export async function startServiceProcess(entry: string, portVariable: string, env: Record<string, string>, readyPath = '/health'): Promise<ServiceProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env, [portVariable]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} did not become ready:\n${out}`);
    }
    const ok = await fetch(`${url}${readyPath}`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid!;
  return {
    pid,
    port,
    url,
    output: () => out,
    rssMb() {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return Math.round(Number(kb ?? 0) / 102.4) / 10;
    },
    fds: () => readdirSync(`/proc/${pid}/fd`).length,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 12_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
