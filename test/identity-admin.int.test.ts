import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId, type Fixtures } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';

/**
 * The admin REST API for identities, end to end through the gateway: users and their server lists,
 * API keys (create once-shown, list, revoke by id or key, TTL), M2M clients and their tokens,
 * identity-provider mappings, signing-key rotation; every write audited.
 */
let stack: InProcessStack;
let fx: Fixtures;
let adminKey: string;

beforeAll(async () => {
  stack = await startInProcessStack({ MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`, IDENTITY_CACHE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '10000' });
  fx = createFixtures(stack.t.repos);
  adminKey = (await fx.user({ groups: [await fx.group({ admin: true })] })).key;
});
afterAll(async () => {
  await stack?.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function api(method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const me = (credential: string) => api('GET', '/auth/me', undefined, credential);
const auditActions = async (targetId: string) => (await stack.t.repos.audit.listRecent(500)).filter((a) => a.targetId === targetId).map((a) => a.action);

describe('users', () => {
  it('creates a local account with a password and groups; it can sign in', async () => {
    const g = await fx.group();
    const email = `${uniqueId('alice')}@local.test`;
    const created = await api('POST', '/mcp-admin/api/users', { email, name: 'Alice', groups: [g.name], password: 'a long enough password' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, source: 'local', enabled: true, admin: false, groups: [g.name] });
    const login = await fetch(`${stack.gatewayUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'a long enough password' }) });
    expect(login.status).toBe(200);
    expect(await auditActions(created.body.id)).toContain('user.create');
    expect((await api('GET', `/mcp-admin/api/users/${created.body.id}`)).body).toMatchObject({ id: created.body.id, groups: [g.name], apiKeys: 0 });
  });

  it('stores nothing when part of the write fails (unknown group): no user, no audit row', async () => {
    const email = `${uniqueId('bob')}@local.test`;
    const res = await api('POST', '/mcp-admin/api/users', { email, groups: ['no-such-group'] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/no-such-group/);
    expect(await stack.t.repos.users.findByEmail(email)).toBeNull();
  });

  it('refuses a second local account with the same email (409) and unknown fields (400, mass assignment)', async () => {
    const email = `${uniqueId('carol')}@local.test`;
    expect((await api('POST', '/mcp-admin/api/users', { email })).status).toBe(201);
    expect((await api('POST', '/mcp-admin/api/users', { email: email.toUpperCase() })).status).toBe(409);
    expect((await api('POST', '/mcp-admin/api/users', { email: `x${email}`, source: 'entra', tenant_id: 'x' })).status).toBe(400);
  });

  it('disabling a user stops every key at once; enabling brings them back', async () => {
    const { user, key } = await fx.user();
    const second = await fx.key(user.id);
    expect((await me(key)).status).toBe(200);
    expect((await api('PATCH', `/mcp-admin/api/users/${user.id}`, { enabled: false })).body).toMatchObject({ enabled: false });
    expect((await me(key)).status).toBe(401);
    expect((await me(second.key)).status).toBe(401);
    await api('PATCH', `/mcp-admin/api/users/${user.id}`, { enabled: true });
    expect((await me(key)).status).toBe(200);
    expect(await auditActions(user.id)).toEqual(['user.update', 'user.update']);
  });

  it('lists and filters users; 404 for an unknown id, 400 for a malformed one', async () => {
    const { user } = await fx.user();
    const list = await api('GET', `/mcp-admin/api/users?query=${encodeURIComponent(user.email)}`);
    expect(list.body.items.map((u: Json) => u.id)).toEqual([user.id]);
    expect((await api('GET', `/mcp-admin/api/users/${randomUUID()}`)).status).toBe(404);
    expect((await api('GET', '/mcp-admin/api/users/not-a-uuid')).status).toBe(400);
  });

  it('is for admins only (403 for a user key)', async () => {
    const { key } = await fx.user();
    expect((await api('GET', '/mcp-admin/api/users', undefined, key)).status).toBe(403);
    expect((await api('POST', '/mcp-admin/api/m2m-clients', { name: 'x-agent', groups: ['x'] }, key)).status).toBe(403);
  });
});

describe('server lists: block wins, keys narrow and never widen', () => {
  it('combines the user\'s lists with the key\'s', async () => {
    const { user } = await fx.user();
    const access = await api('PUT', `/mcp-admin/api/users/${user.id}/mcp-access`, { allowed_mcps: ['erp', 'wave', 'github'], blocked_mcps: ['homeassistant'] });
    expect(access.body).toMatchObject({ allowServers: ['erp', 'wave', 'github'], blockServers: ['homeassistant'] });
    const key = await api('POST', `/mcp-admin/api/users/${user.id}/keys`, { name: 'narrow', allowServers: ['wave', 'jira'], blockServers: ['erp'] });
    expect((await me(key.body.key)).body).toMatchObject({ allowServers: ['wave'], blockServers: ['homeassistant', 'erp'] });
    const plain = await api('POST', `/mcp-admin/api/users/${user.id}/keys`, { name: 'plain' });
    expect((await me(plain.body.key)).body).toMatchObject({ allowServers: ['erp', 'wave', 'github'], blockServers: ['homeassistant'] });
    await api('PUT', `/mcp-admin/api/users/${user.id}/mcp-access`, { allowServers: null, blockServers: [] });
    expect((await me(plain.body.key)).body).toMatchObject({ allowServers: null, blockServers: [] });
    expect(await auditActions(user.id)).toEqual(['user.mcp-access', 'user.mcp-access']);
  });

  it('refuses server ids that cannot exist', async () => {
    const { user } = await fx.user();
    expect((await api('PUT', `/mcp-admin/api/users/${user.id}/mcp-access`, { allowServers: ['Not A Server'] })).status).toBe(400);
  });
});

describe('API keys', () => {
  it('creates a key shown once (mcpgw_, 256 bits), lists it without the key, and revokes it by id', async () => {
    const { user } = await fx.user();
    const created = await api('POST', `/mcp-admin/api/users/${user.id}/keys`, { key_name: 'production-key', ttl_days: 90 });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^mcpgw_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'production-key', prefix: created.body.key.slice(0, 12), note: expect.stringMatching(/only once/) });
    const days = (new Date(created.body.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    const list = await api('GET', `/mcp-admin/api/users/${user.id}/keys`);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(JSON.stringify(list.body)).not.toMatch(/key_?hash/i);
    expect(list.body.items.find((k: Json) => k.id === created.body.id)).toMatchObject({ name: 'production-key', prefix: created.body.prefix, revokedAt: null });
    const stored = await stack.t.db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(created.body.key);

    expect((await me(created.body.key)).status).toBe(200);
    expect((await api('DELETE', `/mcp-admin/api/keys/${created.body.id}`)).status).toBe(204);
    expect((await me(created.body.key)).status).toBe(401);
    expect(await auditActions(created.body.id)).toEqual(['api-key.revoke', 'api-key.create']);
  });

  it('revokes by the key itself (seed: POST /keys/revoke {api_key})', async () => {
    const { user } = await fx.user();
    const created = await api('POST', `/mcp-admin/api/users/${user.id}/keys`, {});
    const res = await api('POST', '/mcp-admin/api/keys/revoke', { api_key: created.body.key });
    expect(res.body).toMatchObject({ id: created.body.id, status: 'revoked' });
    expect((await me(created.body.key)).status).toBe(401);
    expect((await api('POST', '/mcp-admin/api/keys/revoke', { api_key: `mcpgw_${'A'.repeat(43)}` })).status).toBe(404);
  });

  it('refuses keys for unknown users and bad TTLs', async () => {
    expect((await api('POST', `/mcp-admin/api/users/${randomUUID()}/keys`, {})).status).toBe(404);
    const { user } = await fx.user();
    expect((await api('POST', `/mcp-admin/api/users/${user.id}/keys`, { ttl_days: 0 })).status).toBe(400);
    expect((await api('POST', `/mcp-admin/api/users/${user.id}/keys`, { ttl_days: 'soon' })).status).toBe(400);
  });

  it('records last use without a database write per request (batched)', async () => {
    const { user } = await fx.user();
    const created = await api('POST', `/mcp-admin/api/users/${user.id}/keys`, {});
    await me(created.body.key);
    const before = (await stack.t.repos.apiKeys.listForUser(user.id))[0]!;
    expect(before.lastUsedAt).toBeNull();
  });
});

describe('M2M clients', () => {
  it('creates a client (secret shown once, stored hashed) whose token reaches the admin API as an m2m caller', async () => {
    const g = await fx.group();
    const name = uniqueId('agent-');
    const created = await api('POST', '/mcp-admin/api/m2m-clients', { name, groups: [g.name], description: 'AI coding assistant' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ client_id: name, groups: [g.name], note: expect.stringMatching(/only once/) });
    const secret = created.body.client_secret as string;
    const rows = await stack.t.db.query('SELECT * FROM m2m_clients WHERE client_id = $1', [name]);
    expect(JSON.stringify(rows.rows)).not.toContain(secret);
    expect(JSON.stringify((await api('GET', '/mcp-admin/api/m2m-clients')).body)).not.toContain(secret);

    const token = async (s: string) =>
      fetch(`${stack.gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: name, client_secret: s }),
      });
    const issued = await (await token(secret)).json() as Json;
    expect((await me(issued.access_token)).body).toMatchObject({ authMethod: 'm2m', groups: [g.name], email: `${name}@clients.mcpgw.invalid` });

    const rotated = await api('POST', `/mcp-admin/api/m2m-clients/${name}/secret`);
    expect((await token(secret)).status).toBe(401);
    expect((await token(rotated.body.client_secret)).status).toBe(200);

    expect((await api('DELETE', `/mcp-admin/api/m2m-clients/${name}`)).status).toBe(204);
    expect((await me(issued.access_token)).status).toBe(401);
    expect((await token(rotated.body.client_secret)).status).toBe(401);
    expect(await auditActions(name)).toEqual(['m2m-client.delete', 'm2m-client.rotate-secret', 'm2m-client.create']);
  });

  it('refuses unknown groups, duplicate names and bad names', async () => {
    const g = await fx.group();
    const name = uniqueId('agent-');
    expect((await api('POST', '/mcp-admin/api/m2m-clients', { name, groups: ['missing-group'] })).status).toBe(400);
    expect((await api('POST', '/mcp-admin/api/m2m-clients', { name, groups: [g.name] })).status).toBe(201);
    expect((await api('POST', '/mcp-admin/api/m2m-clients', { name, groups: [g.name] })).status).toBe(409);
    expect((await api('POST', '/mcp-admin/api/m2m-clients', { name: 'Bad Name', groups: [g.name] })).status).toBe(400);
  });
});

describe('identity-provider mappings and signing keys', () => {
  it('creates, lists and deletes mappings; a groups value must be a GUID', async () => {
    const g = await fx.group();
    const value = randomUUID();
    const created = await api('POST', '/mcp-admin/api/idp-mappings', { claim: 'groups', value, group: g.name });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ claim: 'groups', value, groupName: g.name });
    expect((await api('POST', '/mcp-admin/api/idp-mappings', { claim: 'groups', value, group: g.name })).status).toBe(409);
    expect((await api('POST', '/mcp-admin/api/idp-mappings', { claim: 'groups', value: 'Sales', group: g.name })).status).toBe(400);
    expect((await api('POST', '/mcp-admin/api/idp-mappings', { claim: 'roles', value: 'MCP.Admin', group: 'nope' })).status).toBe(400);
    expect((await api('GET', '/mcp-admin/api/idp-mappings')).body.items.some((m: Json) => m.id === created.body.id)).toBe(true);
    expect((await api('DELETE', `/mcp-admin/api/idp-mappings/${created.body.id}`)).status).toBe(204);
    expect(await auditActions(created.body.id)).toEqual(['idp-mapping.delete', 'idp-mapping.create']);
  });

  it('rotates the gateway signing key on request', async () => {
    const g = await fx.group();
    const name = uniqueId('agent-');
    const client = await api('POST', '/mcp-admin/api/m2m-clients', { name, groups: [g.name] });
    const issue = async () => {
      const res = await fetch(`${stack.gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: name, client_secret: client.body.client_secret }),
      });
      const token = ((await res.json()) as Json).access_token as string;
      return { token, kid: JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string };
    };
    const before = await issue();
    const rotated = await api('POST', '/mcp-admin/api/signing-keys/rotate');
    expect(rotated.status).toBe(202);
    expect(rotated.body.retired).toContain(before.kid);
    const keys = await api('GET', '/mcp-admin/api/signing-keys');
    expect(keys.body.items.find((k: Json) => k.kid === before.kid).retiredAt).not.toBeNull();
    expect(JSON.stringify(keys.body)).not.toMatch(/private/i);
    // The old token keeps working until it expires.
    expect((await me(before.token)).status).toBe(200);
  });
});
