import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  ListToolsRequestSchema,
  McpError,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { createDemoServerApp } from '@mcpgw/demo-server';
import { listen, type ListeningServer } from '@mcpgw/http';
import { encodeIdentityHeaders, signIdentity, type Identity } from '@mcpgw/identity';
import type { Logger } from '@mcpgw/logger';
import { createTestDatabase, silentLogger, type TestDatabase } from '@mcpgw/test-support';
import { createMcpProxyApp, createMcpProxyDeps, readConfig, type McpProxyDeps } from '../../src/index.js';

export const SECRET = `gw-secret-${randomBytes(16).toString('hex')}`;
export const PREVIOUS_SECRET = `gw-previous-${randomBytes(16).toString('hex')}`;
export const MASTER_KEYS = `k1:${randomBytes(32).toString('base64')}`;

export interface Proxy {
  url: string;
  deps: McpProxyDeps;
  db: TestDatabase;
  close(): Promise<void>;
}

/**
 * mcp-proxy in-process on port 0, over a fresh migrated schema of its own, or over `db` (another
 * replica of the same installation; its owner cleans it up).
 */
export async function startProxy(options: { env?: Record<string, string>; logger?: Logger; db?: TestDatabase } = {}): Promise<Proxy> {
  const ownDb = !options.db;
  const db = options.db ?? (await createTestDatabase());
  const config = readConfig({
    DATABASE_URL: db.url,
    DB_SCHEMA: db.schema,
    GATEWAY_SIGNING_SECRET: SECRET,
    GATEWAY_SIGNING_SECRET_PREVIOUS: PREVIOUS_SECRET,
    MASTER_KEYS,
    MCP_GRANT_CACHE_SECONDS: '0',
    MCP_GRANT_WATCH_SECONDS: '0',
    UPSTREAM_HEALTH_INTERVAL_SECONDS: '0',
    MCP_PROXY_PORT: '0',
    ...options.env,
  });
  const deps = createMcpProxyDeps(config, options.logger ?? silentLogger('mcp-proxy'));
  const server = await listen(createMcpProxyApp(deps), { host: '127.0.0.1', port: 0 });
  return {
    url: server.url,
    deps,
    db,
    async close() {
      const stopped = server.close(200);
      await deps.close();
      await stopped;
      if (ownDb) await db.cleanup();
    },
  };
}

export function makeIdentity(overrides: Partial<Identity> = {}): Identity {
  const userId = randomUUID();
  return {
    userId,
    email: `${userId}@example.test`,
    name: 'Test User',
    groups: [],
    admin: false,
    tenant: null,
    authMethod: 'entra',
    allowServers: null,
    blockServers: [],
    ...overrides,
  };
}

export interface SigningOptions {
  secret?: string;
  /** Signing time; default now. */
  nowMs?: () => number;
  /** Signs for another method or path than the request's (a signature lifted onto another request). */
  signAs?: { method?: string; path?: string };
  /** Changes the headers after they were signed (a tampering proxy). */
  tamper?: (headers: Headers) => void;
}

/**
 * A fetch that does what the gateway does: identity headers plus an HMAC over them, the method and
 * the path with query, on every request.
 */
export function gatewayFetch(identity: Identity | null, options: SigningOptions = {}): FetchLike {
  return async (input, init) => {
    const url = new URL(input instanceof URL ? input.href : input);
    const headers = new Headers(init?.headers);
    if (identity) {
      const method = options.signAs?.method ?? (init?.method ?? 'GET').toUpperCase();
      const signed = signIdentity(
        options.secret ?? SECRET,
        method,
        options.signAs?.path ?? url.pathname + url.search,
        encodeIdentityHeaders(identity, headers.get('x-request-id') ?? randomUUID()),
        options.nowMs?.() ?? Date.now(),
      );
      for (const [name, value] of Object.entries(signed)) headers.set(name, value);
    }
    options.tamper?.(headers);
    return fetch(url, { ...init, headers });
  };
}

/** The official SDK client on the caller's side, connected through `gatewayFetch`. */
export async function connectAs(
  proxyUrl: string,
  path: string,
  identity: Identity,
  extra: { headers?: Record<string, string>; capabilities?: ClientCapabilities; setup?: (client: Client) => void } = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport; close(): Promise<void> }> {
  const client = new Client({ name: 'test-caller', version: '1' }, { capabilities: extra.capabilities ?? {} });
  extra.setup?.(client);
  const transport = new StreamableHTTPClientTransport(new URL(`${proxyUrl}${path}`), {
    fetch: gatewayFetch(identity),
    requestInit: { headers: extra.headers ?? {} },
  });
  await client.connect(transport);
  return {
    client,
    transport,
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

/** A raw JSON-RPC POST through `gatewayFetch` (for status codes the SDK client hides). */
export async function rawPost(
  url: string,
  body: unknown,
  options: { identity: Identity | null; sessionId?: string; requestId?: string; headers?: Record<string, string> } & SigningOptions,
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...options.headers,
  };
  if (options.sessionId) headers['mcp-session-id'] = options.sessionId;
  if (options.requestId) headers['x-request-id'] = options.requestId;
  return gatewayFetch(options.identity, options)(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

export const initializeBody = () => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

export interface Upstream {
  url: string;
  close(): Promise<void>;
}

/** The real demo server, with the names of the tools/call requests it received. */
export async function startDemoUpstream(): Promise<
  Upstream & { toolCalls: string[]; sessionCount(): number; forgetSessions(): Promise<void> }
> {
  const demo = createDemoServerApp(silentLogger('demo'));
  const toolCalls: string[] = [];
  const app = express();
  app.use(express.json());
  app.use((req, _res, next) => {
    const body = req.body as { method?: string; params?: { name?: string } } | undefined;
    if (body?.method === 'tools/call') toolCalls.push(String(body.params?.name));
    next();
  });
  app.use(demo.app);
  const server = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    url: `${server.url}/mcp`,
    toolCalls,
    sessionCount: () => demo.sessionCount(),
    /** What a restart does to sessions: every one is gone, later requests naming them get 404. */
    forgetSessions: () => demo.close(),
    async close() {
      await demo.close();
      await server.close(100);
    },
  };
}

/**
 * A small stateless MCP server (the SDK's low-level Server) that keeps the headers of every request
 * it receives. Tools: `whoami` answers with the Authorization header it got; `reject` fails with a
 * JSON-RPC error that echoes that header, as APIs rejecting a credential like to do.
 */
export async function startRecordingUpstream(): Promise<Upstream & { requests: Record<string, string | string[] | undefined>[] }> {
  const requests: Record<string, string | string[] | undefined>[] = [];
  const app = express();
  app.use(express.json());
  app.post('/mcp', async (req, res) => {
    requests.push({ ...req.headers });
    const auth = req.headers.authorization ?? 'none';
    const server = new Server({ name: 'recorder', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [
        { name: 'whoami', description: 'Says which credential reached it.', inputSchema: { type: 'object' } },
        { name: 'reject', description: 'Refuses the credential, naming it.', inputSchema: { type: 'object' } },
      ],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      if (request.params.name === 'reject') throw new McpError(ErrorCode.InvalidParams, `invalid credential: ${auth}`, { got: auth });
      return { content: [{ type: 'text', text: `auth=${auth}` }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (_req: express.Request, res: express.Response) => {
    res.status(405).set('allow', 'POST').end();
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
  const server = await listen(app, { host: '127.0.0.1', port: 0 });
  return { url: `${server.url}/mcp`, requests, close: () => server.close(100) };
}
