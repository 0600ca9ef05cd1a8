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

/** Paths that need a caller identity before anything is proxied. */
export function requiresIdentity(upstream: Upstream): boolean {
  return upstream !== 'openwebui';
}
