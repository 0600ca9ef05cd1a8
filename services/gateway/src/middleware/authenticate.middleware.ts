import type { NextFunction, Request, Response } from 'express';
import type { AuthFailure, AuthVerifier } from '../domain/auth/auth-outcome.js';
import type { CallerAuthenticator } from '../domain/auth/caller.authenticator.js';
import { readCredential } from '../domain/auth/credentials.js';
import { clientIp } from '../domain/client-ip.js';

export type AuthProblem = AuthFailure;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Why the caller has no identity, when it has none (set by authenticate). */
      authProblem?: AuthProblem;
      /** Which verifier refused, and its reason in a few words (for the security event). */
      authRefusal?: { verifier: AuthVerifier; detail?: string };
    }
  }
}

/**
 * Resolves the caller from its credential (whatever the method) and sets `req.identity`, or
 * `req.authProblem` saying why not. It never refuses by itself: the rate limiter runs next (per
 * IP for callers without an identity), then requireIdentity answers 401/403/503.
 */
export function authenticate(auth: Pick<CallerAuthenticator, 'authenticate'>) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const outcome = await auth.authenticate(readCredential(req), { path: req.path, requestId: req.requestId, clientIp: clientIp(req) });
    if (outcome.ok) {
      req.identity = outcome.identity;
    } else {
      req.authProblem = outcome.failure;
      req.authRefusal = outcome.detail === undefined ? { verifier: outcome.verifier } : { verifier: outcome.verifier, detail: outcome.detail };
    }
    next();
  };
}
