import type { RefreshTokenRepo } from '@mcpgw/db';
import { refused } from './auth-outcome.js';
import { toIdentity, type IdentityResolver } from './identity.resolver.js';
import { checkJwt, type PeekedJwt } from './jwt-check.js';
import type { SigningKeyStore } from './signing-key.store.js';
import type { AuthContext, TokenVerifier, VerifyResult } from './token.authenticator.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * True when one of the token's audiences is this gateway (`issuer`) or an MCP endpoint of it that
 * the request path falls under: a token for /mcp/github is refused on /mcp/jira and /mcp-admin.
 */
export function audienceCovers(audiences: readonly string[], issuer: string, path: string): boolean {
  return audiences.some((aud) => {
    if (aud === issuer) return true;
    if (!aud.startsWith(`${issuer}/`)) return false;
    const resource = aud.slice(issuer.length);
    return path === resource || path.startsWith(`${resource}/`);
  });
}

/**
 * Tokens the gateway issued itself (local sign-in, M2M): verified like any other token, with the
 * algorithm of the published key named by `kid` (ES256 or RS256, never HMAC), issuer = the
 * gateway's URL, audience = the gateway or the MCP endpoint requested.
 */
export function createGatewayTokenVerifier(options: {
  issuer: string;
  keys: Pick<SigningKeyStore, 'verificationKey'>;
  clockSkewSec: number;
  resolver: IdentityResolver;
  refreshTokens: Pick<RefreshTokenRepo, 'isFamilyLive'>;
}): TokenVerifier {
  return {
    method: 'local',
    owns: ({ payload }) => payload.iss === options.issuer,

    async verify(token: string, { header }: PeekedJwt): Promise<VerifyResult> {
      if (header.alg !== 'ES256' && header.alg !== 'RS256') return { ok: false, failure: 'bad-algorithm', detail: 'algorithm not accepted' };
      if (typeof header.kid !== 'string' || !KID.test(header.kid)) return { ok: false, failure: 'malformed', detail: 'token has no usable kid' };
      const key = await options.keys.verificationKey(header.kid);
      if (!key) return { ok: false, failure: 'unknown-key', detail: 'signing key not found' };
      if (key.alg !== header.alg) return { ok: false, failure: 'bad-algorithm', detail: 'algorithm does not match the key' };
      const checked = checkJwt(token, key.key, { algorithms: [key.alg], issuer: options.issuer, clockToleranceSec: options.clockSkewSec, requireExp: true });
      if (!checked.ok) return checked;
      const p = checked.payload;
      const method = p.auth_method;
      const audiences = (Array.isArray(p.aud) ? p.aud : [p.aud]).filter((a): a is string => typeof a === 'string');
      if (typeof p.sub !== 'string' || !UUID.test(p.sub) || (method !== 'local' && method !== 'm2m') || audiences.length === 0) {
        return { ok: false, failure: 'malformed', detail: 'claims incomplete' };
      }
      const sid = typeof p.sid === 'string' && UUID.test(p.sid) ? p.sid : null;
      if (method === 'local' && !sid) return { ok: false, failure: 'malformed', detail: 'local token without session' };
      const userId = p.sub;
      return {
        ok: true,
        token: {
          exp: p.exp!,
          allows: (ctx: AuthContext) => audienceCovers(audiences, options.issuer, ctx.path),
          async resolve() {
            const principal = await options.resolver.findUser(userId);
            if (!principal) return refused('unknown', method, 'no such user');
            if (!principal.enabled) return refused('disabled', method, 'user is disabled');
            if (principal.source !== (method === 'local' ? 'local' : 'm2m')) return refused('malformed', method, 'token does not match the user');
            if (method === 'local' && !(await options.refreshTokens.isFamilyLive(sid!))) return refused('revoked', method, 'signed out');
            return { ok: true, identity: toIdentity(principal, method) };
          },
        },
      };
    },
  };
}
