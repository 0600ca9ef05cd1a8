import type { ErrorCode } from './errors.js';

/** JSON-RPC 2.0 error codes used by mcpgw (standard ones and the MCP/implementation range). */
export const JSON_RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Implementation-defined server errors (-32000 … -32099). */
  SERVER_ERROR: -32000,
  UNAUTHENTICATED: -32001,
  FORBIDDEN: -32003,
  RATE_LIMITED: -32029,
  UPSTREAM_UNAVAILABLE: -32002,
} as const;

export interface JsonRpcErrorBody {
  jsonrpc: '2.0';
  id: string | number | null;
  error: { code: number; message: string; data?: Record<string, unknown> };
}

const CODE_FOR: Record<ErrorCode, number> = {
  BAD_REQUEST: JSON_RPC.INVALID_REQUEST,
  UNAUTHENTICATED: JSON_RPC.UNAUTHENTICATED,
  FORBIDDEN: JSON_RPC.FORBIDDEN,
  NOT_FOUND: JSON_RPC.SERVER_ERROR,
  CONFLICT: JSON_RPC.SERVER_ERROR,
  PAYLOAD_TOO_LARGE: JSON_RPC.INVALID_REQUEST,
  RATE_LIMITED: JSON_RPC.RATE_LIMITED,
  UPSTREAM_UNAVAILABLE: JSON_RPC.UPSTREAM_UNAVAILABLE,
  UPSTREAM_TIMEOUT: JSON_RPC.UPSTREAM_UNAVAILABLE,
  SERVICE_UNAVAILABLE: JSON_RPC.SERVER_ERROR,
  INTERNAL: JSON_RPC.INTERNAL_ERROR,
};

/** The JSON-RPC error body MCP callers get for an HTTP-level failure (id unknown: null). */
export function jsonRpcError(code: ErrorCode, message: string, data?: Record<string, unknown>): JsonRpcErrorBody {
  return { jsonrpc: '2.0', id: null, error: { code: CODE_FOR[code], message, ...(data ? { data } : {}) } };
}
