import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type Implementation,
  type ServerCapabilities,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@mcpgw/logger';
import type { CatalogService } from '../domain/catalog.service.js';
import type { Caller, Relay, Scope } from '../domain/caller.js';
import { internalError } from '../domain/mcp-errors.js';
import { unwrapResourceUri } from '../domain/resource-uri.js';
import type { ToolService } from '../domain/tool.service.js';
import { callerOf } from './caller-auth.js';
import type { SessionLink } from './session-link.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpServerDeps {
  tools: ToolService;
  catalog: CatalogService;
  logger: Logger;
}

/** What the downstream server says about itself in its initialize result. */
export interface ServerFace {
  serverInfo: Implementation;
  capabilities: ServerCapabilities;
  instructions?: string;
}

export const MCPGW_INFO: Implementation = { name: 'mcpgw', version: '0.1.0' };

/** Everything mcp-proxy can relay: what /mcp declares, and /mcp/{server} when its server could not be asked. */
export const ALL_CAPABILITIES: ServerCapabilities = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  logging: {},
  completions: {},
};

/**
 * /mcp/{server} answers initialize the way its server does (server info, instructions, the
 * capabilities mcp-proxy relays); list_changed is always declared, since grant changes send it.
 */
export function mirroredFace(upstream: { capabilities: ServerCapabilities; serverInfo?: Implementation; instructions?: string }): ServerFace {
  const caps = upstream.capabilities;
  const capabilities: ServerCapabilities = { tools: { listChanged: true } };
  if (caps.prompts) capabilities.prompts = { listChanged: true };
  if (caps.resources) capabilities.resources = { ...(caps.resources.subscribe ? { subscribe: true } : {}), listChanged: true };
  if (caps.logging) capabilities.logging = {};
  if (caps.completions) capabilities.completions = {};
  return {
    serverInfo: upstream.serverInfo ?? MCPGW_INFO,
    capabilities,
    ...(upstream.instructions === undefined ? {} : { instructions: upstream.instructions }),
  };
}

/**
 * The relay options of one downstream request: its cancellation, its progress token, its `_meta`.
 * `settled` resolves when every progress notification relayed so far was handed to the transport,
 * so the result never overtakes the last progress report.
 */
function relayOf(extra: Extra): { relay: Relay; settled(): Promise<void> } {
  const { progressToken, ...meta } = extra._meta ?? {};
  const relay: Relay = { signal: extra.signal, meta };
  let pending: Promise<void> = Promise.resolve();
  if (progressToken !== undefined) {
    relay.onprogress = (progress) => {
      pending = pending.then(() => extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })).catch(() => undefined);
    };
  }
  return { relay, settled: () => pending };
}

/**
 * The downstream MCP server of one session (the SDK's low-level Server): every request relayed by
 * the tool and catalog services for this session's scope, with the caller of that very HTTP
 * request. Errors other than McpError become a bare "Internal error" (the SDK would otherwise send
 * their message to the caller); the detail is logged.
 */
export function createMcpServer(scope: Scope, face: ServerFace, link: SessionLink, deps: McpServerDeps): Server {
  const server = new Server(face.serverInfo, {
    capabilities: face.capabilities,
    ...(face.instructions === undefined ? {} : { instructions: face.instructions }),
  });
  const caps = face.capabilities;

  async function guarded<T>(extra: Extra, what: string, fn: (caller: Caller, relay: Relay) => Promise<T>): Promise<T> {
    const fromRequest = callerOf(extra.authInfo);
    if (!fromRequest) {
      deps.logger.error('mcp request without a caller', { what });
      throw internalError();
    }
    const caller: Caller = { ...fromRequest, session: link };
    link.identity = caller.identity;
    const untrack = link.track(extra.requestId);
    const { relay, settled } = relayOf(extra);
    try {
      const result = await fn(caller, relay);
      await settled();
      return result;
    } catch (err) {
      if (err instanceof McpError) throw err;
      deps.logger.error('mcp request failed', { requestId: caller.requestId, what, err });
      throw internalError();
    } finally {
      untrack();
    }
  }

  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) =>
    guarded(extra, 'tools/list', (caller, relay) => deps.tools.listTools(scope, caller, relay)),
  );
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    guarded(extra, 'tools/call', (caller, relay) =>
      deps.tools.callTool(scope, caller, { name: request.params.name, arguments: request.params.arguments }, relay),
    ),
  );

  if (caps.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (request, extra) =>
      guarded(extra, 'prompts/list', (caller, relay) => deps.catalog.listPrompts(scope, caller, request.params?.cursor, relay)),
    );
    server.setRequestHandler(GetPromptRequestSchema, (request, extra) =>
      guarded(extra, 'prompts/get', (caller, relay) => deps.catalog.getPrompt(scope, caller, request.params.name, request.params.arguments, relay)),
    );
  }

  if (caps.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (request, extra) =>
      guarded(extra, 'resources/list', (caller, relay) => deps.catalog.listResources(scope, caller, request.params?.cursor, relay)),
    );
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (request, extra) =>
      guarded(extra, 'resources/templates/list', (caller, relay) => deps.catalog.listResourceTemplates(scope, caller, request.params?.cursor, relay)),
    );
    server.setRequestHandler(ReadResourceRequestSchema, (request, extra) =>
      guarded(extra, 'resources/read', (caller, relay) => deps.catalog.readResource(scope, caller, request.params.uri, relay)),
    );
    if (caps.resources.subscribe) {
      /** The server and its own URI, to remember a subscription by. */
      const routed = (uri: string) => (scope.kind === 'server' ? { serverId: scope.serverId, uri } : unwrapResourceUri(uri));
      server.setRequestHandler(SubscribeRequestSchema, (request, extra) =>
        guarded(extra, 'resources/subscribe', async (caller, relay) => {
          const result = await deps.catalog.subscription('resources/subscribe', scope, caller, request.params.uri, relay);
          const target = routed(request.params.uri);
          if (target) link.rememberSubscription(target.serverId, target.uri, true);
          return result;
        }),
      );
      server.setRequestHandler(UnsubscribeRequestSchema, (request, extra) =>
        guarded(extra, 'resources/unsubscribe', async (caller, relay) => {
          const target = routed(request.params.uri);
          if (target) link.rememberSubscription(target.serverId, target.uri, false);
          return deps.catalog.subscription('resources/unsubscribe', scope, caller, request.params.uri, relay);
        }),
      );
    }
  }

  if (caps.completions) {
    server.setRequestHandler(CompleteRequestSchema, (request, extra) =>
      guarded(extra, 'completion/complete', (caller, relay) => deps.catalog.complete(scope, caller, request.params, relay)),
    );
  }

  if (caps.logging) {
    server.setRequestHandler(SetLevelRequestSchema, (request, extra) =>
      guarded(extra, 'logging/setLevel', async (caller, relay) => {
        const result = await deps.catalog.setLoggingLevel(scope, caller, request.params.level, relay);
        link.rememberLoggingLevel(request.params.level);
        return result;
      }),
    );
  }

  server.setNotificationHandler(RootsListChangedNotificationSchema, (notification) => link.fromCaller(notification));
  server.onerror = (err) => deps.logger.debug('mcp session error', { err: err.message });
  link.attach(server);
  return server;
}
