import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mcpgw/test-support';

const MAIN = fileURLToPath(new URL('./fault-upstream.main.ts', import.meta.url));

export interface FaultUpstreamProcess {
  url: string;
  port: number;
  pid(): number | undefined;
  /** SIGKILL, as a crash would; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves when it listens. */
  start(): Promise<void>;
}

/** The fault upstream (fault-upstream.ts) as a child process, run with tsx. */
export async function spawnFaultUpstream(env: Record<string, string> = {}): Promise<FaultUpstreamProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const running = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = running;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`fault upstream did not start: ${seen.slice(-500)}`)), 15_000);
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('listening on port')) {
          clearTimeout(timer);
          resolve();
        }
      };
      running.stdout?.on('data', onData);
      running.stderr?.on('data', onData);
      running.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fault upstream exited with ${code}: ${seen.slice(-500)}`));
      });
    });
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGKILL');
    await once(running, 'exit');
  };
  await start();
  return { url: `http://127.0.0.1:${port}/mcp`, port, pid: () => child?.pid, kill, start };
}
