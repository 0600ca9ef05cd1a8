/** Which upstream serves a path. The gateway itself serves /gateway/*. */
export type Upstream = 'mcp-proxy' | 'admin-portal' | 'openwebui';

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

export function upstreamFor(path: string): Upstream {
  if (under(path, '/mcp-admin')) return 'admin-portal';
  if (under(path, '/mcp') || under(path, '/servers')) return 'mcp-proxy';
  return 'openwebui';
}

/** The gateway's own routes that need a signed-in caller (admins only): served after authentication. */
export function isGatewayAdminPath(path: string): boolean {
  return path === '/gateway/stats';
}

/**
 * The gateway's own routes for any signed-in caller (/auth/me, /auth/logout): served after the same
 * authentication, blocks, rate limits and identity check as proxied paths.
 */
export function isGatewayCallerPath(path: string): boolean {
  return path === '/auth/me' || path === '/auth/logout';
}

/** Paths that need a caller identity before anything is proxied. */
export function requiresIdentity(upstream: Upstream): boolean {
  return upstream !== 'openwebui';
}
