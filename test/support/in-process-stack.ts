import { randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { listen, type ListeningServer } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { createTestDatabase, freePort, silentLogger, type TestDatabase } from '@mcpgw/test-support';
import { createDemoServerApp, type DemoServerApp } from '@mcpgw/demo-server';
import * as gateway from '@mcpgw/gateway';
import * as mcpProxy from '@mcpgw/mcp-proxy';
import * as adminPortal from '@mcpgw/admin-portal';

export interface InProcessStack {
  t: TestDatabase;
  secret: string;
  /** MASTER_KEYS of mcp-proxy and the gateway (the gateway wraps its token-signing keys with them). */
  masterKeys: string;
  gatewayUrl: string;
  mcpProxyUrl: string;
  adminPortalUrl: string;
  demoUrl: string;
  /** Whether a request with this X-Request-Id reached mcp-proxy or the admin portal. */
  reachedUpstream(requestId: string): boolean;
  close(): Promise<void>;
}

/**
 * The whole chain in this process, over real HTTP on loopback: demo server, mcp-proxy,
 * admin-portal and gateway, each built by its own composition root from an env object, on a
 * fresh test database.
 */
export interface InProcessStackOptions {
  /** Each service's logger (default: silent); tests that read the logs pass capturing ones. */
  logger?: (service: string) => Logger;
  /** Extra environment of mcp-proxy and of the admin portal. */
  proxyEnv?: Record<string, string>;
  portalEnv?: Record<string, string>;
}

export async function startInProcessStack(
  gatewayEnv: Record<string, string> | ((t: TestDatabase) => Promise<Record<string, string>>) = {},
  options: InProcessStackOptions = {},
): Promise<InProcessStack> {
  const logger = options.logger ?? silentLogger;
  const t = await createTestDatabase();
  const extraGatewayEnv = typeof gatewayEnv === 'function' ? await gatewayEnv(t) : gatewayEnv;
  const reached = new Set<string>();
  /** Notes the request id of everything that reaches a service behind the gateway. */
  const tap = (handler: RequestListener): RequestListener => (req, res) => {
    const id = req.headers['x-request-id'];
    if (typeof id === 'string') reached.add(id);
    handler(req, res);
  };
  const secret = randomBytes(32).toString('base64url');
  const masterKeys = `k1:${randomBytes(32).toString('base64')}`;
  const common = { DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: secret };
  const servers: ListeningServer[] = [];
  const closers: (() => Promise<void> | void)[] = [];

  const demo: DemoServerApp = createDemoServerApp(logger('demo'));
  const demoServer = await listen(demo.app, { host: '127.0.0.1', port: 0 });
  servers.push(demoServer);
  closers.push(() => demo.close());

  const proxyDeps = mcpProxy.createMcpProxyDeps(mcpProxy.readConfig({ ...common, MASTER_KEYS: masterKeys, ...options.proxyEnv }), logger('mcp-proxy'));
  const proxyServer = await listen(tap(mcpProxy.createMcpProxyApp(proxyDeps)), { host: '127.0.0.1', port: 0 });
  servers.push(proxyServer);
  closers.push(() => proxyDeps.close());

  // The gateway's port is chosen first: the admin portal's tool tester calls tools through it.
  const gatewayPort = await freePort();
  const portalDeps = adminPortal.buildAdminPortalDeps(
    // The demo server runs on loopback: allowed here as in npm start (SERVER_URL_ALLOW_LOOPBACK).
    adminPortal.readConfig({ ...common, MASTER_KEYS: masterKeys, ADMIN_PORTAL_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`, SERVER_URL_ALLOW_LOOPBACK: 'true', ...options.portalEnv }),
    logger('admin-portal'),
  );
  const portalServer = await listen(tap(adminPortal.createAdminPortalApp(portalDeps)), { host: '127.0.0.1', port: 0 });
  servers.push(portalServer);
  closers.push(() => portalDeps.close());

  const gwDeps = gateway.buildGatewayDeps(
    gateway.readConfig({ ...common, MCP_PROXY_URL: proxyServer.url, ADMIN_PORTAL_URL: portalServer.url, API_KEY_CACHE_SECONDS: '0', MASTER_KEYS: masterKeys, ...extraGatewayEnv }),
    logger('gateway'),
  );
  const gw = gateway.createGatewayApp(gwDeps);
  const gwServer = await listen(gw.app, { host: '127.0.0.1', port: gatewayPort, httpClasses: gw.httpClasses });
  servers.push(gwServer);
  closers.push(() => gw.close(), () => gwDeps.close());

  return {
    t,
    secret,
    masterKeys,
    reachedUpstream: (requestId: string) => reached.has(requestId),
    gatewayUrl: gwServer.url,
    mcpProxyUrl: proxyServer.url,
    adminPortalUrl: portalServer.url,
    demoUrl: `${demoServer.url}/mcp`,
    async close() {
      for (const s of servers.reverse()) await s.close(100);
      for (const c of closers) await c();
      await t.cleanup();
    },
  };
}
