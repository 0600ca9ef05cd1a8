import type { Router } from 'express';
import { z } from 'zod';
import { identityOf } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { readCredential } from '../domain/auth/credentials.js';
import { peekJwt } from '../domain/auth/jwt-check.js';
import type { LocalAccountService } from '../domain/auth/local-account.service.js';
import { bodyOf, parseSmallBody } from './request-body.js';

const Logout = z.object({
  refresh_token: z.string().max(512).optional(),
  everywhere: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
});

/**
 * GET /auth/me and POST /auth/logout, for a caller of any auth method. Registered after
 * authentication, blocks, rate limits and the identity check (routing.isGatewayCallerPath), and
 * before the caller's credential is dropped (sign-out reads its session from it).
 */
export function registerAuthSessionRoutes(router: Router, deps: { accounts: Pick<LocalAccountService, 'logout'> }): void {
  router.get('/auth/me', (req, res) => {
    const i = identityOf(req);
    res.setHeader(HEADER.cacheControl, 'no-store');
    res.json({
      userId: i.userId,
      email: i.email,
      name: i.name,
      groups: i.groups,
      admin: i.admin,
      tenant: i.tenant,
      authMethod: i.authMethod,
      allowServers: i.allowServers,
      blockServers: i.blockServers,
    });
  });

  router.post('/auth/logout', ...parseSmallBody, async (req, res) => {
    const i = identityOf(req);
    const body = bodyOf(Logout, req.body);
    const credential = readCredential(req);
    // A local access token names its sign-in (sid): signing out ends that one.
    const sid = i.authMethod === 'local' && credential.kind === 'jwt' ? peekJwt(credential.value)?.payload.sid : undefined;
    await deps.accounts.logout({
      userId: i.userId,
      sessionId: typeof sid === 'string' ? sid : null,
      refreshToken: body.refresh_token ?? null,
      everywhere: body.everywhere === true,
    });
    res.status(204).end();
  });
}
