import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
  type ClientNotification,
  type ClientRequest,
  type LoggingLevel,
  type Notification,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '@mcpgw/identity';
import type { Logger } from '@mcpgw/logger';
import type { Scope, UpstreamRoute } from '../domain/caller.js';
import { wrapResourceUri } from '../domain/resource-uri.js';
import { AnyResultSchema } from '../upstream/result-schemas.js';
import type { ConnectionProfile, UpstreamPool } from '../upstream/upstream-pool.js';

/** How long a caller has to answer a server's sampling, elicitation or roots request. */
const CALLER_ANSWER_TIMEOUT_MS = 10 * 60_000;

/** Client capabilities a session's own upstream connections declare on the caller's behalf. */
function relayedCapabilities(caps: ClientCapabilities): ClientCapabilities {
  const out: ClientCapabilities = {};
  if (caps.sampling) out.sampling = caps.sampling;
  if (caps.elicitation) out.elicitation = caps.elicitation;
  if (caps.roots) out.roots = caps.roots;
  return out;
}

export interface SessionLinkDeps {
  upstreams: Pick<UpstreamPool, 'closeProfile' | 'notifyProfile'>;
  logger: Logger;
}

/**
 * The part of a link that must outlive the replica holding it: what lives on its own upstream
 * connections. Saved with the session's record (sessions/), restored when another replica takes
 * the session over; its own connections are then made again with its next request to each server
 * and the level and subscriptions replayed on them.
 */
export interface SessionLinkState {
  ownServers?: string[];
  loggingLevel?: LoggingLevel;
  subscriptions?: Record<string, string[]>;
}

export interface SessionLinkPersistence {
  /** State saved earlier (a session taken over from another replica). */
  state?: SessionLinkState;
  /** Called whenever the state changes. */
  save?(state: SessionLinkState): void;
}

/**
 * One downstream session's side of the relay: how its requests reach upstream servers
 * (UpstreamRoute), and how what upstream servers send on its own connections (sampling,
 * elicitation and roots requests; log messages; resource updates; list_changed) reaches the caller.
 *
 * The rule: a session uses the shared pooled connection of (server, tenant) unless it needs its
 * own. It needs its own connection to every server when the caller declared sampling, elicitation
 * or roots (a request from the server must reach this caller and no other), and to one server once
 * it subscribed to a resource or set a log level there (state that lives on the connection).
 */
export class SessionLink implements UpstreamRoute {
  readonly key = randomUUID();
  readonly scope: Scope;
  readonly tenantId: string | null;
  identity: Identity;
  private readonly deps: SessionLinkDeps;
  private readonly callerCapabilities: ClientCapabilities;
  private readonly everyServer: boolean;
  private readonly ownServers = new Set<string>();
  private readonly inFlight: RequestId[] = [];
  private downstream?: Server;
  private readonly profile: ConnectionProfile;
  /** State that lives on upstream connections, replayed when one is made again (the server restarted). */
  private loggingLevel?: LoggingLevel;
  private readonly subscriptions = new Map<string, Set<string>>();
  /** What the grant watcher last saw this caller may see (see session-hub). */
  visibility?: { servers: string; tools: string };

  private readonly persistence: SessionLinkPersistence;

  constructor(scope: Scope, identity: Identity, callerCapabilities: ClientCapabilities, deps: SessionLinkDeps, persistence: SessionLinkPersistence = {}) {
    this.scope = scope;
    this.identity = identity;
    this.tenantId = identity.tenant;
    this.deps = deps;
    this.persistence = persistence;
    this.callerCapabilities = relayedCapabilities(callerCapabilities);
    this.everyServer = Object.keys(this.callerCapabilities).length > 0;
    const saved = persistence.state ?? {};
    for (const serverId of saved.ownServers ?? []) this.ownServers.add(serverId);
    if (saved.loggingLevel) this.loggingLevel = saved.loggingLevel;
    for (const [serverId, uris] of Object.entries(saved.subscriptions ?? {})) this.subscriptions.set(serverId, new Set(uris));
    this.profile = {
      key: this.key,
      capabilities: this.callerCapabilities,
      configure: (client, serverId) => this.configure(client, serverId),
      onConnected: (client, serverId) => this.restore(client, serverId),
    };
  }

  attach(server: Server): void {
    this.downstream = server;
  }

  profileFor(serverId: string, options: { stateful?: boolean } = {}): ConnectionProfile | undefined {
    if (options.stateful && !this.ownServers.has(serverId)) {
      this.ownServers.add(serverId);
      this.saveState();
    }
    return this.everyServer || this.ownServers.has(serverId) ? this.profile : undefined;
  }

  /** Whether notifications of this server reach the caller over its own connection (not the pooled one). */
  usesOwnConnection(serverId: string): boolean {
    return this.everyServer || this.ownServers.has(serverId);
  }

  /** Remembers a log level the caller set (on /mcp: for every server). */
  rememberLoggingLevel(level: LoggingLevel): void {
    this.loggingLevel = level;
    this.saveState();
  }

  /** Remembers a subscription (the server's own URI) so it outlives a reconnect. */
  rememberSubscription(serverId: string, uri: string, subscribed: boolean): void {
    const uris = this.subscriptions.get(serverId) ?? new Set<string>();
    if (subscribed) uris.add(uri);
    else uris.delete(uri);
    this.subscriptions.set(serverId, uris);
    this.saveState();
  }

  /** What must outlive this replica (see SessionLinkState). */
  state(): SessionLinkState {
    const state: SessionLinkState = {};
    if (this.ownServers.size > 0) state.ownServers = [...this.ownServers];
    if (this.loggingLevel) state.loggingLevel = this.loggingLevel;
    const subscriptions = Object.fromEntries([...this.subscriptions].filter(([, uris]) => uris.size > 0).map(([id, uris]) => [id, [...uris]]));
    if (Object.keys(subscriptions).length > 0) state.subscriptions = subscriptions;
    return state;
  }

  private saveState(): void {
    this.persistence.save?.(this.state());
  }

  private async restore(client: Client, serverId: string): Promise<void> {
    if (this.loggingLevel && client.getServerCapabilities()?.logging) await client.setLoggingLevel(this.loggingLevel);
    for (const uri of this.subscriptions.get(serverId) ?? []) await client.subscribeResource({ uri });
  }

  /** Marks a downstream request as in flight; what servers send meanwhile travels on its stream. */
  track(requestId: RequestId): () => void {
    this.inFlight.push(requestId);
    return () => {
      const at = this.inFlight.lastIndexOf(requestId);
      if (at >= 0) this.inFlight.splice(at, 1);
    };
  }

  /** Sends a notification to the caller: on the stream of a request in flight, else on its GET stream. */
  async notify(notification: Notification): Promise<void> {
    const server = this.downstream;
    if (!server) return;
    const related = this.inFlight.at(-1);
    try {
      await server.notification(notification as never, related === undefined ? undefined : { relatedRequestId: related });
    } catch {
      await server.notification(notification as never).catch((err: Error) => {
        this.deps.logger.debug('notification not delivered to the caller', { method: notification.method, err: err.message });
      });
    }
  }

  /** The caller's notifications that concern its own upstream connections (roots/list_changed). */
  async fromCaller(notification: ClientNotification): Promise<void> {
    if (notification.method === 'notifications/roots/list_changed') await this.deps.upstreams.notifyProfile(this.key, notification);
  }

  async close(): Promise<void> {
    await this.deps.upstreams.closeProfile(this.key);
  }

  private async toCaller(request: ClientRequest | { method: string; params?: Record<string, unknown> }, extra: RequestHandlerExtra<ClientRequest, ClientNotification>) {
    const server = this.downstream;
    if (!server) throw new Error('session is not connected');
    const related = this.inFlight.at(-1);
    const options = { signal: extra.signal, timeout: CALLER_ANSWER_TIMEOUT_MS };
    try {
      return await server.request(request as never, AnyResultSchema, related === undefined ? options : { ...options, relatedRequestId: related });
    } catch (err) {
      // The related request's stream is gone: the caller's GET stream is the other way to it.
      if (related !== undefined && err instanceof Error && err.message.startsWith('No connection established')) {
        return server.request(request as never, AnyResultSchema, options);
      }
      throw err;
    }
  }

  /** Handlers on one of this session's own upstream clients. */
  private configure(client: Client, serverId: string): void {
    const caps = this.callerCapabilities;
    if (caps.sampling) client.setRequestHandler(CreateMessageRequestSchema, (req, extra) => this.toCaller(req, extra) as never);
    if (caps.elicitation) client.setRequestHandler(ElicitRequestSchema, (req, extra) => this.toCaller(req, extra) as never);
    if (caps.roots) client.setRequestHandler(ListRootsRequestSchema, (req, extra) => this.toCaller(req, extra) as never);
    client.fallbackNotificationHandler = async (notification) => {
      if (this.scope.kind === 'all' && notification.method === 'notifications/resources/updated' && typeof notification.params?.uri === 'string') {
        await this.notify({ ...notification, params: { ...notification.params, uri: wrapResourceUri(serverId, notification.params.uri) } });
        return;
      }
      await this.notify(notification);
    };
  }
}
