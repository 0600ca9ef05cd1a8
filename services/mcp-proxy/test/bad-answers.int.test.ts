import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.js';

const UPSTREAM_UNAVAILABLE = -32002;
const MB = 1024 * 1024;

/**
 * Test matrix R9: an upstream server answering tools/call with garbage or with 50 MB. mcp-proxy
 * runs with its defaults (UPSTREAM_MAX_RESPONSE_BYTES 10 MiB); the caller gets a JSON-RPC error,
 * mcp-proxy's memory stays bounded, and the same connection goes on serving.
 */
describe('mcp-proxy: an upstream answering garbage or a huge result (R9)', () => {
  let proxy: Proxy;
  let upstream: FaultUpstream;
  beforeAll(async () => {
    [proxy, upstream] = await Promise.all([startProxy(), startFaultUpstream()]);
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  async function session() {
    const serverId = uniqueId('srv');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Fault', transport: 'streamable-http', url: upstream.url, callTimeoutMs: 10_000 });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, ['*']);
    const caller = await connectAs(proxy.url, `/mcp/${serverId}`, makeIdentity({ groups: [group.name] }));
    return { serverId, caller };
  }

  it.each([
    ['not JSON at all', 'garbage'],
    ['JSON that is not JSON-RPC', 'not-json-rpc'],
  ] as const)('%s: a JSON-RPC error naming the server, and the next call works', async (_what, mode) => {
    upstream.settings.mode = 'normal';
    const { serverId, caller } = await session();
    try {
      expect(await caller.client.callTool({ name: 'echo', arguments: { text: 'before' } })).toEqual({ content: [{ type: 'text', text: 'before' }] });
      upstream.settings.mode = mode;
      const started = performance.now();
      await expect(caller.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toMatchObject({
        code: UPSTREAM_UNAVAILABLE,
        message: expect.stringContaining(`Upstream server unavailable: ${serverId} (invalid response)`),
      });
      // Not a timeout: the bad answer is refused as soon as it is read.
      expect(performance.now() - started).toBeLessThan(1_000);
      upstream.settings.mode = 'normal';
      expect(await caller.client.callTool({ name: 'echo', arguments: { text: 'after' } })).toEqual({ content: [{ type: 'text', text: 'after' }] });
      expect(proxy.deps.upstreams.breakerOf(serverId, null).state).toBe('closed');
    } finally {
      upstream.settings.mode = 'normal';
      await caller.close();
    }
  });

  it('a 50 MB result is cut off at 10 MiB: a JSON-RPC error, memory bounded, no crash', async () => {
    upstream.settings.mode = 'normal';
    const { serverId, caller } = await session();
    try {
      await caller.client.callTool({ name: 'echo', arguments: { text: 'warm up' } });
      upstream.settings.mode = 'huge';
      upstream.settings.hugeBytes = 50 * MB;
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }, 5);
      const started = performance.now();
      // Three in a row: a leak would add up.
      for (let i = 0; i < 3; i++) {
        await expect(caller.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toMatchObject({
          code: UPSTREAM_UNAVAILABLE,
          message: expect.stringContaining(`Upstream server unavailable: ${serverId} (response too large)`),
        });
      }
      const ms = (performance.now() - started) / 3;
      clearInterval(sampler);
      const deltaMb = (rssPeak - rssBefore) / MB;
      console.info(`R9 huge: 3 × 50 MB answers refused, ${ms.toFixed(0)} ms each, RSS ${(rssBefore / MB).toFixed(0)} MB, peak delta ${deltaMb.toFixed(1)} MB`);
      // 10 MiB read per answer (and the JSON parser never sees it); three unbounded answers would be 150 MB+.
      expect(deltaMb).toBeLessThan(60);
      upstream.settings.mode = 'normal';
      expect(await caller.client.callTool({ name: 'echo', arguments: { text: 'still here' } })).toEqual({ content: [{ type: 'text', text: 'still here' }] });
    } finally {
      upstream.settings.mode = 'normal';
      await caller.close();
    }
  });
});
