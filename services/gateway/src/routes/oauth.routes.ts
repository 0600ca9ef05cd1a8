import type { Request, Router } from 'express';
import { z } from 'zod';
import { HEADER } from '@mcpgw/identity';
import { oauthError, type ClientCredentialsService } from '../domain/auth/client-credentials.service.js';
import { clientIp } from '../domain/client-ip.js';
import { parseSmallBody } from './request-body.js';

const TokenRequest = z.object({
  grant_type: z.string().optional(),
  client_id: z.string().max(128).optional(),
  client_secret: z.string().max(512).optional(),
  resource: z.string().max(2048).optional(),
  scope: z.string().max(2048).optional(),
});

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(req: Request): { id: string; secret: string } | null | 'malformed' {
  const header = req.headers[HEADER.authorization];
  if (header === undefined) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    const plus = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: plus(decoded.slice(0, colon)), secret: plus(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}

/**
 * POST /oauth/token: the client credentials grant for M2M clients (client_secret_basic or
 * client_secret_post, not both). Answers RFC 6749 token responses and errors. Only /oauth/token is
 * the gateway's: other /oauth/* paths (Open WebUI's SSO callbacks) pass through to Open WebUI.
 */
export function registerOAuthRoutes(router: Router, deps: { clientCredentials: ClientCredentialsService }): void {
  router.post('/oauth/token', ...parseSmallBody, async (req, res) => {
    const parsed = TokenRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw oauthError('BAD_REQUEST', 'invalid_request', 'Malformed token request');
    const body = parsed.data;
    if (body.grant_type !== 'client_credentials') {
      throw oauthError('BAD_REQUEST', body.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
    }
    const basic = basicCredentials(req);
    if (basic === 'malformed') throw oauthError('UNAUTHENTICATED', 'invalid_client', 'Malformed Basic credentials', { [HEADER.wwwAuthenticate]: 'Basic realm="mcpgw"' });
    if (basic && (body.client_secret !== undefined || (body.client_id !== undefined && body.client_id !== basic.id))) {
      throw oauthError('BAD_REQUEST', 'invalid_request', 'Use one client authentication method');
    }
    const credentials = basic ?? (body.client_id && body.client_secret ? { id: body.client_id, secret: body.client_secret } : null);
    if (!credentials) throw oauthError('UNAUTHENTICATED', 'invalid_client', 'Client authentication required', { [HEADER.wwwAuthenticate]: 'Basic realm="mcpgw"' });
    const token = await deps.clientCredentials.issue(
      { clientId: credentials.id, clientSecret: credentials.secret, via: basic ? 'basic' : 'post', resource: body.resource ?? null },
      { clientIp: clientIp(req), requestId: req.requestId },
    );
    res.setHeader(HEADER.cacheControl, 'no-store');
    res.setHeader(HEADER.pragma, 'no-cache');
    res.json(token);
  });
}
