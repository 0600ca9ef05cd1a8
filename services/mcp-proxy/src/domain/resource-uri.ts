import { SERVER_ID } from './tool-name.js';

/**
 * Resource URIs on the aggregated endpoint (/mcp): `mcpgw://{serverId}/{the server's own URI}`, so
 * a URI (or a URI template) from any server's list reads back from that server, statelessly, on any
 * replica, even when two servers use the same URI. This pair is the only place that builds or reads
 * them. On /mcp/{server} URIs are never changed.
 *
 * The server's URI goes in unencoded, so a template (`file:///{path}`) stays a template that the
 * caller can expand; unwrapping is a plain prefix strip.
 */
const SCHEME = 'mcpgw://';

export function wrapResourceUri(serverId: string, uri: string): string {
  if (!SERVER_ID.test(serverId)) throw new Error(`invalid server id: ${serverId}`);
  return `${SCHEME}${serverId}/${uri}`;
}

/** The server and its own URI behind an aggregated URI; null when the URI is not one. */
export function unwrapResourceUri(uri: string): { serverId: string; uri: string } | null {
  if (!uri.startsWith(SCHEME)) return null;
  const rest = uri.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const serverId = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (!SERVER_ID.test(serverId) || inner === '') return null;
  return { serverId, uri: inner };
}
