import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, startTestIssuer, waitFor, type Fixtures, type TestDatabase, type TestIssuer } from '@mcpgw/test-support';
import { requestId, startRecordingUpstream, startTestGateway, type RecordingUpstream, type TestGateway } from './support/gateway-harness.js';

/**
 * Microsoft Entra ID tokens against a local test issuer: real RSA keys, a real JWKS over HTTP,
 * rotation mid-test; just-in-time users keyed by (tid, oid); group and app-role mappings; overage.
 */
let t: TestDatabase;
let fx: Fixtures;
let idp: TestIssuer;
let upstream: RecordingUpstream;
let gw: TestGateway;
const allowedApp = randomUUID();

beforeAll(async () => {
  t = await createTestDatabase();
  fx = createFixtures(t.repos);
  idp = await startTestIssuer();
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(t, upstream.url, {
    ENTRA_TENANT_IDS: idp.tenantId,
    ENTRA_AUDIENCES: `${idp.audience},api://mcpgw-test`,
    ENTRA_JWKS_URI: idp.jwksUri,
    ENTRA_ALLOWED_CLIENT_APP_IDS: allowedApp,
    GATEWAY_PUBLIC_URL: 'https://mcp.example.test',
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await t?.cleanup();
});

async function call(token: string, path = '/mcp') {
  const id = requestId();
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  return { res, id, identity: upstream.identityOf(id), reached: upstream.reached(id) };
}

async function userIdOf(oid: string): Promise<string | null> {
  return t.repos.userIdentities.findUserId({ provider: 'entra', issuer: idp.tenantId, subject: oid });
}

describe('Entra user tokens', () => {
  it('creates the user on first sight, keyed by (tid, oid), with no groups and no admin flag', async () => {
    const claims = idp.userClaims({ email: 'ada@contoso.test', name: 'Ada Lovelace' });
    const r = await call(await idp.sign(claims));
    expect(r.res.status).toBe(200);
    expect(r.identity).toMatchObject({ email: 'ada@contoso.test', name: 'Ada Lovelace', groups: [], admin: false, authMethod: 'entra' });
    const userId = await userIdOf(claims.oid as string);
    expect(r.identity!.userId).toBe(userId);
    const user = await t.repos.users.findById(userId!);
    expect(user).toMatchObject({ source: 'entra', enabled: true, isAdmin: false });
    const audit = await t.repos.audit.listRecent(50);
    expect(audit.some((a) => a.action === 'user.create-on-first-sign-in' && a.targetId === userId)).toBe(true);
  });

  it('finds the same user again by (tid, oid), even after the email changed, and never forwards the token', async () => {
    const claims = idp.userClaims();
    const first = await call(await idp.sign(claims));
    const second = await call(await idp.sign({ ...claims, preferred_username: 'renamed@contoso.test', email: undefined }));
    expect(second.identity!.userId).toBe(first.identity!.userId);
    expect(second.identity!.email).toBe('renamed@contoso.test');
    const seen = upstream.seen.find((s) => s.headers['x-request-id'] === second.id)!;
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('creates one user when the first sign-ins of a new (tid, oid) arrive at the same moment', async () => {
    const claims = idp.userClaims();
    const results = await Promise.all(Array.from({ length: 6 }, async () => call(await idp.sign({ ...claims, uti: Math.random().toString(36) }))));
    expect(new Set(results.map((r) => r.res.status))).toEqual(new Set([200]));
    expect(new Set(results.map((r) => r.identity!.userId)).size).toBe(1);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM user_identities WHERE subject = $1', [claims.oid]);
    expect(rows[0]!.n).toBe(1);
  });

  it('keeps two users apart who share an email (the email is display data only)', async () => {
    const a = await call(await idp.sign(idp.userClaims({ email: 'shared@contoso.test' })));
    const b = await call(await idp.sign(idp.userClaims({ email: 'shared@contoso.test' })));
    expect(a.identity!.userId).not.toBe(b.identity!.userId);
  });

  it('takes the email from email, then preferred_username, then upn', async () => {
    const upnOnly = idp.userClaims({ preferred_username: undefined, upn: 'upn@contoso.test' });
    expect((await call(await idp.sign(upnOnly))).identity!.email).toBe('upn@contoso.test');
  });

  it('accepts the api:// audience of the allow-list and a token within the clock skew', async () => {
    expect((await call(await idp.sign(idp.userClaims({ aud: 'api://mcpgw-test' })))).res.status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    expect((await call(await idp.sign(idp.userClaims({ exp: now - 20 })))).res.status).toBe(200);
  });

  it.each([
    ['another audience', (c: Record<string, unknown>) => ({ ...c, aud: randomUUID() })],
    ['another tenant', (c: Record<string, unknown>) => ({ ...c, tid: randomUUID(), iss: `${idp.authority}/${randomUUID()}/v2.0` })],
    ['a tid that differs from the issuer', (c: Record<string, unknown>) => ({ ...c, tid: randomUUID() })],
    ['a v1 issuer (not enabled)', (c: Record<string, unknown>) => ({ ...c, iss: `https://sts.windows.net/${idp.tenantId}/` })],
    ['no exp', (c: Record<string, unknown>) => ({ ...c, exp: undefined })],
    ['exp beyond the clock skew', (c: Record<string, unknown>) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 120 })],
    ['nbf in the future', (c: Record<string, unknown>) => ({ ...c, nbf: Math.floor(Date.now() / 1000) + 300 })],
    ['no oid', (c: Record<string, unknown>) => ({ ...c, oid: undefined })],
  ])('refuses a token with %s (401, nothing forwarded, security event)', async (_label, mutate) => {
    const claims = mutate(idp.userClaims()) as Record<string, unknown>;
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    const r = await call(await idp.sign(claims));
    expect(r.res.status).toBe(401);
    expect(r.reached).toBe(false);
    const events = await waitFor(() => t.repos.securityEvents.list({ requestId: r.id }).then((rows) => (rows.length ? rows : null)));
    expect(events[0]).toMatchObject({ kind: 'unauthenticated', service: 'gateway' });
  });

  it('refuses the user once disabled', async () => {
    const claims = idp.userClaims();
    const token = await idp.sign(claims);
    expect((await call(token)).res.status).toBe(200);
    await t.repos.users.setEnabled((await userIdOf(claims.oid as string))!, false);
    expect((await call(token)).res.status).toBe(401);
  });
});

describe('group and app-role mappings', () => {
  it('maps group object ids and app roles to mcpgw groups, replacing only provider-derived memberships', async () => {
    const viaGroup = await fx.group();
    const viaRole = await fx.group();
    const manual = await fx.group();
    const entraGroup = randomUUID();
    await t.repos.idpMappings.create({ claim: 'groups', value: entraGroup, groupId: viaGroup.id });
    await t.repos.idpMappings.create({ claim: 'roles', value: 'MCP.Users', groupId: viaRole.id });
    const claims = idp.userClaims({ groups: [entraGroup.toUpperCase(), randomUUID()], roles: ['MCP.Users'] });
    const first = await call(await idp.sign(claims));
    expect([...first.identity!.groups].sort()).toEqual([viaGroup.name, viaRole.name].sort());

    await t.repos.groups.addMember(manual.id, first.identity!.userId);
    const later = await call(await idp.sign({ ...claims, groups: [], roles: [] }));
    expect(later.identity!.groups).toEqual([manual.name]);
  });

  it('on group overage keeps the stored memberships and records an event', async () => {
    const g = await fx.group();
    const entraGroup = randomUUID();
    await t.repos.idpMappings.create({ claim: 'groups', value: entraGroup, groupId: g.id });
    const claims = idp.userClaims({ groups: [entraGroup] });
    const first = await call(await idp.sign(claims));
    expect(first.identity!.groups).toEqual([g.name]);
    const overage = { ...claims, groups: undefined, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.windows.net/x' } } };
    delete overage.groups;
    const r = await call(await idp.sign(overage));
    expect(r.res.status).toBe(200);
    expect(r.identity!.groups).toEqual([g.name]);
    const events = await waitFor(() => t.repos.securityEvents.list({ kind: 'group-overage' }).then((rows) => rows.find((e) => e.userId === first.identity!.userId)));
    expect(events.reason).toMatch(/overage/);
  });
});

describe('app-only tokens (client credentials against Entra)', () => {
  it('accepts an allow-listed client app as an m2m caller, with app roles mapped', async () => {
    const g = await fx.group();
    await t.repos.idpMappings.create({ claim: 'roles', value: 'Tools.Execute', groupId: g.id });
    const r = await call(await idp.sign(idp.appClaims(allowedApp, { roles: ['Tools.Execute'] })));
    expect(r.res.status).toBe(200);
    expect(r.identity).toMatchObject({ authMethod: 'm2m', groups: [g.name], admin: false });
  });

  it('refuses an app that is not allow-listed with 403 (valid token, caller not allowed)', async () => {
    const r = await call(await idp.sign(idp.appClaims(randomUUID(), { roles: ['Tools.Execute'] })));
    expect(r.res.status).toBe(403);
    expect(r.reached).toBe(false);
  });
});

describe('signing keys', () => {
  it('picks up a rotated key without restart, fetching the JWKS once for the new kid', async () => {
    expect((await call(await idp.sign(idp.userClaims()))).res.status).toBe(200);
    const before = idp.fetches();
    idp.rotate();
    expect((await call(await idp.sign(idp.userClaims()))).res.status).toBe(200);
    expect(idp.fetches()).toBe(before + 1);
    expect((await call(await idp.sign(idp.userClaims()))).res.status).toBe(200);
    expect(idp.fetches()).toBe(before + 1);
  });

  it('answers a flood of unknown kids with 401 and at most a few JWKS fetches (rate limit)', async () => {
    const before = idp.fetches();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, async () => (await call(await idp.sign(idp.userClaims(), { kid: randomUUID() }))).res.status),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(idp.fetches() - before).toBeLessThanOrEqual(10);
  });

  it.each([
    ['a kid with path characters', { kid: '../../etc/passwd' }],
    ['a kid with SQL', { kid: "x' OR '1'='1" }],
    ['no kid', { kid: null }],
  ] as const)('refuses %s without asking the JWKS', async (_label, opts) => {
    const before = idp.fetches();
    expect((await call(await idp.sign(idp.userClaims(), opts))).res.status).toBe(401);
    expect(idp.fetches()).toBe(before);
  });

  it('keeps verifying with cached keys while the JWKS is down; unknown kids get 401, not 5xx', async () => {
    const token = await idp.sign(idp.userClaims());
    expect((await call(token)).res.status).toBe(200);
    idp.setAvailable(false);
    try {
      expect((await call(await idp.sign(idp.userClaims()))).res.status).toBe(200);
      const started = Date.now();
      expect((await call(await idp.sign(idp.userClaims(), { kid: randomUUID() }))).res.status).toBe(401);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      idp.setAvailable(true);
    }
  });
});

describe('Entra with the database down', () => {
  it('answers a first sign-in with 503 (JSON-RPC on /mcp), not 500', async () => {
    const down = await startTestGateway({ ...t, url: 'postgres://postgres@127.0.0.1:1/test' }, upstream.url, {
      ENTRA_TENANT_IDS: idp.tenantId,
      ENTRA_AUDIENCES: idp.audience,
      ENTRA_JWKS_URI: idp.jwksUri,
      // No analytics rows to flush into the unreachable database at close.
      ENABLE_API_ANALYTICS: 'false',
    });
    try {
      const res = await fetch(`${down.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await idp.sign(idp.userClaims())}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/unavailable/) } });
    } finally {
      await down.close();
    }
  });
});

describe('WWW-Authenticate on MCP endpoints', () => {
  it('names the protected resource metadata of the endpoint', async () => {
    const res = await fetch(`${gw.url}/mcp/github`, { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="mcpgw", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp/github"',
    );
    const bad = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
    expect(bad.headers.get('www-authenticate')).toBe(
      'Bearer realm="mcpgw", error="invalid_token", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"',
    );
  });
});
