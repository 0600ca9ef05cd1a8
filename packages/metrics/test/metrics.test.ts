import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleErrors, listen, type ListeningServer } from '@mcpgw/http';
import { silentLogger } from '@mcpgw/test-support';
import {
  createMetricsRegistry,
  createRateLimitMetrics,
  createUpstreamMetrics,
  matchedRoute,
  observeHttpRequests,
  registerMetricsRoute,
  registerQueueMetrics,
  registerRedisMetrics,
} from '../src/index.js';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('metrics', () => {
  let server: ListeningServer;
  const registry = createMetricsRegistry('test-service');
  beforeAll(async () => {
    const app = express();
    app.use(observeHttpRequests(registry, (req) => matchedRoute(req)));
    registerMetricsRoute(app, registry, TOKEN);
    app.get('/things/:id', (_req, res) => void res.status(201).send('ok'));
    app.use(handleErrors(silentLogger(), () => 'problem'));
    const decide = createRateLimitMetrics(registry);
    decide({ limiter: 'user', outcome: 'limited', store: 'insurance' });
    registerRedisMetrics(registry, () => false);
    registerQueueMetrics(registry, 'analytics', () => ({ queued: 7, highWater: 9, written: 100, dropped: 3, failedFlushes: 2, maxBuffered: 50 }));
    createUpstreamMetrics(registry).observe('demo', 'tools/call', 0.02, 'timeout');
    server = await listen(app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server.close(100);
  });

  it('answers only with the bearer token (O7: never public)', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('http_requests_total');
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
  });

  it('exposes request counts and latency by route pattern and status, and the traffic series', async () => {
    await fetch(`${server.url}/things/123`);
    await fetch(`${server.url}/things/456`);
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/things\/:id",status="201",service="test-service"\} 2/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/things\/:id"[^}]*\} 2/);
    expect(text).toContain('mcpgw_rate_limit_decisions_total{limiter="user",outcome="limited",store="insurance",service="test-service"} 1');
    expect(text).toContain('mcpgw_redis_up{service="test-service"} 0');
    expect(text).toContain('mcpgw_analytics_queue_depth{service="test-service"} 7');
    expect(text).toContain('mcpgw_analytics_rows_dropped_total{service="test-service"} 3');
    expect(text).toContain('mcpgw_upstream_requests_total{server="demo",operation="tools/call",outcome="timeout",service="test-service"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('/things/123');
  });

  it('has no /metrics at all without a token', async () => {
    const app = express();
    registerMetricsRoute(app, createMetricsRegistry('x'), undefined);
    app.use(handleErrors(silentLogger(), () => 'problem'));
    const s = await listen(app, { host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer ' } })).status).toBe(404);
    } finally {
      await s.close(100);
    }
  });
});
