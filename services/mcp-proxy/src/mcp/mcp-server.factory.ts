import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@mcpgw/logger';
import type { Caller, Scope } from '../domain/caller.js';
import { internalError } from '../domain/mcp-errors.js';
import type { ToolService } from '../domain/tool.service.js';
import { callerOf } from './caller-auth.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpServerDeps {
  tools: ToolService;
  logger: Logger;
  serverInfo?: { name: string; version: string };
}

/**
 * The downstream MCP server of one session (the SDK's low-level Server): tools/list and tools/call
 * answered by the tool service for this session's scope. Errors other than McpError become a bare
 * "Internal error" (the SDK would otherwise send their message to the caller); the detail is logged.
 */
export function createMcpServer(scope: Scope, deps: McpServerDeps): Server {
  const server = new Server(deps.serverInfo ?? { name: 'mcpgw', version: '0.1.0' }, { capabilities: { tools: {} } });

  async function guarded<T>(extra: Extra, what: string, fn: (caller: Caller) => Promise<T>): Promise<T> {
    const caller = callerOf(extra.authInfo);
    if (!caller) {
      deps.logger.error('mcp request without a caller', { what });
      throw internalError();
    }
    try {
      return await fn(caller);
    } catch (err) {
      if (err instanceof McpError) throw err;
      deps.logger.error('mcp request failed', { requestId: caller.requestId, what, err });
      throw internalError();
    }
  }

  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) =>
    guarded(extra, 'tools/list', (caller) => deps.tools.listTools(scope, caller, extra.signal)),
  );

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    guarded(extra, 'tools/call', (caller) =>
      deps.tools.callTool(scope, caller, { name: request.params.name, arguments: request.params.arguments }, extra.signal),
    ),
  );

  server.onerror = (err) => deps.logger.debug('mcp session error', { err: err.message });
  return server;
}
