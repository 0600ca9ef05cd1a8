import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Caller } from '../domain/caller.js';

/**
 * The SDK hands `req.auth` to request handlers as `extra.authInfo`; that is how each MCP request
 * reaches its handler with the identity the gateway signed for that very HTTP request (not the one
 * that opened the session: group changes apply at once).
 */
export function callerAuthInfo(caller: Caller): AuthInfo {
  return { token: '', clientId: caller.identity.userId, scopes: [], extra: { caller } };
}

export function callerOf(authInfo: AuthInfo | undefined): Caller | undefined {
  const caller = authInfo?.extra?.caller as Caller | undefined;
  return caller && typeof caller.requestId === 'string' && typeof caller.identity?.userId === 'string' ? caller : undefined;
}
