import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createFixtures, freePort, spareRedis, uniqueId, type SpareRedis, recordFigures } from '@mcpgw/test-support';
import { initializeBody, makeIdentity, rawPost, startDemoUpstream, startProxy, type Proxy } from '../../services/mcp-proxy/test/support/harness.js';

/** Bounded by count; X5_SESSIONS=100000 for the matrix's long form. */
const FLOOD = Number(process.env.X5_SESSIONS ?? 2_000);
const CAP = 50; // MCP_SESSIONS_PER_USER's default
const PARALLEL = 20;
const MB = 1024 * 1024;
setFlagsFromString('--expose-gc');
/** A full collection, so heap figures are what is still referenced. */
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / MB;
};
const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/**
 * Test matrix X5: one user sends initialize in a loop and never DELETEs. Session records live in a
 * Redis of this test's own (so used_memory is this flood's alone). The per-user cap
 * (MCP_SESSIONS_PER_USER) holds the user's sessions at 50 in Redis and in mcp-proxy, the oldest
 * are evicted (404), and memory stays flat however long the flood goes on.
 */
describe('X5: a session flood from one user', () => {
  let redis: SpareRedis;
  let client: Redis;
  let proxy: Proxy;
  let demo: Awaited<ReturnType<typeof startDemoUpstream>>;
  beforeAll(async () => {
    redis = spareRedis(await freePort());
    await redis.start();
    client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    [proxy, demo] = await Promise.all([startProxy({ env: { REDIS_URL: redis.url } }), startDemoUpstream()]);
  });
  afterAll(async () => {
    await demo?.close();
    await proxy?.close();
    client?.disconnect();
    await redis?.kill();
  });

  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const sessionKeys = async () => (await client.keys(`mcpgw:${proxy.db.schema}:mcp-session:*`)).length;

  it(`${FLOOD} initializes without DELETE: ${CAP} sessions kept, the oldest evicted (404), Redis memory flat`, async () => {
    const serverId = uniqueId('demo');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: demo.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, ['*']);
    const flooder = makeIdentity({ groups: [group.name] });
    const bystander = makeIdentity({ groups: [group.name] });
    const url = `${proxy.url}/mcp`;
    const open = async (identity = flooder) => {
      const res = await rawPost(url, initializeBody(), { identity });
      expect(res.status).toBe(200);
      await res.body?.cancel();
      return res.headers.get('mcp-session-id')!;
    };

    const theirs = await open(bystander);
    const first = await open();
    const memoryBefore = await usedMemory();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = heapMb();
    const samples: { opened: number; usedMemory: number; keys: number; local: number }[] = [];
    const started = performance.now();
    let opened = 1;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (opened < FLOOD) {
          const n = (opened += 1);
          await open();
          if (n % Math.ceil(FLOOD / 5) === 0) {
            samples.push({ opened: n, usedMemory: await usedMemory(), keys: await sessionKeys(), local: proxy.deps.sessions.size() });
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const memoryAfter = await usedMemory();
    const keysAfter = await sessionKeys();
    const rssDeltaMb = (process.memoryUsage().rss - rssBefore) / MB;
    const heapDeltaMb = heapMb() - heapBefore;

    // The cap: the flooder's 50 and the bystander's one, in Redis and running here.
    expect(keysAfter).toBeLessThanOrEqual(CAP + 1);
    expect(proxy.deps.sessions.size()).toBeLessThanOrEqual(CAP + 1);
    expect(samples.every((s) => s.keys <= CAP + 1 + PARALLEL)).toBe(true);
    // The oldest is gone; another user's session is untouched.
    const evicted = await rawPost(url, listTools, { identity: flooder, sessionId: first });
    expect(evicted.status).toBe(404);
    await evicted.body?.cancel();
    const untouched = await rawPost(url, listTools, { identity: bystander, sessionId: theirs });
    expect(untouched.status).toBe(200);
    await untouched.body?.cancel();
    // Flat: what 50 records take, not what thousands would (about 1 KB each).
    expect(memoryAfter - memoryBefore).toBeLessThan(1 * MB);
    // mcp-proxy's own heap (after a full GC) holds the 51 sessions, not the evicted thousands.
    expect(heapDeltaMb).toBeLessThan(30);

    recordFigures('X5', {
      result: 'pass',
      initializes: FLOOD,
      seconds: +seconds.toFixed(1),
      perSecond: Math.round(FLOOD / seconds),
      cap: CAP,
      redisSessionKeys: keysAfter,
      sessionsRunningHere: proxy.deps.sessions.size(),
      redisUsedMemoryDeltaKb: Math.round((memoryAfter - memoryBefore) / 1024),
      redisUsedMemoryMb: +(memoryAfter / MB).toFixed(2),
      rssDeltaMb: +rssDeltaMb.toFixed(1),
      heapDeltaAfterGcMb: +heapDeltaMb.toFixed(1),
      samples,
      evictedOldest: 404,
    });
  }, 60_000 + FLOOD * 30);
});
