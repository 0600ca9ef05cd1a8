import type { NextFunction, Request, Response } from 'express';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { clientIp } from '../domain/client-ip.js';

const DETAIL: Record<string, string> = {
  missing: 'Authentication required: send Authorization: Bearer <mcpgw_ API key>',
  'in-url': 'Credentials in the URL are not accepted; send them in the Authorization header',
  unsupported: 'This kind of token is not accepted here',
};

/** 401 with a WWW-Authenticate challenge unless authenticate found an identity. */
export function requireIdentity(security: SecurityEventRecorder) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.identity) {
      next();
      return;
    }
    const problem = req.authProblem ?? 'missing';
    security.record({ kind: 'unauthenticated', reason: problem, clientIp: clientIp(req), requestId: req.requestId, details: { path: req.path } });
    const challenge = problem === 'missing' ? 'Bearer realm="mcpgw"' : 'Bearer realm="mcpgw", error="invalid_token"';
    next(
      new AppError('UNAUTHENTICATED', DETAIL[problem] ?? 'Invalid or expired credentials', {
        headers: { [HEADER.wwwAuthenticate]: challenge },
      }),
    );
  };
}
