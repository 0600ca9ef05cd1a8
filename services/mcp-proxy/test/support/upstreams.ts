import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import express from 'express';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { listen } from '@mcpgw/http';
import { freePort } from '@mcpgw/test-support';

const require = createRequire(import.meta.url);

/** The published reference server's entry point (its `mcp-server-everything` bin). */
export const EVERYTHING_BIN = path.join(path.dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

/** How to register server-everything as a stdio server. */
export const everythingStdio = () => ({ command: process.execPath, args: [EVERYTHING_BIN, 'stdio'] });

export interface EverythingProcess {
  /** The MCP URL: /mcp (streamableHttp) or /sse (legacy). */
  url: string;
  port: number;
  pid(): number | undefined;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${seen.slice(-500)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited with ${code}: ${seen.slice(-500)}`));
    });
  });
}

/** @modelcontextprotocol/server-everything as its own process, over Streamable HTTP or legacy SSE. */
export async function startEverything(mode: 'streamableHttp' | 'sse'): Promise<EverythingProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(process.execPath, [EVERYTHING_BIN, mode], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(child, /listening on port|running on port/i, 15_000);
  };
  const stop = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`,
    port,
    pid: () => child?.pid,
    kill: () => stop('SIGKILL'),
    restart: start,
    close: () => stop('SIGKILL'),
  };
}

export interface FeatureUpstream {
  url: string;
  /** Request ids the server saw cancelled (notifications/cancelled reached it). */
  cancelled: string[];
  /** Adds a tool and tells every connected client (tools/list_changed). */
  addTool(name: string): Promise<void>;
  close(): Promise<void>;
}

const PAGE = 2;

/**
 * A stateful Streamable HTTP server built with the SDK's low-level Server, for what the reference
 * server does not show: pagination (resources and prompts in pages of 2), a tool that waits until
 * cancelled, tools added at run time (list_changed), tool names that need shortening on /mcp.
 */
export async function startFeatureUpstream(options: { json?: boolean } = {}): Promise<FeatureUpstream> {
  const cancelled: string[] = [];
  const tools: Tool[] = [
    { name: 'wait', description: 'Waits until cancelled (or 10 s).', inputSchema: { type: 'object' } },
    { name: 'files.read', description: 'A dotted name.', inputSchema: { type: 'object' } },
    { name: 'huge', description: 'Answers with `size` characters.', inputSchema: { type: 'object', properties: { size: { type: 'number' } } } },
    { name: `very_${'long_'.repeat(15)}name`, description: 'A name longer than 64 characters.', inputSchema: { type: 'object' } },
  ];
  const resources = Array.from({ length: 5 }, (_, i) => ({ uri: `feature://item/${i}`, name: `item ${i}` }));
  const prompts = Array.from({ length: 3 }, (_, i) => ({ name: `prompt-${i}` }));
  const servers = new Set<Server>();
  const transports = new Map<string, StreamableHTTPServerTransport>();

  function page<T>(items: T[], cursor: string | undefined) {
    const from = cursor ? Number(cursor) : 0;
    const next = from + PAGE < items.length ? String(from + PAGE) : undefined;
    return { items: items.slice(from, from + PAGE), next };
  }

  function createServer(): Server {
    const server = new Server({ name: 'feature', version: '1' }, { capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      if (request.params.name === 'huge') return { content: [{ type: 'text', text: 'x'.repeat(Number(request.params.arguments?.size ?? 0)) }] };
      if (request.params.name !== 'wait') return { content: [{ type: 'text', text: `ran ${request.params.name}` }] };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        extra.signal.addEventListener('abort', () => {
          cancelled.push(String(extra.requestId));
          clearTimeout(timer);
          resolve();
        });
      });
      return { content: [{ type: 'text', text: 'waited' }] };
    });
    server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
      const { items, next } = page(resources, request.params?.cursor);
      return { resources: items, ...(next ? { nextCursor: next } : {}) };
    });
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({ contents: [{ uri: request.params.uri, text: `content of ${request.params.uri}` }] }));
    server.setRequestHandler(ListPromptsRequestSchema, async (request) => {
      const { items, next } = page(prompts, request.params?.cursor);
      return { prompts: items, ...(next ? { nextCursor: next } : {}) };
    });
    return server;
  }

  const app = express();
  app.use(express.json());
  app.all('/mcp', async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (!transport) {
      if (id !== undefined) {
        res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
        return;
      }
      const server = createServer();
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: options.json ?? false,
        onsessioninitialized: (sid) => {
          transports.set(sid, created);
          servers.add(server);
        },
      });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
        servers.delete(server);
      };
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, req.body);
  });
  const listening = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    url: `${listening.url}/mcp`,
    cancelled,
    async addTool(name) {
      tools.push({ name, description: 'Added at run time.', inputSchema: { type: 'object' } });
      await Promise.all([...servers].map((s) => s.sendToolListChanged().catch(() => undefined)));
    },
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
      await listening.close(100);
    },
  };
}

/**
 * A server that speaks only the legacy HTTP+SSE transport (2024-11-05), built with the SDK's
 * SSEServerTransport: GET {path} opens the stream, POST /messages?sessionId=… carries requests.
 * A POST to {path} (a Streamable HTTP initialize) gets 405, as such servers answer.
 */
export async function startLegacySseUpstream(ssePath = '/sse'): Promise<{ url: string; sessions(): number; close(): Promise<void> }> {
  const transports = new Map<string, SSEServerTransport>();
  const app = express();
  app.get(ssePath, async (_req, res) => {
    const server = new Server({ name: 'legacy', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'shout', description: 'Upper-cases its text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => ({
      content: [{ type: 'text', text: String(request.params.arguments?.text ?? '').toUpperCase() }],
    }));
    const transport = new SSEServerTransport('/messages', res);
    transports.set(transport.sessionId, transport);
    transport.onclose = () => transports.delete(transport.sessionId);
    await server.connect(transport);
  });
  app.post('/messages', express.json(), async (req, res) => {
    const transport = transports.get(String(req.query.sessionId));
    if (!transport) {
      res.status(404).end();
      return;
    }
    await transport.handlePostMessage(req, res, req.body);
  });
  app.post(ssePath, (_req, res) => {
    res.status(405).set('allow', 'GET').end();
  });
  const listening = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    url: `${listening.url}${ssePath}`,
    sessions: () => transports.size,
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
      await listening.close(100);
    },
  };
}
