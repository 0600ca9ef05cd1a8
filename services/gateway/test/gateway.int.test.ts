import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SECRET, startTestGateway } from './support/gateway-harness.js';
import { decodeIdentityHeaders, verifyIdentity } from '@mcpgw/identity';
import { createFixtures, createTestDatabase, freePort, testRedisUrl, waitFor, type TestDatabase } from '@mcpgw/test-support';

const SECRET = SIGNING_SECRET;

/** Stands in for mcp-proxy and admin-portal: records what reaches it. */
async function recordingUpstream() {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The shared test gateway (support/gateway-harness.ts) with this file's defaults. */
function startGateway(t: TestDatabase, upstreamUrl: string, env: Record<string, string> = {}) {
  return startTestGateway(t, upstreamUrl, { API_KEY_CACHE_SECONDS: '30', IDENTITY_CACHE_SECONDS: '30', ...env });
}

describe('gateway', () => {
  let t: TestDatabase;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let fx: ReturnType<typeof createFixtures>;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = createFixtures(t.repos);
    upstream = await recordingUpstream();
    gw = await startGateway(t, upstream.url, { API_KEY_CACHE_SECONDS: '0' });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  const post = (path: string, headers: Record<string, string>, body = '{"jsonrpc":"2.0","id":1,"method":"ping"}') =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers /gateway/health without credentials or dependencies', async () => {
    const res = await fetch(`${gw.url}/gateway/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'gateway', rateLimitStore: 'local' });
  });

  it('authenticates an mcpgw_ key and forwards signed identity headers, never the key itself', async () => {
    const group = await fx.group({ tenantId: null });
    const { user, key } = await fx.user({ groups: [group] });
    const before = upstream.seen.length;
    const res = await post('/mcp/demo', { authorization: `Bearer ${key}` });
    expect(res.status).toBe(200);
    const got = upstream.seen[before]!;
    expect(got.url).toBe('/mcp/demo');
    expect(got.headers.authorization).toBeUndefined();
    expect(JSON.stringify(got.headers)).not.toContain(key);
    expect(verifyIdentity([SECRET], 'POST', '/mcp/demo', got.headers, 30_000)).toEqual({ ok: true });
    expect(decodeIdentityHeaders(got.headers)).toMatchObject({
      userId: user.id,
      email: user.email,
      groups: [group.name],
      admin: false,
      authMethod: 'apikey',
    });
    expect(got.body).toContain('"ping"');
  });

  it('accepts the key in X-API-Key too', async () => {
    const { key } = await fx.user();
    expect((await post('/mcp', { 'x-api-key': key })).status).toBe(200);
  });

  it('strips spoofed identity headers in every spelling before proxying', async () => {
    const { user, key } = await fx.user();
    const before = upstream.seen.length;
    const res = await fetch(`${gw.url}/mcp-admin/api/me`, {
      headers: {
        authorization: `Bearer ${key}`,
        'X-User-Admin': 'true',
        'X-User-Id': 'someone-else',
        'X-User-Groups': 'MCP-Admin',
        x_user_email: 'ceo@example.test',
        'X-Gateway-Validated': 'true',
        'X-Gateway-Signature': 'v1=forged',
        'X-Auth-Method': 'entra',
      },
    });
    expect(res.status).toBe(200);
    const got = upstream.seen[before]!;
    const identity = decodeIdentityHeaders(got.headers);
    expect(identity).toMatchObject({ userId: user.id, admin: false, groups: [], authMethod: 'apikey', email: user.email });
    expect(got.headers['x_user_email']).toBeUndefined();
    expect(verifyIdentity([SECRET], 'GET', '/mcp-admin/api/me', got.headers, 30_000)).toEqual({ ok: true });
  });

  it('gives admins the admin flag through an admin group', async () => {
    const admins = await fx.group({ admin: true });
    const { key } = await fx.user({ groups: [admins] });
    const before = upstream.seen.length;
    await fetch(`${gw.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(decodeIdentityHeaders(upstream.seen[before]!.headers)?.admin).toBe(true);
  });

  it('refuses a request without credentials: 401, WWW-Authenticate, JSON-RPC body on /mcp, nothing forwarded', async () => {
    const before = upstream.seen.length;
    const res = await post('/mcp', {});
    expect(res.status).toBe(401);
    // MCP endpoints name their protected resource metadata (RFC 9728) in every 401.
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="mcpgw", resource_metadata="http://127.0.0.1:8085/.well-known/oauth-protected-resource/mcp"',
    );
    const body = (await res.json()) as { error: { message: string } };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001 } });
    expect(body.error.message).toMatch(/Authentication required/);
    expect(upstream.seen.length).toBe(before);
  });

  it('answers REST callers with RFC 9457 problem details', async () => {
    const res = await fetch(`${gw.url}/mcp-admin/api/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', title: 'Unauthorized', requestId: expect.any(String) });
  });

  it.each([
    ['unknown', async () => 'mcpgw_' + 'A'.repeat(43)],
    ['malformed', async () => 'mcpgw_short'],
    [
      'revoked',
      async () => {
        const { key, keyId } = await fx.user();
        await t.repos.apiKeys.revoke(keyId);
        return key;
      },
    ],
    [
      'expired',
      async () => {
        const { user } = await fx.user();
        return (await fx.key(user.id, { expiresAt: new Date(Date.now() - 1000) })).key;
      },
    ],
    ['disabled user', async () => (await fx.user({ enabled: false })).key],
  ])('refuses a %s key with 401 invalid_token and forwards nothing', async (_label, makeKey) => {
    const key = await makeKey();
    const before = upstream.seen.length;
    const res = await post('/mcp', { authorization: `Bearer ${key}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(upstream.seen.length).toBe(before);
  });

  it('stops a key as soon as its user is disabled (cache off) and records a security event', async () => {
    const { user, key } = await fx.user();
    expect((await post('/mcp', { authorization: `Bearer ${key}` })).status).toBe(200);
    await t.repos.users.setEnabled(user.id, false);
    const res = await post('/mcp', { authorization: `Bearer ${key}` });
    expect(res.status).toBe(401);
    const requestId = res.headers.get('x-request-id')!;
    const events = await waitFor(async () => {
      const rows = await t.repos.securityEvents.list({ requestId });
      return rows.length > 0 ? rows : null;
    });
    expect(events[0]).toMatchObject({ kind: 'unauthenticated', reason: 'disabled', service: 'gateway' });
  });

  it('refuses credentials in the query string and never forwards them', async () => {
    const { key } = await fx.user();
    const before = upstream.seen.length;
    const res = await post(`/mcp?api_key=${key}`, {});
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not accepted/);
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses a declared body over the limit with 413 before proxying', async () => {
    const { key } = await fx.user();
    const before = upstream.seen.length;
    const res = await post('/mcp', { authorization: `Bearer ${key}` }, 'x'.repeat(1_048_577));
    expect(res.status).toBe(413);
    expect(upstream.seen.length).toBe(before);
  });

  it('keeps a short safe inbound request id and replaces an unsafe one', async () => {
    const { key } = await fx.user();
    const ok = await post('/mcp', { authorization: `Bearer ${key}`, 'x-request-id': 'abc-123' });
    expect(ok.headers.get('x-request-id')).toBe('abc-123');
    const before = upstream.seen.length;
    const bad = await post('/mcp', { authorization: `Bearer ${key}`, 'x-request-id': 'a b<script>' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.seen[before]!.headers['x-request-id']).toBe(bad.headers.get('x-request-id'));
  });

  it('answers 404 for paths with no upstream when Open WebUI is not configured', async () => {
    const res = await fetch(`${gw.url}/some/page`);
    expect(res.status).toBe(404);
  });
});

describe('gateway rate limits', () => {
  let t: TestDatabase;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  beforeAll(async () => {
    t = await createTestDatabase();
    upstream = await recordingUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
    await t?.cleanup();
  });

  it('limits each user: 429 with Retry-After in whole seconds and RateLimit fields, JSON-RPC error on /mcp', async () => {
    const gw = await startGateway(t, upstream.url, { RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const { key } = await createFixtures(t.repos).user();
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) {
        last = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{}' });
        statuses.push(last.status);
        if (i === 0) {
          expect(last.headers.get('ratelimit-policy')).toBe('"user";q=3;w=60');
          expect(last.headers.get('ratelimit')).toMatch(/^"user";r=2;t=\d+$/);
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const retryAfter = last!.headers.get('retry-after')!;
      expect(retryAfter).toMatch(/^\d+$/);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      expect(await last!.json()).toMatchObject({ error: { code: -32029, message: expect.stringMatching(/Rate limit exceeded/) } });
      // Another user keeps its own budget.
      const other = await createFixtures(t.repos).user();
      expect((await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${other.key}` }, body: '{}' })).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('limits unauthenticated callers per IP, and a forged X-Forwarded-For does not reset the count', async () => {
    const gw = await startGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '2' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'x-forwarded-for': `10.0.0.${i}` }, body: '{}' });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 429, 429]);
    } finally {
      await gw.close();
    }
  });

  it('shares one budget between two gateway instances on the same Redis', async (ctx) => {
    const redisUrl = await testRedisUrl();
    if (!redisUrl) ctx.skip();
    const a = await startGateway(t, upstream.url, { RATE_LIMIT_PER_MINUTE: '5', REDIS_URL: redisUrl! });
    const b = await startGateway(t, upstream.url, { RATE_LIMIT_PER_MINUTE: '5', REDIS_URL: redisUrl! });
    try {
      await waitFor(() => a.deps.redis?.status === 'ready' && b.deps.redis?.status === 'ready');
      const { key } = await createFixtures(t.repos).user();
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          fetch(`${(i % 2 ? a : b).url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{}' }).then((r) => r.status),
        ),
      );
      expect(results.filter((s) => s === 200)).toHaveLength(5);
      expect(results.filter((s) => s === 429)).toHaveLength(7);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers 502 in the caller\'s format when the upstream is down', async () => {
    const closedPort = await freePort();
    const gw = await startGateway(t, `http://127.0.0.1:${closedPort}`);
    try {
      const { key } = await createFixtures(t.repos).user();
      const started = Date.now();
      const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{}' });
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: 'mcp-proxy is unavailable' } });
      const rest = await fetch(`${gw.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(rest.status).toBe(502);
      expect(await rest.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await gw.close();
    }
  });
});

