import type { ServerResponse } from 'node:http';
import { HEADER } from '@mcpgw/identity';
import { unwrapResourceUri } from '../domain/resource-uri.js';
import { parseToolName } from '../domain/tool-name.js';
import type { Scope } from '../domain/caller.js';

/**
 * Response headers that tell the gateway the MCP facts of a request (method, server, tool) so it
 * records them without parsing the body again; the gateway removes them before answering. The
 * names live in @mcpgw/identity's HEADER list.
 */
export const INTERNAL_HEADER = {
  mcpMethod: HEADER.mcpgwMcpMethod,
  server: HEADER.mcpgwServer,
  tool: HEADER.mcpgwTool,
} as const;

const SAFE_VALUE = /^[\x21-\x7e]{1,128}$/;

function set(res: ServerResponse, name: string, value: unknown): void {
  if (typeof value === 'string' && SAFE_VALUE.test(value)) res.setHeader(name, value);
}

/** Sets the internal headers from the parsed JSON-RPC body, before the SDK writes the response. */
export function setInternalHeaders(res: ServerResponse, scope: Scope, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const { method, params } = body as { method?: unknown; params?: { name?: unknown; uri?: unknown } };
  set(res, INTERNAL_HEADER.mcpMethod, method);
  if (scope.kind === 'server') set(res, INTERNAL_HEADER.server, scope.serverId);
  // On /mcp, the server a prompt name or a resource URI routes to.
  if (scope.kind === 'all' && method === 'prompts/get' && typeof params?.name === 'string') set(res, INTERNAL_HEADER.server, parseToolName(params.name)?.serverId);
  if (scope.kind === 'all' && typeof method === 'string' && method.startsWith('resources/') && typeof params?.uri === 'string') {
    set(res, INTERNAL_HEADER.server, unwrapResourceUri(params.uri)?.serverId);
  }
  if (method !== 'tools/call' || typeof params?.name !== 'string') return;
  if (scope.kind === 'server') {
    set(res, INTERNAL_HEADER.tool, params.name);
  } else {
    const parsed = parseToolName(params.name);
    if (parsed) {
      set(res, INTERNAL_HEADER.server, parsed.serverId);
      // A shortened name stands for a tool only the server's list can tell: the header then says nothing.
      if ('tool' in parsed) set(res, INTERNAL_HEADER.tool, parsed.tool);
    }
  }
}
