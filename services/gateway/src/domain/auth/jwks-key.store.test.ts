import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, startTestIssuer, waitFor, type TestIssuer } from '@mcpgw/test-support';
import { createJwksKeyStore } from './jwks-key.store.js';

/** The JWKS key store against the test issuer's real JWKS over HTTP, with short intervals. */
describe('JWKS key store', () => {
  let idp: TestIssuer;
  beforeAll(async () => {
    idp = await startTestIssuer();
  });
  afterAll(async () => {
    await idp?.close();
  });
  const store = (options: { cooldownMs?: number; timeoutMs?: number; maxAgeMs?: number } = {}) =>
    createJwksKeyStore({ uri: idp.jwksUri, logger: silentLogger('gateway'), cooldownMs: 300, timeoutMs: 1_000, ...options });

  it('keeps every key fetched before while the endpoint is down, also past their age', async () => {
    const keys = store({ maxAgeMs: 50 });
    expect(await keys.key(idp.kid)).not.toBeNull();
    idp.setAvailable(false);
    try {
      await new Promise((r) => setTimeout(r, 400));
      expect(await keys.key(idp.kid)).not.toBeNull();
      expect(await keys.key(idp.kid)).not.toBeNull();
    } finally {
      idp.setAvailable(true);
    }
  });

  it('fetches at most twice per cool-down for a flood of unknown kids, and picks up a rotated key after it', async () => {
    // The cool-down on a clock of our own: a slow run must not let it pass mid-flood.
    let clock = 1_000_000;
    const keys = createJwksKeyStore({ uri: idp.jwksUri, logger: silentLogger('gateway'), cooldownMs: 10_000, timeoutMs: 1_000, now: () => clock });
    expect(await keys.key(idp.kid)).not.toBeNull();
    const before = keys.fetches();
    const found = await Promise.all(Array.from({ length: 1_000 }, () => keys.key(randomUUID())));
    expect(found.every((k) => k === null)).toBe(true);
    expect(keys.fetches() - before).toBe(1); // the first fetch counted toward this cool-down's two
    idp.rotate();
    expect(await keys.key(idp.kid)).toBeNull(); // both spent
    expect(keys.fetches() - before).toBe(1);
    clock += 10_001;
    expect(await keys.key(idp.kid)).not.toBeNull();
    expect(keys.fetches() - before).toBe(2);
  });

  it('gives up on a hung endpoint after the timeout: an unknown kid is not found, no hang', async () => {
    const keys = store({ timeoutMs: 300 });
    expect(await keys.key(idp.kid)).not.toBeNull();
    idp.setDelay(5_000);
    try {
      const started = performance.now();
      expect(await keys.key(randomUUID())).toBeNull();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(await keys.key(idp.kid)).not.toBeNull(); // known keys never wait
    } finally {
      idp.setDelay(0);
    }
  });

  it('drops a key the JWKS no longer lists once a refresh succeeds (Entra removed it)', async () => {
    const keys = store({ maxAgeMs: 50, cooldownMs: 10 });
    const old = idp.kid;
    expect(await keys.key(old)).not.toBeNull();
    idp.rotate({ dropOld: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(await keys.key(old)).not.toBeNull(); // stale: answers at once and starts a background refresh
    await waitFor(async () => (await keys.key(old)) === null, 5_000, 20);
    expect(await keys.key(idp.kid)).not.toBeNull();
  });
});
