import type { NextFunction, Request, Response } from 'express';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { retryAfterOf, statusOfFailure, type AuthFailure } from '../domain/auth/auth-outcome.js';
import { mcpResourcePath } from '../domain/auth/discovery.js';
import { clientIp } from '../domain/client-ip.js';

const DETAIL: Partial<Record<AuthFailure, string>> = {
  missing: 'Authentication required: send Authorization: Bearer <access token or mcpgw_ API key>',
  'in-url': 'Credentials in the URL are not accepted; send them in the Authorization header',
  unsupported: 'This kind of credential is not accepted here',
  'not-allowed': 'This account may not use mcpgw',
  unavailable: 'Sign-in is temporarily unavailable; try again shortly',
};

export interface RequireIdentityOptions {
  security: SecurityEventRecorder;
  /** The RFC 9728 metadata URL of an MCP endpoint, sent in every 401 on it. */
  resourceMetadataUrl?: (resourcePath: string) => string;
}

/**
 * Lets a request with an identity through. Otherwise: 401 with a WWW-Authenticate challenge (on
 * MCP endpoints naming the protected resource metadata), 403 when the credential is valid but
 * the caller may not use mcpgw, 503 when the user could not be read; every refusal of a
 * credential is a security event. Nothing is forwarded.
 */
export function requireIdentity(securityOrOptions: SecurityEventRecorder | RequireIdentityOptions) {
  const options: RequireIdentityOptions = 'record' in securityOrOptions ? { security: securityOrOptions } : securityOrOptions;
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.identity) {
      next();
      return;
    }
    const problem = req.authProblem ?? 'missing';
    const status = statusOfFailure(problem);
    const detail = DETAIL[problem] ?? 'Invalid or expired credentials';
    if (status === 503) {
      next(new AppError('SERVICE_UNAVAILABLE', detail, { headers: { [HEADER.retryAfter]: '5' } }));
      return;
    }
    options.security.record({
      kind: status === 403 ? 'forbidden' : 'unauthenticated',
      reason: problem,
      clientIp: clientIp(req),
      requestId: req.requestId,
      details: { path: req.path, verifier: req.authRefusal?.verifier ?? 'none', ...(req.authRefusal?.detail ? { detail: req.authRefusal.detail } : {}) },
    });
    if (status === 403) {
      next(new AppError('FORBIDDEN', detail));
      return;
    }
    if (status === 429) {
      next(new AppError('RATE_LIMITED', 'Too many invalid credentials; try again later', { headers: { [HEADER.retryAfter]: retryAfterOf(req.authRefusal?.detail) } }));
      return;
    }
    const resource = options.resourceMetadataUrl ? mcpResourcePath(req.path) : null;
    const challenge = [
      'Bearer realm="mcpgw"',
      ...(problem === 'missing' ? [] : ['error="invalid_token"']),
      ...(resource ? [`resource_metadata="${options.resourceMetadataUrl!(resource)}"`] : []),
    ].join(', ');
    next(new AppError('UNAUTHENTICATED', detail, { headers: { [HEADER.wwwAuthenticate]: challenge } }));
  };
}
