import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenWebUiFixture, createTestDatabase, startTestIssuer, waitFor, type OpenWebUiFixture, type TestDatabase, type TestIssuer } from '@mcpgw/test-support';
import { requestId, startRecordingUpstream, startTestGateway, type RecordingUpstream, type TestGateway } from './support/gateway-harness.js';

/** Open WebUI sessions (HS256 JWT, Authorization or `token` cookie) and sk- API keys, against a fixture of its tables. */
let t: TestDatabase;
let owui: OpenWebUiFixture;
let idp: TestIssuer;
let upstream: RecordingUpstream;
let gw: TestGateway;

beforeAll(async () => {
  t = await createTestDatabase();
  owui = await createOpenWebUiFixture(t.url);
  idp = await startTestIssuer();
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(t, upstream.url, {
    OPENWEBUI_SECRET_KEY: owui.secret,
    OPENWEBUI_DATABASE_URL: owui.url,
    OPENWEBUI_DB_SCHEMA: owui.schema,
    OPENWEBUI_API_KEYS_ENABLED: 'true',
    ENTRA_TENANT_IDS: idp.tenantId,
    ENTRA_AUDIENCES: idp.audience,
    ENTRA_JWKS_URI: idp.jwksUri,
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await owui?.cleanup();
  await t?.cleanup();
});

async function call(headers: Record<string, string>, path = '/mcp-admin/api/me') {
  const id = requestId();
  const res = await fetch(`${gw.url}${path}`, { headers: { ...headers, 'x-request-id': id } });
  return { res, id, identity: upstream.identityOf(id), reached: upstream.reached(id), seen: upstream.seen.find((s) => s.headers['x-request-id'] === id) };
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Open WebUI session tokens', () => {
  it('resolves the user from Open WebUI\'s "user" table, creating the mcpgw user on first sight', async () => {
    const u = await owui.addUser({ email: 'grace@example.test', name: 'Grace Hopper' });
    const r = await call(bearer(owui.session(u.id)));
    expect(r.res.status).toBe(200);
    expect(r.identity).toMatchObject({ email: 'grace@example.test', name: 'Grace Hopper', admin: false, authMethod: 'openwebui', groups: [] });
    const userId = await t.repos.userIdentities.findUserId({ provider: 'openwebui', issuer: '', subject: u.id });
    expect(r.identity!.userId).toBe(userId);
    expect(r.seen!.headers.authorization).toBeUndefined();
  });

  it('reads the token from the `token` cookie and never forwards the cookie', async () => {
    const u = await owui.addUser();
    const r = await call({ cookie: `theme=dark; token=${owui.session(u.id)}` });
    expect(r.res.status).toBe(200);
    expect(r.identity!.email).toBe(u.email);
    expect(r.seen!.headers.cookie).toBe('theme=dark');
  });

  it('makes an Open WebUI admin an mcpgw admin, and follows role changes', async () => {
    const u = await owui.addUser({ role: 'admin' });
    expect((await call(bearer(owui.session(u.id)))).identity!.admin).toBe(true);
    await owui.setRole(u.id, 'user');
    expect((await call(bearer(owui.session(u.id)))).identity!.admin).toBe(false);
  });

  it('refuses a pending (not yet approved) Open WebUI user with 403', async () => {
    const u = await owui.addUser({ role: 'pending' });
    const r = await call(bearer(owui.session(u.id)));
    expect(r.res.status).toBe(403);
    expect(r.reached).toBe(false);
  });

  it.each([
    ['no exp (JWT_EXPIRES_IN=-1, not allowed here)', (id: string) => owui.session(id, { exp: undefined })],
    ['an expired token', (id: string) => owui.session(id, { exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['another secret', (id: string) => owui.session(id, {}, { secret: 'not-the-webui-secret' })],
    ['an unknown user id', () => owui.session(randomUUID())],
    ['no id claim', (id: string) => owui.session(id, { id: undefined })],
  ])('refuses %s with 401', async (_label, make) => {
    const u = await owui.addUser();
    const r = await call(bearer(make(u.id)));
    expect(r.res.status).toBe(401);
    expect(r.reached).toBe(false);
  });

  it('never lets an Open WebUI token pass as an Entra token, nor an Entra-signed token as an Open WebUI one (J7)', async () => {
    const u = await owui.addUser();
    const asEntra = owui.session(u.id, { iss: idp.issuer, tid: idp.tenantId, aud: idp.audience, oid: randomUUID() });
    expect((await call(bearer(asEntra))).res.status).toBe(401);
    const rsaSigned = await idp.sign({ id: u.id, exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await call(bearer(rsaSigned))).res.status).toBe(401);
    const events = await waitFor(() => t.repos.securityEvents.list({ kind: 'unauthenticated' }).then((rows) => (rows.length >= 2 ? rows : null)));
    expect(events.map((e) => e.reason)).toContain('bad-algorithm');
  });

  it('refuses the user once disabled in mcpgw', async () => {
    const u = await owui.addUser();
    expect((await call(bearer(owui.session(u.id)))).res.status).toBe(200);
    const userId = await t.repos.userIdentities.findUserId({ provider: 'openwebui', issuer: '', subject: u.id });
    await t.repos.users.setEnabled(userId!, false);
    expect((await call(bearer(owui.session(u.id)))).res.status).toBe(401);
  });
});

describe('Open WebUI API keys (sk-…)', () => {
  it('resolves an sk- key through the api_key table, in Authorization or X-API-Key', async () => {
    const u = await owui.addUser();
    const key = await owui.addApiKey(u.id);
    expect((await call(bearer(key))).identity).toMatchObject({ email: u.email, authMethod: 'openwebui' });
    expect((await call({ 'x-api-key': key })).identity).toMatchObject({ email: u.email, authMethod: 'openwebui' });
  });

  it('refuses unknown and expired keys', async () => {
    const u = await owui.addUser();
    const expired = await owui.addApiKey(u.id, { expiresAt: Math.floor(Date.now() / 1000) - 10 });
    expect((await call(bearer(expired))).res.status).toBe(401);
    expect((await call(bearer(`sk-${'0'.repeat(32)}`))).res.status).toBe(401);
  });
});

describe('Open WebUI with its database unreachable', () => {
  it('answers 503, not 500', async () => {
    const down = await startTestGateway(t, upstream.url, {
      OPENWEBUI_SECRET_KEY: owui.secret,
      OPENWEBUI_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/openwebui',
    });
    try {
      const u = await owui.addUser();
      const res = await fetch(`${down.url}/mcp-admin/api/me`, { headers: bearer(owui.session(u.id)) });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    } finally {
      await down.close();
    }
  });
});

describe('without Open WebUI configured', () => {
  it('refuses its session tokens as unsupported', async () => {
    const plain = await startTestGateway(t, upstream.url);
    try {
      const u = await owui.addUser();
      const res = await fetch(`${plain.url}/mcp-admin/api/me`, { headers: bearer(owui.session(u.id)) });
      expect(res.status).toBe(401);
    } finally {
      await plain.close();
    }
  });
});
