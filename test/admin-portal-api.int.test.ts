import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId, type Fixtures } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';

/**
 * The admin portal's REST API end to end through the gateway: every route answers an admin, refuses
 * a non-admin (403), names the field of bad input (400, problem+json) and writes an audit row for
 * each change; tenant keys are write-only; test connection reaches the demo server.
 */
let stack: InProcessStack;
let fx: Fixtures;
let adminKey: string;
let userKey: string;
let serverId: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function api(method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: Json; type: string }> {
  const res = await fetch(`${stack.gatewayUrl}/mcp-admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, type: res.headers.get('content-type') ?? '' };
}
const auditFor = async (targetId: string) => (await stack.t.repos.audit.search({ targetId, limit: 50 })).map((a) => a.action);

beforeAll(async () => {
  stack = await startInProcessStack({ IDENTITY_CACHE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '100000' });
  fx = createFixtures(stack.t.repos);
  adminKey = (await fx.user({ groups: [await fx.group({ admin: true })] })).key;
  userKey = (await fx.user()).key;
  serverId = uniqueId('demo').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
  expect((await api('POST', '/servers', { id: serverId, name: 'Demo', transport: 'streamable-http', url: stack.demoUrl })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('every admin route refuses a non-admin with 403', () => {
  const U = '00000000-0000-4000-8000-000000000000';
  const routes: [string, string][] = [
    ['GET', '/groups'], ['POST', '/groups'], ['POST', '/groups/import'], ['GET', `/groups/${U}`], ['GET', `/groups/${U}/export`], ['PATCH', `/groups/${U}`],
    ['DELETE', `/groups/${U}`], ['GET', `/groups/${U}/members`], ['POST', `/groups/${U}/members`], ['DELETE', `/groups/${U}/members/${U}`],
    ['POST', '/group-members/bulk'], ['PUT', `/groups/${U}/grants/x`], ['DELETE', `/groups/${U}/grants/x`],
    ['GET', '/servers'], ['POST', '/servers'], ['GET', '/servers/x'], ['PATCH', '/servers/x'], ['DELETE', '/servers/x'], ['POST', '/servers/x/test'], ['GET', '/servers/x/tools'],
    ['GET', '/tenants'], ['POST', '/tenants'], ['GET', '/tenant-keys'], ['PUT', '/tenant-keys/t/x'], ['DELETE', '/tenant-keys/t/x'],
    ['GET', '/tenant-endpoints'], ['PUT', '/tenant-endpoints/t/x'], ['DELETE', '/tenant-endpoints/t/x'],
    ['GET', '/analytics/summary'], ['GET', '/activity'], ['GET', '/audit'], ['GET', '/openapi.json'], ['GET', '/csrf'], ['GET', '/users'], ['POST', '/tool-tester/call'],
  ];
  it.each(routes)('%s %s', async (method, path) => {
    const res = await api(method, path, ['GET', 'DELETE'].includes(method) ? undefined : {}, userKey);
    expect(res.status).toBe(403);
  });
  it('the page and its assets too', async () => {
    for (const p of ['/mcp-admin', '/mcp-admin/assets/app.js']) {
      expect((await fetch(`${stack.gatewayUrl}${p}`, { headers: { authorization: `Bearer ${userKey}` } })).status).toBe(403);
    }
  });
});

describe('groups', () => {
  it('creates, lists, changes, grants, exports, imports and deletes a group; each write audited', async () => {
    const name = uniqueId('Sales');
    const created = await api('POST', '/groups', { name, description: 'Sales team', entraGroupIds: ['6f1c8a0e-2b7d-4c1e-9a55-0c3e2f4b7d10'] });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await api('GET', `/groups?query=${encodeURIComponent(name)}`)).body).toMatchObject({ total: 1, items: [{ name, members: 0 }] });
    expect((await api('PATCH', `/groups/${id}`, { description: 'Sales and presales' })).body.description).toBe('Sales and presales');
    expect((await api('PUT', `/groups/${id}/grants/${serverId}`, { tools: ['echo'] })).status).toBe(200);
    const exported = await api('GET', `/groups/${id}/export`);
    expect(exported.body).toMatchObject({ scope_name: name, servers: [{ server_name: serverId, tools: ['echo'], access_level: 'execute' }], group_mappings: ['6f1c8a0e-2b7d-4c1e-9a55-0c3e2f4b7d10'] });
    const imported = await api('POST', '/groups/import', { ...exported.body, servers: [{ server_name: serverId, tools: ['all'] }] });
    expect(imported.status).toBe(200);
    expect(imported.body.definition.servers).toEqual([{ server_name: serverId, tools: ['*'], access_level: 'execute' }]);
    expect((await api('DELETE', `/groups/${id}/grants/${serverId}`)).status).toBe(204);
    expect((await api('DELETE', `/groups/${id}`)).status).toBe(204);
    expect(await auditFor(id)).toEqual(['group.delete', 'group.revoke', 'group.import', 'group.grant', 'group.update', 'group.create']);
  });

  it('imports a new group from the registry guide format (201)', async () => {
    const name = uniqueId('public-mcp-users');
    const res = await api('POST', '/groups/import', { scope_name: name, description: 'Public', servers: [{ server_name: serverId, tools: ['echo'], access_level: 'execute' }], create_in_idp: true });
    expect(res.status).toBe(201);
    expect(await auditFor(res.body.id)).toEqual(['group.import']);
  });

  it('adds and removes members one by one and in bulk (CSV), all or nothing', async () => {
    const g = (await api('POST', '/groups', { name: uniqueId('Bulk') })).body;
    const a = (await fx.user()).user;
    const b = (await fx.user()).user;
    expect((await api('POST', `/groups/${g.id}/members`, { email: a.email })).status).toBe(201);
    expect((await api('GET', `/groups/${g.id}/members`)).body).toMatchObject({ total: 1, items: [{ email: a.email }] });
    expect((await api('DELETE', `/groups/${g.id}/members/${a.id}`)).status).toBe(204);
    const csv = `email,group\n${a.email},${g.name}\n${b.email},${g.name}\n`;
    expect((await api('POST', '/group-members/bulk', { csv })).body).toEqual({ added: 2 });
    expect((await api('GET', `/groups/${g.id}/members`)).body.total).toBe(2);
    const bad = await api('POST', '/group-members/bulk', { csv: `${a.email},no-such-group\n`, remove: true });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/csv: line 1: no such group/);
    expect((await api('GET', `/groups/${g.id}/members`)).body.total).toBe(2);
    expect(await auditFor(g.id)).toEqual(['group.member-remove', 'group.member-add', 'group.create']);
  });

  it('names the field of bad input (400, problem+json) and stores nothing', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/groups', { name: '' }, /name:/],
      ['POST', '/groups', { name: 'ok', entraGroupIds: ['nope'] }, /entraGroupIds\.0:/],
      ['POST', '/groups', { name: 'ok', extra: 1 }, /body: Unrecognized key/i],
      ['POST', '/groups/import', { scope_name: 'x', description: 'y', servers: [{ server_name: 'Bad Id', tools: ['*'] }] }, /servers\.0\.server_name:/],
      ['POST', '/groups/import', { scope_name: 'x', description: 'y', servers: [{ server_name: 'no-such-server', tools: ['*'] }] }, /servers: no such server/],
      ['POST', '/group-members/bulk', { csv: 'not a csv line' }, /csv: line 1/],
      ['POST', '/servers', { id: 'x', name: 'x', transport: 'stdio' }, /url: stdio servers need a command/],
      ['POST', '/servers', { id: 'UPPER', name: 'x', transport: 'sse', url: 'http://a' }, /id:/],
      ['POST', '/servers', { id: 'x', name: 'x', transport: 'sse', url: 'ftp://a' }, /url:/],
      ['PATCH', `/servers/${serverId}`, { connectTimeoutMs: -1 }, /connectTimeoutMs:/],
      ['POST', '/tenants', { id: 'Bad Tenant', name: 'x' }, /id:/],
      ['PUT', `/tenant-keys/t/${serverId}`, { key: '' }, /key:/],
      ['PUT', `/tenant-endpoints/t/${serverId}`, { url: 'javascript:alert(1)' }, /url:/],
      ['GET', '/analytics/summary?since=yesterday', undefined, /since:/],
      ['GET', '/audit?limit=0', undefined, /limit:/],
      ['GET', '/activity?after=-1', undefined, /after:/],
    ];
    for (const [method, path, body, detail] of cases) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.type).toContain('application/problem+json');
      expect(res.body.detail, `${method} ${path}`).toMatch(detail);
    }
    const g = (await api('POST', '/groups', { name: uniqueId('Grants') })).body;
    const res = await api('PUT', `/groups/${g.id}/grants/${serverId}`, { tools: [] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/tools:/);
  });
});

describe('servers', () => {
  it('creates, tests (tools or the exact error), disables, enables and removes a server; audited', async () => {
    const id = `s-${Date.now().toString(36)}`;
    expect((await api('POST', '/servers', { id, name: 'Broken', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp', connectTimeoutMs: 2000 })).status).toBe(201);
    const failed = await api('POST', `/servers/${id}/test`);
    expect(failed.body).toMatchObject({ ok: false });
    expect(failed.body.error).toBeTruthy();
    expect((await api('GET', `/servers/${id}`)).body.health).toMatchObject({ ok: false });
    expect((await api('PATCH', `/servers/${id}`, { url: stack.demoUrl })).status).toBe(200);
    const ok = await api('POST', `/servers/${id}/test`);
    expect(ok.body.ok).toBe(true);
    expect(ok.body.tools.map((t: { name: string }) => t.name)).toContain('echo');
    expect((await api('GET', `/servers/${id}/tools`)).body.items.length).toBe(ok.body.tools.length);
    expect((await api('PATCH', `/servers/${id}`, { enabled: false })).body.enabled).toBe(false);
    expect((await api('PATCH', `/servers/${id}`, { enabled: true })).body.enabled).toBe(true);
    expect((await api('POST', '/servers', { id, name: 'again', transport: 'sse', url: 'http://a/sse' })).status).toBe(409);
    expect((await api('DELETE', `/servers/${id}`)).status).toBe(204);
    expect((await api('GET', `/servers/${id}`)).status).toBe(404);
    expect(await auditFor(id)).toEqual(['server.delete', 'server.enable', 'server.disable', 'server.update', 'server.create']);
  });
});

describe('tenants: keys are write-only, endpoints route', () => {
  it('sets, replaces and deletes a tenant key; lists show only last 4; audit rows hold no key', async () => {
    const tenant = uniqueId('t').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
    expect((await api('POST', '/tenants', { id: tenant, name: 'Contoso' })).status).toBe(201);
    const secret = 'sk-live-very-secret-value-1234';
    expect((await api('PUT', `/tenant-keys/${tenant}/${serverId}`, { key: secret })).status).toBe(201);
    expect((await api('PUT', `/tenant-keys/${tenant}/${serverId}`, { key: `${secret}-5678` })).body).toMatchObject({ replaced: true, last4: '5678' });
    const list = await api('GET', `/tenant-keys?tenant=${tenant}`);
    expect(list.body.items).toEqual([{ tenant, server: serverId, last4: '5678', updatedAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain('very-secret');
    const stored = await stack.t.repos.tenants.findKey(tenant, serverId);
    expect(stored!.ciphertext).not.toContain('very-secret');
    // Test connection as the tenant: mcp-proxy's rules (the key decrypts with the tenant-bound AAD).
    expect((await api('POST', `/servers/${serverId}/test?tenant=${tenant}`)).body.ok).toBe(true);
    expect((await api('DELETE', `/tenant-keys/${tenant}/${serverId}`)).status).toBe(204);
    expect((await api('DELETE', `/tenant-keys/${tenant}/${serverId}`)).status).toBe(404);
    const audit = await stack.t.repos.audit.search({ targetId: `${tenant}:${serverId}` });
    expect(audit.map((a) => a.action)).toEqual(['tenant-key.delete', 'tenant-key.replace', 'tenant-key.set']);
    expect(JSON.stringify(audit)).not.toContain('very-secret');

    expect((await api('PUT', `/tenant-endpoints/${tenant}/${serverId}`, { url: stack.demoUrl })).status).toBe(200);
    expect((await api('GET', `/tenant-endpoints?tenant=${tenant}`)).body.items).toEqual([{ tenant, server: serverId, url: stack.demoUrl, updatedAt: expect.any(String) }]);
    expect((await api('DELETE', `/tenant-endpoints/${tenant}/${serverId}`)).status).toBe(204);
    expect((await api('GET', '/tenants')).body.items).toContainEqual({ id: tenant, name: 'Contoso' });
  });
});

describe('read-only views', () => {
  it('analytics summary, live activity and the audit log answer with paging', async () => {
    const now = Date.now();
    await stack.t.repos.analytics.insertBatch(
      [120, 40, 80].map((latencyMs, i) => ({
        ts: new Date(now - i * 1000), requestId: null, userId: null, userEmail: 'a@example.test', tenantId: null, method: 'POST', endpoint: `/mcp/${serverId}`,
        mcpMethod: 'tools/call', serverId, tool: 'echo', status: i === 0 ? 500 : 200, latencyMs, bytesIn: 1, bytesOut: 1, userAgent: null, clientIp: null,
      })),
    );
    const summary = await api('GET', `/analytics/summary?server=${serverId}`);
    expect(summary.body.totals).toMatchObject({ requests: 3, errors: 1, p50: 80 });
    expect(summary.body.topTools).toEqual([{ key: 'echo', serverId, requests: 3, errors: 1 }]);
    expect(summary.body.topUsers[0]).toMatchObject({ key: 'a@example.test', requests: 3 });
    const live = await api('GET', `/activity?server=${serverId}&limit=2`);
    expect(live.body.items).toHaveLength(2);
    expect((await api('GET', `/activity?server=${serverId}&after=${live.body.last}`)).body.items).toEqual([]);
    const audit = await api('GET', '/audit?action=server.&limit=1');
    expect(audit.body.items[0].action).toMatch(/^server\./);
    expect(audit.body.next).toMatchObject({ before: expect.any(Number) });
  });

  it('serves an OpenAPI document, and the audit log cannot be written through the API', async () => {
    const doc = await api('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/mcp-admin/api/groups', '/mcp-admin/api/tenant-keys/{tenant}/{server}', '/mcp-admin/api/audit']));
    expect((await api('POST', '/audit', {})).status).toBe(404);
    expect((await api('DELETE', '/audit')).status).toBe(404);
  });
});

describe('page security', () => {
  it('sends a strict CSP without inline scripts, frame-ancestors none, and escapes the user', async () => {
    const res = await fetch(`${stack.gatewayUrl}/mcp-admin`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(html).toContain('name="csrf-token"');
  });

  it('writes by a browser-session identity need the CSRF token; API-key callers do not', async () => {
    const email = `${uniqueId('csrf')}@local.test`;
    const password = 'a long enough password';
    const created = await api('POST', '/users', { email, password, admin: true });
    expect(created.status).toBe(201);
    const login = await fetch(`${stack.gatewayUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const post = (headers: Record<string, string>) =>
      fetch(`${stack.gatewayUrl}/mcp-admin/api/groups`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: uniqueId('C') }) });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-csrf-token': '1.forged' })).status).toBe(403);
    const csrf = ((await (await fetch(`${stack.gatewayUrl}/mcp-admin/api/csrf`, { headers: { authorization: `Bearer ${token}` } })).json()) as { token: string }).token;
    expect((await post({ 'x-csrf-token': csrf })).status).toBe(201);
  });
});

describe('tool tester', () => {
  it('calls a tool through the gateway as a chosen user, with that user\'s grants; audited; the temporary key is revoked', async () => {
    const group = (await api('POST', '/groups', { name: uniqueId('Tester') })).body;
    await api('PUT', `/groups/${group.id}/grants/${serverId}`, { tools: ['echo'] });
    const { user } = await fx.user();
    await api('POST', `/groups/${group.id}/members`, { userId: user.id });
    const ok = await api('POST', '/tool-tester/call', { server: serverId, tool: 'echo', arguments: { text: 'hi' }, asUser: user.id });
    expect(ok.body).toMatchObject({ ok: true, asUser: user.email, result: { content: [{ type: 'text', text: 'hi' }] } });
    const denied = await api('POST', '/tool-tester/call', { server: serverId, tool: 'add', arguments: { a: 1, b: 2 }, asUser: user.id });
    expect(denied.body.ok === false || denied.body.result?.isError === true).toBe(true);
    expect((await stack.t.repos.audit.search({ targetId: user.id, action: 'tool-tester.' })).map((a) => a.after)).toContainEqual(expect.objectContaining({ server: serverId, tool: 'echo', asUser: user.email }));
    const keys = await stack.t.repos.apiKeys.listForUser(user.id);
    expect(keys.filter((k) => k.name === 'tool tester (temporary)').every((k) => k.revokedAt !== null)).toBe(true);
    const bad = await api('POST', '/tool-tester/call', { server: serverId, tool: 'echo', arguments: 'text' });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/arguments:/);
  });
});
