import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import path from 'node:path';
import { waitFor } from '@mcpgw/test-support';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * A GET on a connection of its own, closed after the answer, as container probes do: no idle
 * keep-alive connection of the test is left for a draining service to wait for.
 */
export function probe(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('probe timed out')));
  });
}

export interface StopReport {
  signal: NodeJS.Signals;
  /** Exit code (null when killed by the signal). */
  code: number | null;
  /** From the signal to the exit: the drain, for SIGTERM. */
  ms: number;
}

/**
 * One mcpgw service as production runs it (`node --import tsx services/<name>/src/main.ts`), on a
 * fixed port so it can be stopped and started again where its callers expect it.
 */
export interface ServiceProcess {
  name: string;
  url: string;
  start(): Promise<{ ms: number }>;
  stop(signal?: NodeJS.Signals): Promise<StopReport>;
  running(): boolean;
  log(): string;
}

export function serviceProcess(name: string, entry: string, env: Record<string, string>, port: number, healthPath: string): ServiceProcess {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<[number | null, NodeJS.Signals | null]> | undefined;
  let log = '';
  return {
    name,
    url,
    async start() {
      const started = performance.now();
      child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const mine = child;
      exited = once(mine, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      mine.stdout!.on('data', (d) => (log = (log + d).slice(-5_000_000)));
      mine.stderr!.on('data', (d) => (log = (log + d).slice(-5_000_000)));
      await waitFor(
        async () => {
          if (mine.exitCode !== null) throw new Error(`${name} exited during start-up:\n${log.slice(-3_000)}`);
          return probe(`${url}${healthPath}`).then((r) => r.status === 200, () => false);
        },
        60_000,
        50,
      );
      return { ms: Math.round(performance.now() - started) };
    },
    async stop(signal = 'SIGTERM') {
      const mine = child;
      if (!mine || mine.exitCode !== null || mine.signalCode !== null) return { signal, code: mine?.exitCode ?? null, ms: 0 };
      const started = performance.now();
      mine.kill(signal);
      const [code] = await exited!;
      return { signal, code, ms: Math.round(performance.now() - started) };
    },
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    log: () => log,
  };
}
