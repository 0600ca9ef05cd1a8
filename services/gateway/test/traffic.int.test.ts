import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_SECRET, startTestGateway } from './support/gateway-harness.js';
import { createFixtures, createTestDatabase, freePort, uniqueId, waitFor, type TestDatabase } from '@mcpgw/test-support';

const SECRET = SIGNING_SECRET;
const METRICS_TOKEN = 'gateway-metrics-token-0123456789abcdef012345';

/** Stands in for mcp-proxy: answers like it, with the internal x-mcpgw-* headers on tools/call. */
async function fakeMcpProxy() {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = (() => {
        try {
          return JSON.parse(body) as { method?: string; params?: { name?: string } };
        } catch {
          return {};
        }
      })();
      if (parsed.method) res.setHeader('x-mcpgw-mcp-method', parsed.method);
      const server = /^\/mcp\/([a-z0-9-]+)/.exec(req.url ?? '')?.[1];
      if (server) res.setHeader('x-mcpgw-server', server);
      if (parsed.method === 'tools/call' && parsed.params?.name) res.setHeader('X-Mcpgw-Tool', parsed.params.name);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'x'.repeat(100) }] } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The shared test gateway (support/gateway-harness.ts) with this file's defaults. */
function startGateway(t: TestDatabase, upstreamUrl: string, env: Record<string, string> = {}) {
  return startTestGateway(t, upstreamUrl, { LIMIT_RULES_CACHE_SECONDS: '1', ANALYTICS_FLUSH_MS: '50', ...env });
}

const tool = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text: 'hi' } } });

describe('gateway traffic control and records', () => {
  let t: TestDatabase;
  let upstream: Awaited<ReturnType<typeof fakeMcpProxy>>;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let fx: ReturnType<typeof createFixtures>;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = createFixtures(t.repos);
    upstream = await fakeMcpProxy();
    gw = await startGateway(t, upstream.url, { METRICS_TOKEN });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  const post = (base: string, path: string, key: string | null, body = tool('echo'), headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'traffic-test/1', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body,
    });

  const analyticsRow = (requestId: string) =>
    waitFor(async () => {
      const { rows } = await t.db.query('SELECT * FROM analytics_events WHERE request_id = $1', [requestId]);
      return rows[0] ?? null;
    }, 5_000);

  it('records one analytics row per request off the request path, with mcp-proxy\'s MCP facts, and never shows the internal headers', async () => {
    const tenant = await t.repos.tenants.create({ id: uniqueId('tn-'), name: 'Acme' });
    const { user, key } = await fx.user({ tenantId: tenant.id });
    const res = await post(gw.url, '/mcp/demo', key);
    expect(res.status).toBe(200);
    for (const name of res.headers.keys()) expect(name).not.toMatch(/^x-mcpgw-/);
    const row = await analyticsRow(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      user_id: user.id,
      user_email: user.email,
      tenant_id: tenant.id,
      method: 'POST',
      endpoint: '/mcp/demo',
      mcp_method: 'tools/call',
      server_id: 'demo',
      tool: 'echo',
      status: 200,
      user_agent: 'traffic-test/1',
      client_ip: '127.0.0.1',
    });
    expect(row.latency_ms).toBeGreaterThan(0);
    expect(Number(row.bytes_in)).toBeGreaterThan(tool('echo').length);
    expect(Number(row.bytes_out)).toBeGreaterThan(100);

    // Refused requests are recorded too, without an identity.
    const refused = await post(gw.url, '/mcp/demo?x=1', null);
    expect(refused.status).toBe(401);
    expect(await analyticsRow(refused.headers.get('x-request-id')!)).toMatchObject({ user_id: null, status: 401, endpoint: '/mcp/demo', mcp_method: null });
  });

  it('per-tenant rule: all users of the tenant share one budget, both policies in the RateLimit fields; a change applies within seconds', async () => {
    const tenant = await t.repos.tenants.create({ id: uniqueId('tn-'), name: 'Noisy' });
    const calm = await t.repos.tenants.create({ id: uniqueId('tn-'), name: 'Calm' });
    const a = await fx.user({ tenantId: tenant.id });
    const b = await fx.user({ tenantId: tenant.id });
    const c = await fx.user({ tenantId: calm.id });
    const rule = await t.repos.rateLimitRules.create({ scope: 'tenant', tenantId: tenant.id, points: 3, windowSeconds: 60 });
    await waitFor(() => gw.deps.traffic.tenantRules().has(tenant.id), 5_000, 20);

    const statuses: number[] = [];
    let last: Response | undefined;
    for (const key of [a.key, b.key, a.key, b.key]) {
      last = await post(gw.url, '/mcp', key);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('ratelimit-policy')).toBe('"user";q=100;w=60, "tenant";q=3;w=60');
    expect(last!.headers.get('ratelimit')).toMatch(/^"user";r=98;t=\d+, "tenant";r=0;t=\d+$/);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await last!.json()).toMatchObject({ error: { code: -32029, message: expect.stringMatching(/\(tenant\)/) } });
    // REST callers of the same tenant get problem details.
    const rest = await fetch(`${gw.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${a.key}` } });
    expect(rest.status).toBe(429);
    expect(rest.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await rest.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', violatedPolicies: ['tenant'] });
    // Another tenant is unaffected.
    expect((await post(gw.url, '/mcp', c.key)).status).toBe(200);

    // The admin raises the quota: within LIMIT_RULES_CACHE_SECONDS the tenant may go on.
    await t.repos.rateLimitRules.update(rule.id, { points: 100 });
    const changed = Date.now();
    await waitFor(async () => (await post(gw.url, '/mcp', b.key)).status === 200, 5_000, 100);
    expect(Date.now() - changed).toBeLessThan(3_000);
  });

  it('an admin block of a user or of one API key is a 403 within seconds, and lifting it restores access', async () => {
    const { user, key } = await fx.user();
    const other = await fx.key(user.id);
    expect((await post(gw.url, '/mcp', key)).status).toBe(200);

    const block = await t.repos.accessBlocks.create({ userId: user.id }, { reason: 'abuse' });
    const blockedAt = Date.now();
    const refused = await waitFor(async () => {
      const res = await post(gw.url, '/mcp', key);
      return res.status === 403 ? res : null;
    }, 5_000, 50);
    expect(Date.now() - blockedAt).toBeLessThan(3_000);
    expect(await refused.json()).toMatchObject({ error: { message: 'This account is blocked by an administrator' } });
    expect((await post(gw.url, '/mcp', other.key)).status).toBe(403);
    const events = await waitFor(async () => {
      const rows = await t.repos.securityEvents.search({ userId: user.id, kinds: ['blocked'] });
      return rows.length > 0 ? rows : null;
    });
    expect(events[0]).toMatchObject({ reason: 'user blocked: abuse', service: 'gateway' });

    await t.repos.accessBlocks.remove(block.id);
    await waitFor(async () => (await post(gw.url, '/mcp', key)).status === 200, 5_000, 50);

    await t.repos.accessBlocks.create({ apiKeyId: other.keyId }, { reason: 'leaked' });
    await waitFor(async () => (await post(gw.url, '/mcp', other.key)).status === 403, 5_000, 50);
    expect((await post(gw.url, '/mcp', key)).status).toBe(200);
  });

  it('records bodies over MAX_BODY_BYTES as security events', async () => {
    const res = await post(gw.url, '/mcp', null, 'x'.repeat(1_048_577));
    expect(res.status).toBe(413);
    const requestId = res.headers.get('x-request-id')!;
    const [event] = await waitFor(async () => {
      const rows = await t.repos.securityEvents.list({ requestId });
      return rows.length > 0 ? rows : null;
    });
    expect(event).toMatchObject({ kind: 'oversize-body', service: 'gateway', clientIp: '127.0.0.1' });
  });

  it('/gateway/ready checks the database; /gateway/health needs nothing', async () => {
    const ready = await fetch(`${gw.url}/gateway/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', service: 'gateway', checks: { database: 'ok', redis: 'not-configured' } });
    expect(await (await fetch(`${gw.url}/gateway/health`)).json()).toMatchObject({ status: 'ok', redis: 'not-configured' });
  });

  it('/gateway/stats is for admins: limiter state, rules, blocks, analytics queue, and one caller\'s usage', async () => {
    expect((await fetch(`${gw.url}/gateway/stats`)).status).toBe(401);
    const plain = await fx.user();
    const forbidden = await fetch(`${gw.url}/gateway/stats`, { headers: { authorization: `Bearer ${plain.key}` } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/application\/problem\+json/);

    const admin = await fx.user({ admin: true });
    await post(gw.url, '/mcp', plain.key);
    const res = await fetch(`${gw.url}/gateway/stats?user=${plain.user.id}`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, any>;
    expect(stats.rateLimits).toMatchObject({
      enabled: true,
      store: 'memory',
      redis: 'not-configured',
      policies: [
        { name: 'user', limit: 100, windowSeconds: 60, decisions: { allowed: expect.any(Number), limited: expect.any(Number) } },
        { name: 'ip', limit: 1000, windowSeconds: 60 },
      ],
      tenantRules: { count: expect.any(Number) },
      blocks: { users: expect.any(Number), apiKeys: expect.any(Number) },
      usage: [{ policy: 'user', key: plain.user.id, consumed: 2, remaining: 98 }],
    });
    expect(stats.analytics).toMatchObject({ enabled: true, retentionDays: 90, queued: expect.any(Number), dropped: 0, maxBuffered: 50_000 });
  });

  it('/metrics needs the metrics token and shows requests by route, limiter decisions and the analytics queue', async () => {
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/mcp\/:server",status="200",service="gateway"\} \d+/);
    expect(text).toMatch(/mcpgw_rate_limit_decisions_total\{limiter="tenant-rule",outcome="limited",store="memory",service="gateway"\} \d+/);
    expect(text).toMatch(/mcpgw_analytics_queue_depth\{service="gateway"\} \d+/);
    expect(text).toMatch(/mcpgw_analytics_rows_written_total\{service="gateway"\} [1-9]\d*/);
  });
});

describe('gateway: client IP and TRUST_PROXY', () => {
  let t: TestDatabase;
  let upstream: Awaited<ReturnType<typeof fakeMcpProxy>>;
  beforeAll(async () => {
    t = await createTestDatabase();
    upstream = await fakeMcpProxy();
  });
  afterAll(async () => {
    await upstream?.close();
    await t?.cleanup();
  });

  const hit = (url: string, xff?: string) =>
    fetch(`${url}/mcp`, { method: 'POST', headers: xff ? { 'x-forwarded-for': xff } : {}, body: '{}' }).then((r) => r.status);

  it('TRUST_PROXY=loopback: each client address behind the proxy has its own budget, and addresses a client prepends change nothing', async () => {
    const gw = await startGateway(t, upstream.url, { TRUST_PROXY: 'loopback', RATE_LIMIT_PER_IP: '2' });
    try {
      // The proxy (us, on loopback) appends the address it saw; a client may have sent its own list first.
      expect([await hit(gw.url, '10.1.1.1'), await hit(gw.url, '10.1.1.1'), await hit(gw.url, '10.1.1.1')]).toEqual([401, 401, 429]);
      expect(await hit(gw.url, '10.2.2.2')).toBe(401);
      const rotated = [];
      for (let i = 0; i < 5; i++) rotated.push(await hit(gw.url, `203.0.113.${i}, 10.1.1.1`));
      expect(rotated).toEqual([429, 429, 429, 429, 429]);
      const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'x-forwarded-for': '10.3.3.3' }, body: '{}' });
      const row = await waitFor(async () => (await t.db.query('SELECT client_ip FROM analytics_events WHERE request_id = $1', [res.headers.get('x-request-id')])).rows[0]);
      expect(row).toEqual({ client_ip: '10.3.3.3' });
    } finally {
      await gw.close();
    }
  });

  it('TRUST_PROXY unset: X-Forwarded-For is ignored, the TCP peer is the client', async () => {
    const gw = await startGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await hit(gw.url, `10.9.9.${i}`));
      expect(statuses).toEqual([401, 401, 429, 429]);
    } finally {
      await gw.close();
    }
  });

  it('/gateway/ready stays 200 (redis: degraded) and /gateway/health says degraded while Redis does not answer', async () => {
    const gw = await startGateway(t, upstream.url, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      // The insurance counters keep the gateway serving: it stays in the load balancer.
      const ready = await fetch(`${gw.url}/gateway/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok', redis: 'degraded' } });
      expect(await (await fetch(`${gw.url}/gateway/health`)).json()).toMatchObject({ status: 'ok', redis: 'degraded', rateLimitStore: 'shared' });
      // Requests keep flowing on the insurance limiter.
      expect(await hit(gw.url)).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it('ENABLE_API_ANALYTICS=false records nothing and still removes the internal headers', async () => {
    const gw = await startGateway(t, upstream.url, { ENABLE_API_ANALYTICS: 'false' });
    try {
      const { key } = await createFixtures(t.repos).user();
      const res = await fetch(`${gw.url}/mcp/demo`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: tool('echo') });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-mcpgw-tool')).toBeNull();
      await new Promise((r) => setTimeout(r, 200));
      const { rows } = await t.db.query('SELECT 1 FROM analytics_events WHERE request_id = $1', [res.headers.get('x-request-id')]);
      expect(rows).toEqual([]);
      expect(gw.deps.traffic.analytics).toBeNull();
    } finally {
      await gw.close();
    }
  });
});
