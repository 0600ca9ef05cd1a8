import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { JSON_RPC } from '@mcpgw/http';
import type { UpstreamUnavailableError } from '../upstream/upstream.errors.js';

/**
 * The JSON-RPC errors MCP callers get from mcp-proxy. A denied tool and a tool that does not exist
 * get the same one, so the answer reveals nothing about what others may use (it says "not
 * permitted" to everyone, as test-matrix M6 asks); the same holds for prompts and resources.
 */
export function unknownTool(name: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name} (no such tool, or not permitted)`);
}

export function unknownPrompt(name: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
}

/**
 * InvalidParams, as the SDK's own servers answer an unknown resource. (The spec suggests -32002,
 * which mcpgw already uses for "upstream server unavailable".)
 */
export function unknownResource(uri: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`);
}

const WHY: Partial<Record<UpstreamUnavailableError['failure'], string>> = {
  timeout: ' (timed out)',
  refused: ' (refused: server busy or failing)',
  'circuit-open': ' (circuit open: failing fast)',
  'too-large': ' (response too large)',
  'invalid-response': ' (invalid response)',
};

export function upstreamUnavailable(err: UpstreamUnavailableError): McpError {
  return new McpError(JSON_RPC.UPSTREAM_UNAVAILABLE, `Upstream server unavailable: ${err.serverId}${WHY[err.failure] ?? ''}`);
}

export function internalError(): McpError {
  return new McpError(ErrorCode.InternalError, 'Internal error');
}
