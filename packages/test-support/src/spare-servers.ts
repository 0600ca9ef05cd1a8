import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from './util.js';

const run = promisify(execFile);

/**
 * Throw-away Redis and Postgres servers on spare ports, for fault tests that stop, hang and restart
 * them. Never the shared servers on 6379 and 5432.
 */

function redisPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => {
      s.write('PING\r\n');
      s.once('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  });
}

export interface SpareRedis {
  port: number;
  url: string;
  /** Starts it (again, empty: no persistence) and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: the abrupt end of an outage test. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: accepts TCP, never answers (a hung Redis). */
  pause(): void;
  resume(): void;
  /** `DEBUG SLEEP <seconds>`: the server answers nobody for that long (a slow Redis); resolves when it is awake. */
  sleep(seconds: number): Promise<void>;
}

/** Redis 7 refuses DEBUG unless enabled at start; older servers do not know the option. */
function debugCommandArgs(): string[] {
  try {
    const version = /v=(\d+)\./.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }));
    return Number(version?.[1] ?? 0) >= 7 ? ['--enable-debug-command', 'local'] : [];
  } catch {
    return [];
  }
}

/** Sends one inline command and resolves with the first line of the answer. */
function redisCommand(port: number, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`redis ${command}: no answer within ${timeoutMs} ms`));
    });
    s.once('error', reject);
    s.connect(port, '127.0.0.1', () => s.write(`${command}\r\n`));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().split('\r\n')[0]!);
    });
  });
}

export function spareRedis(port: number): SpareRedis {
  let child: ChildProcess | null = null;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...debugCommandArgs()],
        { stdio: 'ignore' },
      );
      await waitFor(() => redisPong(port), 5_000, 20);
    },
    async kill() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await once(c, 'exit');
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async sleep(seconds) {
      const answer = await redisCommand(port, `DEBUG SLEEP ${seconds}`, seconds * 1000 + 5_000);
      if (answer !== '+OK') throw new Error(`DEBUG SLEEP refused: ${answer}`);
    },
  };
}

export interface SparePostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: no shutdown checkpoint, connections cut. */
  stop(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** True when initdb and pg_ctl are available (the fault tests skip otherwise). */
export function sparePostgresAvailable(): boolean {
  return existsSync(path.join(PG_BIN, 'initdb')) && existsSync(path.join(PG_BIN, 'pg_ctl'));
}

/** Runs a Postgres binary, as the `postgres` user when we are root (initdb refuses root). */
async function pgCommand(bin: string, args: string[]): Promise<void> {
  const file = path.join(PG_BIN, bin);
  if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args]);
  else await run(file, args);
}

/** A new cluster in a temporary directory (trust auth, loopback only, fsync off); call start(). */
export async function sparePostgres(port: number): Promise<SparePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mcpgw-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) await run('chown', ['postgres', dir]);
  await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const stop = () => pgCommand('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => undefined);
  return {
    port,
    url,
    async start() {
      await pgCommand('pg_ctl', ['start', '-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30']);
      await waitFor(async () => {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } catch {
          return false;
        } finally {
          await c.end().catch(() => undefined);
        }
      }, 15_000, 50);
    },
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
