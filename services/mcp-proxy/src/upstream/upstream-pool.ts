import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ErrorCode,
  ListToolsResultSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { scrubJson, scrubSecrets } from './scrub.js';
import { resolveUpstreamTarget, type UpstreamTarget, type UpstreamTargetDeps } from './upstream-target.js';
import { UpstreamJsonRpcError, UpstreamUnavailableError } from './upstream.errors.js';

export interface UpstreamPoolOptions extends UpstreamTargetDeps {
  logger: Logger;
  clientInfo?: { name: string; version: string };
  /** Most pages one tools/list may take before the rest is ignored (a guard against cursor loops). */
  maxListPages?: number;
}

export interface UpstreamRequestOptions {
  /** Budget for the whole request, connecting included. */
  timeoutMs: number;
  requestId: string;
  /** The downstream request's cancellation. */
  signal?: AbortSignal;
}

export interface ToolCall {
  name: string;
  arguments?: Record<string, unknown>;
}

export interface UpstreamPool {
  /** Every tool of the server, all pages. */
  listTools(server: Server, tenantId: string | null, options: UpstreamRequestOptions): Promise<Tool[]>;
  /** The upstream result, unchanged (isError, structuredContent and all). */
  callTool(server: Server, tenantId: string | null, call: ToolCall, options: UpstreamRequestOptions): Promise<CallToolResult>;
  /** Open upstream connections. */
  size(): number;
  close(): Promise<void>;
}

interface Entry {
  key: string;
  serverId: string;
  fingerprint: string;
  secrets: readonly string[];
  transport: StreamableHTTPClientTransport;
  client: Promise<Client>;
  closed: boolean;
}

const MCP_ERROR_PREFIX = /^MCP error -?\d+: /;

type Failure = 'transport' | 'transport-not-sent' | 'timeout' | 'other';

/** What kind of failure an SDK client error is; upstream JSON-RPC errors are 'other' (passed on). */
function classify(err: unknown): Failure {
  if (err instanceof McpError) {
    if (err.code === ErrorCode.RequestTimeout) return 'timeout';
    if (err.code === ErrorCode.ConnectionClosed) return 'transport';
    return 'other';
  }
  // 404: the upstream no longer knows our session (it restarted); the request was not processed.
  if (err instanceof StreamableHTTPError) return err.code === 404 ? 'transport-not-sent' : 'transport';
  if (err instanceof TypeError) {
    const code = (err.cause as { code?: string } | undefined)?.code;
    return code === 'ECONNREFUSED' ? 'transport-not-sent' : 'transport';
  }
  return 'other';
}

function timeoutAfter(ms: number): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new McpError(ErrorCode.RequestTimeout, 'Request timed out')), ms);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * One SDK Client per (server, tenant), created on first use and shared by every downstream session:
 * Open WebUI opens a session per chat turn, so connecting upstream each time would double the
 * latency of every turn. A client whose URL or tenant key changed is replaced; one that fails at the
 * transport level (the upstream restarted and forgot our session, the connection dropped) is dropped
 * and the request tried once more on a new one. Tool calls are retried only when the upstream surely
 * did not run them (connection refused, session unknown).
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const { logger } = options;
  const clientInfo = options.clientInfo ?? { name: 'mcpgw-mcp-proxy', version: '0.1.0' };
  const maxListPages = options.maxListPages ?? 100;
  const entries = new Map<string, Entry>();
  let closing = false;

  const keyOf = (serverId: string, tenantId: string | null) => `${serverId}\n${tenantId ?? ''}`;

  function drop(entry: Entry): void {
    entry.closed = true;
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    void entry.client.then((c) => c.close()).catch(() => undefined);
  }

  function open(server: Server, key: string, target: UpstreamTarget): Entry {
    const client = new Client(clientInfo, { capabilities: {} });
    // Only the tenant's credential header: nothing of the downstream request is ever forwarded.
    const transport = new StreamableHTTPClientTransport(target.url, { requestInit: { headers: target.headers } });
    const entry: Entry = {
      key,
      serverId: server.id,
      fingerprint: target.fingerprint,
      secrets: target.secrets,
      transport,
      client: Promise.resolve(client),
      closed: false,
    };
    client.onerror = (err) => logger.debug('upstream connection error', { serverId: server.id, err: err.message });
    client.onclose = () => {
      entry.closed = true;
      if (entries.get(key) === entry) entries.delete(key);
    };
    entry.client = client.connect(transport, { timeout: server.connectTimeoutMs }).then(
      () => client,
      (err: unknown) => {
        entry.closed = true;
        if (entries.get(key) === entry) entries.delete(key);
        void client.close().catch(() => undefined);
        throw err;
      },
    );
    entry.client.catch(() => undefined);
    return entry;
  }

  async function acquire(server: Server, tenantId: string | null): Promise<Entry> {
    if (closing) throw new UpstreamUnavailableError(server.id, 'unreachable', 'mcp-proxy is shutting down');
    const target = await resolveUpstreamTarget(server, tenantId, options);
    const key = keyOf(server.id, tenantId);
    const existing = entries.get(key);
    if (existing && !existing.closed && existing.fingerprint === target.fingerprint) return existing;
    if (existing) drop(existing);
    const entry = open(server, key, target);
    entries.set(key, entry);
    return entry;
  }

  async function run<T>(
    server: Server,
    tenantId: string | null,
    request: UpstreamRequestOptions & { idempotent: boolean; what: string },
    op: (client: Client, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + request.timeoutMs;
    const remaining = () => Math.max(1, deadline - Date.now());
    const context = { requestId: request.requestId, serverId: server.id, what: request.what };
    for (let attempt = 1; ; attempt += 1) {
      const entry = await acquire(server, tenantId);
      const scrub = (err: unknown) => scrubSecrets(err instanceof Error ? err.message : String(err), entry.secrets);
      const budget = timeoutAfter(remaining());
      let client: Client;
      try {
        client = await Promise.race([entry.client, budget.promise]);
      } catch (err) {
        budget.cancel();
        if (classify(err) === 'timeout') throw new UpstreamUnavailableError(server.id, 'timeout', `no connection within ${request.timeoutMs} ms`);
        throw new UpstreamUnavailableError(server.id, 'unreachable', `could not connect: ${scrub(err)}`);
      }
      budget.cancel();
      try {
        return await op(client, remaining());
      } catch (err) {
        if (request.signal?.aborted) throw new McpError(ErrorCode.ConnectionClosed, 'Request cancelled');
        const failure = classify(err);
        if (failure === 'timeout') throw new UpstreamUnavailableError(server.id, 'timeout', `no answer within ${request.timeoutMs} ms`);
        if (failure === 'other') {
          // The upstream's own JSON-RPC error goes back to the caller with its code, message and data,
          // minus our tenant's key. (The SDK client put `MCP error <code>: ` before the upstream's message.)
          if (err instanceof McpError) {
            throw new UpstreamJsonRpcError(err.code, scrub(err).replace(MCP_ERROR_PREFIX, ''), scrubJson(err.data, entry.secrets));
          }
          throw new Error(scrub(err));
        }
        drop(entry);
        const retry = attempt === 1 && (request.idempotent || failure === 'transport-not-sent');
        logger.info('upstream connection failed', { ...context, err: scrub(err), retry });
        if (!retry) throw new UpstreamUnavailableError(server.id, 'unreachable', scrub(err));
      }
    }
  }

  return {
    async listTools(server, tenantId, request) {
      return run(server, tenantId, { ...request, idempotent: true, what: 'tools/list' }, async (client, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        const tools: Tool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < maxListPages; page += 1) {
          const result = await client.request(
            { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
            ListToolsResultSchema,
            { timeout: Math.max(1, deadline - Date.now()), signal: request.signal },
          );
          tools.push(...result.tools);
          if (!result.nextCursor || result.nextCursor === cursor) return tools;
          cursor = result.nextCursor;
        }
        logger.warn('upstream tool list has too many pages; the rest is left out', { requestId: request.requestId, serverId: server.id });
        return tools;
      });
    },

    async callTool(server, tenantId, call, request) {
      return run(server, tenantId, { ...request, idempotent: false, what: 'tools/call' }, (client, timeoutMs) =>
        // client.request, not client.callTool: callTool would validate structuredContent against the
        // outputSchema; a proxy passes the upstream result on as it is.
        client.request({ method: 'tools/call', params: call }, CallToolResultSchema, { timeout: timeoutMs, signal: request.signal }),
      );
    },

    size: () => entries.size,

    async close() {
      closing = true;
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(
        all.map(async (entry) => {
          entry.closed = true;
          const client = await entry.client.catch(() => null);
          if (!client) return;
          await entry.transport.terminateSession().catch(() => undefined);
          await client.close().catch(() => undefined);
        }),
      );
    },
  };
}
