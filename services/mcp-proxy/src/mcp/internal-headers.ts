import type { ServerResponse } from 'node:http';
import { parseToolName } from '../domain/tool-name.js';
import type { Scope } from '../domain/caller.js';

/**
 * Response headers that tell the gateway the MCP facts of a request (method, server, tool) so it
 * records them without parsing the body again; the gateway removes them before answering. (They
 * belong in @mcpgw/identity's HEADER list; kept here until that package has them.)
 */
export const INTERNAL_HEADER = {
  mcpMethod: 'x-mcpgw-mcp-method',
  server: 'x-mcpgw-server',
  tool: 'x-mcpgw-tool',
} as const;

const SAFE_VALUE = /^[\x21-\x7e]{1,128}$/;

function set(res: ServerResponse, name: string, value: unknown): void {
  if (typeof value === 'string' && SAFE_VALUE.test(value)) res.setHeader(name, value);
}

/** Sets the internal headers from the parsed JSON-RPC body, before the SDK writes the response. */
export function setInternalHeaders(res: ServerResponse, scope: Scope, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const { method, params } = body as { method?: unknown; params?: { name?: unknown } };
  set(res, INTERNAL_HEADER.mcpMethod, method);
  if (scope.kind === 'server') set(res, INTERNAL_HEADER.server, scope.serverId);
  if (method !== 'tools/call' || typeof params?.name !== 'string') return;
  if (scope.kind === 'server') {
    set(res, INTERNAL_HEADER.tool, params.name);
  } else {
    const parsed = parseToolName(params.name);
    if (parsed) {
      set(res, INTERNAL_HEADER.server, parsed.serverId);
      set(res, INTERNAL_HEADER.tool, parsed.tool);
    }
  }
}
