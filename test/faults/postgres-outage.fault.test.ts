import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createRepos, runMigrations, type Db } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { createFixtures, freePort, silentLogger, sparePostgres, sparePostgresAvailable, waitFor, type SparePostgres } from '@mcpgw/test-support';
import { buildGatewayDeps, createGatewayApp, readConfig } from '@mcpgw/gateway';
import { fastUpstream, latency, openLoop, report } from './support.js';

/**
 * The analytics pipeline across a 10-second PostgreSQL outage under steady load (R4 for analytics):
 * requests keep being served (API keys cached), rows wait in memory and are all written when the
 * database is back. Our own Postgres cluster on a spare port, stopped with `pg_ctl stop -m
 * immediate` and started again; never the shared one.
 */
describe.skipIf(!sparePostgresAvailable())('analytics across a PostgreSQL outage', () => {
  let pg: SparePostgres;
  let db: Db;
  let upstream: Awaited<ReturnType<typeof fastUpstream>>;
  let gw: { url: string; deps: ReturnType<typeof buildGatewayDeps>; close(): Promise<void> };

  beforeAll(async () => {
    pg = await sparePostgres(await freePort());
    await pg.start();
    db = createDb({ url: pg.url, schema: 'mcpgw', poolMax: 2 });
    await runMigrations(db);
    upstream = await fastUpstream();
    const config = readConfig({
      DATABASE_URL: pg.url,
      GATEWAY_SIGNING_SECRET: 'fault-test-secret-0123456789abcdef0123456789',
      MCP_PROXY_URL: upstream.url,
      API_KEY_CACHE_SECONDS: '300',
      IDENTITY_CACHE_SECONDS: '300',
      RATE_LIMIT_PER_MINUTE: '100000',
      ANALYTICS_FLUSH_MS: '200',
    });
    const deps = buildGatewayDeps(config, silentLogger('gateway'));
    const app = createGatewayApp(deps);
    const server = await listen(app.app, { host: '127.0.0.1', port: 0 });
    gw = {
      url: server.url,
      deps,
      async close() {
        await server.close(100);
        app.close();
        await deps.close();
      },
    };
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await db?.close().catch(() => undefined);
    await pg?.destroy();
  });

  it('none lost: 100 rps for 20 s with Postgres stopped from 5 s to 15 s; every row written after it returns', async () => {
    const { user, key } = await createFixtures(createRepos(db.pool)).user();
    const call = () => fetch(`${gw.url}/mcp/demo`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}' });
    expect((await call()).status).toBe(200); // the key is cached from here on
    await gw.deps.traffic.analytics!.flush(5_000);

    const marks = { stoppedAt: 0, startedAt: 0, backlogWrittenAt: 0 };
    // After the restart: when the backlog is written and only the current second's rows wait.
    const poll = setInterval(() => {
      if (marks.startedAt && !marks.backlogWrittenAt && gw.deps.traffic.analytics!.stats().queued <= 60) marks.backlogWrittenAt = performance.now();
    }, 10);
    const samples = await openLoop(100, 20_000, () => call(), [
      { at: 5_000, run: async () => { await pg.stop(); marks.stoppedAt = performance.now(); } },
      { at: 15_000, run: async () => { await pg.start(); marks.startedAt = performance.now(); } },
    ]);
    const peakDuringOutage = gw.deps.traffic.analytics!.stats().highWater;
    await waitFor(() => gw.deps.traffic.analytics!.stats().queued === 0, 30_000, 20);
    clearInterval(poll);

    const answered = samples.filter((s) => s.requestId !== null);
    const { rows } = await db.query<{ n: number; distinct_ids: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS distinct_ids FROM analytics_events WHERE user_id = $1`,
      [user.id],
    );
    const sentIds = new Set(answered.map((s) => s.requestId));
    const { rows: stored } = await db.query<{ request_id: string }>('SELECT request_id FROM analytics_events WHERE user_id = $1', [user.id]);
    const missing = [...sentIds].filter((id) => !stored.some((r) => r.request_id === id));
    const stats = gw.deps.traffic.analytics!.stats();
    const figures = {
      requests: samples.length,
      served200: samples.filter((s) => s.status === 200).length,
      otherStatus: samples.filter((s) => s.status !== 200).length,
      rowsExpected: answered.length + 1,
      rowsWritten: rows[0]!.n,
      rowsLost: missing.length,
      duplicates: rows[0]!.n - rows[0]!.distinct_ids,
      dropped: stats.dropped,
      queueHighWater: peakDuringOutage,
      failedFlushes: stats.failedFlushes,
      backlogWrittenAfterRestartMs: Math.round(marks.backlogWrittenAt - marks.startedAt),
      outageMs: Math.round(marks.startedAt - marks.stoppedAt),
      latencyBefore: latency(samples.filter((s) => s.at < 5_000)),
      latencyDuringOutage: latency(samples.filter((s) => s.at >= 5_000 && s.at < 15_000)),
      latencyAfter: latency(samples.filter((s) => s.at >= 15_000)),
    };
    report('analytics-postgres-outage', figures);
    expect(figures.otherStatus).toBe(0);
    expect(figures.rowsLost).toBe(0);
    expect(figures.dropped).toBe(0);
    expect(figures.rowsWritten).toBeGreaterThanOrEqual(figures.rowsExpected);
    expect(figures.failedFlushes).toBeGreaterThan(0); // the outage really happened
    expect(figures.queueHighWater).toBeGreaterThan(500);
  });
});
