import type { Identity } from '@mcpgw/identity';

/** Who is asking, and under which request id (for logs and security events). */
export interface Caller {
  identity: Identity;
  requestId: string;
}

/** What a downstream MCP endpoint serves: one upstream server (/mcp/:server) or all of them (/mcp). */
export type Scope = { kind: 'server'; serverId: string } | { kind: 'all' };

/** A stable string for a scope, to bind a session to the endpoint it was opened on. */
export function scopeKey(scope: Scope): string {
  return scope.kind === 'all' ? 'all' : `server:${scope.serverId}`;
}
