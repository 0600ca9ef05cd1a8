import type { ProgressCallback } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Identity } from '@mcpgw/identity';
import type { ConnectionProfile } from '../upstream/upstream-pool.js';

/**
 * How one downstream session reaches upstream servers. Requests use the shared pooled connection
 * unless the session needs its own: the caller declared sampling, elicitation or roots (requests
 * the upstream sends must reach this caller), or the request changes state that lives on the
 * upstream connection (`stateful`: resources/subscribe, logging/setLevel).
 */
export interface UpstreamRoute {
  profileFor(serverId: string, options?: { stateful?: boolean }): ConnectionProfile | undefined;
}

/** Who is asking, and under which request id (for logs and security events). */
export interface Caller {
  identity: Identity;
  requestId: string;
  /** The caller's MCP session, when the request came over one (the OpenAPI routes have none). */
  session?: UpstreamRoute;
}

/** What travels with a relayed request besides its params. */
export interface Relay {
  /** The downstream request's cancellation. */
  signal?: AbortSignal;
  /** Set when the caller asked for progress (a progressToken in its `_meta`). */
  onprogress?: ProgressCallback;
  /** The caller's `_meta`, without its progressToken (the upstream gets one of ours). */
  meta?: Record<string, unknown>;
}

/** What a downstream MCP endpoint serves: one upstream server (/mcp/:server) or all of them (/mcp). */
export type Scope = { kind: 'server'; serverId: string } | { kind: 'all' };

/** A stable string for a scope, to bind a session to the endpoint it was opened on. */
export function scopeKey(scope: Scope): string {
  return scope.kind === 'all' ? 'all' : `server:${scope.serverId}`;
}
