import type { CallToolResult, ListToolsResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import type { SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { allowedTools, decideTool, type Subject } from '@mcpgw/policy';
import type { ToolGuard } from '../limits/tool-limits.js';
import { AnyResultSchema } from '../upstream/result-schemas.js';
import type { UpstreamPool } from '../upstream/upstream-pool.js';
import { wrapContentListUris } from './aggregate-content.js';
import type { Caller, Relay, Scope } from './caller.js';
import { unknownTool } from './mcp-errors.js';
import type { ServerAccess } from './server-access.js';
import { createToolNames, parseToolName, resolveToolName } from './tool-name.js';

export { UNAVAILABLE_META_KEY } from './server-access.js';

export interface ToolCall {
  name: string;
  arguments?: Record<string, unknown>;
}

export interface ToolServiceDeps {
  access: ServerAccess;
  upstreams: Pick<UpstreamPool, 'listAll' | 'request' | 'describe'>;
  security: Pick<SecurityEventRecorder, 'record'>;
  logger: Logger;
  /** Per-tool rate limits, argument inspection and upstream timing (limits/tool-limits.ts). */
  guard?: ToolGuard;
}

export interface ToolService {
  /** May the caller open /mcp/:server? Unknown, disabled and forbidden servers all say no. */
  mayOpen(serverId: string, caller: Caller): Promise<boolean>;
  listTools(scope: Scope, caller: Caller, relay?: Relay): Promise<ListToolsResult>;
  callTool(scope: Scope, caller: Caller, call: ToolCall, relay?: Relay): Promise<CallToolResult>;
}

/** params for the upstream: the caller's `_meta` goes along (minus its progressToken). */
export function withMeta(params: Record<string, unknown>, relay: Relay): Record<string, unknown> {
  return relay.meta && Object.keys(relay.meta).length > 0 ? { ...params, _meta: relay.meta } : params;
}

/**
 * The tool use cases of both endpoints. Listing and calling go through the same policy functions
 * (allowedTools / decideTool), so what a caller sees and what it may call cannot disagree.
 */
export function createToolService(deps: ToolServiceDeps): ToolService {
  const { access } = deps;

  /** One server's tools the subject may use, names unchanged, all pages. Throws on upstream failure. */
  async function listOne(server: Server, subject: Subject, caller: Caller, relay: Relay): Promise<Tool[]> {
    const allowed = allowedTools(subject, server.id);
    if (allowed !== 'all' && allowed.size === 0) return [];
    const tools = (await deps.upstreams.listAll(server, caller.identity.tenant, 'tools', access.optionsFor(server, caller, relay, access.listTimeoutMs))) as Tool[];
    return allowed === 'all' ? tools : tools.filter((t) => allowed.has(t.name));
  }

  async function listServer(serverId: string, caller: Caller, relay: Relay): Promise<ListToolsResult> {
    const subject = await access.subjectOf(caller);
    const server = await access.usable(subject, serverId);
    if (!server) return { tools: [] };
    try {
      const described = await deps.upstreams.describe(server, caller.identity.tenant, access.optionsFor(server, caller, relay, access.listTimeoutMs));
      if (!described.capabilities.tools) return { tools: [] };
      return { tools: await listOne(server, subject, caller, relay) };
    } catch (err) {
      throw access.toMcpError(err, caller, serverId);
    }
  }

  async function listAll(caller: Caller, relay: Relay): Promise<ListToolsResult> {
    const subject = await access.subjectOf(caller);
    const servers = await access.usableAll(subject);
    const { items, unavailable } = await access.fanOut(servers, caller, 'tools', async (server) => {
      const tools = await listOne(server, subject, caller, relay);
      const names = createToolNames(server.id, tools.map((t) => t.name), access.nameMaxLength);
      return tools.map((t) => ({ ...t, name: names.get(t.name)! }));
    });
    return access.withUnavailable({ tools: items }, unavailable);
  }

  /** The server and the server's own tool name a call is for; null when the name means nothing here. */
  async function target(scope: Scope, caller: Caller, subject: Subject, name: string, relay: Relay): Promise<{ serverId: string; tool: string } | null> {
    if (scope.kind === 'server') return { serverId: scope.serverId, tool: name };
    const parsed = parseToolName(name);
    if (!parsed) return null;
    if ('tool' in parsed) return parsed;
    // A shortened name: look it up in the server's list (only a server the caller may use is asked).
    const server = await access.usable(subject, parsed.serverId);
    if (!server) return null;
    try {
      const tools = await deps.upstreams.listAll(server, caller.identity.tenant, 'tools', access.optionsFor(server, caller, relay, access.listTimeoutMs));
      const tool = resolveToolName(server.id, name, tools.map((t) => String(t.name)), access.nameMaxLength);
      return tool === null ? null : { serverId: server.id, tool };
    } catch (err) {
      throw access.toMcpError(err, caller, server.id);
    }
  }

  return {
    async mayOpen(serverId, caller) {
      const subject = await access.subjectOf(caller);
      return (await access.usable(subject, serverId)) !== null;
    },

    listTools(scope, caller, relay = {}) {
      return scope.kind === 'server' ? listServer(scope.serverId, caller, relay) : listAll(caller, relay);
    },

    async callTool(scope, caller, call, relay = {}) {
      const { identity } = caller;
      const subject = await access.subjectOf(caller);
      const resolved = await target(scope, caller, subject, call.name, relay);
      if (!resolved) throw unknownTool(call.name);
      const decision = decideTool(subject, resolved.serverId, resolved.tool);
      if (!decision.allow) {
        deps.security.record({
          kind: 'tool-denied',
          reason: decision.reason,
          userId: identity.userId,
          userEmail: identity.email,
          requestId: caller.requestId,
          details: { serverId: resolved.serverId, tool: resolved.tool, endpoint: scope.kind === 'all' ? '/mcp' : '/mcp/:server' },
        });
        throw unknownTool(call.name);
      }
      const server = await access.usable(subject, resolved.serverId);
      if (!server) throw unknownTool(call.name);
      await deps.guard?.admit(caller, server.id, resolved.tool, call.arguments);
      const params = withMeta({ name: resolved.tool, ...(call.arguments === undefined ? {} : { arguments: call.arguments }) }, relay);
      const started = performance.now();
      try {
        // AnyResultSchema, not the SDK's CallToolResultSchema: the upstream's result goes on as it
        // came (structuredContent, isError, fields of newer revisions).
        const result = await deps.upstreams.request(server, identity.tenant, { method: 'tools/call', params }, AnyResultSchema, {
          ...access.optionsFor(server, caller, relay, server.callTimeoutMs),
          idempotent: false,
        });
        deps.guard?.observe(server.id, 'tools/call', started, null);
        if (scope.kind === 'all' && 'content' in result) return { ...result, content: wrapContentListUris(server.id, result.content) } as CallToolResult;
        return result as CallToolResult;
      } catch (err) {
        deps.guard?.observe(server.id, 'tools/call', started, err);
        throw access.toMcpError(err, caller, server.id);
      }
    },
  };
}
