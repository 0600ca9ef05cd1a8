import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from '@mcpgw/http';
import { decodeIdentityHeaders, type Identity } from '@mcpgw/identity';
import { silentLogger, type TestDatabase } from '@mcpgw/test-support';
import { buildGatewayDeps, createGatewayApp, readConfig, type GatewayDeps } from '@mcpgw/gateway';

export const SIGNING_SECRET = 'gateway-auth-test-secret-0123456789abcdef0123';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Stands in for mcp-proxy and the admin portal: records every request that reaches it. */
export async function startRecordingUpstream() {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** The identity the gateway signed onto the upstream request with this request id. */
    identityOf(requestId: string): Identity | null {
      const hit = seen.find((s) => s.headers['x-request-id'] === requestId);
      return hit ? decodeIdentityHeaders(hit.headers) : null;
    },
    reached: (requestId: string) => seen.some((s) => s.headers['x-request-id'] === requestId),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type RecordingUpstream = Awaited<ReturnType<typeof startRecordingUpstream>>;

export function testMasterKeys(): string {
  return `k1:${randomBytes(32).toString('base64')}`;
}

/** A gateway on port 0 in front of `upstreamUrl` (as mcp-proxy and admin portal), on the test database. */
export async function startTestGateway(t: TestDatabase, upstreamUrl: string, env: Record<string, string> = {}) {
  const config = readConfig({
    DATABASE_URL: t.url,
    DB_SCHEMA: t.schema,
    GATEWAY_SIGNING_SECRET: SIGNING_SECRET,
    MCP_PROXY_URL: upstreamUrl,
    ADMIN_PORTAL_URL: upstreamUrl,
    API_KEY_CACHE_SECONDS: '0',
    IDENTITY_CACHE_SECONDS: '0',
    ...env,
  });
  const deps: GatewayDeps = buildGatewayDeps(config, silentLogger('gateway'));
  const gateway = createGatewayApp(deps);
  const server = await listen(gateway.app, { host: '127.0.0.1', port: 0, httpClasses: gateway.httpClasses });
  return {
    deps,
    url: server.url,
    async close() {
      await server.close(100);
      gateway.close();
      await deps.close();
    },
  };
}
export type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

/** A request id unique to one test step, to find what (if anything) reached the upstream. */
export function requestId(): string {
  return `t-${randomBytes(8).toString('hex')}`;
}

/** A local account with a password (and optionally groups), as the admin portal would create it. */
export async function createLocalAccount(repos: TestDatabase['repos'], options: { password: string; groups?: { id: string }[]; enabled?: boolean }) {
  const { hashPassword } = await import('@mcpgw/crypto');
  const user = await repos.users.create({ email: `${randomBytes(5).toString('hex')}@local.test`, name: 'Local User', source: 'local', enabled: options.enabled ?? true });
  await repos.localCredentials.setPassword(user.id, await hashPassword(options.password));
  for (const g of options.groups ?? []) await repos.groups.addMember(g.id, user.id);
  return user;
}

/** An M2M client with a fresh secret, as the admin portal would create it. */
export async function createM2mClient(repos: TestDatabase['repos'], options: { groups?: { id: string }[] } = {}) {
  const { hashSecret, randomSecret } = await import('@mcpgw/crypto');
  const clientId = `agent-${randomBytes(4).toString('hex')}`;
  const secret = randomSecret(32);
  const user = await repos.users.create({ email: `${clientId}@clients.mcpgw.invalid`, name: clientId, source: 'm2m' });
  for (const g of options.groups ?? []) await repos.groups.addMember(g.id, user.id);
  await repos.m2mClients.create({ clientId, userId: user.id, secretHash: hashSecret(secret), secretPrefix: secret.slice(0, 6), description: 'test' });
  return { clientId, secret, userId: user.id };
}

/** A response body as JSON, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response | Promise<Response>): Promise<any> {
  return (await res).json();
}
