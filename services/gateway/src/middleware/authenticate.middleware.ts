import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyAuthenticator, AuthFailure } from '../domain/api-key-authenticator.js';
import { readCredential } from '../domain/credentials.js';

export type AuthProblem = AuthFailure | 'missing' | 'in-url' | 'unsupported';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Why the caller has no identity, when it has none (set by authenticate). */
      authProblem?: AuthProblem;
    }
  }
}

/**
 * Resolves the caller from its credential and sets `req.identity`, or `req.authProblem` saying
 * why not. It never refuses by itself: the rate limiter runs next (per IP for callers without an
 * identity), then requireIdentity answers 401.
 */
export function authenticate(apiKeys: ApiKeyAuthenticator) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const credential = readCredential(req);
    switch (credential.kind) {
      case 'none':
        req.authProblem = 'missing';
        break;
      case 'in-url':
        req.authProblem = 'in-url';
        break;
      case 'bearer':
        // Entra, Open WebUI and gateway-issued tokens arrive with the identity issue.
        req.authProblem = 'unsupported';
        break;
      case 'api-key': {
        const result = await apiKeys.authenticate(credential.value);
        if (result.ok) req.identity = result.identity;
        else req.authProblem = result.failure;
        break;
      }
    }
    next();
  };
}
