import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId, waitFor, recordFigures } from '@mcpgw/test-support';
import { UNAVAILABLE_META_KEY } from '../../services/mcp-proxy/src/index.js';
import { connectAs, gatewayFetch, makeIdentity, startDemoUpstream, startProxy, type Proxy } from '../../services/mcp-proxy/test/support/harness.js';
import { spawnFaultUpstream, type FaultUpstreamProcess } from '../../services/mcp-proxy/test/support/fault-upstream.process.js';
import { percentile } from './support.js';

const UPSTREAM_UNAVAILABLE = -32002;
/** The matrix restarts after 20 s; a few seconds show the same recovery in less test time. */
const DOWN_FOR_MS = 3_000;

/**
 * Test matrix R6: an upstream server process killed with SIGKILL while in use, then started again.
 * Measures time-to-error of tools/call, /mcp tools/list with one server down (the others' tools plus
 * `_meta["mcpgw/unavailable"]`), how long until GET /servers says `down`, the breaker's states, and
 * how long after the restart until the server is `up` and calls succeed, with no caller retrying.
 */
describe('R6: an upstream server killed and restarted', () => {
  let proxy: Proxy;
  let victim: FaultUpstreamProcess;
  let demo: Awaited<ReturnType<typeof startDemoUpstream>>;
  beforeAll(async () => {
    [proxy, victim, demo] = await Promise.all([
      startProxy({ env: { UPSTREAM_HEALTH_INTERVAL_SECONDS: '1', UPSTREAM_BREAKER_FAILURES: '3', UPSTREAM_BREAKER_COOLDOWN_MS: '1000' } }),
      spawnFaultUpstream(),
      startDemoUpstream(),
    ]);
  });
  afterAll(async () => {
    await victim?.kill();
    await demo?.close();
    await proxy?.close();
  });

  it('fast JSON-RPC errors, partial lists with a warning, down within a health interval, up again after the restart', async () => {
    const victimId = uniqueId('victim');
    const otherId = uniqueId('other');
    await proxy.db.repos.servers.create({ id: victimId, name: 'Victim', transport: 'streamable-http', url: victim.url, connectTimeoutMs: 2_000 });
    await proxy.db.repos.servers.create({ id: otherId, name: 'Other', transport: 'streamable-http', url: demo.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, victimId, ['*']);
    await proxy.db.repos.access.setGrant(group.id, otherId, ['*']);
    const user = makeIdentity({ groups: [group.name] });
    const all = await connectAs(proxy.url, '/mcp', user);
    const healthOf = async () => {
      const res = await gatewayFetch(user)(`${proxy.url}/servers`);
      const body = (await res.json()) as { servers: { id: string; health: { status: string; breaker: string } }[] };
      return body.servers.find((s) => s.id === victimId)!.health;
    };
    const breakerStates: string[] = [];
    const watchBreaker = setInterval(() => {
      const state = proxy.deps.upstreams.breakerOf(victimId, null).state;
      if (breakerStates.at(-1) !== state) breakerStates.push(state);
    }, 10);
    try {
      expect((await all.client.callTool({ name: `${victimId}__echo`, arguments: { text: 'up' } })).content).toEqual([{ type: 'text', text: 'up' }]);
      await waitFor(async () => (await healthOf()).status === 'up', 5_000, 100);

      await victim.kill();
      const killedAt = performance.now();
      // GET /servers polled from the kill on, beside the calls below.
      let downAfterMs: number | undefined;
      const watchingHealth = waitFor(async () => {
        if ((await healthOf()).status !== 'down') return null;
        downAfterMs = performance.now() - killedAt;
        return true;
      }, 5_000, 20);

      // tools/call: every one a -32002 JSON-RPC error, at once (refused connection, then the open breaker).
      const callMs: number[] = [];
      const messages = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const err = (await all.client.callTool({ name: `${victimId}__echo`, arguments: { text: 'x' } }).catch((e: unknown) => e)) as { code?: number; message?: string };
        callMs.push(performance.now() - t0);
        expect(err).toMatchObject({ code: UPSTREAM_UNAVAILABLE });
        messages.add(err.message!.replace(/^(MCP error -?\d+: )+/, ''));
      }
      expect(Math.max(...callMs)).toBeLessThan(1_000);

      // tools/list on /mcp: the other server's tools, the dead one named in _meta.
      const listMs: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        const listed = await all.client.listTools();
        listMs.push(performance.now() - t0);
        expect(listed.tools.map((t) => t.name)).toEqual(expect.arrayContaining([`${otherId}__echo`, `${otherId}__add`]));
        expect(listed.tools.some((t) => t.name.startsWith(`${victimId}__`))).toBe(false);
        expect(listed._meta?.[UNAVAILABLE_META_KEY]).toEqual([victimId]);
      }
      expect(percentile(listMs, 99)).toBeLessThan(1_000);

      await watchingHealth;
      expect(downAfterMs).toBeLessThan(2_500);

      const remaining = DOWN_FOR_MS - (performance.now() - killedAt);
      if (remaining > 0) await new Promise((r) => setTimeout(r, remaining));
      await victim.start();
      const restartedAt = performance.now();
      // Nobody calls: the health check (every second) is the breaker's probe.
      const upAfterMs = await waitFor(async () => ((await healthOf()).status === 'up' ? performance.now() - restartedAt : null), 10_000, 50);
      expect((await all.client.callTool({ name: `${victimId}__echo`, arguments: { text: 'back' } })).content).toEqual([{ type: 'text', text: 'back' }]);
      const callableAfterMs = performance.now() - restartedAt;
      expect(upAfterMs).toBeLessThan(3_000);
      clearInterval(watchBreaker);

      recordFigures('R6', {
        result: 'pass',
        toolsCall: { errorCode: UPSTREAM_UNAVAILABLE, messages: [...messages], p50Ms: +percentile(callMs, 50).toFixed(1), maxMs: +Math.max(...callMs).toFixed(1) },
        toolsListOneDown: { p50Ms: +percentile(listMs, 50).toFixed(1), p99Ms: +percentile(listMs, 99).toFixed(1), warning: `_meta["${UNAVAILABLE_META_KEY}"]` },
        downAfterKillMs: Math.round(downAfterMs!),
        upAfterRestartMs: Math.round(upAfterMs),
        firstCallOkAfterRestartMs: Math.round(callableAfterMs),
        breakerStates,
        settings: { UPSTREAM_HEALTH_INTERVAL_SECONDS: 1, UPSTREAM_BREAKER_FAILURES: 3, UPSTREAM_BREAKER_COOLDOWN_MS: 1000, downForMs: DOWN_FOR_MS },
      });
    } finally {
      clearInterval(watchBreaker);
      await all.close();
    }
  });
});
