import { randomBytes } from 'node:crypto';
import { listen, type ListeningServer } from '@mcpgw/http';
import type { Identity } from '@mcpgw/identity';
import { captureLogger, createTestDatabase, gatewayHeaders, testIdentity, uniqueId, type TestDatabase } from '@mcpgw/test-support';
import { buildAdminPortalDeps, createAdminPortalApp, readConfig, type AdminPortalDeps } from '@mcpgw/admin-portal';

export const SECRET = 'admin-security-test-secret-0123456789abcdef';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
export interface Answer {
  status: number;
  type: string;
  headers: Headers;
  text: string;
  body: Json;
}

/**
 * The real admin portal app on port 0 over this test's own schema on the real Postgres, called
 * the way the gateway calls it: with signed identity headers (what a caller cannot forge).
 */
export interface AdminPortalHarness {
  t: TestDatabase;
  deps: AdminPortalDeps;
  server: ListeningServer;
  /** Every log line the portal wrote (JSON), to grep for secrets. */
  logs: string[];
  call(who: Identity, method: string, path: string, body?: unknown): Promise<Answer>;
  /** A signed-in admin the database knows: a member of a new admin group of `tenantId` (null: global). */
  admin(tenantId: string | null, overrides?: Partial<Identity>): Promise<Identity>;
  close(): Promise<void>;
}

export async function startAdminPortal(env: Record<string, string> = {}, shared?: TestDatabase): Promise<AdminPortalHarness> {
  const t = shared ?? (await createTestDatabase());
  const { logger, lines } = captureLogger('admin-portal');
  const deps = buildAdminPortalDeps(
    readConfig({ DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: SECRET, MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`, ...env }),
    logger,
  );
  const server = await listen(createAdminPortalApp(deps), { host: '127.0.0.1', port: 0 });
  return {
    t,
    deps,
    server,
    logs: lines,
    async call(who, method, path, body) {
      // A browser session's writes carry the CSRF token the portal issues it (API keys and M2M need none).
      const csrf: Record<string, string> = {};
      if (!['GET', 'HEAD'].includes(method) && !['apikey', 'm2m'].includes(who.authMethod)) {
        const res = await fetch(`${server.url}/mcp-admin/api/csrf`, { headers: gatewayHeaders(SECRET, 'GET', '/mcp-admin/api/csrf', who) });
        if (res.ok) csrf['x-csrf-token'] = ((await res.json()) as { token: string }).token;
      }
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...gatewayHeaders(SECRET, method, path, who), ...csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return { status: res.status, type, headers: res.headers, text, body: text && type.includes('json') ? JSON.parse(text) : text };
    },
    async admin(tenantId, overrides = {}) {
      const group = await t.repos.groups.create({ name: uniqueId('Admins-'), isAdmin: true, tenantId });
      const user = await t.repos.users.create({ email: `${uniqueId('admin')}@example.test`, source: 'local', tenantId });
      await t.repos.groups.addMember(group.id, user.id);
      return testIdentity({ userId: user.id, email: user.email, admin: true, groups: [group.name], tenant: tenantId, authMethod: 'local', ...overrides });
    },
    async close() {
      await server.close(100);
      await deps.close();
      if (!shared) await t.cleanup();
    },
  };
}
