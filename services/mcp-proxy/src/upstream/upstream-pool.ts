import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ProgressCallback } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { ClientCapabilities, Implementation, Notification, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { createCircuitBreaker, type BreakerState, type CircuitBreaker } from './circuit-breaker.js';
import { createProgressRouter } from './progress-router.js';
import { createListCache } from './list-cache.js';
import { LIST_KINDS, ListPageSchema, type ListKind } from './result-schemas.js';
import { createRetryBudget, type RetryBudget } from './retry-budget.js';
import { runUpstream } from './run-upstream.js';
import { connectUpstream, REQUEST_GRACE_MS, type UpstreamConnection, type WireTransport } from './upstream-connection.js';
import { resolveUpstreamTarget, type UpstreamTargetDeps } from './upstream-target.js';
import { UpstreamUnavailableError } from './upstream.errors.js';

/** The lists each upstream list_changed notification makes stale (a prefix of the list kinds). */
const LIST_CHANGED: Record<string, string> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resource',
};

/**
 * How connections for one downstream session are made. Requests without a profile use the shared
 * pooled connection of (server, tenant); a session that needs its own connection (server→client
 * requests, subscriptions, a log level) passes its profile.
 */
export interface ConnectionProfile {
  /** Unique per downstream session. */
  key: string;
  /** What the downstream caller declared (sampling, elicitation, roots), declared upstream in its name. */
  capabilities: ClientCapabilities;
  /** Installs the handlers that relay upstream→caller requests and notifications. */
  configure(client: Client, serverId: string): void;
  /** Restores what the session had set up on an earlier connection (subscriptions, log level). */
  onConnected?(client: Client, serverId: string): Promise<void>;
}

export interface UpstreamRequestOptions {
  /** Budget for the whole request, connecting included. */
  timeoutMs: number;
  requestId: string;
  /** The downstream request's cancellation; aborting sends notifications/cancelled upstream. */
  signal?: AbortSignal;
  /** Progress reported upstream for this request. */
  onprogress?: ProgressCallback;
  profile?: ConnectionProfile;
}

export interface UpstreamMessage {
  method: string;
  params?: Record<string, unknown>;
}

export interface ServerDescription {
  capabilities: ServerCapabilities;
  serverInfo?: Implementation;
  instructions?: string;
  transport: WireTransport;
}

export interface UpstreamNotification {
  serverId: string;
  tenantId: string | null;
  notification: Notification;
}

export interface BreakerSettings {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export interface UpstreamPoolOptions extends UpstreamTargetDeps {
  logger: Logger;
  breaker: BreakerSettings;
  /** Largest upstream response body to a request (UPSTREAM_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** The list budget (UPSTREAM_LIST_TIMEOUT_MS): with a server's own timeouts, what bounds a request's time. */
  listTimeoutMs: number;
  clientInfo?: { name: string; version: string };
  /** Most pages one list may take before the rest is ignored (a guard against cursor loops). */
  maxListPages?: number;
  /** How long a pooled connection's lists are kept (MCP_LIST_CACHE_SECONDS; 0: not kept): list-cache.ts. */
  listCacheMs?: number;
}

export interface UpstreamPool {
  /** One request; the upstream result as it came (loosely validated by `schema`). */
  request<S extends AnySchema>(
    server: Server,
    tenantId: string | null,
    message: UpstreamMessage,
    schema: S,
    options: UpstreamRequestOptions & { idempotent: boolean },
  ): Promise<SchemaOutput<S>>;
  /** Every item of a list, all pages. */
  listAll(server: Server, tenantId: string | null, kind: ListKind, options: UpstreamRequestOptions): Promise<Record<string, unknown>[]>;
  /** What the server said about itself when the connection was made (connecting if needed). */
  describe(server: Server, tenantId: string | null, options: UpstreamRequestOptions): Promise<ServerDescription>;
  /** A ping over the pooled connection; `probe` goes even while the breaker is open (health checks). Returns ms. */
  ping(server: Server, tenantId: string | null, options: { timeoutMs: number; requestId: string; probe?: boolean }): Promise<number>;
  /** Tenants that have a live pooled connection to the server (null: callers without a tenant). */
  tenantsOf(serverId: string): (string | null)[];
  breakerOf(serverId: string, tenantId: string | null): { state: BreakerState; failures: number };
  /** Notifications arriving on pooled connections (list_changed and the like). */
  onNotification(listener: (event: UpstreamNotification) => void): () => void;
  /** Sends a notification (roots/list_changed) on every live connection of one downstream session. */
  notifyProfile(key: string, notification: Notification): Promise<void>;
  /** Closes one downstream session's own connections. */
  closeProfile(key: string): Promise<void>;
  /** Open upstream connections. */
  size(): number;
  close(): Promise<void>;
}

export interface PoolEntry {
  key: string;
  profileKey: string;
  serverId: string;
  tenantId: string | null;
  fingerprint: string;
  secrets: readonly string[];
  connection: Promise<UpstreamConnection>;
  closed: boolean;
}

/**
 * Upstream connections. The pooled one per (server, tenant) is created on first use and shared by
 * every downstream session that needs nothing of its own (Open WebUI opens a session per chat
 * turn; connecting upstream each time would double the latency of every turn). A session's own
 * connections (see ConnectionProfile) live here too, keyed by its profile, and end with it.
 * A connection whose target changed (URL, command, tenant key) is replaced; one that failed at the
 * transport level is dropped and, where safe, the request tried once more (runUpstream). One
 * circuit breaker per (server, tenant) target is shared by all its connections.
 */
export function createUpstreamPool(options: UpstreamPoolOptions): UpstreamPool {
  const { logger } = options;
  const clientInfo = options.clientInfo ?? { name: 'mcpgw-mcp-proxy', version: '0.1.0' };
  const maxListPages = options.maxListPages ?? 100;
  const entries = new Map<string, PoolEntry>();
  const breakers = new Map<string, CircuitBreaker>();
  const retryBudgets = new Map<string, RetryBudget>();
  const listeners = new Set<(event: UpstreamNotification) => void>();
  const lists = createListCache<Record<string, unknown>[]>(options.listCacheMs ?? 0);
  let closing = false;

  const targetKey = (serverId: string, tenantId: string | null) => `${serverId}\n${tenantId ?? ''}`;

  const progress = createProgressRouter();

  function breakerFor(serverId: string, tenantId: string | null): CircuitBreaker {
    const key = targetKey(serverId, tenantId);
    let breaker = breakers.get(key);
    if (!breaker) {
      breaker = createCircuitBreaker(options.breaker);
      breakers.set(key, breaker);
    }
    return breaker;
  }

  /** Retries add at most 10 % to a target's requests, beyond a reserve of 10 (R12: no retry storm). */
  function retriesFor(serverId: string, tenantId: string | null): RetryBudget {
    const key = targetKey(serverId, tenantId);
    let budget = retryBudgets.get(key);
    if (!budget) {
      budget = createRetryBudget({ ratio: 0.1, reserve: 10 });
      retryBudgets.set(key, budget);
    }
    return budget;
  }

  function drop(entry: PoolEntry): void {
    entry.closed = true;
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    void entry.connection.then((c) => c.close()).catch(() => undefined);
  }

  function pooledProfile(server: Server, tenantId: string | null): ConnectionProfile {
    return {
      key: '',
      capabilities: {},
      configure(client) {
        client.fallbackNotificationHandler = async (notification) => {
          const changed = LIST_CHANGED[notification.method];
          if (changed) lists.forget(targetKey(server.id, tenantId), changed);
          for (const listener of listeners) listener({ serverId: server.id, tenantId, notification });
        };
      },
    };
  }

  async function acquire(server: Server, tenantId: string | null, profile: ConnectionProfile | undefined, timeoutMs: number): Promise<PoolEntry> {
    if (closing) throw new UpstreamUnavailableError(server.id, 'unreachable', 'mcp-proxy is shutting down');
    const target = await resolveUpstreamTarget(server, tenantId, options);
    const how = profile ?? pooledProfile(server, tenantId);
    const key = `${targetKey(server.id, tenantId)}\n${how.key}`;
    const maxRequestMs = Math.max(server.callTimeoutMs, server.connectTimeoutMs, options.listTimeoutMs) + REQUEST_GRACE_MS;
    // A changed timeout changes the connection's request cap: such a connection is replaced too.
    const fingerprint = `${target.fingerprint}:${maxRequestMs}`;
    const existing = entries.get(key);
    if (existing && !existing.closed && existing.fingerprint === fingerprint) return existing;
    if (existing) drop(existing);
    const entry: PoolEntry = {
      key,
      profileKey: how.key,
      serverId: server.id,
      tenantId,
      fingerprint,
      secrets: target.secrets,
      connection: Promise.resolve(null as unknown as UpstreamConnection),
      closed: false,
    };
    entry.connection = connectUpstream({
      serverId: server.id,
      target,
      clientInfo,
      capabilities: how.capabilities,
      timeoutMs: Math.min(server.connectTimeoutMs, timeoutMs),
      maxResponseBytes: options.maxResponseBytes,
      maxRequestMs,
      logger,
      configure: (client) => {
        progress.install(client);
        how.configure(client, server.id);
      },
      onClose: () => {
        if (how.key === '') lists.forget(targetKey(server.id, tenantId));
        entry.closed = true;
        if (entries.get(key) === entry) entries.delete(key);
        logger.debug('upstream connection closed', { serverId: server.id });
      },
    }).then(
      async (connection) => {
        await how.onConnected?.(connection.client, server.id).catch((err: Error) => {
          logger.info('session state could not be restored on a new upstream connection', { serverId: server.id, err: err.message });
        });
        return connection;
      },
      (err: unknown) => {
        entry.closed = true;
        if (entries.get(key) === entry) entries.delete(key);
        throw err;
      },
    );
    entry.connection.catch(() => undefined);
    entries.set(key, entry);
    return entry;
  }

  function run<T>(
    server: Server,
    tenantId: string | null,
    request: UpstreamRequestOptions & { idempotent: boolean; what: string; probe?: boolean; local?: boolean },
    op: (connection: UpstreamConnection, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const result = runUpstream({
      server,
      breaker: breakerFor(server.id, tenantId),
      retries: retriesFor(server.id, tenantId),
      request,
      logger,
      acquire: (timeoutMs) => acquire(server, tenantId, request.profile, timeoutMs),
      drop,
      op: async (entry, timeoutMs) => op(await entry.connection, timeoutMs),
    });
    // A target that failed is asked again next time: a list never outlives the server's failure.
    result.catch(() => lists.forget(targetKey(server.id, tenantId)));
    return result;
  }

  return {
    request(server, tenantId, message, schema, request) {
      return run(server, tenantId, { ...request, what: message.method }, ({ client }, timeoutMs) =>
        progress.request(client, message, schema, { timeout: timeoutMs, signal: request.signal, onprogress: request.onprogress }),
      );
    },

    listAll(server, tenantId, kind, request) {
      const { method, key } = LIST_KINDS[kind];
      const load = () => run(server, tenantId, { ...request, idempotent: true, what: method }, async ({ client }, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        const items: Record<string, unknown>[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < maxListPages; page += 1) {
          const result = await client.request({ method, params: cursor === undefined ? {} : { cursor } }, ListPageSchema, {
            timeout: Math.max(1, deadline - Date.now()),
            signal: request.signal,
          });
          const pageItems = result[key];
          if (Array.isArray(pageItems)) items.push(...(pageItems as Record<string, unknown>[]));
          if (!result.nextCursor || result.nextCursor === cursor) return items;
          cursor = result.nextCursor;
        }
        logger.warn('upstream list has too many pages; the rest is left out', { requestId: request.requestId, serverId: server.id, method });
        return items;
      });
      // Only the pooled connection's lists are shared; a session's own connection may list differently.
      if ((request.profile?.key ?? '') !== '') return load();
      if (breakerFor(server.id, tenantId).state() !== 'closed') lists.forget(targetKey(server.id, tenantId));
      // The server's address and transport are part of the key: a changed server is asked again.
      return lists.get(targetKey(server.id, tenantId), `${kind}\n${server.transport}\n${server.url ?? server.command ?? ''}`, load);
    },

    describe(server, tenantId, request) {
      return run(server, tenantId, { ...request, idempotent: true, what: 'initialize', local: true }, async ({ client, transport }) => ({
        capabilities: client.getServerCapabilities() ?? {},
        serverInfo: client.getServerVersion(),
        instructions: client.getInstructions(),
        transport,
      }));
    },

    async ping(server, tenantId, request) {
      const started = Date.now();
      await run(server, tenantId, { ...request, idempotent: true, what: 'ping' }, ({ client }, timeoutMs) => client.ping({ timeout: timeoutMs }));
      return Date.now() - started;
    },

    tenantsOf(serverId) {
      return [...entries.values()].filter((e) => e.serverId === serverId && e.profileKey === '' && !e.closed).map((e) => e.tenantId);
    },

    breakerOf(serverId, tenantId) {
      const breaker = breakers.get(targetKey(serverId, tenantId));
      return { state: breaker?.state() ?? 'closed', failures: breaker?.failures() ?? 0 };
    },

    onNotification(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async notifyProfile(key, notification) {
      const mine = [...entries.values()].filter((e) => e.profileKey === key && key !== '' && !e.closed);
      await Promise.all(mine.map((e) => e.connection.then((c) => c.client.notification(notification as never)).catch(() => undefined)));
    },

    async closeProfile(key) {
      const mine = [...entries.values()].filter((e) => e.profileKey === key && key !== '');
      for (const entry of mine) {
        entry.closed = true;
        entries.delete(entry.key);
      }
      await Promise.all(mine.map((e) => e.connection.then((c) => c.close()).catch(() => undefined)));
    },

    size: () => entries.size,

    async close() {
      closing = true;
      const all = [...entries.values()];
      entries.clear();
      listeners.clear();
      await Promise.all(
        all.map(async (entry) => {
          entry.closed = true;
          const connection = await entry.connection.catch(() => null);
          await connection?.close().catch(() => undefined);
        }),
      );
    },
  };
}
