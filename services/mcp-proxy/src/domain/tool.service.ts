import { McpError, type CallToolResult, type ListToolsResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Server, ServerRepo, Transport } from '@mcpgw/db';
import type { SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { allowedTools, decideServer, decideTool, type Subject } from '@mcpgw/policy';
import type { ToolCall, UpstreamPool } from '../upstream/upstream-pool.js';
import { UpstreamUnavailableError } from '../upstream/upstream.errors.js';
import type { Caller, Scope } from './caller.js';
import { internalError, transportNotSupported, unknownTool, upstreamUnavailable } from './mcp-errors.js';
import type { SubjectResolver } from './subject.resolver.js';
import { createToolName, parseToolName, SERVER_ID } from './tool-name.js';

/** Key in a tools/list result's `_meta` listing the servers that could not be listed this time. */
export const UNAVAILABLE_META_KEY = 'mcpgw/unavailable';

const SUPPORTED_TRANSPORTS: readonly Transport[] = ['streamable-http'];

export interface ToolServiceDeps {
  servers: Pick<ServerRepo, 'findById' | 'listEnabled'>;
  subjects: SubjectResolver;
  upstreams: Pick<UpstreamPool, 'listTools' | 'callTool'>;
  security: Pick<SecurityEventRecorder, 'record'>;
  logger: Logger;
  /** Budget for listing one server (all pages). */
  listTimeoutMs: number;
}

export interface ToolService {
  /** May the caller open /mcp/:server? Unknown, disabled and forbidden servers all say no. */
  mayOpen(serverId: string, caller: Caller): Promise<boolean>;
  listTools(scope: Scope, caller: Caller, signal?: AbortSignal): Promise<ListToolsResult>;
  callTool(scope: Scope, caller: Caller, call: ToolCall, signal?: AbortSignal): Promise<CallToolResult>;
}

/**
 * The tool use cases of both endpoints. Listing and calling go through the same policy functions
 * (allowedTools / decideTool), so what a caller sees and what it may call cannot disagree.
 */
export function createToolService(deps: ToolServiceDeps): ToolService {
  const { logger } = deps;

  /** The server if it exists, is enabled and the subject may use it; else null (no oracle). */
  async function usableServer(subject: Subject, serverId: string): Promise<Server | null> {
    if (!SERVER_ID.test(serverId) || !decideServer(subject, serverId).allow) return null;
    const server = await deps.servers.findById(serverId);
    return server?.enabled ? server : null;
  }

  function supported(server: Server, caller: Caller): boolean {
    if (SUPPORTED_TRANSPORTS.includes(server.transport)) return true;
    logger.info('server skipped: transport not supported yet', { requestId: caller.requestId, serverId: server.id, transport: server.transport });
    return false;
  }

  /** One server's tools the subject may use, names unchanged. Throws on upstream failure. */
  async function listOne(server: Server, subject: Subject, caller: Caller, signal?: AbortSignal): Promise<Tool[]> {
    const allowed = allowedTools(subject, server.id);
    if (allowed !== 'all' && allowed.size === 0) return [];
    const tools = await deps.upstreams.listTools(server, caller.identity.tenant, {
      timeoutMs: deps.listTimeoutMs,
      requestId: caller.requestId,
      signal,
    });
    return allowed === 'all' ? tools : tools.filter((t) => allowed.has(t.name));
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

  async function listServer(serverId: string, caller: Caller, signal?: AbortSignal): Promise<ListToolsResult> {
    const subject = await deps.subjects.subjectFor(caller.identity);
    const server = await usableServer(subject, serverId);
    if (!server || !supported(server, caller)) return { tools: [] };
    try {
      return { tools: await listOne(server, subject, caller, signal) };
    } catch (err) {
      throw toMcpError(err, caller, serverId);
    }
  }

  async function listAll(caller: Caller, signal?: AbortSignal): Promise<ListToolsResult> {
    const subject = await deps.subjects.subjectFor(caller.identity);
    const servers = (await deps.servers.listEnabled()).filter((s) => decideServer(subject, s.id).allow && supported(s, caller));
    const unavailable: string[] = [];
    const perServer = await Promise.all(
      servers.map(async (server) => {
        try {
          const tools = await listOne(server, subject, caller, signal);
          return tools.map((t) => ({ ...t, name: createToolName(server.id, t.name) }));
        } catch (err) {
          // One slow or broken server must not take the whole catalog down: leave it out, say so.
          const failure = err instanceof UpstreamUnavailableError ? err.failure : 'error';
          logger.warn('server left out of the tool list', { requestId: caller.requestId, serverId: server.id, failure, err: (err as Error).message });
          unavailable.push(server.id);
          return [];
        }
      }),
    );
    const result: ListToolsResult = { tools: perServer.flat() };
    if (unavailable.length > 0) result._meta = { [UNAVAILABLE_META_KEY]: unavailable.sort() };
    return result;
  }

  return {
    async mayOpen(serverId, caller) {
      const subject = await deps.subjects.subjectFor(caller.identity);
      return (await usableServer(subject, serverId)) !== null;
    },

    listTools(scope, caller, signal) {
      return scope.kind === 'server' ? listServer(scope.serverId, caller, signal) : listAll(caller, signal);
    },

    async callTool(scope, caller, call, signal) {
      const target = scope.kind === 'server' ? { serverId: scope.serverId, tool: call.name } : parseToolName(call.name);
      if (!target) throw unknownTool(call.name);
      const { identity } = caller;
      const subject = await deps.subjects.subjectFor(identity);
      const decision = decideTool(subject, target.serverId, target.tool);
      if (!decision.allow) {
        deps.security.record({
          kind: 'tool-denied',
          reason: decision.reason,
          userId: identity.userId,
          userEmail: identity.email,
          requestId: caller.requestId,
          details: { serverId: target.serverId, tool: target.tool, endpoint: scope.kind === 'all' ? '/mcp' : '/mcp/:server' },
        });
        throw unknownTool(call.name);
      }
      const server = await usableServer(subject, target.serverId);
      if (!server) throw unknownTool(call.name);
      if (!SUPPORTED_TRANSPORTS.includes(server.transport)) throw transportNotSupported(server.id, server.transport);
      try {
        return await deps.upstreams.callTool(
          server,
          identity.tenant,
          { name: target.tool, ...(call.arguments === undefined ? {} : { arguments: call.arguments }) },
          { timeoutMs: server.callTimeoutMs, requestId: caller.requestId, signal },
        );
      } catch (err) {
        throw toMcpError(err, caller, server.id);
      }
    },
  };
}
