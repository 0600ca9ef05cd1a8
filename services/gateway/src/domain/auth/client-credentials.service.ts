import { digestsEqual, hashSecret } from '@mcpgw/crypto';
import type { M2mClientRepo } from '@mcpgw/db';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { mcpResourcePath } from './discovery.js';
import type { SignInThrottle } from './sign-in.throttle.js';
import type { TokenIssuer } from './token.issuer.js';

export interface ClientCredentialsRequest {
  clientId: string;
  clientSecret: string;
  /** How the client authenticated: Basic sends a Basic challenge back on failure. */
  via: 'basic' | 'post';
  /** RFC 8707 resource: the gateway or one of its MCP endpoints. */
  resource: string | null;
}

/** An OAuth error (RFC 6749 §5.2) as an AppError: `error`/`error_description` ride in the body. */
export function oauthError(code: 'BAD_REQUEST' | 'UNAUTHENTICATED', error: string, description: string, headers: Record<string, string> = {}): AppError {
  return new AppError(code, description, { headers, extra: { error, error_description: description } });
}

const DECOY_HASH = hashSecret('decoy');

/**
 * POST /oauth/token with grant_type=client_credentials: checks an M2M client's secret (SHA-256,
 * compared in constant time; throttled per client and per IP) and issues a short-lived access
 * token for the gateway, or for the MCP endpoint named by `resource`.
 */
export function createClientCredentialsService(options: {
  repo: Pick<M2mClientRepo, 'findSecret' | 'touchLastUsed'>;
  issuer: TokenIssuer;
  throttle: SignInThrottle;
  security: SecurityEventRecorder;
  publicUrl: string;
}) {
  function audienceFor(resource: string | null): string {
    if (resource === null || resource === options.publicUrl || resource === `${options.publicUrl}/`) return options.publicUrl;
    const path = resource.startsWith(options.publicUrl) ? resource.slice(options.publicUrl.length) : null;
    if (path === null || mcpResourcePath(path) !== path) {
      throw oauthError('BAD_REQUEST', 'invalid_target', 'resource must be this gateway or one of its MCP endpoints');
    }
    return resource;
  }

  return {
    async issue(req: ClientCredentialsRequest, ctx: { clientIp: string; requestId: string }) {
      const audience = audienceFor(req.resource);
      await options.throttle.check(`client:${req.clientId}`, ctx);
      let client;
      try {
        client = await options.repo.findSecret(req.clientId);
      } catch (err) {
        throw new AppError('SERVICE_UNAVAILABLE', 'Token issuance is temporarily unavailable', { cause: err, headers: { [HEADER.retryAfter]: '5' } });
      }
      const matches = digestsEqual(hashSecret(req.clientSecret), client?.secretHash ?? DECOY_HASH);
      if (!client || !matches || !client.enabled) {
        options.security.record({
          kind: 'sign-in-failed',
          reason: !client ? 'unknown client' : !matches ? 'wrong client secret' : 'client disabled',
          clientIp: ctx.clientIp,
          requestId: ctx.requestId,
          details: { clientId: req.clientId.slice(0, 64) },
        });
        const challenge: Record<string, string> = req.via === 'basic' ? { [HEADER.wwwAuthenticate]: 'Basic realm="mcpgw"' } : {};
        throw oauthError('UNAUTHENTICATED', 'invalid_client', 'Client authentication failed', challenge);
      }
      const token = await options.issuer.issue({ userId: client.userId, authMethod: 'm2m', audience, clientId: client.clientId });
      options.repo.touchLastUsed(client.clientId).catch(() => undefined);
      return { access_token: token.accessToken, token_type: 'Bearer' as const, expires_in: token.expiresIn };
    },
  };
}
export type ClientCredentialsService = ReturnType<typeof createClientCredentialsService>;
