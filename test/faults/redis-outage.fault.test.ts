import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '@mcpgw/http';
import { createFixtures, createTestDatabase, freePort, silentLogger, spareRedis, waitFor, type SpareRedis, type TestDatabase, recordFigures } from '@mcpgw/test-support';
import { buildGatewayDeps, createGatewayApp, readConfig } from '@mcpgw/gateway';
import { redisHealth } from '@mcpgw/rate-limit';
import { fastUpstream, latency, openLoop } from './support.js';

const METRICS_TOKEN = 'fault-test-metrics-token-0123456789abcdef';

/** One sample of a Prometheus counter (summed over the series matching every `labels` pair). */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * R1 (Redis stopped mid-load), R2 (Redis hung) and R3 (Redis slow) at the gateway: requests keep flowing on the
 * insurance limiter, nobody waits on Redis, /gateway/health says degraded, and the gateway goes
 * back to Redis by itself. Our own Redis on a spare port; never the shared one.
 */
describe('gateway under a Redis outage (R1, R2, R3)', () => {
  let t: TestDatabase;
  let redis: SpareRedis;
  let upstream: Awaited<ReturnType<typeof fastUpstream>>;
  let gw: { url: string; deps: ReturnType<typeof buildGatewayDeps>; close(): Promise<void> };
  let keys: string[];
  let greedy: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    redis = spareRedis(await freePort());
    await redis.start();
    upstream = await fastUpstream();
    const config = readConfig({
      DATABASE_URL: t.url,
      DB_SCHEMA: t.schema,
      GATEWAY_SIGNING_SECRET: 'fault-test-secret-0123456789abcdef0123456789',
      MCP_PROXY_URL: upstream.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_MINUTE: '100',
      API_KEY_CACHE_SECONDS: '300',
      ENABLE_API_ANALYTICS: 'false',
      METRICS_TOKEN: METRICS_TOKEN,
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
    const fx = createFixtures(t.repos);
    keys = [];
    for (let i = 0; i < 40; i++) keys.push((await fx.user()).key);
    greedy = (await fx.user()).key;
    await waitFor(() => deps.redis?.status === 'ready', 5_000);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await redis?.kill();
    await t?.cleanup();
  });

  const signIn = () =>
    fetch(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"nobody@fault.test","password":"wrong-password"}' });
  const call = (key: string) => fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
  /** Every decision of the user limiter: when, how long it took, which store answered. */
  const decisions: { at: number; ms: number; store: string }[] = [];
  let timing = false;
  const timeDecisions = () => {
    if (timing) return;
    timing = true;
    const limiter = gw.deps.userLimiter;
    const consume = limiter.consume.bind(limiter);
    limiter.consume = async (key, cost) => {
      const t0 = performance.now();
      const r = await consume(key, cost);
      decisions.push({ at: t0, ms: performance.now() - t0, store: r.store });
      return r;
    };
  };
  const decisionFigures = (from: number, to: number) => {
    const d = decisions.filter((x) => x.at >= from && x.at < to);
    const ms = d.map((x) => x.ms).sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      n: d.length,
      insurance: d.filter((x) => x.store === 'insurance').length,
      p99: round(ms[Math.max(0, Math.ceil(ms.length * 0.99) - 1)] ?? 0),
      max: round(ms.at(-1) ?? 0),
      over55ms: d.filter((x) => x.ms > 55).length,
    };
  };
  /** Decisions the user limiter made on Redis so far. */
  const redisDecisions = () => {
    const s = gw.deps.userLimiter.stats();
    return s.allowed + s.limited + s.unavailable - s.insurance;
  };

  it('R1: Redis killed at 3 s and restarted at 8 s under 150 rps: nothing lost, no wait on Redis, limits keep holding', async () => {
    for (const key of [...keys, greedy]) expect((await call(key)).status).toBe(200); // warm the key cache
    timeDecisions();
    const loadStart = performance.now();
    const marks = { killedAt: 0, detectedAt: 0, restartedAt: 0, recoveredAt: 0, healthDuring: '', readyDuring: '', signInDuring: 0 };
    const poll = setInterval(() => {
      const now = performance.now();
      if (marks.killedAt && !marks.detectedAt && gw.deps.userLimiter.stats().insurance > 0) marks.detectedAt = now;
      if (marks.restartedAt && !marks.recoveredAt && redisDecisions() > recoveredBase) marks.recoveredAt = now;
    }, 2);
    let recoveredBase = Number.POSITIVE_INFINITY;
    let greedyAccepted = 0;
    let greedySent = 0;
    const samples = await openLoop(
      150,
      12_000,
      (i) => {
        if (i % 6 === 0) {
          greedySent += 1;
          return call(greedy).then((r) => {
            if (r.status === 200) greedyAccepted += 1;
            return r;
          });
        }
        return call(keys[i % keys.length]!);
      },
      [
        { at: 3_000, run: async () => { marks.killedAt = performance.now(); await redis.kill(); } },
        {
          at: 5_500,
          run: async () => {
            // Security limiters fail closed: the sign-in throttle cannot count, so sign-in is refused.
            // (First and concurrently: on a saturated VM these probes can take seconds each.)
            const signInStatus = signIn().then((r) => r.status);
            marks.healthDuring = ((await (await fetch(`${gw.url}/gateway/health`)).json()) as { redis: string }).redis;
            const ready = await fetch(`${gw.url}/gateway/ready`);
            marks.readyDuring = `${ready.status} ${((await ready.json()) as { checks: { redis: string } }).checks.redis}`;
            marks.signInDuring = await signInStatus;
          },
        },
        { at: 8_000, run: async () => { await redis.start(); marks.restartedAt = performance.now(); recoveredBase = redisDecisions(); } },
      ],
    );
    await waitFor(() => marks.recoveredAt > 0, 10_000, 10).catch(() => undefined);
    clearInterval(poll);

    const lost = samples.filter((s) => s.status !== 200 && s.status !== 429);
    const during = samples.filter((s) => s.at >= 3_000 && s.at < 8_000);
    const figures = {
      requests: samples.length,
      served: samples.filter((s) => s.status === 200).length,
      limited429: samples.filter((s) => s.status === 429).length,
      lost: lost.length,
      before: latency(samples.filter((s) => s.at < 3_000)),
      duringOutage: latency(during),
      after: latency(samples.filter((s) => s.at >= 8_000)),
      requestsOver50ms: during.filter((s) => s.ms > 50).length,
      limiterDecisionsDuringOutage: decisionFigures(loadStart + 3_000, loadStart + 8_000),
      detectMs: Math.round(marks.detectedAt - marks.killedAt),
      recoverMs: Math.round(marks.recoveredAt - marks.restartedAt),
      healthDuringOutage: marks.healthDuring,
      readyDuringOutage: marks.readyDuring,
      signInDuringOutage: marks.signInDuring,
      greedy: { limit: 100, sent: greedySent, accepted: greedyAccepted },
    };
    recordFigures('R1', figures);
    expect(figures.lost).toBe(0);
    expect(figures.healthDuringOutage).toBe('degraded');
    // Still serving on the insurance counters, so still in the load balancer.
    expect(figures.readyDuringOutage).toBe('200 degraded');
    expect(figures.signInDuringOutage).toBe(503);
    expect((await signIn()).status).toBe(401); // counted again: a wrong password is refused as usual
    expect(marks.detectedAt).toBeGreaterThan(0);
    expect(marks.recoveredAt).toBeGreaterThan(0);
    // No decision waited on the dead Redis: the insurance counters answer at once.
    expect(figures.limiterDecisionsDuringOutage.insurance).toBeGreaterThan(500);
    expect(figures.limiterDecisionsDuringOutage.over55ms).toBeLessThanOrEqual(10);
    expect(figures.duringOutage.max).toBeLessThan(3_000); // end to end: nothing hangs (CPU noise aside)
    // Insurance starts an empty count and the restarted Redis (no persistence) another: at most 3 × L in this one window.
    expect(greedyAccepted).toBeLessThanOrEqual(300);
    expect(greedyAccepted).toBeGreaterThanOrEqual(100);
    expect(((await (await fetch(`${gw.url}/gateway/health`)).json()) as { redis: string }).redis).toBe('ok');
  });

  it('R2: Redis hung (SIGSTOP) for 4 s under 150 rps: no request hangs, at most one command timeout per half second', async () => {
    await waitFor(() => gw.deps.redis?.status === 'ready', 10_000);
    let resumedAt = 0;
    let recoveredAt = 0;
    let base = Number.POSITIVE_INFINITY;
    let healthDuringHang = '';
    const health = async () => ((await (await fetch(`${gw.url}/gateway/health`)).json()) as { redis: string }).redis;
    const poll = setInterval(() => {
      if (resumedAt && !recoveredAt && redisDecisions() > base) recoveredAt = performance.now();
    }, 2);
    const loadStart = performance.now();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const samples = await openLoop(150, 8_000, (i) => call(keys[i % keys.length]!), [
      { at: 2_000, run: () => redis.pause() },
      // The connection stays open while Redis hangs: health must still say the limits run degraded.
      { at: 4_000, run: () => void health().then((h) => (healthDuringHang = h)) },
      { at: 6_000, run: () => { redis.resume(); resumedAt = performance.now(); base = redisDecisions(); } },
    ]);
    await waitFor(() => recoveredAt > 0, 10_000, 10).catch(() => undefined);
    clearInterval(poll);
    const during = samples.filter((s) => s.at >= 2_000 && s.at < 6_000);
    const figures = {
      requests: samples.length,
      lost: samples.filter((s) => s.status !== 200 && s.status !== 429).length,
      before: latency(samples.filter((s) => s.at < 2_000)),
      duringHang: latency(during),
      requestsOver50ms: during.filter((s) => s.ms > 50).length,
      requestsOver1s: during.filter((s) => s.ms > 1_000).length,
      limiterDecisionsDuringHang: decisionFigures(loadStart + 2_000, loadStart + 6_000),
      recoverMs: Math.round(recoveredAt - resumedAt),
      eventLoopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) },
      healthDuringHang,
    };
    loopDelay.disable();
    recordFigures('R2', figures);
    expect(figures.lost).toBe(0);
    expect(figures.healthDuringHang).toBe('degraded');
    // Without the 500 ms suspension every decision would wait the 50 ms deadline (about 600 here).
    const hang = figures.limiterDecisionsDuringHang;
    // Past the 50 ms deadline only by the event loop's own lateness (timers fire late on a busy VM).
    expect(hang.over55ms <= 5 || hang.p99 <= 55 + figures.eventLoopDelayMs.max).toBe(true);
    expect(hang.max).toBeLessThan(1_000);
    expect(decisions.filter((d) => d.at >= loadStart + 2_000 && d.at < loadStart + 6_000 && d.ms > 45).length).toBeLessThanOrEqual(40);
    expect(figures.requestsOver1s).toBe(0);
    expect(recoveredAt).toBeGreaterThan(0);
  });

  it('R3: Redis slow (DEBUG SLEEP 0.5 s, ten times, 0.1 s apart) under 150 rps: every decision gives up at 50 ms, insurance answers', async () => {
    await waitFor(() => gw.deps.redis?.status === 'ready' && !redisHealth(gw.deps.redis).down, 10_000);
    timeDecisions();
    const outagesBefore = await metric(gw.url, 'mcpgw_redis_outages_total');
    const insuranceBefore = await metric(gw.url, 'mcpgw_rate_limit_decisions_total', { limiter: 'user', store: 'insurance' });
    const loadStart = performance.now();
    let sleepsFrom = 0;
    let sleepsTo = 0;
    const sleeps = async () => {
      sleepsFrom = performance.now();
      for (let i = 0; i < 10; i++) {
        await redis.sleep(0.5);
        await new Promise((r) => setTimeout(r, 100));
      }
      sleepsTo = performance.now();
    };
    let slow: Promise<void> = Promise.resolve();
    // Timers fire late on a busy machine; how late says which slow decisions were the process, not Redis.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const samples = await openLoop(150, 9_000, (i) => call(keys[i % keys.length]!), [{ at: 1_500, run: () => { slow = sleeps(); } }]);
    await slow;
    loopDelay.disable();
    const slowFrom = sleepsFrom - loadStart;
    const slowTo = sleepsTo - loadStart;
    const during = samples.filter((s) => s.at >= slowFrom && s.at < slowTo);
    const figures = {
      provoke: 'DEBUG SLEEP 0.5 ×10, 0.1 s apart, on a spare redis-server',
      slowForMs: Math.round(slowTo - slowFrom),
      requests: samples.length,
      lost: samples.filter((s) => s.status !== 200 && s.status !== 429).length,
      before: latency(samples.filter((s) => s.at < slowFrom)),
      whileSlow: latency(during),
      after: latency(samples.filter((s) => s.at >= slowTo)),
      requestsOver1s: during.filter((s) => s.ms > 1_000).length,
      limiterDecisionsWhileSlow: decisionFigures(sleepsFrom, sleepsTo),
      insuranceDecisions: (await metric(gw.url, 'mcpgw_rate_limit_decisions_total', { limiter: 'user', store: 'insurance' })) - insuranceBefore,
      insuranceActivations: (await metric(gw.url, 'mcpgw_redis_outages_total')) - outagesBefore,
      eventLoopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) },
      healthAfter: ((await (await fetch(`${gw.url}/gateway/health`)).json()) as { redis: string }).redis,
    };
    recordFigures('R3', figures);
    expect(figures.lost).toBe(0);
    // The limiter gives up at its 50 ms deadline; beyond it only the event loop's own lateness.
    const d = figures.limiterDecisionsWhileSlow;
    expect(d.p99).toBeLessThanOrEqual(55 + figures.eventLoopDelayMs.max);
    expect(figures.limiterDecisionsWhileSlow.max).toBeLessThan(1_000);
    expect(figures.whileSlow.max).toBeLessThan(3_000); // end to end: nothing waits on Redis (CPU noise aside)
    // Each sleep is one switch to insurance (one probe pays the 50 ms, the rest go straight to insurance).
    expect(figures.insuranceActivations).toBeGreaterThanOrEqual(3);
    expect(figures.insuranceDecisions).toBeGreaterThan(300);
    await waitFor(() => !redisHealth(gw.deps.redis!).down, 5_000).catch(() => undefined);
    expect(redisHealth(gw.deps.redis!).down).toBe(false);
  });
});
