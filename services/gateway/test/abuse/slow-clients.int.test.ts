import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, type TestDatabase, recordFigures } from '@mcpgw/test-support';
import { startEdgeGateway } from './edge-gateway.js';
import { percentile } from './stats.js';

/**
 * Test-matrix X2 (slow headers) and X3 (slow body) at the edge, with the timeouts shortened through
 * the gateway's own variables (1 s for headers, 2 s for the whole request): the slow sockets are
 * closed near their timeout while honest callers keep being served, and an SSE stream outlives the
 * request timeout (it bounds receiving the request, not the response).
 */

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
/** How late a close may come on a loaded two-core machine. */
const SLACK_MS = 6_000;
const SSE_EVENTS = 8;
const SSE_INTERVAL_MS = 450; // 8 × 450 ms = 3.6 s, well past the request timeout

/** Stands in for mcp-proxy: JSON for POST, a slow SSE stream for GET. */
async function upstreamWithStreams() {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let sent = 0;
        const timer = setInterval(() => {
          sent += 1;
          res.write(`event: message\ndata: {"n":${sent}}\n\n`);
          if (sent === SSE_EVENTS) {
            clearInterval(timer);
            res.end();
          }
        }, SSE_INTERVAL_MS);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Opens a socket that sends `head` and then `drip` every `everyMs` without ever finishing; resolves with its lifetime once the server closes it. */
function slowSocket(port: number, head: string, drip: string, everyMs: number): { closed: Promise<{ ms: number; answer: string }>; socket: Socket } {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (answer += d));
  socket.on('error', () => undefined);
  socket.once('connect', () => socket.write(head));
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(drip);
  }, everyMs);
  const closed = new Promise<{ ms: number; answer: string }>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ ms: performance.now() - started, answer });
    }),
  );
  return { closed, socket };
}

describe('slow clients at the edge', () => {
  let t: TestDatabase;
  let upstream: Awaited<ReturnType<typeof upstreamWithStreams>>;
  let gw: Awaited<ReturnType<typeof startEdgeGateway>>;
  let key: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    upstream = await upstreamWithStreams();
    gw = await startEdgeGateway(t, upstream.url, {
      GATEWAY_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      GATEWAY_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    key = (await createFixtures(t.repos).user()).key;
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await t?.cleanup();
  });

  /** Honest requests one after another for `ms`; their latencies and statuses. */
  async function honestTraffic(ms: number): Promise<{ latencies: number[]; statuses: number[] }> {
    const latencies: number[] = [];
    const statuses: number[] = [];
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const started = performance.now();
      const res = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
      await res.arrayBuffer();
      latencies.push(performance.now() - started);
      statuses.push(res.status);
    }
    return { latencies, statuses };
  }
  const round = (v: number) => Math.round(v * 10) / 10;

  it('X2: 300 slow-header sockets are closed near the headers timeout while honest requests keep their latency', async () => {
    const before = await honestTraffic(700);
    const slow = Array.from({ length: 300 }, () => slowSocket(gw.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 200));
    const during = await honestTraffic(1_500);
    const lifetimes = await Promise.all(slow.map((s) => s.closed));
    const ms = lifetimes.map((l) => l.ms);
    const figures = {
      slowSockets: slow.length,
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      closedAfterMs: { min: round(Math.min(...ms)), p50: round(percentile(ms, 50)), max: round(Math.max(...ms)) },
      answered408: lifetimes.filter((l) => l.answer.startsWith('HTTP/1.1 408')).length,
      honestP99Ms: { before: round(percentile(before.latencies, 99)), during: round(percentile(during.latencies, 99)) },
      honestRequestsDuring: during.statuses.length,
      honestErrorsDuring: during.statuses.filter((s) => s !== 200).length,
    };
    recordFigures('X2-edge', figures);
    expect(during.statuses.every((s) => s === 200)).toBe(true);
    // Closed at the headers timeout, give or take the 250 ms check interval and a busy machine
    // (Node's defaults: 60 s, checked every 30 s).
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(Math.max(...ms)).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('X2: a socket that connects and sends nothing is closed at the headers timeout too', async () => {
    const idle = slowSocket(gw.port, '', '', 10_000);
    const { ms } = await idle.closed;
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('X3: a body trickled byte by byte is cut at the request timeout (408, closed) while honest requests are served', async () => {
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const slow = Array.from({ length: 50 }, () => slowSocket(gw.port, head, '{', 100));
    const during = await honestTraffic(1_000);
    const lifetimes = await Promise.all(slow.map((s) => s.closed));
    const ms = lifetimes.map((l) => l.ms);
    recordFigures('X3-edge', {
      slowBodies: slow.length,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      closedAfterMs: { min: round(Math.min(...ms)), max: round(Math.max(...ms)) },
      answered408: lifetimes.filter((l) => l.answer.startsWith('HTTP/1.1 408')).length,
      honestP99MsDuring: round(percentile(during.latencies, 99)),
      honestErrorsDuring: during.statuses.filter((s) => s !== 200).length,
    });
    expect(during.statuses.every((s) => s === 200)).toBe(true);
    expect(lifetimes.every((l) => l.answer.startsWith('HTTP/1.1 408'))).toBe(true);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(Math.max(...ms)).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('X3: an SSE stream lasts longer than the request timeout: every event arrives', async () => {
    const started = performance.now();
    const res = await fetch(`${gw.url}/mcp`, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const lasted = performance.now() - started;
    expect(text.match(/^data: /gm)?.length).toBe(SSE_EVENTS);
    expect(lasted).toBeGreaterThan(REQUEST_TIMEOUT_MS + 1_000);
  });
});
