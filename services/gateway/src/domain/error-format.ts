import type { Request } from 'express';
import type { ErrorFormat } from '@mcpgw/http';
import { upstreamFor } from './routing.js';

/** MCP callers get JSON-RPC errors, the admin UI's pages an HTML page, everything else RFC 9457. */
export function errorFormatFor(req: Request): ErrorFormat {
  const upstream = upstreamFor(req.path);
  if (upstream === 'mcp-proxy' && !req.path.startsWith('/servers')) return 'json-rpc';
  if (upstream === 'admin-portal' && !req.path.startsWith('/mcp-admin/api') && (req.headers.accept ?? '').includes('text/html')) return 'html';
  return 'problem';
}
