import { describe, expect, it } from 'vitest';
import { HEADER, SIGNED_HEADERS, isReservedHeader } from './index.js';

describe('isReservedHeader', () => {
  it.each([
    'X-User-Admin',
    'x-user-admin',
    'X_User_Admin',
    'x_user_admin',
    'X-USER-ID',
    'x-user-groups',
    'X-User-Allow-Servers',
    'x_user_block_servers',
    'x-gateway-signature',
    'X-Gateway-Timestamp',
    'X_GATEWAY_VALIDATED',
    'x-gateway-anything-new',
    'X-Auth-Method',
    'x_auth_method',
    'x-user-', // the bare prefix is still inside the reserved namespace
    'X-uSeR_tEnAnT',
  ])('treats %s as reserved', (name) => {
    expect(isReservedHeader(name)).toBe(true);
  });

  it.each([
    'x-request-id',
    'content-type',
    'authorization',
    'x-api-key',
    'mcp-session-id',
    'x-forwarded-for',
    // The rule is a prefix match on `x-user-` / `x-gateway-` (dash included) plus the exact name
    // x-auth-method; names that merely start with the same letters are ordinary headers.
    'x-userfoo',
    'x-user',
    'x-gatewayish',
    'x-gateway',
    'x-auth-methods',
    'x-auth',
    'user-admin',
    'a-x-user-admin',
  ])('treats %s as an ordinary header', (name) => {
    expect(isReservedHeader(name)).toBe(false);
  });

  it('covers every signed identity header except the request id, which the gateway handles separately', () => {
    const unreserved = SIGNED_HEADERS.filter((h) => !isReservedHeader(h));
    expect(unreserved).toEqual([HEADER.requestId]);
    expect(isReservedHeader(HEADER.gatewayTimestamp)).toBe(true);
    expect(isReservedHeader(HEADER.gatewaySignature)).toBe(true);
  });
});
