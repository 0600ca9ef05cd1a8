import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waitFor, type Fixtures } from '@mcpgw/test-support';
import type { StoredSecurityEvent } from '@mcpgw/db';

export interface AuthSuiteTarget {
  /** Sends the route's request with these extra headers (and an optional query string). */
  send(headers: Record<string, string>, query?: string): Promise<Response>;
  fixtures(): Fixtures;
  /** Security events recorded for a request id. */
  securityEvents?(requestId: string): Promise<StoredSecurityEvent[]>;
  /** Whether a request with this id reached a service behind the gateway. */
  reachedUpstream?(requestId: string): boolean;
  /** The identity the route answered with, for routes that echo it (GET /mcp-admin/api/me). */
  echoesIdentity?: boolean;
  /** The service behind the route admits admins only: a valid non-admin caller gets its 403. */
  adminOnly?: boolean;
}

/** A credential of one auth method: the headers to send, and its user. */
export interface MethodCredential {
  headers: Record<string, string>;
  userId: string;
  /** Disables the user in mcpgw. */
  disable(): Promise<void>;
}

/**
 * The rows every auth method is checked against. A method leaves out only rows that cannot exist
 * for it (an API key has no audience, issuer or algorithm), and may add rows of its own.
 */
export const CASES = [
  'malformed',
  'expired',
  'not yet valid',
  'wrong audience',
  'wrong issuer',
  'wrong signature',
  'unsigned (alg none)',
  'HS256 signed with the RSA public key (alg confusion)',
  'disabled user',
] as const;
export type CaseName = (typeof CASES)[number];

export interface AuthMethodUnderTest {
  /** The auth method's name as in X-Auth-Method (apikey, entra, openwebui, local, m2m). */
  name: string;
  /** A fresh, valid credential of a fresh user. */
  valid(): Promise<MethodCredential>;
  /** Headers carrying a hostile variant; built from a fresh valid credential when `base` is used. */
  cases: Partial<Record<CaseName, (base: MethodCredential) => Promise<Record<string, string>>>>;
  /** Rows only this method has, with the status they must get (401 unless said otherwise). */
  extra?: Record<string, { status?: 401 | 403; headers: (base: MethodCredential) => Promise<Record<string, string>> }>;
}

const FORGED = {
  'X-User-Id': '00000000-0000-0000-0000-000000000000',
  'X-User-Admin': 'true',
  'x_user_admin': 'true',
  'X-User-Groups': 'MCP-Admin',
  'X-Auth-Method': 'apikey',
  'X-Gateway-Validated': 'true',
  'X-Gateway-Timestamp': String(Date.now()),
  'X-Gateway-Signature': 'v1=AAAA',
};

const newRequestId = () => `suite-${randomBytes(8).toString('hex')}`;

/**
 * The shared authentication suite every protected route of the gateway runs, once per auth
 * method: a valid credential passes (and forged identity headers next to it change nothing);
 * every hostile variant is refused with 401 (403 where the identity is valid but not allowed),
 * WWW-Authenticate on 401, a security event, and nothing forwarded.
 */
export function describeAuthSuite(route: string, target: () => AuthSuiteTarget, methods: readonly AuthMethodUnderTest[] = []): void {
  async function refused(headers: Record<string, string>, status: 401 | 403 = 401, query = '') {
    const requestId = newRequestId();
    const res = await target().send({ ...headers, 'x-request-id': requestId }, query);
    expect(res.status).toBe(status);
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="mcpgw"/);
    const t = target();
    if (t.reachedUpstream) expect(t.reachedUpstream(requestId), 'nothing may be forwarded').toBe(false);
    if (t.securityEvents) {
      const events = await waitFor(async () => ((await t.securityEvents!(requestId)).length > 0 ? t.securityEvents!(requestId) : null));
      expect(events[0]!.kind).toBe(status === 403 ? 'forbidden' : 'unauthenticated');
    }
  }

  describe(`authentication of ${route}`, () => {
    it('refuses a request without credentials', async () => refused({}));
    it('refuses forged identity headers without credentials', async () => refused(FORGED));
    it('refuses a token of a kind this route does not accept', async () => refused({ authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }));

    it('refuses a credential sent in the query string', async () => {
      const { key } = await target().fixtures().user();
      await refused({}, 401, `?api_key=${key}`);
    });

    for (const method of [apiKeyMethod(() => target().fixtures()), ...methods]) {
      describe(`method ${method.name}`, () => {
        it('accepts a valid credential and forwards the request', async () => {
          const cred = await method.valid();
          const requestId = newRequestId();
          const res = await target().send({ ...cred.headers, 'x-request-id': requestId });
          const t = target();
          if (t.adminOnly) expect(res.status).toBe(403);
          else expect([401, 403, 503]).not.toContain(res.status);
          if (t.reachedUpstream) expect(t.reachedUpstream(requestId)).toBe(true);
          if (t.echoesIdentity) expect(await res.json()).toMatchObject({ userId: cred.userId, authMethod: method.name });
        });

        it('ignores forged identity headers sent next to a valid credential', async () => {
          const cred = await method.valid();
          const res = await target().send({ ...FORGED, ...cred.headers, 'x-request-id': newRequestId() });
          // On an admin-only service, a forged X-User-Admin must not turn the caller into an admin.
          if (target().adminOnly) expect(res.status).toBe(403);
          else expect([401, 403, 503]).not.toContain(res.status);
          if (target().echoesIdentity) {
            const body = (await res.json()) as { userId: string; admin: boolean; groups: string[]; authMethod: string };
            expect(body).toMatchObject({ userId: cred.userId, admin: false, authMethod: method.name });
            expect(body.groups).not.toContain('MCP-Admin');
          }
        });

        for (const name of CASES) {
          const make = method.cases[name];
          if (!make) continue;
          it(`refuses: ${name}`, async () => {
            const base = await method.valid();
            if (name === 'disabled user') await base.disable();
            await refused(await make(base));
          });
        }

        for (const [name, row] of Object.entries(method.extra ?? {})) {
          it(`refuses: ${name}`, async () => refused(await row.headers(await method.valid()), row.status ?? 401));
        }
      });
    }
  });
}

/** How many rows the suite runs for a method (for the closing report). */
export function rowsFor(method: AuthMethodUnderTest): number {
  return 2 + Object.keys(method.cases).length + Object.keys(method.extra ?? {}).length;
}

/** mcpgw_ API keys, from the test fixtures. Keys have no audience, issuer or algorithm: those rows do not exist. */
export function apiKeyMethod(fixtures: () => Fixtures): AuthMethodUnderTest {
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  return {
    name: 'apikey',
    async valid() {
      const { user, key } = await fixtures().user();
      return { headers: bearer(key), userId: user.id, disable: () => fixtures().disable(user.id) };
    },
    cases: {
      malformed: async () => bearer('mcpgw_nope'),
      expired: async (base) => bearer((await fixtures().key(base.userId, { expiresAt: new Date(Date.now() - 1_000) })).key),
      'disabled user': async (base) => base.headers,
    },
    extra: {
      'an unknown key': { headers: async () => bearer(`mcpgw_${'Z'.repeat(43)}`) },
      'a revoked key': {
        headers: async (base) => {
          const k = await fixtures().key(base.userId);
          await fixtures().revoke(k.keyId);
          return bearer(k.key);
        },
      },
      'a key in X-API-Key of a disabled user': {
        headers: async (base) => {
          await base.disable();
          return { 'x-api-key': base.headers.authorization!.slice('Bearer '.length) };
        },
      },
    },
  };
}
