import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { UNAVAILABLE_META_KEY } from '../src/index.js';
import { connectAs, makeIdentity, startDemoUpstream, startProxy, type Proxy } from './support/harness.js';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.js';

const UPSTREAM_UNAVAILABLE = -32002;
const CALL_TIMEOUT_MS = 400;
const LIST_TIMEOUT_MS = 600;
const CONCURRENT = 40;

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

/**
 * Test matrix R7: an upstream server that accepts connections and never answers. Calls end at the
 * server's call timeout, /mcp lists end at UPSTREAM_LIST_TIMEOUT_MS with the other servers' tools,
 * and the sockets the unanswered requests hold are closed soon after their timeout (not when the
 * HTTP client gives up after minutes), so a hanging server cannot pile up connections.
 */
describe('mcp-proxy: an upstream that accepts and never answers (R7)', () => {
  let proxy: Proxy;
  let hanging: FaultUpstream;
  let demo: Awaited<ReturnType<typeof startDemoUpstream>>;
  beforeAll(async () => {
    [proxy, hanging, demo] = await Promise.all([
      startProxy({ env: { UPSTREAM_LIST_TIMEOUT_MS: String(LIST_TIMEOUT_MS), UPSTREAM_BREAKER_FAILURES: '1000' } }),
      startFaultUpstream(),
      startDemoUpstream(),
    ]);
  });
  afterAll(async () => {
    await hanging?.close();
    await demo?.close();
    await proxy?.close();
  });

  it(`${CONCURRENT} concurrent calls and 3 lists end at their timeouts with partial lists; the requests are abandoned and the sockets closed`, async () => {
    const hangId = uniqueId('hang');
    const upId = uniqueId('up');
    await proxy.db.repos.servers.create({ id: hangId, name: 'Hangs', transport: 'streamable-http', url: hanging.url, callTimeoutMs: CALL_TIMEOUT_MS, connectTimeoutMs: 1_000 });
    await proxy.db.repos.servers.create({ id: upId, name: 'Demo', transport: 'streamable-http', url: demo.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, hangId, ['*']);
    await proxy.db.repos.access.setGrant(group.id, upId, ['*']);
    const user = makeIdentity({ groups: [group.name] });
    const all = await connectAs(proxy.url, '/mcp', user);
    try {
      expect((await all.client.listTools()).tools.map((t) => t.name)).toContain(`${hangId}__echo`); // connected while well
      hanging.settings.mode = 'hang';
      const rssBefore = process.memoryUsage().rss;

      // Calls: every one ends at the call timeout with -32002 (timed out).
      const started = performance.now();
      const timings = await Promise.all(
        Array.from({ length: CONCURRENT }, async () => {
          const t0 = performance.now();
          const err = await all.client.callTool({ name: `${hangId}__echo`, arguments: { text: 'x' } }).catch((e: unknown) => e);
          expect(err).toMatchObject({ code: UPSTREAM_UNAVAILABLE, message: expect.stringContaining(`Upstream server unavailable: ${hangId} (timed out)`) });
          return performance.now() - t0;
        }),
      );
      const peak = hanging.counts().peakSockets;
      expect(Math.max(...timings)).toBeLessThan(CALL_TIMEOUT_MS + 2_000);
      expect(Math.min(...timings)).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 50);

      // Lists: the other server's tools within the list timeout, the hanging one named in _meta.
      const listMs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const l0 = performance.now();
        const listed = await all.client.listTools();
        listMs.push(performance.now() - l0);
        expect(listed.tools.map((t) => t.name)).toContain(`${upId}__echo`);
        expect(listed._meta?.[UNAVAILABLE_META_KEY]).toEqual([hangId]);
      }
      expect(Math.max(...listMs)).toBeLessThan(LIST_TIMEOUT_MS + 1_000);
      const lastTimeout = performance.now();

      // The unanswered requests are abandoned about a second after their timeout (the HTTP
      // client's own limit is minutes); their sockets close, and the idle ones it may have opened
      // meanwhile go after its keep-alive time (4 s).
      const abandonedAfter = await waitFor(() => (hanging.counts().inFlight === 0 ? performance.now() - lastTimeout : null), 10_000, 20);
      const closedAfter = await waitFor(() => (hanging.counts().openSockets <= 1 ? performance.now() - lastTimeout : null), 15_000, 50);
      const rssDeltaMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
      console.info(
        `R7: ${CONCURRENT} concurrent calls to a hanging server: p50 ${percentile(timings, 50).toFixed(0)} ms, max ${Math.max(...timings).toFixed(0)} ms ` +
          `(call timeout ${CALL_TIMEOUT_MS}); /mcp tools/list p50 ${percentile(listMs, 50).toFixed(0)} ms, max ${Math.max(...listMs).toFixed(0)} ms ` +
          `(list timeout ${LIST_TIMEOUT_MS}); at the server: peak ${peak} sockets, requests abandoned ${abandonedAfter.toFixed(0)} ms after the last timeout, ` +
          `sockets ≤ 1 after ${closedAfter.toFixed(0)} ms; RSS delta ${rssDeltaMb.toFixed(1)} MB`,
      );
      // Connecting (1 s) is the longest budget here, plus the grace of 1 s.
      expect(abandonedAfter).toBeLessThan(2_000 + 1_500);
      expect(peak).toBeLessThanOrEqual(CONCURRENT * 2 + 2); // each call and its cancellation
    } finally {
      hanging.settings.mode = 'normal';
      await all.close();
    }
  });
});
