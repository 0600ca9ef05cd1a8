import { randomUUID } from 'node:crypto';
import type { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import { tenantKeyAad } from '@mcpgw/mcp-proxy';
import { createFixtures, testIdentity, uniqueId } from '@mcpgw/test-support';
import { createAdminPortalApp, openApiDocument } from '@mcpgw/admin-portal';
import { startAdminPortal, type AdminPortalHarness } from './support/admin-portal-harness.js';

/**
 * Matrix rows O1 (BOLA: a tenant admin against another tenant's objects), O2 (BFLA: non-admins on
 * every admin route) and O3 (mass assignment), over the real admin portal app with signed identity
 * headers and the real Postgres. The route list is the OpenAPI document's, and a test holds that
 * list equal to the routes the app really serves: a new route without a row below fails here.
 */
let h: AdminPortalHarness;
let A: string;
let B: string;
let S: string;
let adminA: Identity;
let globalAdmin: Identity;
/** Tenant B's objects, which tenant A's admin must not see or change. */
const b = {} as { group: { id: string; name: string }; user: { id: string; email: string }; keyId: string; key: string; m2m: string; m2mUser: string; blockId: string; ruleId: string; mappingId: string; ciphertext: string };
/** Tenant A's own objects (positive controls). */
const a = {} as { group: { id: string; name: string }; user: { id: string; email: string }; keyId: string; m2m: string; blockId: string; globalAdminInA: string };

async function tenantWorld(tenant: string, label: string) {
  const fx = createFixtures(h.t.repos);
  const group = await h.t.repos.groups.create({ name: uniqueId(`${label}-`), tenantId: tenant });
  const { user, key, keyId } = await fx.user({ groups: [group], tenantId: tenant });
  await h.t.repos.access.setGrant(group.id, S, ['*']);
  const m2m = uniqueId(`m2m-${label.toLowerCase()}-`);
  const m2mUser = await h.t.repos.users.create({ email: `${m2m}@clients.mcpgw.invalid`, source: 'm2m', tenantId: tenant });
  await h.t.repos.groups.addMember(group.id, m2mUser.id);
  await h.t.repos.m2mClients.create({ clientId: m2m, userId: m2mUser.id, secretHash: 'a'.repeat(64), secretPrefix: 'abcdef', description: '' });
  const block = await h.t.repos.accessBlocks.create({ userId: user.id }, { reason: 'test' });
  await h.t.repos.audit.append({ actorUserId: user.id, actorEmail: user.email, action: 'test.mark', targetType: 'user', targetId: user.id, requestId: null });
  await h.t.repos.analytics.insertBatch([
    { ts: new Date(), requestId: null, userId: user.id, userEmail: user.email, tenantId: tenant, method: 'POST', endpoint: `/mcp/${S}`, mcpMethod: 'tools/call', serverId: S, tool: 'echo', status: 200, latencyMs: 5, bytesIn: 10, bytesOut: 10, userAgent: null, clientIp: null },
  ]);
  return { group, user, key, keyId, m2m, m2mUser: m2mUser.id, blockId: block.id };
}

beforeAll(async () => {
  h = await startAdminPortal({ ADMIN_PORTAL_GATEWAY_URL: 'http://127.0.0.1:9' });
  A = uniqueId('ta-');
  B = uniqueId('tb-');
  S = uniqueId('s-');
  await h.t.repos.tenants.create({ id: A, name: 'Tenant A' });
  await h.t.repos.tenants.create({ id: B, name: 'Tenant B' });
  await h.t.repos.servers.create({ id: S, name: 'S', transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp' });
  adminA = await h.admin(A);
  globalAdmin = await h.admin(null);
  const wb = await tenantWorld(B, 'B');
  Object.assign(b, { group: wb.group, user: wb.user, keyId: wb.keyId, key: wb.key, m2m: wb.m2m, m2mUser: wb.m2mUser, blockId: wb.blockId });
  b.ciphertext = h.deps.keyring!.encrypt('b-tenant-secret-XYZ1', tenantKeyAad(B, S));
  await h.t.repos.tenants.setKey({ tenantId: B, serverId: S, ciphertext: b.ciphertext, keyId: h.deps.keyring!.currentKeyId, last4: 'XYZ1' });
  await h.t.repos.tenants.setEndpoint(B, S, 'http://10.0.0.9/mcp');
  b.ruleId = (await h.t.repos.rateLimitRules.create({ scope: 'tenant', tenantId: B, points: 10, windowSeconds: 60 })).id;
  b.mappingId = (await h.t.repos.idpMappings.create({ claim: 'roles', value: uniqueId('role-'), groupId: wb.group.id }))!.id;
  const wa = await tenantWorld(A, 'A');
  Object.assign(a, { group: wa.group, user: wa.user, keyId: wa.keyId, m2m: wa.m2m, blockId: wa.blockId });
  await h.t.repos.tenants.setKey({ tenantId: A, serverId: S, ciphertext: h.deps.keyring!.encrypt('a-tenant-secret-AAA1', tenantKeyAad(A, S)), keyId: h.deps.keyring!.currentKeyId, last4: 'AAA1' });
  a.globalAdminInA = (await h.t.repos.users.create({ email: `${uniqueId('root')}@example.test`, source: 'local', tenantId: A, isAdmin: true })).id;
});
afterAll(async () => {
  await h?.close();
});

const API = '/mcp-admin/api';
const ROUTES = Object.entries(openApiDocument().paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.slice(API.length)}`));

/** The path with tenant B's ids in it. */
function withBIds(route: string): string {
  const [, path] = route.split(' ') as [string, string];
  const idFor: [RegExp, () => string][] = [
    [/^\/users\//, () => b.user.id],
    [/^\/groups\//, () => b.group.id],
    [/^\/keys\//, () => b.keyId],
    [/^\/blocks\//, () => b.blockId],
    [/^\/rate-limit-rules\//, () => b.ruleId],
    [/^\/idp-mappings\//, () => b.mappingId],
    [/^\/servers\//, () => S],
  ];
  return path
    .replace('{id}', () => idFor.find(([re]) => re.test(path))?.[1]() ?? 'x')
    .replace('{userId}', b.user.id)
    .replace('{serverId}', S)
    .replace('{tenant}', B)
    .replace('{server}', S)
    .replace('{clientId}', b.m2m);
}

/**
 * What tenant A's admin gets for each route aimed at tenant B (a body a real attack would send):
 * 404 for B's objects by id (the answer for a missing id), 400 where a body names B's user or
 * group (the answer for a missing one), 403 for the global-only registry, 200 for lists (then
 * nothing of B may be in them).
 */
const BOLA: Record<string, { status: number; body?: () => unknown; query?: () => string }> = {
  'GET /me': { status: 200 },
  'GET /csrf': { status: 200 },
  'GET /openapi.json': { status: 200 },
  'GET /users': { status: 200, query: () => `?query=${encodeURIComponent(b.user.email)}` },
  'POST /users': { status: 400, body: () => ({ email: `${uniqueId('new')}@example.test`, groups: [b.group.name] }) },
  'GET /users/{id}': { status: 404 },
  'PATCH /users/{id}': { status: 404, body: () => ({ name: 'pwned', enabled: false }) },
  'DELETE /users/{id}': { status: 404 },
  'PUT /users/{id}/mcp-access': { status: 404, body: () => ({ allowServers: [] }) },
  'PUT /users/{id}/password': { status: 404, body: () => ({ password: 'attacker chosen password' }) },
  'GET /users/{id}/keys': { status: 404 },
  'POST /users/{id}/keys': { status: 404, body: () => ({ name: 'attacker' }) },
  'DELETE /keys/{id}': { status: 404 },
  'POST /keys/revoke': { status: 404, body: () => ({ api_key: b.key }) },
  'GET /groups': { status: 200, query: () => `?query=${encodeURIComponent(b.group.name)}` },
  'POST /groups': { status: 404, body: () => ({ name: uniqueId('Evil-'), tenant: B, admin: true }) },
  'POST /groups/import': { status: 409, body: () => ({ scope_name: b.group.name, description: 'pwned', servers: [] }) },
  'GET /groups/{id}': { status: 404 },
  'GET /groups/{id}/export': { status: 404 },
  'PATCH /groups/{id}': { status: 404, body: () => ({ description: 'pwned' }) },
  'DELETE /groups/{id}': { status: 404 },
  'GET /groups/{id}/members': { status: 404 },
  'POST /groups/{id}/members': { status: 404, body: () => ({ userId: adminA.userId }) },
  'DELETE /groups/{id}/members/{userId}': { status: 404 },
  'POST /group-members/bulk': { status: 400, body: () => ({ csv: `${b.user.email},${b.group.name}`, remove: true }) },
  'PUT /groups/{id}/grants/{serverId}': { status: 404, body: () => ({ tools: ['*'] }) },
  'DELETE /groups/{id}/grants/{serverId}': { status: 404 },
  'GET /servers': { status: 403 },
  'POST /servers': { status: 403, body: () => ({ id: uniqueId('evil-'), name: 'x', transport: 'streamable-http', url: 'https://example.com/mcp' }) },
  'GET /servers/{id}': { status: 403 },
  'PATCH /servers/{id}': { status: 403, body: () => ({ url: 'https://evil.example/mcp' }) },
  'DELETE /servers/{id}': { status: 403 },
  'POST /servers/{id}/test': { status: 403, query: () => `?tenant=${B}` },
  'GET /servers/{id}/tools': { status: 403 },
  'GET /tenants': { status: 403 },
  'POST /tenants': { status: 403, body: () => ({ id: uniqueId('evil-'), name: 'x' }) },
  'GET /tenant-keys': { status: 200, query: () => `?tenant=${B}` },
  'PUT /tenant-keys/{tenant}/{server}': { status: 404, body: () => ({ key: 'attacker-key-0000' }) },
  'DELETE /tenant-keys/{tenant}/{server}': { status: 404 },
  'GET /tenant-endpoints': { status: 200, query: () => `?tenant=${B}` },
  'PUT /tenant-endpoints/{tenant}/{server}': { status: 404, body: () => ({ url: 'https://evil.example/mcp' }) },
  'DELETE /tenant-endpoints/{tenant}/{server}': { status: 404 },
  'GET /m2m-clients': { status: 200 },
  'POST /m2m-clients': { status: 400, body: () => ({ name: uniqueId('evil-'), groups: [b.group.name] }) },
  'GET /m2m-clients/{clientId}': { status: 404 },
  'POST /m2m-clients/{clientId}/secret': { status: 404 },
  'DELETE /m2m-clients/{clientId}': { status: 404 },
  'GET /signing-keys': { status: 403 },
  'POST /signing-keys/rotate': { status: 403 },
  'GET /idp-mappings': { status: 403 },
  'POST /idp-mappings': { status: 403, body: () => ({ claim: 'roles', value: 'x', group: b.group.name }) },
  'DELETE /idp-mappings/{id}': { status: 403 },
  'GET /rate-limit-rules': { status: 403 },
  'POST /rate-limit-rules': { status: 403, body: () => ({ scope: 'tenant', tenantId: B, points: 1, windowSeconds: 60 }) },
  'PATCH /rate-limit-rules/{id}': { status: 403, body: () => ({ points: 1 }) },
  'DELETE /rate-limit-rules/{id}': { status: 403 },
  'GET /blocks': { status: 200 },
  'POST /blocks': { status: 400, body: () => ({ apiKeyId: b.keyId }) },
  'DELETE /blocks/{id}': { status: 404 },
  'GET /security-events': { status: 403 },
  'GET /analytics/summary': { status: 404, query: () => `?tenant=${B}` },
  'GET /activity': { status: 404, query: () => `?tenant=${B}` },
  'POST /tool-tester/call': { status: 400, body: () => ({ server: S, tool: 'echo', asUser: b.user.id }) },
  'GET /audit': { status: 200 },
};

/** Every route the app serves under /mcp-admin/api, as `METHOD /path` with {params}. */
function servedRoutes(): string[] {
  const app = createAdminPortalApp(h.deps);
  const found: string[] = [];
  const walk = (stack: Router['stack']) => {
    for (const layer of stack) {
      const route = (layer as { route?: { path: string | string[]; methods: Record<string, boolean> } }).route;
      const nested = (layer as { handle?: { stack?: Router['stack'] } }).handle?.stack;
      if (route) {
        for (const path of [route.path].flat()) {
          if (!path.startsWith(API)) continue;
          for (const m of Object.keys(route.methods)) found.push(`${m.toUpperCase()} ${path.slice(API.length).replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (nested) walk(nested);
    }
  };
  walk((app as unknown as { router: Router }).router.stack);
  return [...new Set(found)].sort();
}

describe('the route list the checks run over', () => {
  it('is exactly the routes the app serves (a new route needs an OpenAPI row, and then a row here)', () => {
    // The rate limiter of credential writes is mounted on the same paths; they are routes too.
    expect(servedRoutes()).toEqual([...ROUTES].sort());
    expect(Object.keys(BOLA).sort()).toEqual([...ROUTES].sort());
  });
});

describe('O1 BOLA: tenant A\'s admin aimed at tenant B', () => {
  const bIds = () => [B, b.user.id, b.user.email, b.group.id, b.group.name, b.keyId, b.m2m, b.m2mUser, b.blockId, 'XYZ1', '10.0.0.9'];

  it.each(ROUTES)('%s', async (route) => {
    const c = BOLA[route]!;
    const method = route.split(' ')[0]!;
    const path = `${API}${withBIds(route)}${c.query?.() ?? ''}`;
    const body = c.body?.() ?? (['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
    const res = await h.call(adminA, method, path, body);
    expect(res.status, res.text).toBe(c.status);
    if (res.status >= 400) expect(res.type).toMatch(/problem\+json/);
    // Nothing of tenant B in any answer (lists filtered), beyond the caller's own words echoed back.
    const sent = `${path} ${JSON.stringify(body ?? '')}`;
    for (const id of bIds().filter((x) => !sent.includes(x))) expect(res.text, `${route} leaks ${id}`).not.toContain(id);
  });

  it.each([
    ['GET', (id: string) => `/users/${id}`, () => b.user.id, () => randomUUID()],
    ['PATCH', (id: string) => `/groups/${id}`, () => b.group.id, () => randomUUID()],
    ['DELETE', (id: string) => `/keys/${id}`, () => b.keyId, () => randomUUID()],
    ['GET', (id: string) => `/m2m-clients/${id}`, () => b.m2m, () => uniqueId('nobody-')],
    ['PUT', (id: string) => `/tenant-keys/${id}/${S}`, () => B, () => uniqueId('nowhere-')],
    ['POST', () => '/users', () => b.group.name, () => uniqueId('NoGroup-')],
  ] as const)('no existence oracle: %s %s answers as for an id that does not exist', async (method, path, theirs, missing) => {
    const body = method === 'PUT' ? { key: 'attacker-key-0000' } : method === 'PATCH' ? { description: 'x' } : method === 'POST' ? { email: 'x@example.test', groups: ['{g}'] } : undefined;
    const ask = async (id: string) => {
      const res = await h.call(adminA, method, `${API}${path(id)}`, body && JSON.parse(JSON.stringify(body).replace('{g}', id)));
      return { status: res.status, detail: String(res.body.detail).split(id).join('<id>') };
    };
    expect(await ask(theirs())).toEqual(await ask(missing()));
  });

  it('left every object of tenant B as it was, and wrote no audit row for A\'s admin', async () => {
    const r = h.t.repos;
    expect(await r.users.findById(b.user.id)).toMatchObject({ name: 'Test User', enabled: true, tenantId: B, allowServers: null });
    expect(await r.groups.findById(b.group.id)).toMatchObject({ name: b.group.name, description: '', tenantId: B });
    expect((await r.groups.listMembers(b.group.id)).items.map((m) => m.id)).toContain(b.user.id);
    expect((await r.access.grantsForGroup(b.group.id)).map((g) => g.serverId)).toEqual([S]);
    expect((await r.apiKeys.findById(b.keyId))?.revokedAt).toBeNull();
    expect(await r.tenants.findKey(B, S)).toMatchObject({ ciphertext: b.ciphertext, last4: 'XYZ1' });
    expect(await r.tenants.findEndpoint(B, S)).toBe('http://10.0.0.9/mcp');
    expect(await r.m2mClients.findById(b.m2m)).toMatchObject({ secretPrefix: 'abcdef' });
    expect((await r.accessBlocks.list()).map((x) => x.id)).toContain(b.blockId);
    expect(await r.rateLimitRules.findById(b.ruleId)).toMatchObject({ points: 10 });
    expect((await r.tenants.list()).map((t) => t.id)).not.toContainEqual(expect.stringMatching(/^evil-/));
    expect(await r.audit.search({ actor: adminA.email })).toEqual([]);
  });

  it('still lets A\'s admin see and change tenant A (the refusals above are scope, not breakage)', async () => {
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await h.call(adminA, method, `${API}${path}`, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      return res.body;
    };
    expect((await ok('GET', `/users/${a.user.id}`)).email).toBe(a.user.email);
    expect((await ok('GET', '/users?limit=500')).items.map((u: { id: string }) => u.id)).toEqual(expect.arrayContaining([a.user.id, adminA.userId]));
    expect((await ok('GET', '/groups?limit=500')).items.map((g: { id: string }) => g.id)).toContain(a.group.id);
    expect((await ok('PATCH', `/groups/${a.group.id}`, { description: 'ours' })).description).toBe('ours');
    expect((await ok('GET', `/users/${a.user.id}/keys`)).items.map((k: { id: string }) => k.id)).toContain(a.keyId);
    expect((await ok('GET', '/tenant-keys')).items).toEqual([expect.objectContaining({ tenant: A, server: S, last4: 'AAA1' })]);
    expect((await ok('GET', '/m2m-clients')).items.map((c: { clientId: string }) => c.clientId)).toEqual([a.m2m]);
    expect((await ok('GET', '/blocks')).items.map((x: { id: string }) => x.id)).toEqual([a.blockId]);
    expect((await ok('GET', '/audit')).items.map((x: { action: string }) => x.action)).toContain('test.mark');
    expect((await ok('GET', '/analytics/summary')).tenant).toBe(A);
    expect((await ok('GET', '/activity')).items.every((x: { tenantId: string }) => x.tenantId === A)).toBe(true);
    // Creations land in A's tenant without naming it.
    const g = await ok('POST', '/groups', { name: uniqueId('A-made-') });
    expect(g.tenant).toBe(A);
    const u = await ok('POST', '/users', { email: `${uniqueId('a-made')}@example.test`, groups: [g.name] });
    expect((await h.t.repos.users.findById(u.id))?.tenantId).toBe(A);
    const m = await ok('POST', '/m2m-clients', { name: uniqueId('a-made-'), groups: [g.name] });
    expect((await h.t.repos.users.findById(m.userId))?.tenantId).toBe(A);
  });

  it('gives a global admin tenant B\'s objects (the same ids answer)', async () => {
    expect((await h.call(globalAdmin, 'GET', `${API}/users/${b.user.id}`)).status).toBe(200);
    expect((await h.call(globalAdmin, 'GET', `${API}/groups/${b.group.id}`)).status).toBe(200);
    expect((await h.call(globalAdmin, 'GET', `${API}/tenant-keys?tenant=${B}`)).body.items).toEqual([expect.objectContaining({ tenant: B, last4: 'XYZ1' })]);
    expect((await h.call(globalAdmin, 'GET', `${API}/servers`)).status).toBe(200);
  });

  it('keeps A\'s admin from climbing to global: no global groups, no admin flags, no credentials of a global admin', async () => {
    const before = await h.t.repos.groups.findById(a.group.id);
    expect((await h.call(adminA, 'PATCH', `${API}/groups/${a.group.id}`, { tenant: null })).status).toBe(400);
    expect((await h.call(adminA, 'POST', `${API}/groups`, { name: uniqueId('Root-'), tenant: null, admin: true })).status).toBe(400);
    expect((await h.call(adminA, 'POST', `${API}/groups`, { name: uniqueId('Map-'), entraGroupIds: [randomUUID()] })).status).toBe(403);
    expect((await h.call(adminA, 'PATCH', `${API}/users/${a.user.id}`, { admin: true })).status).toBe(403);
    expect((await h.call(adminA, 'POST', `${API}/users`, { email: `${uniqueId('x')}@example.test`, admin: true })).status).toBe(403);
    // A global admin whose own tenant is A: visible to A's admin, but not A's admin's to take over.
    for (const [method, path, body] of [
      ['POST', `/users/${a.globalAdminInA}/keys`, {}],
      ['PUT', `/users/${a.globalAdminInA}/password`, { password: 'attacker chosen password' }],
      ['PATCH', `/users/${a.globalAdminInA}`, { enabled: false }],
      ['DELETE', `/users/${a.globalAdminInA}`, undefined],
    ] as const) {
      expect((await h.call(adminA, method, `${API}${path}`, body)).status, `${method} ${path}`).toBe(403);
    }
    expect(await h.t.repos.groups.findById(a.group.id)).toMatchObject({ tenantId: before!.tenantId, isAdmin: false });
    expect(await h.t.repos.users.findById(a.user.id)).toMatchObject({ isAdmin: false, tenantId: A });
    expect(await h.t.repos.apiKeys.listForUser(a.globalAdminInA)).toEqual([]);
    expect(await h.t.repos.users.findById(a.globalAdminInA)).toMatchObject({ enabled: true, isAdmin: true });
  });
});

describe('O2 BFLA: non-admins get 403 on every admin route', () => {
  const callers = (): [string, Identity][] => [
    ['an API-key user', testIdentity({ userId: b.user.id, email: b.user.email, groups: [b.group.name], tenant: B })],
    ['an M2M client', testIdentity({ userId: b.m2mUser, groups: [b.group.name], tenant: B, authMethod: 'm2m' })],
    ['an Entra user', testIdentity({ groups: ['Staff'], authMethod: 'entra' })],
    // A signed admin flag the database no longer backs (group deleted, cache not yet expired).
    ['a stale admin flag', testIdentity({ admin: true, groups: ['no-longer-an-admin-group'], authMethod: 'local' })],
  ];
  it.each(ROUTES.filter((r) => r !== 'GET /me'))('%s', async (route) => {
    const method = route.split(' ')[0]!;
    for (const [label, who] of callers()) {
      const res = await h.call(who, method, `${API}${withBIds(route)}`, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
      expect(res.status, `${label}: ${res.text}`).toBe(403);
      expect(res.type).toMatch(/problem\+json/);
    }
  });

  it('the page too; /me answers anyone signed in', async () => {
    const [, user] = callers()[0]!;
    expect((await h.call(user, 'GET', '/mcp-admin/')).status).toBe(403);
    expect((await h.call(user, 'GET', `${API}/me`)).body).toMatchObject({ userId: b.user.id, admin: false });
  });
});

describe('O3 mass assignment: unknown or protected fields are refused (400) and nothing changes', () => {
  it.each([
    ['POST', () => '/users', () => ({ email: `${uniqueId('ma')}@example.test`, admin: false, tenant_id: B, id: randomUUID(), created_at: '2000-01-01T00:00:00Z' })],
    ['PATCH', () => `/users/${a.user.id}`, () => ({ name: 'x', tenantId: B })],
    ['PATCH', () => `/users/${a.user.id}`, () => ({ tenant_id: B, is_admin: true })],
    ['PATCH', () => `/groups/${a.group.id}`, () => ({ id: randomUUID(), is_admin: true })],
    ['POST', () => `/users/${a.user.id}/keys`, () => ({ name: 'k', key_hash: '0'.repeat(64), user_id: b.user.id, prefix: 'mcpgw_chosen' })],
    ['PUT', () => `/tenant-keys/${A}/${S}`, () => ({ key: 'a-new-key-1234', last4: '9999', ciphertext: 'x' })],
    ['POST', () => '/m2m-clients', () => ({ name: uniqueId('ma-'), groups: [a.group.name], secret: 'chosen-secret', userId: b.user.id })],
    ['PATCH', () => `/servers/${S}`, () => ({ id: 'renamed', createdAt: '2000-01-01T00:00:00Z' })],
  ])('%s %s', async (method, path, body) => {
    const who = path().startsWith('/servers') ? globalAdmin : adminA;
    const before = { user: await h.t.repos.users.findById(a.user.id), group: await h.t.repos.groups.findById(a.group.id), key: await h.t.repos.tenants.findKey(A, S) };
    const res = await h.call(who, method, `${API}${path()}`, body());
    expect(res.status, res.text).toBe(400);
    expect(res.type).toMatch(/problem\+json/);
    expect(await h.t.repos.users.findById(a.user.id)).toEqual(before.user);
    expect(await h.t.repos.groups.findById(a.group.id)).toEqual(before.group);
    expect(await h.t.repos.tenants.findKey(A, S)).toEqual(before.key);
    expect(await h.t.repos.servers.findById('renamed')).toBeNull();
    expect(await h.t.repos.apiKeys.listForUser(b.user.id)).toHaveLength(1);
  });

  it('a tenant admin moving its group to another tenant is refused as an unknown tenant', async () => {
    expect((await h.call(adminA, 'PATCH', `${API}/groups/${a.group.id}`, { tenant: B })).status).toBe(404);
    expect((await h.t.repos.groups.findById(a.group.id))?.tenantId).toBe(A);
  });
});
