import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { JSON_RPC } from '@mcpgw/http';
import type { UpstreamUnavailableError } from '../upstream/upstream.errors.js';

/**
 * The JSON-RPC errors MCP callers get from mcp-proxy. A denied tool and a tool that does not exist
 * get the same one, so the answer reveals nothing about what others may use.
 */
export function unknownTool(name: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
}

export function upstreamUnavailable(err: UpstreamUnavailableError): McpError {
  const why = err.failure === 'timeout' ? ' (timed out)' : '';
  return new McpError(JSON_RPC.UPSTREAM_UNAVAILABLE, `Upstream server unavailable: ${err.serverId}${why}`);
}

export function transportNotSupported(serverId: string, transport: string): McpError {
  return new McpError(JSON_RPC.UPSTREAM_UNAVAILABLE, `Upstream server unavailable: ${serverId} (transport "${transport}" is not supported yet)`);
}

export function internalError(): McpError {
  return new McpError(ErrorCode.InternalError, 'Internal error');
}
