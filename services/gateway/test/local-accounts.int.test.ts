import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, waitFor, type Fixtures, type TestDatabase } from '@mcpgw/test-support';
import { json, createLocalAccount, requestId, startRecordingUpstream, startTestGateway, testMasterKeys, type RecordingUpstream, type TestGateway } from './support/gateway-harness.js';

/** Local accounts: sign-in, throttling, rotating refresh tokens with reuse detection, /auth/me, sign-out, first-run setup. */
let t: TestDatabase;
let fx: Fixtures;
let upstream: RecordingUpstream;
let gw: TestGateway;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  t = await createTestDatabase();
  fx = createFixtures(t.repos);
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(t, upstream.url, { MASTER_KEYS: testMasterKeys(), LOGIN_ATTEMPTS_PER_USER: '4', LOGIN_ATTEMPTS_PER_IP: '1000' });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await t?.cleanup();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const login = (email: string, password = PASSWORD) => post('/auth/login', { email, password });
const me = (token: string) => fetch(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });

describe('POST /auth/login', () => {
  it('signs in with email and password: access token, refresh token, no caching', async () => {
    const g = await fx.group();
    const user = await createLocalAccount(t.repos, { password: PASSWORD, groups: [g] });
    const res = await login(user.email);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await json(res);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, refresh_token: expect.stringMatching(/^rt_/) });
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'http://127.0.0.1:8085', aud: 'http://127.0.0.1:8085', sub: user.id, auth_method: 'local' });
    expect(JSON.parse(Buffer.from(body.access_token.split('.')[0], 'base64url').toString())).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    const who = await me(body.access_token);
    expect(await who.json()).toMatchObject({ userId: user.id, email: user.email, groups: [g.name], authMethod: 'local', admin: false });
  });

  it('accepts form bodies and `username` as the email (seed compatibility)', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const res = await fetch(`${gw.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user.email, password: PASSWORD }),
    });
    expect(res.status).toBe(200);
  });

  it('gives the same answer for a wrong password, an unknown account and a disabled one, with a security event each', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const disabled = await createLocalAccount(t.repos, { password: PASSWORD, enabled: false });
    const answers = await Promise.all([login(user.email, 'wrong password!'), login('nobody@local.test'), login(disabled.email)]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect((await json(res)).detail).toBe('Invalid credentials');
    }
    const events = await waitFor(() => t.repos.securityEvents.list({ kind: 'sign-in-failed' }).then((rows) => (rows.length >= 3 ? rows : null)));
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['wrong password', 'unknown account', 'account disabled']));
  });

  it('throttles an account after LOGIN_ATTEMPTS_PER_USER attempts (429, Retry-After), even with the right password', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    for (let i = 0; i < 4; i++) expect((await login(user.email, 'guess-' + i)).status).toBe(401);
    const blocked = await login(user.email);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    await waitFor(() => t.repos.securityEvents.list({ kind: 'sign-in-throttled' }).then((rows) => rows.length > 0));
  });

  it('refuses a request without a password with 400', async () => {
    expect((await post('/auth/login', { email: 'x@local.test' })).status).toBe(400);
  });

  it('refuses an API-key user (not a local account with a password)', async () => {
    const { user } = await fx.user();
    expect((await login(user.email)).status).toBe(401);
  });
});

describe('POST /auth/refresh', () => {
  it('rotates the refresh token; reusing a spent one revokes the whole sign-in', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const first = await json(login(user.email));
    const second = await json(post('/auth/refresh', { refresh_token: first.refresh_token }));
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).status).toBe(200);

    const reuse = await post('/auth/refresh', { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    await waitFor(() => t.repos.securityEvents.list({ kind: 'refresh-token-reuse' }).then((rows) => rows.some((e) => e.userId === user.id)));
    // The thief's fresh token is dead too, and so is the access token of that sign-in.
    expect((await post('/auth/refresh', { refresh_token: second.refresh_token })).status).toBe(401);
    expect((await me(second.access_token)).status).toBe(401);
  });

  it('refuses an unknown or malformed refresh token', async () => {
    expect((await post('/auth/refresh', { refresh_token: 'rt_nope' })).status).toBe(401);
    expect((await post('/auth/refresh', { refresh_token: 'x' })).status).toBe(401);
    expect((await post('/auth/refresh', {})).status).toBe(400);
  });

  it('stops refreshing once the user is disabled', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const tokens = await json(login(user.email));
    await t.repos.users.setEnabled(user.id, false);
    expect((await post('/auth/refresh', { refresh_token: tokens.refresh_token })).status).toBe(401);
  });
});

describe('GET /auth/me and POST /auth/logout', () => {
  it('/auth/me needs a credential, and works with an API key too', async () => {
    expect((await fetch(`${gw.url}/auth/me`)).status).toBe(401);
    const { key, user } = await fx.user();
    expect(await json(me(key))).toMatchObject({ userId: user.id, authMethod: 'apikey' });
  });

  it('signing out ends the access token and the refresh token of that sign-in only', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const a = await json(login(user.email));
    const b = await json(login(user.email));
    const out = await post('/auth/logout', {}, { authorization: `Bearer ${a.access_token}` });
    expect(out.status).toBe(204);
    expect((await me(a.access_token)).status).toBe(401);
    expect((await post('/auth/refresh', { refresh_token: a.refresh_token })).status).toBe(401);
    expect((await me(b.access_token)).status).toBe(200);
    await post('/auth/logout', { everywhere: true }, { authorization: `Bearer ${b.access_token}` });
    expect((await me(b.access_token)).status).toBe(401);
  });

  it('a local access token reaches the protected routes with signed identity headers and is not forwarded', async () => {
    const user = await createLocalAccount(t.repos, { password: PASSWORD });
    const tokens = await json(login(user.email));
    const id = requestId();
    const res = await fetch(`${gw.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${tokens.access_token}`, 'x-request-id': id } });
    expect(res.status).toBe(200);
    expect(upstream.identityOf(id)).toMatchObject({ userId: user.id, authMethod: 'local' });
    expect(upstream.seen.find((s) => s.headers['x-request-id'] === id)!.headers.authorization).toBeUndefined();
  });
});

describe('/auth/me behind the same checks as proxied paths', () => {
  it('is rate-limited per IP for bad credentials, so it is no oracle for guessing keys or tokens', async () => {
    const limited = await startTestGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${limited.url}/auth/me`, { headers: { authorization: `Bearer mcpgw_${String(i).repeat(43)}` } })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('first-run setup', () => {
  it('creates the first admin only while no admin exists, then is closed', async () => {
    const fresh = await createTestDatabase();
    const gw2 = await startTestGateway(fresh, upstream.url, { MASTER_KEYS: testMasterKeys() });
    try {
      expect(await json(fetch(`${gw2.url}/auth/setup`))).toEqual({ setupRequired: true });
      const weak = await fetch(`${gw2.url}/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'root@local.test', password: 'short' }) });
      expect(weak.status).toBe(400);
      const attempts = await Promise.all(
        ['a', 'b', 'c'].map((n) =>
          fetch(`${gw2.url}/auth/setup`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: `${n}@local.test`, password: PASSWORD, name: 'Root' }),
          }),
        ),
      );
      const statuses = attempts.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 403, 403]);
      const winner = attempts.find((r) => r.status === 201)!;
      const tokens = await json(winner);
      expect(await json(fetch(`${gw2.url}/auth/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } }))).toMatchObject({
        admin: true,
        groups: ['MCP-Admin'],
        authMethod: 'local',
      });
      expect(await json(fetch(`${gw2.url}/auth/setup`))).toEqual({ setupRequired: false });
      expect((await fresh.repos.audit.listRecent()).map((a) => a.action)).toContain('setup.admin.create');
    } finally {
      await gw2.close();
      await fresh.cleanup();
    }
  });
});

describe('without MASTER_KEYS', () => {
  it('answers sign-in with 503 (no signing key), not 500', async () => {
    const plain = await startTestGateway(t, upstream.url);
    try {
      const user = await createLocalAccount(t.repos, { password: PASSWORD });
      const res = await fetch(`${plain.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: PASSWORD }) });
      expect(res.status).toBe(503);
    } finally {
      await plain.close();
    }
  });
});
