import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from '@mcpgw/http';
import type { Identity } from '@mcpgw/identity';
import { createFixtures, createTestDatabase, gatewayHeaders, silentLogger, testIdentity, uniqueId, type TestDatabase } from '@mcpgw/test-support';
import { buildAdminPortalDeps, createAdminPortalApp, readConfig, type AdminPortalDeps } from '@mcpgw/admin-portal';

const SECRET = 'admin-portal-test-secret-0123456789abcdef0123';
const METRICS_TOKEN = 'admin-portal-metrics-token-0123456789abcdef';

describe('admin portal API: rate-limit rules, blocks, security events, metrics', () => {
  let t: TestDatabase;
  let deps: AdminPortalDeps;
  let server: ListeningServer;
  // An admin the database knows as one (the portal decides global or tenant scope from it).
  const admin = testIdentity({ admin: true, groups: [uniqueId('Admins-')] });

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.repos.groups.create({ name: admin.groups[0]!, isAdmin: true });
    deps = buildAdminPortalDeps(readConfig({ DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: SECRET, METRICS_TOKEN }), silentLogger());
    server = await listen(createAdminPortalApp(deps), { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close(100);
    await deps?.close();
    await t?.cleanup();
  });

  const call = (method: string, path: string, body?: unknown, who: Identity = admin) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...gatewayHeaders(SECRET, method, path, who), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('creates, lists, changes and deletes rate-limit rules, each change in the audit log', async () => {
    const tenant = await t.repos.tenants.create({ id: uniqueId('tn-'), name: 'T' });
    const s = await t.repos.servers.create({ id: uniqueId('s-'), name: 'S', transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp' });
    const created = await call('POST', '/mcp-admin/api/rate-limit-rules', { scope: 'tenant', tenantId: tenant.id, points: 1000, windowSeconds: 60 });
    expect(created.status).toBe(201);
    const rule = (await created.json()) as { id: string };
    expect(rule).toMatchObject({ scope: 'tenant', tenantId: tenant.id, per: 'tenant', points: 1000 });
    const toolRule = await call('POST', '/mcp-admin/api/rate-limit-rules', { scope: 'tool', serverId: s.id, tool: 'echo', points: 5, windowSeconds: 10 });
    expect(toolRule.status).toBe(201);

    expect((await call('POST', '/mcp-admin/api/rate-limit-rules', { scope: 'tenant', tenantId: tenant.id, points: 1, windowSeconds: 60 })).status).toBe(409);
    expect((await call('POST', '/mcp-admin/api/rate-limit-rules', { scope: 'tenant', tenantId: 'no-such-tenant', points: 1, windowSeconds: 60 })).status).toBe(400);
    const invalid = await call('POST', '/mcp-admin/api/rate-limit-rules', { scope: 'tool', points: 0, windowSeconds: 60 });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { detail: string }).detail).toMatch(/serverId|points/);

    const list = (await (await call('GET', '/mcp-admin/api/rate-limit-rules')).json()) as { items: { id: string }[] };
    expect(list.items.map((r) => r.id)).toContain(rule.id);
    const patched = await call('PATCH', `/mcp-admin/api/rate-limit-rules/${rule.id}`, { points: 10, enabled: false });
    expect(await patched.json()).toMatchObject({ points: 10, enabled: false, windowSeconds: 60 });
    expect((await call('DELETE', `/mcp-admin/api/rate-limit-rules/${rule.id}`)).status).toBe(204);
    expect((await call('DELETE', `/mcp-admin/api/rate-limit-rules/${rule.id}`)).status).toBe(404);
    const audit = await t.repos.audit.listRecent(50);
    expect(audit.filter((a) => a.targetId === rule.id).map((a) => a.action)).toEqual(['rate-limit-rule.delete', 'rate-limit-rule.update', 'rate-limit-rule.create']);
  });

  it('blocks a user or an API key and lifts the block', async () => {
    const { user, keyId } = await createFixtures(t.repos).user();
    const res = await call('POST', '/mcp-admin/api/blocks', { userId: user.id, reason: 'abuse', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(res.status).toBe(201);
    const block = (await res.json()) as { id: string };
    expect(block).toMatchObject({ userId: user.id, reason: 'abuse', createdBy: admin.email });
    expect((await call('POST', '/mcp-admin/api/blocks', { apiKeyId: keyId })).status).toBe(201);
    expect((await call('POST', '/mcp-admin/api/blocks', { userId: user.id, apiKeyId: keyId })).status).toBe(400);
    const active = await t.repos.accessBlocks.loadActive();
    expect(active.users.has(user.id)).toBe(true);
    expect((await call('DELETE', `/mcp-admin/api/blocks/${block.id}`)).status).toBe(204);
    expect((await t.repos.accessBlocks.loadActive()).users.has(user.id)).toBe(false);
  });

  it('finds security events by user, kind and time, paged', async () => {
    const who = testIdentity();
    for (const kind of ['rate-limited', 'blocked', 'rate-limited']) {
      await t.repos.securityEvents.insert({ kind, reason: 'r', service: 'gateway', userId: who.userId, userEmail: who.email });
    }
    const byUser = (await (await call('GET', `/mcp-admin/api/security-events?user=${who.userId}&limit=2`)).json()) as { items: { id: number; kind: string }[]; next: { before: number } | null };
    expect(byUser.items.map((e) => e.kind)).toEqual(['rate-limited', 'blocked']);
    expect(byUser.next).toEqual({ before: byUser.items[1]!.id });
    const page2 = (await (await call('GET', `/mcp-admin/api/security-events?user=${who.userId}&limit=2&before=${byUser.next!.before}`)).json()) as { items: unknown[] };
    expect(page2.items).toHaveLength(1);
    const byEmail = (await (await call('GET', `/mcp-admin/api/security-events?user=${encodeURIComponent(who.email)}&kind=blocked`)).json()) as { items: unknown[] };
    expect(byEmail.items).toHaveLength(1);
    const since = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect(((await (await call('GET', `/mcp-admin/api/security-events?user=${who.userId}&since=${since}`)).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await call('GET', '/mcp-admin/api/security-events?kind=DROP%20TABLE')).status).toBe(400);
  });

  it('is for admins only', async () => {
    const someone = testIdentity({ admin: false });
    expect((await call('GET', '/mcp-admin/api/security-events', undefined, someone)).status).toBe(403);
    expect((await call('POST', '/mcp-admin/api/blocks', { userId: someone.userId }, someone)).status).toBe(403);
    expect((await call('GET', '/mcp-admin/api/rate-limit-rules', undefined, someone)).status).toBe(403);
  });

  it('serves /metrics with the metrics token only (no gateway signature needed, none accepted instead)', async () => {
    expect((await fetch(`${server.url}/metrics`, { headers: gatewayHeaders(SECRET, 'GET', '/metrics', admin) })).status).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/http_requests_total\{method="GET",route="\/mcp-admin\/api\/security-events",status="200",service="admin-portal"\} \d+/);
  });
});
