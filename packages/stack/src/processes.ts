import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Runs a service's TypeScript entry point with tsx, its output prefixed with its name. */
export function spawnService(name: string, entry: string, env: NodeJS.ProcessEnv, cwd: string, out: NodeJS.WritableStream): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, exited };
}

/** Polls `url` until it answers 2xx, the process exits, or `timeoutMs` passes. */
export async function waitHealthy(service: ServiceProcess, url: string, timeoutMs = 60_000): Promise<void> {
  let exited = false;
  void service.exited.then(() => (exited = true));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (exited) throw new Error(`${service.name} exited during start-up (see its log lines above)`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${service.name} did not become healthy at ${url} within ${timeoutMs} ms`);
}

/** SIGTERM to every process, SIGKILL to any still running after `graceMs`. */
export async function stopAll(services: readonly ServiceProcess[], graceMs = 10_000): Promise<void> {
  const running = services.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
  for (const s of running) s.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(running.map((s) => s.exited));
  clearTimeout(timer);
}
