import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '@mcpgw/http';
import { silentLogger } from '@mcpgw/test-support';
import { buildGatewayDeps, createGatewayApp, readConfig, type GatewayDeps } from '@mcpgw/gateway';

/**
 * Helpers of the fault tests: a fast stand-in for mcp-proxy, an open-loop load generator (requests
 * are sent on schedule whatever the answers do, so an outage cannot slow the load down), and
 * percentiles. Every run is bounded by its duration.
 */

export interface Sample {
  /** When it was sent, ms since the load started. */
  at: number;
  ms: number;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  requestId: string | null;
}

export interface InProcessGateway {
  url: string;
  deps: GatewayDeps;
  close(): Promise<void>;
}

/** A gateway in this process on port 0, from the variables `env` (silent logs). */
export async function inProcessGateway(env: Record<string, string>): Promise<InProcessGateway> {
  const deps = buildGatewayDeps(readConfig({ GATEWAY_SIGNING_SECRET: 'fault-test-secret-0123456789abcdef0123456789', ...env }), silentLogger('gateway'));
  const app = createGatewayApp(deps);
  const server = await listen(app.app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    deps,
    async close() {
      await server.close(100);
      app.close();
      await deps.close();
    },
  };
}

/** Answers every request at once with a small JSON-RPC result, as mcp-proxy would, MCP facts included. */
export async function fastUpstream(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count += 1;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-mcpgw-mcp-method', 'tools/call');
      res.setHeader('x-mcpgw-server', 'demo');
      res.setHeader('x-mcpgw-tool', 'echo');
      res.end('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Sends `send(i)` at `rps` for `durationMs`, without waiting for answers; resolves when all have answered. */
export async function openLoop(rps: number, durationMs: number, send: (i: number) => Promise<Response>, events: { at: number; run: () => unknown }[] = []): Promise<Sample[]> {
  const started = performance.now();
  const samples: Sample[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.floor((rps * durationMs) / 1000);
  const due = [...events].sort((a, b) => a.at - b.at);
  for (let i = 0; i < total; i++) {
    const at = (i * 1000) / rps;
    const wait = started + at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (due.length > 0 && due[0]!.at <= at) void Promise.resolve(due.shift()!.run());
    const sentAt = performance.now();
    pending.push(
      send(i).then(
        async (res) => {
          await res.arrayBuffer().catch(() => undefined);
          samples.push({ at: sentAt - started, ms: performance.now() - sentAt, status: res.status, requestId: res.headers.get('x-request-id') });
        },
        () => {
          samples.push({ at: sentAt - started, ms: performance.now() - sentAt, status: 0, requestId: null });
        },
      ),
    );
  }
  for (const e of due) await e.run();
  await Promise.all(pending);
  return samples.sort((a, b) => a.at - b.at);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function latency(samples: Sample[]): { n: number; p50: number; p99: number; max: number } {
  const ms = samples.map((s) => s.ms);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { n: samples.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), max: round(Math.max(0, ...ms)) };
}

