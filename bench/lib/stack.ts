import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@mcpgw/test-support';
import { start, startNode, stop, waitHealthy, type BenchProcess } from './processes.js';
import { prepareData, type BenchData } from './setup.js';

/** The upstreams every family shares (started once per run) and the data. */
export interface Bench {
  data: BenchData;
  redisUrl: string;
  echo: { proc: BenchProcess; url: string };
  sdk: { proc: BenchProcess; url: string };
  caddy: { proc: BenchProcess; url: string };
  /** Environment every mcpgw service of the bench gets. */
  serviceEnv: Record<string, string>;
  /** Starts an mcpgw service (or anything with a health URL) and waits until it answers. */
  service(name: string, entry: string, env: Record<string, string>, health: (port: number) => string): Promise<{ proc: BenchProcess; port: number; url: string }>;
  stop(): Promise<void>;
}

const ROOT = new URL('../..', import.meta.url).pathname;
export const url = (port: number) => `http://127.0.0.1:${port}`;
export const STDIO_SERVER = { command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'bench/upstreams/stdio-server.ts')] };

export async function startBench(databaseUrl: string, redisUrl: string): Promise<Bench> {
  const ports = { echo: await freePort(), sdk: await freePort(), caddy: await freePort() };
  const data = await prepareData(databaseUrl, { sdkUrl: `${url(ports.sdk)}/mcp`, stdio: STDIO_SERVER });
  const procs: BenchProcess[] = [];
  try {
    const echo = startNode('echo', 'bench/upstreams/echo.ts', {}, [String(ports.echo)]);
    procs.push(echo);
    const sdk = startNode('sdk-server', 'bench/upstreams/sdk-server.ts', {}, [String(ports.sdk)]);
    procs.push(sdk);
    const caddyfile = path.join(os.tmpdir(), `mcpgw-bench-${ports.caddy}.Caddyfile`);
    // What a user puts in front with no auth at all: reverse_proxy and nothing else.
    writeFileSync(caddyfile, `{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:${ports.caddy} {\n\treverse_proxy 127.0.0.1:${ports.echo}\n}\n`);
    const caddy = start('caddy', 'caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile']);
    procs.push(caddy);
    await Promise.all([waitHealthy(echo, url(ports.echo)), waitHealthy(sdk, `${url(ports.sdk)}/health`), waitHealthy(caddy, url(ports.caddy))]);
    const serviceEnv = {
      DATABASE_URL: data.databaseUrl,
      DB_SCHEMA: data.schema,
      GATEWAY_SIGNING_SECRET: data.signingSecret,
      MASTER_KEYS: data.masterKeys,
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_MINUTE: '100000000',
    };
    return {
      data,
      redisUrl,
      echo: { proc: echo, url: url(ports.echo) },
      sdk: { proc: sdk, url: url(ports.sdk) },
      caddy: { proc: caddy, url: url(ports.caddy) },
      serviceEnv,
      async service(name, entry, env, health) {
        const port = await freePort();
        const portVar = entry.includes('gateway') ? 'GATEWAY_PORT' : 'MCP_PROXY_PORT';
        const proc = startNode(name, entry, { ...serviceEnv, ...env, [portVar]: String(port) });
        try {
          await waitHealthy(proc, health(port));
        } catch (err) {
          await stop(proc);
          throw err;
        }
        return { proc, port, url: url(port) };
      },
      async stop() {
        for (const p of procs.reverse()) await stop(p);
        await data.cleanup();
      },
    };
  } catch (err) {
    for (const p of procs.reverse()) await stop(p);
    await data.cleanup();
    throw err;
  }
}
