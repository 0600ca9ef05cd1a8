import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { captureLogger, freePort, silentLogger, testRedisUrl, uniqueId, waitFor } from '@mcpgw/test-support';
import { createRateLimiter, createRedisClient, type RedisClient } from '../src/index.js';

const sharedUrl = await testRedisUrl();

/** Clients and child processes this file opened, closed again after each test. */
const clients: Redis[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

function track<T extends Redis>(client: T): T {
  clients.push(client);
  return client;
}

/** A plain client for inspecting Redis from the outside. */
function probe(url: string): Redis {
  return track(new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false }));
}

const ready = (client: RedisClient) =>
  waitFor(() => client.status === 'ready', 5_000, 10).then(() => undefined);

async function deleteKeys(url: string, prefix: string) {
  const c = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await c.keys(`${prefix}*`);
    if (keys.length > 0) await c.del(...keys);
  } finally {
    c.disconnect();
  }
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => {
      s.write('PING\r\n');
      s.once('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  });
}

/** Our own throw-away Redis on a spare port; never the shared one. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: 'ignore' },
  );
  children.push(child);
  await waitFor(() => pong(port), 5_000, 20);
  return child;
}

async function kill(child: ChildProcess) {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

describe.skipIf(sharedUrl === null)('Redis limiter on the shared Redis', () => {
  const url = sharedUrl!;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = uniqueId('mcpgw-test-rl-');
    prefixes.push(p);
    return p;
  };

  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(url, p);
  });

  it('counts in Redis under <prefix>:<name>:<key> with the window as TTL', async () => {
    const keyPrefix = newPrefix();
    const client = track(createRedisClient({ url }, silentLogger()));
    await ready(client);
    const l = createRateLimiter({ name: 'user', points: 3, durationSec: 60, redis: client, keyPrefix, logger: silentLogger() });
    expect(l.store).toBe('shared');

    const results = [];
    for (let i = 0; i < 5; i++) results.push(await l.consume('u1'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
    expect(results[3]!.resetMs).toBeGreaterThan(0);
    expect(results[3]!.resetMs).toBeLessThanOrEqual(60_000);

    const p = probe(url);
    expect(await p.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}:user:u1`]);
    expect(Number(await p.get(`${keyPrefix}:user:u1`))).toBe(5);
    const ttl = await p.pttl(`${keyPrefix}:user:u1`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('X9: two instances (two clients, same prefix) share one budget: 300 concurrent consumes, points=100 → exactly 100', async () => {
    const keyPrefix = newPrefix();
    const a = track(createRedisClient({ url }, silentLogger()));
    const b = track(createRedisClient({ url }, silentLogger()));
    await Promise.all([ready(a), ready(b)]);
    const opts = { name: 'user', points: 100, durationSec: 60, keyPrefix, logger: silentLogger() };
    const la = createRateLimiter({ ...opts, redis: a });
    const lb = createRateLimiter({ ...opts, redis: b });

    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? la : lb).consume('tenant-a')));
    const allowedA = results.filter((r, i) => r.allowed && i % 2 === 0).length;
    const allowedB = results.filter((r, i) => r.allowed && i % 2 === 1).length;
    expect(allowedA + allowedB).toBe(100);
    // both instances took part in the one budget
    expect(allowedA).toBeGreaterThan(0);
    expect(allowedB).toBeGreaterThan(0);
    expect(Number(await probe(url).get(`${keyPrefix}:user:tenant-a`))).toBe(300);
  });

  it('keeps limiters with different prefixes or names apart', async () => {
    const client = track(createRedisClient({ url }, silentLogger()));
    await ready(client);
    const base = { points: 1, durationSec: 60, redis: client, logger: silentLogger() };
    const p1 = newPrefix();
    const p2 = newPrefix();
    const user = createRateLimiter({ ...base, name: 'user', keyPrefix: p1 });
    const ip = createRateLimiter({ ...base, name: 'ip', keyPrefix: p1 });
    const other = createRateLimiter({ ...base, name: 'user', keyPrefix: p2 });
    expect((await user.consume('k')).allowed).toBe(true);
    expect((await ip.consume('k')).allowed).toBe(true);
    expect((await other.consume('k')).allowed).toBe(true);
    expect((await user.consume('k')).allowed).toBe(false);
  });
});

describe('Redis limiter when Redis goes away (R1)', () => {
  it('falls back to in-process counters quickly, logs it, and returns to Redis when it is back', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let redis = await startRedis(port);

    const { logger, lines } = captureLogger('rl-test');
    const client = track(createRedisClient({ url }, logger));
    await ready(client);
    const keyPrefix = uniqueId('rl-r1-');
    const limiter = createRateLimiter({ name: 'user', points: 3, durationSec: 60, redis: client, keyPrefix, logger });

    // 1. Redis up: the count lives in Redis.
    expect((await limiter.consume('before')).allowed).toBe(true);
    {
      const p = probe(url);
      expect(await p.get(`${keyPrefix}:user:before`)).toBe('1');
      p.disconnect();
    }

    // 2. Redis killed: every consume still answers fast and still limits.
    await kill(redis);
    const during = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const r = await limiter.consume('during');
      during.push({ allowed: r.allowed, ms: performance.now() - started });
    }
    expect(during.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    for (const d of during) expect(d.ms).toBeLessThan(200);

    await waitFor(() => lines.some((l) => /redis unavailable/i.test(l)), 5_000);
    const down = lines.filter((l) => /redis unavailable/i.test(l));
    expect(down).toHaveLength(1); // one line per outage, not one per reconnect attempt
    expect(JSON.parse(down[0]!)).toMatchObject({ level: 'warn', redis: `redis://127.0.0.1:${port}` });

    // Still fast and still limiting after the client has noticed and is reconnecting.
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const r = await limiter.consume('during');
      expect(r.allowed).toBe(false);
      expect(performance.now() - started).toBeLessThan(200);
    }

    // 3. Redis back on the same port (empty: no persistence): the limiter uses it again.
    redis = await startRedis(port);
    await waitFor(() => lines.some((l) => /redis is back/i.test(l)), 10_000);
    await ready(client);
    expect((await limiter.consume('after')).allowed).toBe(true);
    const p = probe(url);
    expect(await p.keys(`${keyPrefix}*`)).toEqual([`${keyPrefix}:user:after`]);
    expect(await p.get(`${keyPrefix}:user:after`)).toBe('1');
    expect(lines.filter((l) => /redis is back/i.test(l))).toHaveLength(1);
  });

  it('answers from in-process counters when Redis was never reachable', async () => {
    const port = await freePort(); // nothing listens here
    const { logger, lines } = captureLogger('rl-test');
    const client = track(createRedisClient({ url: `redis://127.0.0.1:${port}` }, logger));
    const limiter = createRateLimiter({
      name: 'user',
      points: 2,
      durationSec: 60,
      redis: client,
      keyPrefix: uniqueId('rl-none-'),
      logger,
    });
    const results = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      results.push(await limiter.consume('k'));
      expect(performance.now() - started).toBeLessThan(200);
    }
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    await waitFor(() => lines.some((l) => /redis unavailable/i.test(l)), 5_000);
  });
});
