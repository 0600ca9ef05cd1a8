/**
 * Every header name mcpgw reads or writes, in one place. Lower case, as Node presents them.
 * Nothing else in the code base spells these strings.
 */
export const HEADER = {
  userId: 'x-user-id',
  userEmail: 'x-user-email',
  userName: 'x-user-name',
  userGroups: 'x-user-groups',
  userAdmin: 'x-user-admin',
  userTenant: 'x-user-tenant',
  /** Server ids an API key is limited to (absent: no narrowing). */
  userAllowServers: 'x-user-allow-servers',
  /** Server ids an API key may not use. */
  userBlockServers: 'x-user-block-servers',
  authMethod: 'x-auth-method',
  requestId: 'x-request-id',
  gatewayValidated: 'x-gateway-validated',
  gatewayTimestamp: 'x-gateway-timestamp',
  gatewaySignature: 'x-gateway-signature',
  apiKey: 'x-api-key',
  authorization: 'authorization',
  wwwAuthenticate: 'www-authenticate',
  retryAfter: 'retry-after',
  rateLimitPolicy: 'ratelimit-policy',
  rateLimit: 'ratelimit',
  mcpSessionId: 'mcp-session-id',
  mcpProtocolVersion: 'mcp-protocol-version',
  lastEventId: 'last-event-id',
  forwardedFor: 'x-forwarded-for',
  cookie: 'cookie',
  contentType: 'content-type',
  cacheControl: 'cache-control',
  pragma: 'pragma',
  accessControlAllowOrigin: 'access-control-allow-origin',
  /** Browsers say where a request comes from (same-origin, same-site, cross-site, none). */
  secFetchSite: 'sec-fetch-site',
  /** Response headers by which mcp-proxy tells the gateway a request's MCP facts (analytics). */
  mcpgwMcpMethod: 'x-mcpgw-mcp-method',
  mcpgwServer: 'x-mcpgw-server',
  mcpgwTool: 'x-mcpgw-tool',
  /**
   * On a 503 from a draining instance (mcp-proxy in a rolling restart): the request was refused
   * before anything ran, so the gateway may send it to another instance.
   */
  mcpgwDraining: 'x-mcpgw-draining',
  /**
   * On requests from the gateway to mcp-proxy: the tag by which the gateway knows that instance.
   * mcp-proxy puts it in front of the ids of sessions it opens (`{tag}.{random}`), so every gateway
   * sends a session's requests to the instance that opened it. Inbound copies are removed.
   */
  mcpgwInstance: 'x-mcpgw-instance',
} as const;

/**
 * Internal response headers mcp-proxy sets for the gateway; the gateway reads them on responses
 * from mcp-proxy and removes them from every response before the caller sees it.
 */
export const INTERNAL_RESPONSE_HEADERS = [HEADER.mcpgwMcpMethod, HEADER.mcpgwServer, HEADER.mcpgwTool, HEADER.mcpgwDraining] as const;

/** The signed identity headers, in the order the canonical string lists them. */
export const SIGNED_HEADERS = [
  HEADER.userId,
  HEADER.userEmail,
  HEADER.userName,
  HEADER.userGroups,
  HEADER.userAdmin,
  HEADER.userTenant,
  HEADER.userAllowServers,
  HEADER.userBlockServers,
  HEADER.authMethod,
  HEADER.requestId,
  HEADER.gatewayValidated,
] as const;

/** Prefixes of header names that only the gateway may set. Matched after `_` is read as `-`. */
const RESERVED_PREFIXES = ['x-user-', 'x-gateway-'];
const RESERVED_NAMES = new Set<string>([HEADER.authMethod]);

/**
 * True when an inbound header name belongs to the identity contract, in any spelling a client or a
 * proxy might use (case, `_` for `-`). The gateway deletes all of these before it proxies.
 */
export function isReservedHeader(name: string): boolean {
  const normalized = name.toLowerCase().replace(/_/g, '-');
  return RESERVED_NAMES.has(normalized) || RESERVED_PREFIXES.some((p) => normalized.startsWith(p));
}
