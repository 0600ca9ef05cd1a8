import { describe, expect, it } from 'vitest';
import type { Fixtures } from '@mcpgw/test-support';

export interface AuthSuiteTarget {
  /** Sends the route's request with these extra headers (and an optional query string). */
  send(headers: Record<string, string>, query?: string): Promise<Response>;
  fixtures(): Fixtures;
}

const FORGED = {
  'X-User-Id': '00000000-0000-0000-0000-000000000000',
  'X-User-Admin': 'true',
  'X-User-Groups': 'MCP-Admin',
  'X-Auth-Method': 'apikey',
  'X-Gateway-Validated': 'true',
  'X-Gateway-Timestamp': String(Date.now()),
  'X-Gateway-Signature': 'v1=AAAA',
};

/**
 * The shared authentication suite every protected route of the gateway runs: each case must be
 * refused with 401 and a WWW-Authenticate challenge.
 */
export function describeAuthSuite(route: string, target: () => AuthSuiteTarget): void {
  const refuse = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="mcpgw"/);
  };
  describe(`authentication of ${route}`, () => {
    it('refuses a request without credentials', async () => refuse(await target().send({})));
    it('refuses a malformed key', async () => refuse(await target().send({ authorization: 'Bearer mcpgw_nope' })));
    it('refuses an unknown key', async () => refuse(await target().send({ authorization: `Bearer mcpgw_${'Z'.repeat(43)}` })));
    it('refuses a token of a kind this route does not accept', async () => refuse(await target().send({ authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })));
    it('refuses a revoked key', async () => {
      const { key, keyId } = await target().fixtures().user();
      await target().fixtures().revoke(keyId);
      await refuse(await target().send({ authorization: `Bearer ${key}` }));
    });
    it('refuses an expired key', async () => {
      const { user } = await target().fixtures().user();
      const { key } = await target().fixtures().key(user.id, { expiresAt: new Date(Date.now() - 1_000) });
      await refuse(await target().send({ authorization: `Bearer ${key}` }));
    });
    it('refuses the key of a disabled user', async () => {
      const { key } = await target().fixtures().user({ enabled: false });
      await refuse(await target().send({ authorization: `Bearer ${key}` }));
    });
    it('refuses a key sent in the query string', async () => {
      const { key } = await target().fixtures().user();
      await refuse(await target().send({}, `?api_key=${key}`));
    });
    it('refuses forged identity headers without credentials', async () => refuse(await target().send(FORGED)));
  });
}
