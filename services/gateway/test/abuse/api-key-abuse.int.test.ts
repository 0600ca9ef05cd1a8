import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '@mcpgw/crypto';
import { createFixtures, createTestDatabase, freePort, testRedisUrl, waitFor, type TestDatabase, recordFigures } from '@mcpgw/test-support';
import { startRecordingUpstream, startTestGateway, type RecordingUpstream, type TestGateway } from '../support/gateway-harness.js';
import { kolmogorovSmirnov, percentile } from './stats.js';

/**
 * Test-matrix A1 (invalid keys: 401, generic, timing independent of the prefix), A3 (API-key
 * brute force: 429 after a threshold per IP and per prefix, failing closed without Redis) and H3
 * (X-Forwarded-For believed only from TRUST_PROXY).
 */

/** A key of the right shape that does not exist, optionally sharing a real key's first 12 characters. */
const unknownKey = (prefix = 'mcpgw_') => prefix + generateApiKey().key.slice(prefix.length);

/** main.ts waits for Redis before serving (the guess limiters fail closed until it answers); so do these tests. */
async function redisReady(gw: TestGateway): Promise<TestGateway> {
  const redis = gw.deps.redis;
  if (redis) await waitFor(() => redis.status === 'ready', 5_000, 10);
  return gw;
}

describe('API keys under abuse', () => {
  let t: TestDatabase;
  let upstream: RecordingUpstream;
  let fx: ReturnType<typeof createFixtures>;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = createFixtures(t.repos);
    upstream = await startRecordingUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
    await t?.cleanup();
  });

  const call = (url: string, key: string | null, headers: Record<string, string> = {}, path = '/mcp') =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });

  it('A1: a missing, unknown, malformed or revoked key gets 401 with WWW-Authenticate and one generic message that names nothing', async () => {
    const gw = await startTestGateway(t, upstream.url);
    try {
      const { key, keyId } = await fx.user();
      await fx.revoke(keyId);
      const bodies = new Set<string>();
      for (const [label, credential] of [
        ['unknown', unknownKey()],
        ['near-valid', unknownKey(key.slice(0, 12))],
        ['malformed', 'mcpgw_short'],
        ['revoked', key],
      ] as const) {
        for (const path of ['/mcp', '/mcp-admin/api/me']) {
          const res = await call(gw.url, credential, {}, path);
          expect(res.status, `${label} on ${path}`).toBe(401);
          expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="mcpgw", error="invalid_token"/);
          const text = await res.text();
          expect(text).not.toContain(credential);
          expect(text).not.toMatch(/revoked|unknown|malformed|prefix/i);
          bodies.add(`${path} ${(JSON.parse(text) as { error?: { message: string }; detail?: string }).error?.message ?? JSON.parse(text).detail}`);
        }
      }
      // Whatever was wrong with the key, the caller reads the same words.
      expect(bodies.size).toBe(2);
      const missing = await call(gw.url, null);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="mcpgw"/);
    } finally {
      await gw.close();
    }
  });

  it('A1: refusing a near-valid key (a real prefix, wrong secret) takes as long as refusing a random one (two-sample KS test)', async () => {
    const gw = await startTestGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '1000000', API_KEY_GUESSES_PER_IP: '1000000', API_KEY_GUESSES_PER_PREFIX: '1000000' });
    try {
      const { key } = await fx.user();
      const prefix = key.slice(0, 12);
      const n = 500;
      const random: number[] = [];
      const nearValid: number[] = [];
      for (let i = 0; i < 50; i++) await (await call(gw.url, unknownKey())).arrayBuffer(); // warm-up
      // Interleaved, one at a time: both samples see the same machine noise.
      for (let i = 0; i < 2 * n; i++) {
        const near = i % 2 === 1;
        const started = performance.now();
        const res = await call(gw.url, near ? unknownKey(prefix) : unknownKey());
        await res.arrayBuffer();
        (near ? nearValid : random).push(performance.now() - started);
        expect(res.status).toBe(401);
      }
      const { d, p } = kolmogorovSmirnov(random, nearValid);
      const round = (v: number) => Math.round(v * 1000) / 1000;
      recordFigures('A1', {
        samplesEach: n,
        ksD: round(d),
        ksP: round(p),
        randomMs: { p50: round(percentile(random, 50)), p99: round(percentile(random, 99)) },
        nearValidMs: { p50: round(percentile(nearValid, 50)), p99: round(percentile(nearValid, 99)) },
      });
      // A lookup by prefix followed by a secret comparison (or a slow hash) shows up as D near 1;
      // the bound leaves room for a busy CI machine.
      expect(d).toBeLessThan(0.2);
    } finally {
      await gw.close();
    }
  });

  describe('A3: brute force', () => {
    let limits: Record<string, string>;
    beforeAll(async () => {
      const redisUrl = await testRedisUrl();
      if (!redisUrl) throw new Error('Redis is not reachable on 127.0.0.1:6379');
      limits = { TRUST_PROXY: 'loopback', REDIS_URL: redisUrl, API_KEY_GUESSES_PER_IP: '20', API_KEY_GUESSES_PER_PREFIX: '20', RATE_LIMIT_PER_IP: '100000' };
    });
    const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });
    const randomIp = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]! | 1}`;

    it('blocks an address after 20 unknown keys (429 + Retry-After) while real keys, even from that address, keep working', async () => {
      const gw = await redisReady(await startTestGateway(t, upstream.url, limits));
      try {
        const legit = await fx.user();
        const attacker = randomIp();
        // The legitimate user's successes spend nothing.
        for (let i = 0; i < 50; i++) expect((await call(gw.url, legit.key, fromIp(attacker))).status).toBe(200);
        const statuses: number[] = [];
        let firstBlocked: Response | null = null;
        // 2,000 guesses, 20 at a time (bounded).
        for (let batch = 0; batch < 100; batch++) {
          const answers = await Promise.all(Array.from({ length: 20 }, () => call(gw.url, unknownKey(), fromIp(attacker))));
          for (const res of answers) {
            statuses.push(res.status);
            if (res.status === 429 && !firstBlocked) firstBlocked = res;
            else await res.arrayBuffer();
          }
        }
        const guessesBeforeBlock = statuses.filter((s) => s === 401).length;
        const refused429 = statuses.filter((s) => s === 429).length;
        // 503: Redis did not answer in time (a starved CPU), and the limiter failed closed.
        const refused503 = statuses.filter((s) => s === 503).length;
        recordFigures('A3', { guesses: statuses.length, guessesBeforeBlock, refused429, refused503, threshold: 20 });
        expect(guessesBeforeBlock).toBe(20);
        expect(refused429 + refused503).toBe(1_980);
        expect(refused429).toBeGreaterThan(1_000);
        expect(Number(firstBlocked!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(Number(firstBlocked!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
        expect(await firstBlocked!.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/Too many invalid credentials/) } });
        // The legitimate key still works from the blocked address; another address may still try.
        expect((await call(gw.url, legit.key, fromIp(attacker))).status).toBe(200);
        expect((await call(gw.url, unknownKey(), fromIp(randomIp()))).status).toBe(401);
        const events = await waitFor(() => t.repos.securityEvents.list({ kind: 'unauthenticated' }).then((rows) => rows.find((e) => e.reason === 'throttled' && e.clientIp === attacker)));
        expect(events).toBeTruthy();
      } finally {
        await gw.close();
      }
    });

    it('once 20 unknown keys with one prefix were tried, every address that guessed wrong gets no second guess; the owner is never locked out', async () => {
      const gw = await redisReady(await startTestGateway(t, upstream.url, limits));
      try {
        const { key } = await fx.user();
        const prefix = key.slice(0, 12);
        const statuses: number[] = [];
        // 15 addresses, two guesses each.
        for (let i = 0; i < 15; i++) {
          const ip = randomIp();
          for (let g = 0; g < 2; g++) statuses.push((await call(gw.url, unknownKey(prefix), fromIp(ip))).status);
        }
        expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
        expect(statuses.slice(20)).toEqual([401, 429, 401, 429, 401, 429, 401, 429, 401, 429]);
        // The owner, first seen now, from an address that has not failed: served.
        expect((await call(gw.url, key, fromIp(randomIp()))).status).toBe(200);
      } finally {
        await gw.close();
      }
    });

    it('never counts real keys: 40 keys used for the first time at once from one address are all served', async () => {
      const gw = await redisReady(await startTestGateway(t, upstream.url, limits));
      try {
        const users = await Promise.all(Array.from({ length: 40 }, () => fx.user()));
        const ip = randomIp();
        const statuses = await Promise.all(users.map(async (u) => (await call(gw.url, u.key, fromIp(ip))).status));
        expect(statuses.every((s) => s === 200)).toBe(true);
      } finally {
        await gw.close();
      }
    });

    it('fails closed: without Redis, a key not known to exist gets 503 with Retry-After, not an uncounted lookup', async () => {
      const deadPort = await freePort();
      const gw = await startTestGateway(t, upstream.url, { ...limits, REDIS_URL: `redis://127.0.0.1:${deadPort}` });
      try {
        const res = await call(gw.url, unknownKey(), fromIp(randomIp()));
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        await res.arrayBuffer();
      } finally {
        await gw.close();
      }
    });
  });

  describe('H3: X-Forwarded-For', () => {
    const clientIpOf = async (requestId: string) =>
      (await waitFor(() => t.repos.securityEvents.list({ requestId }).then((rows) => rows[0] ?? null))).clientIp;

    it.each([
      ['unset (trust nobody)', {}],
      ['another proxy than the caller', { TRUST_PROXY: '10.9.9.9' }],
    ] as [string, Record<string, string>][])('with TRUST_PROXY %s, a forged X-Forwarded-For changes neither the per-IP budget nor the recorded address', async (_label, env) => {
      const gw = await startTestGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '3', ...env });
      try {
        const answers: { status: number; id: string }[] = [];
        for (let i = 0; i < 5; i++) {
          const id = `h3-${randomBytes(6).toString('hex')}`;
          const res = await call(gw.url, null, { 'x-forwarded-for': `198.51.100.${i + 1}`, 'x-request-id': id });
          answers.push({ status: res.status, id });
        }
        expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 429]);
        const recorded = await clientIpOf(answers[0]!.id);
        recordFigures(`H3-${env.TRUST_PROXY ? 'other-proxy' : 'none'}`, { limiterKey: recorded, forged: '198.51.100.1', statuses: answers.map((a) => a.status) });
        expect(recorded).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      } finally {
        await gw.close();
      }
    });

    it('with TRUST_PROXY=loopback (the configured proxy is this hop), the forwarded address is the limiter key', async () => {
      const gw = await startTestGateway(t, upstream.url, { RATE_LIMIT_PER_IP: '3', TRUST_PROXY: 'loopback' });
      try {
        const id = `h3-${randomBytes(6).toString('hex')}`;
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push((await call(gw.url, null, { 'x-forwarded-for': `198.51.100.${i + 1}`, ...(i === 0 ? { 'x-request-id': id } : {}) })).status);
        expect(statuses).toEqual([401, 401, 401, 401, 401]);
        expect(await clientIpOf(id)).toBe('198.51.100.1');
      } finally {
        await gw.close();
      }
    });
  });
});
