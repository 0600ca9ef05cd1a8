import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, startTestIssuer, waitFor, type Fixtures, type TestDatabase, type TestIssuer } from '@mcpgw/test-support';
import { json, createM2mClient, requestId, startRecordingUpstream, startTestGateway, testMasterKeys, type RecordingUpstream, type TestGateway } from './support/gateway-harness.js';

/** M2M clients (client credentials → gateway-signed JWT), the gateway's JWKS and key rotation, and MCP OAuth discovery. */
let t: TestDatabase;
let fx: Fixtures;
let idp: TestIssuer;
let upstream: RecordingUpstream;
let gw: TestGateway;
const PUBLIC = 'https://mcp.example.test';

beforeAll(async () => {
  t = await createTestDatabase();
  fx = createFixtures(t.repos);
  idp = await startTestIssuer();
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(t, upstream.url, {
    MASTER_KEYS: testMasterKeys(),
    GATEWAY_PUBLIC_URL: PUBLIC,
    ENTRA_TENANT_IDS: idp.tenantId,
    ENTRA_AUDIENCES: `${idp.audience},api://mcpgw`,
    ENTRA_JWKS_URI: idp.jwksUri,
    ACCESS_TOKEN_TTL_SECONDS: '300',
  });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await t?.cleanup();
});

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
const headerOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString());

async function callMcp(token: string, path = '/mcp') {
  const id = requestId();
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-request-id': id }, body: '{}' });
  return { res, identity: upstream.identityOf(id), seen: upstream.seen.find((s) => s.headers['x-request-id'] === id) };
}

describe('POST /oauth/token (client credentials)', () => {
  it('issues a short-lived token with client_secret_post; the gateway accepts it as an m2m caller with the client\'s groups', async () => {
    const g = await fx.group();
    const client = await createM2mClient(t.repos, { groups: [g] });
    const res = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await json(res);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(claimsOf(body.access_token)).toMatchObject({ iss: PUBLIC, aud: PUBLIC, sub: client.userId, client_id: client.clientId, auth_method: 'm2m' });
    const r = await callMcp(body.access_token);
    expect(r.res.status).toBe(200);
    expect(r.identity).toMatchObject({ userId: client.userId, authMethod: 'm2m', groups: [g.name] });
    expect(r.seen!.headers.authorization).toBeUndefined();
  });

  it('accepts client_secret_basic, and JSON bodies', async () => {
    const client = await createM2mClient(t.repos);
    expect((await form({ grant_type: 'client_credentials' }, basic(client.clientId, client.secret))).status).toBe(200);
    const json = await fetch(`${gw.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }),
    });
    expect(json.status).toBe(200);
  });

  it.each([
    ['a wrong secret', (c: { clientId: string }) => form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'wrong' }), 401, 'invalid_client'],
    ['an unknown client', () => form({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' }), 401, 'invalid_client'],
    ['no client authentication', () => form({ grant_type: 'client_credentials' }), 401, 'invalid_client'],
    ['another grant type', (c: { clientId: string; secret: string }) => form({ grant_type: 'password', client_id: c.clientId, client_secret: c.secret }), 400, 'unsupported_grant_type'],
    ['two authentication methods', (c: { clientId: string; secret: string }) => form({ grant_type: 'client_credentials', client_secret: c.secret }, basic(c.clientId, c.secret)), 400, 'invalid_request'],
    ['a resource that is not this gateway', (c: { clientId: string; secret: string }) => form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret, resource: 'https://evil.example/mcp' }), 400, 'invalid_target'],
  ] as const)('refuses %s (%i, %s)', async (_label, send, status, error) => {
    const client = await createM2mClient(t.repos);
    const res = await send(client);
    expect(res.status).toBe(status);
    expect(await json(res)).toMatchObject({ error });
  });

  it('answers Basic failures with a Basic challenge', async () => {
    const client = await createM2mClient(t.repos);
    const res = await form({ grant_type: 'client_credentials' }, basic(client.clientId, 'wrong'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="mcpgw"');
  });

  it('refuses a disabled client, and a token of a client disabled after issuance', async () => {
    const client = await createM2mClient(t.repos);
    const token = (await json(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }))).access_token;
    await t.repos.users.setEnabled(client.userId, false);
    expect((await callMcp(token)).res.status).toBe(401);
    expect((await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret })).status).toBe(401);
  });

  it('binds a token to the MCP endpoint named by `resource` (RFC 8707)', async () => {
    const client = await createM2mClient(t.repos);
    const res = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret, resource: `${PUBLIC}/mcp/github` });
    const token = (await json(res)).access_token;
    expect(claimsOf(token).aud).toBe(`${PUBLIC}/mcp/github`);
    expect((await callMcp(token, '/mcp/github')).res.status).toBe(200);
    expect((await callMcp(token, '/mcp/jira')).res.status).toBe(401);
    expect((await callMcp(token, '/mcp')).res.status).toBe(401);
    expect((await fetch(`${gw.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });
});

describe('the gateway\'s signing keys', () => {
  it('publishes the public key at /.well-known/jwks.json; a forged token with that kid is refused', async () => {
    const client = await createM2mClient(t.repos);
    const token = (await json(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }))).access_token;
    const jwks = await json(fetch(`${gw.url}/.well-known/jwks.json`));
    const kid = headerOf(token).kid;
    expect(jwks.keys.find((k: { kid: string }) => k.kid === kid)).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(jwks)).not.toMatch(/"d"/);
    const stored = (await t.db.query<{ private_key: string }>('SELECT private_key FROM signing_keys WHERE kid = $1', [kid])).rows[0]!.private_key;
    expect(stored).toMatch(/^v1\.k1\./);
    expect(stored).not.toMatch(/PRIVATE KEY/);

    // HS256 with the published public key as the secret (alg confusion), and unsigned.
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', kid })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claimsOf(token))).toString('base64url');
    const pem = JSON.stringify(jwks.keys[0]);
    const confused = `${head}.${body}.${createHmac('sha256', pem).update(`${head}.${body}`).digest('base64url')}`;
    expect((await callMcp(confused)).res.status).toBe(401);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${body}.`;
    expect((await callMcp(none)).res.status).toBe(401);
  });

  it('rotates: after the current key is retired a new one signs, and tokens of the old one stay valid until they expire', async () => {
    const client = await createM2mClient(t.repos);
    const issue = async () => (await json(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }))).access_token as string;
    const before = await issue();
    await t.repos.signingKeys.retireCurrent();
    gw.deps.auth.keys.forget();
    const after = await issue();
    expect(headerOf(after).kid).not.toBe(headerOf(before).kid);
    expect((await callMcp(before)).res.status).toBe(200);
    expect((await callMcp(after)).res.status).toBe(200);
    const kids = (await json(fetch(`${gw.url}/.well-known/jwks.json`))).keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([headerOf(before).kid, headerOf(after).kid]));
  });

  it('another gateway instance on the same database verifies the tokens (keys live in the database)', async () => {
    const client = await createM2mClient(t.repos);
    const token = (await json(form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }))).access_token;
    const other = await startTestGateway(t, upstream.url, { GATEWAY_PUBLIC_URL: PUBLIC });
    try {
      const res = await fetch(`${other.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('a gateway whose MASTER_KEYS cannot unwrap the signing key', () => {
  it('refuses to issue tokens with 503 (not 500, no new key) until an admin rotates', async () => {
    const client = await createM2mClient(t.repos);
    const request = (url: string) => fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret }),
    });
    expect((await request(gw.url)).status).toBe(200);
    const misconfigured = await startTestGateway(t, upstream.url, { GATEWAY_PUBLIC_URL: PUBLIC, MASTER_KEYS: testMasterKeys() });
    try {
      const kidsBefore = (await t.repos.signingKeys.list()).length;
      expect((await request(misconfigured.url)).status).toBe(503);
      expect((await t.repos.signingKeys.list()).length).toBe(kidsBefore);
      await t.repos.signingKeys.retireCurrent();
      expect((await request(misconfigured.url)).status).toBe(200);
    } finally {
      await misconfigured.close();
      // Leave a key the main gateway can unwrap for the tests that follow.
      await t.repos.signingKeys.retireCurrent();
      gw.deps.auth.keys.forget();
    }
  });
});

describe('MCP authorization discovery', () => {
  it('serves protected resource metadata for the gateway and each MCP endpoint', async () => {
    const root = await fetch(`${gw.url}/.well-known/oauth-protected-resource`);
    expect(root.headers.get('access-control-allow-origin')).toBe('*');
    expect(await root.json()).toMatchObject({
      resource: PUBLIC,
      authorization_servers: [idp.issuer, PUBLIC],
      bearer_methods_supported: ['header'],
      scopes_supported: ['api://mcpgw/.default'],
    });
    expect(await json(fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp`))).toMatchObject({ resource: `${PUBLIC}/mcp` });
    expect(await json(fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp/github`))).toMatchObject({ resource: `${PUBLIC}/mcp/github` });
    expect((await fetch(`${gw.url}/.well-known/oauth-protected-resource/mcp/Bad_Name`)).status).toBe(404);
  });

  it('serves RFC 8414 metadata of the token endpoint', async () => {
    expect(await json(fetch(`${gw.url}/.well-known/oauth-authorization-server`))).toMatchObject({
      issuer: PUBLIC,
      token_endpoint: `${PUBLIC}/oauth/token`,
      jwks_uri: `${PUBLIC}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  });

  it('every 401 on an MCP endpoint points at its metadata; REST paths get no resource_metadata', async () => {
    for (const path of ['/mcp', '/mcp/demo', '/mcp/demo/sse']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST' });
      expect(res.status).toBe(401);
      const resource = path === '/mcp' ? '/mcp' : '/mcp/demo';
      expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource${resource}"`);
    }
    const rest = await fetch(`${gw.url}/mcp-admin/api/me`);
    expect(rest.headers.get('www-authenticate')).toBe('Bearer realm="mcpgw"');
  });

  it('refuses tokens issued for another resource (Entra token for another API; another gateway\'s token)', async () => {
    expect((await callMcp(await idp.sign(idp.userClaims({ aud: '00000003-0000-0000-c000-000000000000' })))).res.status).toBe(401);
    const client = await createM2mClient(t.repos);
    const issued = await form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.secret });
    expect(issued.status).toBe(200);
    const token = (await json(issued)).access_token;
    expect((await callMcp(token)).res.status).toBe(200);
    const elsewhere = await startTestGateway(t, upstream.url, { GATEWAY_PUBLIC_URL: 'https://other-gateway.example.test' });
    try {
      expect((await fetch(`${elsewhere.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    } finally {
      await elsewhere.close();
    }
    await waitFor(() => t.repos.securityEvents.list({ kind: 'unauthenticated' }).then((rows) => rows.length > 0));
  });

  it('leaves Open WebUI\'s own /oauth and /auth paths alone (they are proxied, not answered here)', async () => {
    // No OPENWEBUI_URL in this test: proxied paths answer 404 from the proxy, not from the gateway's routes.
    expect((await fetch(`${gw.url}/oauth/microsoft/callback`)).status).toBe(404);
    expect((await fetch(`${gw.url}/auth`)).status).toBe(404);
  });
});
