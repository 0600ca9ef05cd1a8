import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import { probeUpstream } from '@mcpgw/mcp-proxy';
import { createTestDatabase, silentLogger, testRedisUrl, uniqueId, waitFor } from '@mcpgw/test-support';
import { startAdminPortal, type AdminPortalHarness } from './support/admin-portal-harness.js';

/**
 * Matrix rows O4 (tenant keys never read back), O5 (credential-minting flows limited per admin and
 * audited), O6 (SSRF: the URL policy at registration and at connect time) and O7 (/metrics not
 * public; a 500 says nothing but "Internal error" and the request id), over the real admin portal
 * with signed identity headers, the real Postgres and the real Redis.
 */
let h: AdminPortalHarness;
let admin: Identity;
let T: string;
let S: string;
const API = '/mcp-admin/api';

beforeAll(async () => {
  h = await startAdminPortal({ LOG_LEVEL: 'debug' });
  admin = await h.admin(null, { authMethod: 'apikey' });
  T = uniqueId('t-');
  S = uniqueId('s-');
  await h.t.repos.tenants.create({ id: T, name: 'T' });
  await h.t.repos.servers.create({ id: S, name: 'S', transport: 'streamable-http', url: 'https://mcp.example.com/mcp' });
});
afterAll(async () => {
  await h?.close();
});

/** Every row of every table of this test's schema, as text. */
async function databaseDump(): Promise<string> {
  const { rows: tables } = await h.t.db.pool.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [h.t.schema]);
  let dump = '';
  for (const { table_name: table } of tables) {
    const { rows } = await h.t.db.pool.query<{ row: string }>(`SELECT t::text AS row FROM "${h.t.schema}"."${table}" t`);
    dump += rows.map((r) => r.row).join('\n');
  }
  return dump;
}

/** Every key name and every string or hash value in the Redis the tests share. */
async function redisDump(url: string): Promise<{ keys: number; text: string }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let text = '';
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        keys += 1;
        text += `${key}\n`;
        const type = await redis.type(key);
        if (type === 'string') text += `${(await redis.getBuffer(key))?.toString('latin1') ?? ''}\n`;
        else if (type === 'hash') text += `${JSON.stringify(await redis.hgetall(key))}\n`;
      }
    } while (cursor !== '0');
    return { keys, text };
  } finally {
    redis.disconnect();
  }
}

describe('O4 a tenant key is never read back', () => {
  const canary = `CANARY-${randomBytes(16).toString('hex')}`;
  const seen: string[] = [];
  const answer = async (method: string, path: string, body?: unknown) => {
    const res = await h.call(admin, method, `${API}${path}`, body);
    seen.push(`${method} ${path} → ${res.status} ${[...res.headers].join(' ')} ${res.text}`);
    return res;
  };

  it('is written once, shown as its last 4 only, in answers, errors, audit rows, exports, the database, logs and Redis', async () => {
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, { key: canary })).body).toMatchObject({ tenant: T, server: S, last4: canary.slice(-4), replaced: false });
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, { key: canary })).status).toBe(200);
    expect((await answer('GET', '/tenant-keys')).body.items).toContainEqual(expect.objectContaining({ tenant: T, server: S, last4: canary.slice(-4) }));
    // Errors around the key: unknown server, unknown field, too long, not JSON, wrong type.
    expect((await answer('PUT', `/tenant-keys/${T}/no-such-server`, { key: canary })).status).toBe(404);
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, { key: canary, note: canary })).status).toBe(400);
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, { key: canary.repeat(300) })).status).toBe(400);
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, `{"key": "${canary}"`)).status).toBe(400);
    expect((await answer('PUT', `/tenant-keys/${T}/${S}`, { key: [canary] })).status).toBe(400);
    const group = (await answer('POST', '/groups', { name: uniqueId('Keyed-'), tenant: T })).body;
    await answer('PUT', `/groups/${group.id}/grants/${S}`, { tools: ['*'] });
    expect((await answer('GET', `/groups/${group.id}/export`)).status).toBe(200);
    const audit = await answer('GET', `/audit?targetId=${T}:${S}`);
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['tenant-key.replace', 'tenant-key.set']);
    await answer('GET', '/audit?limit=500');
    await answer('GET', '/tenant-endpoints');
    await answer('DELETE', `/tenant-keys/${T}/${S}`);

    const places: [string, string][] = [['responses', seen.join('\n')], ['database', await databaseDump()], ['logs', h.logs.join('')]];
    const redisUrl = await testRedisUrl();
    if (redisUrl) {
      const redis = await redisDump(redisUrl);
      places.push([`redis (${redis.keys} keys)`, redis.text]);
    } else console.log('[O4] Redis not reachable: Redis part of the canary search skipped');
    const matches = places.map(([where, text]) => [where, text.split(canary).length - 1] as const);
    console.log(`[matrix O4] canary matches: ${matches.map(([w, n]) => `${w}=${n}`).join(', ')}`);
    expect(matches.every(([, n]) => n === 0)).toBe(true);
    // The check can fail: the canary is really in what the test searched (the request log lines name its route).
    expect(seen.join('\n')).toContain(canary.slice(-4));
  });
});

describe('O5 credential-minting flows: limited per admin and audited', () => {
  it('20 a minute per admin (API keys, M2M clients, secrets, tenant keys share it), then 429 with Retry-After', async () => {
    const minter = await h.admin(null, { authMethod: 'apikey' });
    const user = await h.t.repos.users.create({ email: `${uniqueId('u')}@example.test`, source: 'local' });
    const group = await h.t.repos.groups.create({ name: uniqueId('M2M-') });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) statuses.push((await h.call(minter, 'POST', `${API}/users/${user.id}/keys`, { name: `k${i}` })).status);
    expect(statuses).toEqual(Array(20).fill(201));
    const refused = await h.call(minter, 'POST', `${API}/users/${user.id}/keys`, { name: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.type).toMatch(/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await h.call(minter, 'POST', `${API}/m2m-clients`, { name: uniqueId('c-'), groups: [group.name] })).status).toBe(429);
    expect((await h.call(minter, 'PUT', `${API}/tenant-keys/${T}/${S}`, { key: 'another-key-1234' })).status).toBe(429);
    // Other writes go on, and another admin is not affected.
    expect((await h.call(minter, 'PATCH', `${API}/users/${user.id}`, { name: 'still allowed' })).status).toBe(200);
    expect((await h.call(admin, 'POST', `${API}/users/${user.id}/keys`, { name: 'other admin' })).status).toBe(201);
    // Every key made is in the audit log under its maker; the refusal is a security event.
    const made = await h.t.repos.audit.search({ actor: minter.email, action: 'api-key.create', limit: 100 });
    expect(made).toHaveLength(20);
    expect(await h.t.repos.apiKeys.listForUser(user.id)).toHaveLength(21);
    const events = await waitFor(async () => {
      const rows = await h.t.repos.securityEvents.list({ requestId: refused.body.requestId });
      return rows.length ? rows : null;
    });
    expect(events[0]).toMatchObject({ kind: 'rate-limited', service: 'admin-portal', userId: minter.userId });
    console.log(`[matrix O5] limit hit after 20 writes/min, Retry-After ${retryAfter} s, audit rows ${made.length}`);
  });
});

describe('O6 SSRF: server URLs and tenant endpoints', () => {
  let trap: NetServer;
  let trapPort: number;
  let connections = 0;
  let dev: AdminPortalHarness;
  beforeAll(async () => {
    // Stands in for a service on the portal's own machine (Redis, Postgres): counts who connects.
    trap = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    trapPort = (trap.address() as { port: number }).port;
    dev = await startAdminPortal({ SERVER_URL_ALLOW_LOOPBACK: 'true', METRICS_TOKEN: 'm'.repeat(40) }, h.t);
  });
  afterAll(async () => {
    await dev?.close();
    await new Promise((resolve) => trap?.close(resolve));
  });

  const denied = () => [
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://127.0.0.1:5432/',
    'http://127.0.0.1:6379/',
    `http://127.0.0.1:${trapPort}/mcp`,
    `http://localhost:${trapPort}/mcp`,
    `http://[::1]:${trapPort}/mcp`,
    `http://0x7f.0.0.1:${trapPort}/mcp`,
    `http://2130706433:${trapPort}/mcp`,
    'http://0.0.0.0:8000/',
    'http://[fe80::1]/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
  ];

  it('refuses registering or changing a server, or setting a tenant endpoint, to a denied URL (400, nothing stored)', async () => {
    let refused = 0;
    for (const url of denied()) {
      const id = uniqueId('ssrf-');
      const created = await h.call(admin, 'POST', `${API}/servers`, { id, name: 'x', transport: 'streamable-http', url });
      expect(created.status, `${url}: ${created.text}`).toBe(400);
      expect(created.body.detail).toMatch(/url/);
      expect(await h.t.repos.servers.findById(id)).toBeNull();
      expect((await h.call(admin, 'PATCH', `${API}/servers/${S}`, { url })).status, url).toBe(400);
      expect((await h.call(admin, 'PUT', `${API}/tenant-endpoints/${T}/${S}`, { url })).status, url).toBe(400);
      refused += 1;
    }
    expect((await h.t.repos.servers.findById(S))?.url).toBe('https://mcp.example.com/mcp');
    expect(await h.t.repos.tenants.findEndpoint(T, S)).toBeNull();
    expect(connections).toBe(0);
    console.log(`[matrix O6] ${refused} denied URLs refused on create, change and tenant endpoint; outbound connections to the trap: ${connections}`);
  });

  it('checks again at test connection: a loopback URL already stored (or a tenant endpoint) is refused before connecting', async () => {
    const stored = uniqueId('old-');
    await h.t.repos.servers.create({ id: stored, name: 'stored earlier', transport: 'streamable-http', url: `http://127.0.0.1:${trapPort}/mcp` });
    const test = await h.call(admin, 'POST', `${API}/servers/${stored}/test`);
    expect(test.status, test.text).toBe(400);
    expect((await h.call(admin, 'GET', `${API}/servers/${stored}/tools`)).status).toBe(400);
    await h.t.repos.tenants.setEndpoint(T, S, `http://localhost:${trapPort}/mcp`);
    expect((await h.call(admin, 'POST', `${API}/servers/${S}/test?tenant=${T}`)).body.detail).toMatch(/tenant endpoint/);
    await h.t.repos.tenants.removeEndpoint(T, S);
    expect(connections).toBe(0);
  });

  it('allows loopback with SERVER_URL_ALLOW_LOOPBACK=true (dev, tests), never link-local or metadata', async () => {
    const id = uniqueId('dev-');
    expect((await dev.call(admin, 'POST', `${API}/servers`, { id, name: 'dev', transport: 'streamable-http', url: `http://127.0.0.1:${trapPort}/mcp` })).status).toBe(201);
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://metadata.google.internal/']) {
      expect((await dev.call(admin, 'POST', `${API}/servers`, { id: uniqueId('dev-'), name: 'x', transport: 'streamable-http', url })).status, url).toBe(400);
    }
  });

  it.each(['streamable-http', 'sse'] as const)('upstream connections (%s) do not follow a redirect to another host or port', async (transport) => {
    // A public-looking upstream answering with a redirect to a denied address (here: the trap).
    const redirector = createHttpServer((req, res) => {
      res.writeHead(req.method === 'POST' ? 307 : 302, { location: `http://127.0.0.1:${trapPort}/mcp` });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(redirector.address() as { port: number }).port}/mcp`;
      const server = (await h.t.repos.servers.create({ id: uniqueId('redir-'), name: 'r', transport, url }))!;
      const result = await probeUpstream(server, null, { tenants: h.t.repos.tenants, keyring: { decrypt: () => '' }, logger: silentLogger(), timeoutMs: 5000 });
      expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/not followed/) });
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => redirector.close(resolve));
    }
  });

  it("mcp-proxy's upstream connect refuses a metadata address itself, fast (the shared helper, whatever registered the URL)", async () => {
    const server = (await h.t.repos.servers.create({ id: uniqueId('meta-'), name: 'm', transport: 'streamable-http', url: 'http://169.254.169.254/mcp' }))!;
    const result = await probeUpstream(server, null, { tenants: h.t.repos.tenants, keyring: { decrypt: () => '' }, logger: silentLogger(), timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/refused.*metadata/) });
    // Refused before any packet: not after a 10 s connect timeout to an address that never answers.
    expect(result.latencyMs).toBeLessThan(1000);
  });
});

describe('O7 /metrics is not public; errors are generic with a request id', () => {
  it('/metrics: 404 without METRICS_TOKEN, 401 without or with a wrong token, even with admin signed headers', async () => {
    expect((await h.call(admin, 'GET', '/metrics')).status).toBe(404);
    const dev = await startAdminPortal({ METRICS_TOKEN: 'm'.repeat(40) }, h.t);
    try {
      expect((await dev.call(admin, 'GET', '/metrics')).status).toBe(401);
      expect((await fetch(`${dev.server.url}/metrics`, { headers: { authorization: `Bearer ${'x'.repeat(40)}` } })).status).toBe(401);
      expect((await fetch(`${dev.server.url}/metrics`, { headers: { authorization: `Bearer ${'m'.repeat(40)}` } })).status).toBe(200);
    } finally {
      await dev.close();
    }
  });

  it('a failure inside a route answers 500 "Internal error" with the request id: no stack, no SQL, no table names', async () => {
    const t = await createTestDatabase();
    const broken = await startAdminPortal({}, t);
    try {
      const who = await broken.admin(null, { authMethod: 'apikey' });
      await t.db.pool.query(`DROP TABLE "${t.schema}".tenant_keys`);
      const res = await broken.call(who, 'GET', `${API}/tenant-keys`);
      expect(res.status).toBe(500);
      expect(res.type).toMatch(/problem\+json/);
      expect(res.body).toMatchObject({ status: 500, detail: 'Internal error', code: 'INTERNAL', requestId: res.headers.get('x-request-id') });
      expect(res.text).not.toMatch(/tenant_keys|relation|SELECT|\.ts:\d|\bat \w|stack|postgres/i);
      // The detail is in the log, under the same request id, for the operator.
      expect(broken.logs.find((l) => l.includes(res.body.requestId) && l.includes('tenant_keys'))).toBeDefined();
    } finally {
      await broken.close();
      await t.cleanup();
    }
  });
});
