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
} as const;

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
