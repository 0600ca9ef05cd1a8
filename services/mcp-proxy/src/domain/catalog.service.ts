import type {
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  ListPromptsResult,
  ListResourcesResult,
  ListResourceTemplatesResult,
  LoggingLevel,
  ReadResourceResult,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { AnyResultSchema, type ListKind } from '../upstream/result-schemas.js';
import type { UpstreamPool } from '../upstream/upstream-pool.js';
import { wrapContentUris } from './aggregate-content.js';
import type { Caller, Relay, Scope } from './caller.js';
import { unknownPrompt, unknownResource } from './mcp-errors.js';
import { unwrapResourceUri, wrapResourceUri } from './resource-uri.js';
import type { ServerAccess } from './server-access.js';
import { withMeta } from './tool.service.js';
import { createToolNames, parseToolName, resolveToolName } from './tool-name.js';

export interface CatalogServiceDeps {
  access: ServerAccess;
  upstreams: Pick<UpstreamPool, 'listAll' | 'request' | 'describe'>;
  logger: Logger;
}

type Item = Record<string, unknown>;
type Result = Record<string, unknown>;

const LIST_METHOD: Record<ListKind, { method: string; key: string; capability: keyof ServerCapabilities }> = {
  tools: { method: 'tools/list', key: 'tools', capability: 'tools' },
  prompts: { method: 'prompts/list', key: 'prompts', capability: 'prompts' },
  resources: { method: 'resources/list', key: 'resources', capability: 'resources' },
  resourceTemplates: { method: 'resources/templates/list', key: 'resourceTemplates', capability: 'resources' },
};

/** How an item of a list is renamed on /mcp. */
const AGGREGATE: Record<Exclude<ListKind, 'tools'>, (serverId: string, items: Item[], nameMaxLength: number) => Item[]> = {
  prompts: (serverId, items, nameMaxLength) => {
    const names = createToolNames(serverId, items.map((p) => String(p.name)), nameMaxLength);
    return items.map((p) => ({ ...p, name: names.get(String(p.name)) }));
  },
  resources: (serverId, items) => items.map((r) => ({ ...r, uri: wrapResourceUri(serverId, String(r.uri)) })),
  resourceTemplates: (serverId, items) => items.map((t) => ({ ...t, uriTemplate: wrapResourceUri(serverId, String(t.uriTemplate)) })),
};

/**
 * Prompts, resources, completion and logging on both endpoints. Grants are per server here: a
 * server the caller may use exposes its prompts and resources (tools are filtered per tool by the
 * tool service). On /mcp/{server} everything passes through unchanged, pagination cursors
 * included; on /mcp every server is read (all pages, in parallel, one answer page), prompt names
 * get the tool-name treatment and resource URIs the `mcpgw://{server}/` prefix, and requests are
 * routed back to the server a name or URI came from.
 */
export function createCatalogService(deps: CatalogServiceDeps) {
  const { access } = deps;

  async function relayTo(server: Server, caller: Caller, method: string, params: Item, relay: Relay, o: { idempotent: boolean; stateful?: boolean; timeoutMs?: number }): Promise<Result> {
    try {
      return await deps.upstreams.request(server, caller.identity.tenant, { method, params: withMeta(params, relay) }, AnyResultSchema, {
        ...access.optionsFor(server, caller, relay, o.timeoutMs ?? server.callTimeoutMs, o.stateful),
        idempotent: o.idempotent,
      });
    } catch (err) {
      throw access.toMcpError(err, caller, server.id);
    }
  }

  async function offers(server: Server, caller: Caller, relay: Relay, capability: keyof ServerCapabilities): Promise<boolean> {
    try {
      const described = await deps.upstreams.describe(server, caller.identity.tenant, access.optionsFor(server, caller, relay, access.listTimeoutMs));
      return Boolean(described.capabilities[capability]);
    } catch (err) {
      throw access.toMcpError(err, caller, server.id);
    }
  }

  async function list(kind: Exclude<ListKind, 'tools'>, scope: Scope, caller: Caller, cursor: string | undefined, relay: Relay): Promise<Result> {
    const { method, key, capability } = LIST_METHOD[kind];
    const subject = await access.subjectOf(caller);
    if (scope.kind === 'server') {
      const server = await access.usable(subject, scope.serverId);
      if (!server || !(await offers(server, caller, relay, capability))) return { [key]: [] };
      return relayTo(server, caller, method, cursor === undefined ? {} : { cursor }, relay, { idempotent: true, timeoutMs: access.listTimeoutMs });
    }
    const servers = await access.usableAll(subject);
    const { items, unavailable } = await access.fanOut(servers, caller, capability, async (server) =>
      AGGREGATE[kind](
        server.id,
        await deps.upstreams.listAll(server, caller.identity.tenant, kind, access.optionsFor(server, caller, relay, access.listTimeoutMs)),
        access.nameMaxLength,
      ),
    );
    return access.withUnavailable({ [key]: items }, unavailable);
  }

  /** The usable server and its own name for a prompt name of this scope; null when there is none. */
  async function promptTarget(scope: Scope, caller: Caller, name: string, relay: Relay): Promise<{ server: Server; name: string } | null> {
    const subject = await access.subjectOf(caller);
    if (scope.kind === 'server') {
      const server = await access.usable(subject, scope.serverId);
      return server ? { server, name } : null;
    }
    const parsed = parseToolName(name);
    const server = parsed ? await access.usable(subject, parsed.serverId) : null;
    if (!parsed || !server) return null;
    if ('tool' in parsed) return { server, name: parsed.tool };
    const prompts = await deps.upstreams
      .listAll(server, caller.identity.tenant, 'prompts', access.optionsFor(server, caller, relay, access.listTimeoutMs))
      .catch((err: unknown) => {
        throw access.toMcpError(err, caller, server.id);
      });
    const own = resolveToolName(server.id, name, prompts.map((p) => String(p.name)), access.nameMaxLength);
    return own === null ? null : { server, name: own };
  }

  /** The usable server and its own URI for a resource URI of this scope; null when there is none. */
  async function resourceTarget(scope: Scope, caller: Caller, uri: string): Promise<{ server: Server; uri: string } | null> {
    const subject = await access.subjectOf(caller);
    const routed = scope.kind === 'server' ? { serverId: scope.serverId, uri } : unwrapResourceUri(uri);
    const server = routed ? await access.usable(subject, routed.serverId) : null;
    return routed && server ? { server, uri: routed.uri } : null;
  }

  return {
    /** What the server says about itself (capabilities, info, instructions); null when the caller may not use it. */
    async describe(serverId: string, caller: Caller) {
      const server = await access.usable(await access.subjectOf(caller), serverId);
      if (!server) return null;
      return deps.upstreams.describe(server, caller.identity.tenant, access.optionsFor(server, caller, {}, access.listTimeoutMs));
    },

    listPrompts: (scope: Scope, caller: Caller, cursor?: string, relay: Relay = {}) =>
      list('prompts', scope, caller, cursor, relay) as Promise<ListPromptsResult>,
    listResources: (scope: Scope, caller: Caller, cursor?: string, relay: Relay = {}) =>
      list('resources', scope, caller, cursor, relay) as Promise<ListResourcesResult>,
    listResourceTemplates: (scope: Scope, caller: Caller, cursor?: string, relay: Relay = {}) =>
      list('resourceTemplates', scope, caller, cursor, relay) as Promise<ListResourceTemplatesResult>,

    async getPrompt(scope: Scope, caller: Caller, name: string, args: Record<string, string> | undefined, relay: Relay = {}): Promise<GetPromptResult> {
      const target = await promptTarget(scope, caller, name, relay);
      if (!target) throw unknownPrompt(name);
      const result = await relayTo(target.server, caller, 'prompts/get', { name: target.name, ...(args ? { arguments: args } : {}) }, relay, { idempotent: true });
      if (scope.kind === 'all' && Array.isArray(result.messages)) {
        result.messages = (result.messages as Item[]).map((m) => ({ ...m, content: wrapContentUris(target.server.id, m.content) }));
      }
      return result as GetPromptResult;
    },

    async readResource(scope: Scope, caller: Caller, uri: string, relay: Relay = {}): Promise<ReadResourceResult> {
      const target = await resourceTarget(scope, caller, uri);
      if (!target) throw unknownResource(uri);
      const result = await relayTo(target.server, caller, 'resources/read', { uri: target.uri }, relay, { idempotent: true });
      if (scope.kind === 'all' && Array.isArray(result.contents)) {
        result.contents = (result.contents as Item[]).map((c) => (typeof c.uri === 'string' ? { ...c, uri: wrapResourceUri(target.server.id, c.uri) } : c));
      }
      return result as ReadResourceResult;
    },

    /** resources/subscribe and unsubscribe go over the session's own connection to the server. */
    async subscription(method: 'resources/subscribe' | 'resources/unsubscribe', scope: Scope, caller: Caller, uri: string, relay: Relay = {}): Promise<Result> {
      const target = await resourceTarget(scope, caller, uri);
      if (!target) throw unknownResource(uri);
      return relayTo(target.server, caller, method, { uri: target.uri }, relay, { idempotent: true, stateful: true });
    },

    async complete(scope: Scope, caller: Caller, params: CompleteRequest['params'], relay: Relay = {}): Promise<CompleteResult> {
      const { ref } = params;
      const { _meta: _ignored, ...rest } = params;
      if (ref.type === 'ref/prompt') {
        const target = await promptTarget(scope, caller, ref.name, relay);
        if (!target) throw unknownPrompt(ref.name);
        return (await relayTo(target.server, caller, 'completion/complete', { ...rest, ref: { ...ref, name: target.name } }, relay, { idempotent: true })) as CompleteResult;
      }
      const target = await resourceTarget(scope, caller, ref.uri);
      if (!target) throw unknownResource(ref.uri);
      return (await relayTo(target.server, caller, 'completion/complete', { ...rest, ref: { ...ref, uri: target.uri } }, relay, { idempotent: true })) as CompleteResult;
    },

    /**
     * logging/setLevel: sent over the session's own connection to the server (to every server
     * that offers logging, on /mcp), so each caller's level stays its own.
     */
    async setLoggingLevel(scope: Scope, caller: Caller, level: LoggingLevel, relay: Relay = {}): Promise<Result> {
      const subject = await access.subjectOf(caller);
      if (scope.kind === 'server') {
        const server = await access.usable(subject, scope.serverId);
        if (server) await relayTo(server, caller, 'logging/setLevel', { level }, relay, { idempotent: true, stateful: true });
        return {};
      }
      const servers = await access.usableAll(subject);
      await access.fanOut(servers, caller, 'logging', async (server) => {
        await relayTo(server, caller, 'logging/setLevel', { level }, relay, { idempotent: true, stateful: true });
        return [];
      });
      return {};
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
