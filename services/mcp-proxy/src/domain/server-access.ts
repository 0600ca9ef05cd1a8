import { McpError, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Server, ServerRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { decideServer, type Subject } from '@mcpgw/policy';
import type { UpstreamPool, UpstreamRequestOptions } from '../upstream/upstream-pool.js';
import { UpstreamUnavailableError } from '../upstream/upstream.errors.js';
import type { Caller, Relay } from './caller.js';
import { internalError, upstreamUnavailable } from './mcp-errors.js';
import type { SubjectResolver } from './subject.resolver.js';
import { MAX_NAME_LENGTH, SERVER_ID } from './tool-name.js';

/** Key in an aggregated list result's `_meta` naming the servers that could not be listed this time. */
export const UNAVAILABLE_META_KEY = 'mcpgw/unavailable';

export interface ServerAccessDeps {
  servers: Pick<ServerRepo, 'findById' | 'listEnabled'>;
  subjects: SubjectResolver;
  upstreams: Pick<UpstreamPool, 'describe'>;
  logger: Logger;
  /** Budget for listing one server (all pages) and for learning what it offers. */
  listTimeoutMs: number;
  /** Longest aggregated tool or prompt name on /mcp (createToolName's limit). */
  nameMaxLength?: number;
}

export type ServerAccess = ReturnType<typeof createServerAccess>;

/**
 * What the tool and catalog services share: which servers a caller may use (one policy, default
 * deny, no oracle between "forbidden" and "does not exist"), which connection a request takes, the
 * fan-out over servers on /mcp, and turning upstream failures into the caller's JSON-RPC errors.
 */
export function createServerAccess(deps: ServerAccessDeps) {
  const { logger } = deps;

  /** The server if it exists, is enabled and the subject may use it; else null. */
  async function usable(subject: Subject, serverId: string): Promise<Server | null> {
    if (!SERVER_ID.test(serverId) || !decideServer(subject, serverId).allow) return null;
    const server = await deps.servers.findById(serverId);
    return server?.enabled ? server : null;
  }

  async function usableAll(subject: Subject): Promise<Server[]> {
    return (await deps.servers.listEnabled()).filter((s) => decideServer(subject, s.id).allow);
  }

  /** The upstream request options of a caller's request to a server. */
  function optionsFor(server: Server, caller: Caller, relay: Relay, timeoutMs: number, stateful = false): UpstreamRequestOptions {
    return {
      timeoutMs,
      requestId: caller.requestId,
      signal: relay.signal,
      onprogress: relay.onprogress,
      profile: caller.session?.profileFor(server.id, { stateful }),
    };
  }

  function toMcpError(err: unknown, caller: Caller, serverId: string): McpError {
    if (err instanceof UpstreamUnavailableError) {
      logger.warn('upstream server unavailable', { requestId: caller.requestId, serverId, failure: err.failure, err: err.message });
      return upstreamUnavailable(err);
    }
    // The upstream's own JSON-RPC error (or a cancellation), already made safe to pass on by the pool.
    if (err instanceof McpError) return err;
    logger.error('upstream request failed', { requestId: caller.requestId, serverId, err });
    return internalError();
  }

  /**
   * Runs `fn` for every server in parallel, for servers that declare `capability`. One slow or
   * broken server never takes the whole answer down: it is left out, logged, and named in the
   * returned `unavailable` list (for the result's `_meta`).
   */
  async function fanOut<T>(
    servers: readonly Server[],
    caller: Caller,
    capability: keyof ServerCapabilities,
    fn: (server: Server) => Promise<T[]>,
  ): Promise<{ items: T[]; unavailable: string[] }> {
    const unavailable: string[] = [];
    const perServer = await Promise.all(
      servers.map(async (server) => {
        try {
          const described = await deps.upstreams.describe(server, caller.identity.tenant, optionsFor(server, caller, {}, deps.listTimeoutMs));
          if (!described.capabilities[capability]) return [];
          return await fn(server);
        } catch (err) {
          const failure = err instanceof UpstreamUnavailableError ? err.failure : 'error';
          logger.warn('server left out of the list', { requestId: caller.requestId, serverId: server.id, capability, failure, err: (err as Error).message });
          unavailable.push(server.id);
          return [];
        }
      }),
    );
    return { items: perServer.flat(), unavailable: unavailable.sort() };
  }

  const withUnavailable = <R extends object>(result: R, unavailable: readonly string[]): R =>
    unavailable.length === 0
      ? result
      : { ...result, _meta: { ...(result as { _meta?: Record<string, unknown> })._meta, [UNAVAILABLE_META_KEY]: [...unavailable] } };

  return {
    subjectOf: (caller: Caller) => deps.subjects.subjectFor(caller.identity),
    usable,
    usableAll,
    optionsFor,
    toMcpError,
    fanOut,
    withUnavailable,
    listTimeoutMs: deps.listTimeoutMs,
    nameMaxLength: deps.nameMaxLength ?? MAX_NAME_LENGTH,
  };
}
