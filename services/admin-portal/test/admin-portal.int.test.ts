import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type ListeningServer } from '@mcpgw/http';
import { createTestDatabase, gatewayHeaders, silentLogger, testIdentity, uniqueId, waitFor, type TestDatabase } from '@mcpgw/test-support';
import { buildAdminPortalDeps, createAdminPortalApp, readConfig, type AdminPortalDeps } from '@mcpgw/admin-portal';

const SECRET = 'admin-portal-test-secret-0123456789abcdef0123';

describe('admin portal behind the gateway signature', () => {
  let t: TestDatabase;
  let deps: AdminPortalDeps;
  let server: ListeningServer;
  let serverId: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    deps = buildAdminPortalDeps(readConfig({ DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: SECRET }), silentLogger());
    server = await listen(createAdminPortalApp(deps), { host: '127.0.0.1', port: 0 });
    serverId = uniqueId('s');
    await t.repos.servers.create({ id: serverId, name: '<script>alert(1)</script>', transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp' });
  });
  afterAll(async () => {
    await server?.close(100);
    await deps?.close();
    await t?.cleanup();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

  it('answers /health without identity', async () => {
    expect((await get('/health')).status).toBe(200);
  });

  it.each([
    ['no signature', () => ({ 'x-user-id': 'u1', 'x-user-admin': 'true', 'x-auth-method': 'apikey', 'x-gateway-validated': 'true' })],
    ['a wrong secret', () => gatewayHeaders('another-secret-0123456789abcdef0123456789', 'GET', '/mcp-admin/api/servers', testIdentity({ admin: true }))],
    ['a stale timestamp', () => gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/servers', testIdentity({ admin: true }), Date.now() - 60_000)],
    ['a signature for another path', () => gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/me', testIdentity({ admin: true }))],
    [
      'an admin flag changed after signing',
      () => ({ ...gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/servers', testIdentity({ admin: false })), 'x-user-admin': 'true' }),
    ],
  ])('refuses a direct request with %s: 403 and a security event', async (_label, headers) => {
    const res = await get('/mcp-admin/api/servers', headers());
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const requestId = res.headers.get('x-request-id')!;
    const events = await waitFor(async () => {
      const rows = await t.repos.securityEvents.list({ requestId });
      return rows.length ? rows : null;
    });
    expect(events[0]).toMatchObject({ kind: 'bad-gateway-signature', service: 'admin-portal' });
  });

  it('refuses a page request without signature with a readable HTML page', async () => {
    const res = await get('/mcp-admin/');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('did not come through the gateway');
  });

  it('tells any signed-in user who they are, but gives non-admins 403 everywhere else', async () => {
    const me = testIdentity({ email: 'ann@example.test', groups: ['MCP-GitHub'] });
    const res = await get('/mcp-admin/api/me', gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/me', me));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email: 'ann@example.test', groups: ['MCP-GitHub'], admin: false });
    expect((await get('/mcp-admin/api/servers', gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/servers', me))).status).toBe(403);
    const page = await get('/mcp-admin/', { ...gatewayHeaders(SECRET, 'GET', '/mcp-admin/', me), accept: 'text/html' });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('for admins only');
  });

  it('shows admins the servers; the page escapes user text, has no inline script and a strict CSP', async () => {
    // An admin the database knows as one (the portal decides global or tenant scope from it).
    const adminGroup = await t.repos.groups.create({ name: uniqueId('Admins-'), isAdmin: true });
    const admin = testIdentity({ admin: true, groups: [adminGroup.name], name: '<b>Admin</b>', email: 'a"dmin<x>@example.test' });
    const api = await get('/mcp-admin/api/servers', gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/servers', admin));
    expect(api.status).toBe(200);
    const body = (await api.json()) as { items: { id: string; name: string }[] };
    // JSON carries the name as data; app.js renders it with textContent, never as HTML.
    expect(body.items.find((s) => s.id === serverId)?.name).toBe('<script>alert(1)</script>');
    const page = await get('/mcp-admin/', gatewayHeaders(SECRET, 'GET', '/mcp-admin/', admin));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-inline'");
    const html = await page.text();
    expect(html).toContain('a&#34;dmin&#60;x&#62;@example.test');
    expect(html).not.toContain('<x>');
    expect(html).not.toMatch(/<script>|<style>|\son[a-z]+=/i);
    const js = await get('/mcp-admin/assets/app.js', gatewayHeaders(SECRET, 'GET', '/mcp-admin/assets/app.js', admin));
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).not.toContain('innerHTML');
  });

  it('accepts the previous signing secret during a rotation', async () => {
    const old = 'previous-secret-0123456789abcdef0123456789ab';
    const rotated = buildAdminPortalDeps(
      readConfig({ DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: SECRET, GATEWAY_SIGNING_SECRET_PREVIOUS: old }),
      silentLogger(),
    );
    const s = await listen(createAdminPortalApp(rotated), { host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${s.url}/mcp-admin/api/me`, { headers: gatewayHeaders(old, 'GET', '/mcp-admin/api/me', testIdentity()) });
      expect(res.status).toBe(200);
    } finally {
      await s.close(100);
      await rotated.close();
    }
  });
});
