import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, recordFigures } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from '../../../../test/support/in-process-stack.js';

/**
 * Test-matrix A2: an API key revoked through the admin API (via the gateway, as an admin would)
 * stops working at the gateway within the key cache's lifetime, API_KEY_CACHE_SECONDS (30 s by
 * default; 3 s here to keep the test short: the bound is the setting, whatever its value).
 */

const CACHE_SECONDS = 3;

describe('API key revocation', () => {
  let stack: InProcessStack;

  beforeAll(async () => {
    stack = await startInProcessStack({ API_KEY_CACHE_SECONDS: String(CACHE_SECONDS) });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`A2: a key revoked through the admin API gets 401 within API_KEY_CACHE_SECONDS (${CACHE_SECONDS} s here)`, async () => {
    const fx = createFixtures(stack.t.repos);
    const admin = await fx.user({ admin: true });
    const victim = await fx.user();
    const asVictim = () => fetch(`${stack.gatewayUrl}/servers`, { headers: { authorization: `Bearer ${victim.key}` } });
    // The key is in use, so the gateway holds it in its cache.
    const warm = await asVictim();
    expect(warm.status).toBe(200);
    await warm.arrayBuffer();

    const revoke = await fetch(`${stack.gatewayUrl}/mcp-admin/api/keys/${victim.keyId}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.key}` } });
    expect(revoke.status).toBe(204);
    const revokedAt = performance.now();
    let status = 200;
    let polls = 0;
    while (status !== 401 && performance.now() - revokedAt < (CACHE_SECONDS + 5) * 1000) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await asVictim();
      await res.arrayBuffer();
      status = res.status;
      polls += 1;
    }
    const ms = Math.round(performance.now() - revokedAt);
    recordFigures('A2', { cacheSeconds: CACHE_SECONDS, revokedToRefusedMs: ms, polls, via: 'DELETE /mcp-admin/api/keys/:id through the gateway' });
    expect(status).toBe(401);
    expect(ms).toBeLessThanOrEqual(CACHE_SECONDS * 1000 + 500);
    // Nothing else: the admin's own key is untouched.
    expect((await fetch(`${stack.gatewayUrl}/servers`, { headers: { authorization: `Bearer ${admin.key}` } })).status).toBe(200);
  });
});
