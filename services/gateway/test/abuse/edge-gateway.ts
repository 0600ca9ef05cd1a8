import { request } from 'node:http';
import { listen, type ListeningServer, type ListenOptions } from '@mcpgw/http';
import { silentLogger, type TestDatabase } from '@mcpgw/test-support';
import { buildGatewayDeps, createGatewayApp, readConfig, type GatewayDeps } from '@mcpgw/gateway';
import { listenOptionsOf } from '../../src/server-options.js';
import { SIGNING_SECRET } from '../support/gateway-harness.js';

/**
 * A gateway on port 0 whose listener is configured as main.ts configures it (timeouts and
 * connection ceiling from the config), unlike the shared harness, which uses listen()'s defaults.
 */
export async function startEdgeGateway(t: TestDatabase, upstreamUrl: string, env: Record<string, string> = {}) {
  const config = readConfig({
    DATABASE_URL: t.url,
    DB_SCHEMA: t.schema,
    GATEWAY_SIGNING_SECRET: SIGNING_SECRET,
    MCP_PROXY_URL: upstreamUrl,
    ADMIN_PORTAL_URL: upstreamUrl,
    ...env,
  });
  const deps: GatewayDeps = buildGatewayDeps(config, silentLogger('gateway'));
  const gateway = createGatewayApp(deps);
  // As main.ts: the app's own request classes, when it has them.
  const httpClasses = (gateway as { httpClasses?: object }).httpClasses;
  const options = { ...listenOptionsOf(config), host: '127.0.0.1', port: 0, ...(httpClasses ? { httpClasses } : {}) } as ListenOptions;
  const server: ListeningServer = await listen(gateway.app, options);
  return {
    deps,
    server,
    url: server.url,
    port: server.port,
    async close() {
      await server.close(100);
      gateway.close();
      await deps.close();
    },
  };
}

export interface BodyResult {
  status: number;
  ms: number;
  /** Bytes the client managed to hand to the socket before the answer or the close. */
  sent: number;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
  /** The client's socket error when no answer came (ECONNRESET, EPIPE). */
  error?: string;
}

/**
 * POSTs `bytes` of body (Content-Length, or chunked) as fast as the socket takes it, reusing one
 * 64 kB buffer (the client holds no copy of the body), and stops writing at the first answer.
 */
export function sendBody(url: string, path: string, bytes: number, options: { chunked?: boolean; headers?: Record<string, string> } = {}): Promise<BodyResult> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const req = request(`${url}${path}`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(bytes) }),
        ...options.headers,
      },
    });
    const finish = (status: number, closed: boolean, error?: string) => {
      if (done) return;
      done = true;
      resolve({ status, ms: Math.round(performance.now() - started), sent, closed, ...(error ? { error } : {}) });
    };
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const closed = String(res.headers.connection ?? '').toLowerCase() === 'close';
      res.resume();
      res.on('end', () => finish(status, closed));
      res.on('error', () => finish(status, closed));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(0, true, err.code ?? err.message));
    const pump = () => {
      while (!done && sent < bytes) {
        const piece = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!done) req.end();
    };
    pump();
  });
}
