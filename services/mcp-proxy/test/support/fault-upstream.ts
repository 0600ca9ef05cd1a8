import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * How the fault upstream behaves (test-matrix rows R6-R9, R12). Every mode but `hang` and
 * `flaky-503` answers initialize and tools/list normally, so mcp-proxy can connect and list, and
 * the fault hits tools/call:
 * - normal: `echo` answers at once;
 * - slow: tools/call answers after `delayMs`;
 * - hang: every request is accepted and never answered (TCP open, no bytes back);
 * - garbage: tools/call gets HTTP 200, content-type JSON, a body that is not JSON;
 * - not-json-rpc: tools/call gets valid JSON that is not a JSON-RPC message;
 * - huge: tools/call gets a valid JSON-RPC result of `hugeBytes` (streamed, never held in memory);
 * - flaky-503: each POST (any method) gets 503 with probability `failRatio`, from a seeded PRNG.
 */
export type FaultMode = 'normal' | 'slow' | 'hang' | 'garbage' | 'not-json-rpc' | 'huge' | 'flaky-503';

export interface FaultSettings {
  mode: FaultMode;
  delayMs: number;
  hugeBytes: number;
  failRatio: number;
}

export interface FaultCounts {
  /** POSTs received, by JSON-RPC method (a batch counts as `batch`). */
  byMethod: Record<string, number>;
  posts: number;
  /** Answered 503 (flaky-503). */
  refused: number;
  /** POSTs received and not yet answered or abandoned by the client. */
  inFlight: number;
  /** Open TCP connections now, and the most at any time. */
  openSockets: number;
  peakSockets: number;
}

export interface FaultUpstream {
  url: string;
  port: number;
  /** Change the behaviour at run time (a connected server starting to hang, for instance). */
  settings: FaultSettings;
  counts(): FaultCounts;
  close(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, so a flaky run is the same run every time. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A valid JSON-RPC result of about `bytes`, written in 64 KiB chunks as the socket drains. */
async function writeHuge(res: ServerResponse, id: unknown, bytes: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"`);
  const chunk = 'x'.repeat(64 * 1024);
  for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) await new Promise((r) => (res.destroyed ? r(undefined) : res.once('drain', r).once('close', r)));
  }
  if (!res.destroyed) res.end('"}]}}');
}

function mcpServer(settings: FaultSettings): Server {
  const server = new Server({ name: 'fault', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [{ name: 'echo', description: 'Answers with its text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    if (settings.mode === 'slow') await new Promise((r) => setTimeout(r, settings.delayMs));
    return { content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }] };
  });
  return server;
}

/**
 * A small Streamable HTTP MCP server (the SDK's own server and transport, a session per client,
 * JSON responses) whose failures are chosen by `settings`, counting what reaches it. In process, or as
 * its own process (fault-upstream.main.ts) when a test must kill it.
 */
export async function startFaultUpstream(initial: Partial<FaultSettings> = {}, port = 0, seed = 42): Promise<FaultUpstream> {
  const settings: FaultSettings = { mode: 'normal', delayMs: 500, hugeBytes: 50 * 1024 * 1024, failRatio: 0.5, ...initial };
  const random = seeded(seed);
  const counts = { byMethod: {} as Record<string, number>, posts: 0, refused: 0, inFlight: 0, openSockets: 0, peakSockets: 0 };
  const sockets = new Set<Socket>();

  /** One SDK server and transport per MCP session, as real servers run (cheap per request). */
  const transports = new Map<string, StreamableHTTPServerTransport>();
  async function session(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      if (id !== undefined || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (sid) => void transports.set(sid, created),
      });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
      };
      await mcpServer(settings).connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  }

  const http = createServer(async (req, res) => {
    if (req.method === 'POST') {
      counts.inFlight += 1;
      res.once('close', () => (counts.inFlight -= 1));
    }
    if (settings.mode === 'hang') return; // accepted, never answered
    // GET (the SDK client's stream for server messages) and DELETE (end of session).
    if (req.method !== 'POST') return void (await session(req, res, undefined));
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const message = body as { id?: unknown; method?: string };
    const method = Array.isArray(body) ? 'batch' : String(message.method);
    counts.posts += 1;
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    if (settings.mode === 'flaky-503' && random() < settings.failRatio) {
      counts.refused += 1;
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('overloaded');
      return;
    }
    if (method === 'tools/call') {
      if (settings.mode === 'garbage') return void res.writeHead(200, { 'content-type': 'application/json' }).end('<html>this is not json');
      if (settings.mode === 'not-json-rpc') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world","id":7}');
      if (settings.mode === 'huge') return void writeHuge(res, message.id, settings.hugeBytes);
    }
    await session(req, res, body);
  });
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    counts.openSockets = sockets.size;
    counts.peakSockets = Math.max(counts.peakSockets, sockets.size);
    socket.once('close', () => {
      sockets.delete(socket);
      counts.openSockets = sockets.size;
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/mcp`,
    port: actual,
    settings,
    counts: () => ({ ...counts, byMethod: { ...counts.byMethod } }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of transports.values()) void t.close().catch(() => undefined);
        for (const s of sockets) s.destroy();
        http.close(() => resolve());
      }),
  };
}
