import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.js';

const CALLS = 150;

/**
 * Test matrix R12: an upstream server answering 503 to half of all requests must not be sent
 * more than 1.2 requests per caller request (counted at the server), whatever mcp-proxy does to
 * recover: no retry of tools/call, and no reconnect storm (a 503 is an answer, not a broken
 * connection).
 */
describe('mcp-proxy: an upstream refusing half its requests with 503 (R12)', () => {
  let proxy: Proxy;
  let upstream: FaultUpstream;
  beforeAll(async () => {
    [proxy, upstream] = await Promise.all([startProxy(), startFaultUpstream()]);
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  it(`${CALLS} tools/call and ${CALLS} tools/list: upstream requests ÷ caller requests ≤ 1.2`, async () => {
    const serverId = uniqueId('srv');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Flaky', transport: 'streamable-http', url: upstream.url, callTimeoutMs: 5_000 });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, ['*']);
    const caller = await connectAs(proxy.url, `/mcp/${serverId}`, makeIdentity({ groups: [group.name] }));
    try {
      await caller.client.listTools(); // connected upstream while the server is still well
      upstream.settings.mode = 'flaky-503';
      const before = upstream.counts();
      const outcomes = { ok: 0, upstreamError: 0, breakerOpen: 0 };
      const breakerStates: string[] = [];
      for (let i = 0; i < CALLS * 2; i++) {
        const call = i % 2 === 0 ? caller.client.callTool({ name: 'echo', arguments: { text: `n${i}` } }) : caller.client.listTools();
        await call.then(
          () => (outcomes.ok += 1),
          (err: Error) => (/circuit open/.test(err.message) ? (outcomes.breakerOpen += 1) : (outcomes.upstreamError += 1)),
        );
        const state = proxy.deps.upstreams.breakerOf(serverId, null).state;
        if (breakerStates.at(-1) !== state) breakerStates.push(state);
      }
      const after = upstream.counts();
      const posts = after.posts - before.posts;
      const calls = (after.byMethod['tools/call'] ?? 0) - (before.byMethod['tools/call'] ?? 0);
      const ratio = posts / (CALLS * 2);
      console.info(
        `R12: ${CALLS * 2} caller requests → ${posts} upstream POSTs (ratio ${ratio.toFixed(2)}; tools/call ${calls}/${CALLS}), ` +
          `${after.refused - before.refused} refused with 503 (${JSON.stringify(after.byMethod)}); caller saw ${JSON.stringify(outcomes)}; breaker ${breakerStates.join('→')}`,
      );
      expect(ratio).toBeLessThanOrEqual(1.2);
      // tools/call is never repeated: a 503 may come from a server that ran the call.
      expect(calls).toBeLessThanOrEqual(CALLS);
      // Half succeed, give or take the breaker's fast failures.
      expect(outcomes.ok).toBeGreaterThan(CALLS * 0.5);
    } finally {
      upstream.settings.mode = 'normal';
      await caller.close();
    }
  });
});
