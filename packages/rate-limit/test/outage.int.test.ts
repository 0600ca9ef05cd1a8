import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, freePort, spareRedis, uniqueId, waitFor, type SpareRedis } from '@mcpgw/test-support';
import { createRateLimiter, createRedisClient, redisHealth, type RedisClient } from '../src/index.js';

const started: SpareRedis[] = [];
const clients: RedisClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const r of started.splice(0)) await r.kill();
});

async function setup() {
  const redis = spareRedis(await freePort());
  started.push(redis);
  await redis.start();
  const { logger, lines } = captureLogger('rl-outage');
  const client = createRedisClient({ url: redis.url }, logger);
  clients.push(client);
  await waitFor(() => client.status === 'ready', 5_000, 10);
  return { redis, client, logger, lines };
}

describe('limiters when Redis fails', () => {
  it('a fail-closed (security) limiter refuses as unavailable while Redis is down, and counts in Redis again when it is back', async () => {
    const { redis, client, logger, lines } = await setup();
    const l = createRateLimiter({ name: 'login', points: 3, durationSec: 60, redis: client, logger, failClosed: true, keyPrefix: uniqueId('fc-') });
    expect(l.failClosed).toBe(true);
    expect(await l.consume('alice')).toMatchObject({ allowed: true, store: 'redis' });

    await redis.kill();
    const during = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      during.push({ r: await l.consume('alice'), ms: performance.now() - t0 });
    }
    for (const d of during) {
      expect(d.r).toMatchObject({ allowed: false, unavailable: true });
      expect(d.ms).toBeLessThan(100);
    }
    expect(l.stats().unavailable).toBe(5);

    await redis.start();
    await waitFor(async () => (await l.consume('bob')).store === 'redis', 10_000, 50);
    expect(lines.filter((x) => /redis unavailable/.test(x))).toHaveLength(1);
    expect(lines.filter((x) => /redis is back/.test(x))).toHaveLength(1);
  });

  it('R2: a hung Redis (SIGSTOP) costs one command timeout per suspension, not one per request; it is used again after SIGCONT', async () => {
    const { redis, client, logger, lines } = await setup();
    const l = createRateLimiter({ name: 'user', points: 1000, durationSec: 60, redis: client, logger, keyPrefix: uniqueId('hung-') });
    expect((await l.consume('k')).store).toBe('redis');

    redis.pause();
    const timings: number[] = [];
    const stores: string[] = [];
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      const t0 = performance.now();
      const r = await l.consume('k');
      timings.push(performance.now() - t0);
      stores.push(r.store);
      expect(r.allowed).toBe(true);
      await new Promise((res) => setTimeout(res, 5));
    }
    redis.resume();
    const slow = timings.filter((ms) => ms > 40).length;
    // Each 500 ms of suspension lets one request probe (and wait the 50 ms timeout): about 4 in 2 s.
    expect(slow).toBeLessThanOrEqual(6);
    expect(Math.max(...timings)).toBeLessThan(250);
    expect(stores.filter((s) => s === 'insurance').length).toBeGreaterThan(timings.length - 8);
    expect(lines.filter((x) => /redis unavailable/.test(x))).toHaveLength(1);

    const resumed = Date.now();
    await waitFor(async () => (await l.consume('k')).store === 'redis', 5_000, 20);
    expect(Date.now() - resumed).toBeLessThan(1_500);
    expect(lines.filter((x) => /redis is back/.test(x))).toHaveLength(1);
  });

  it('counts each outage once (mcpgw_redis_outages_total), however many decisions and reconnect attempts it takes', async () => {
    const { redis, client, logger } = await setup();
    const limiter = createRateLimiter({ name: 'user', points: 1_000, durationSec: 60, redis: client, logger, keyPrefix: uniqueId('oc-') });
    const health = redisHealth(client);
    expect((await limiter.consume('a')).store).toBe('redis');
    expect(health.outages).toBe(0);
    for (let outage = 1; outage <= 2; outage++) {
      await redis.kill();
      for (let i = 0; i < 50; i++) expect((await limiter.consume('a')).store).toBe('insurance');
      await new Promise((r) => setTimeout(r, 600)); // a few reconnect attempts fail meanwhile
      expect(health.outages).toBe(outage);
      await redis.start();
      await waitFor(async () => (await limiter.consume('a')).store === 'redis', 10_000, 50);
      expect(health.down).toBe(false);
    }
  });
});
