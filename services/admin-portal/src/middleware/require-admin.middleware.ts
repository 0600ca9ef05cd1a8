import type { NextFunction, Request, Response } from 'express';
import { AppError, identityOf, type SecurityEventRecorder } from '@mcpgw/http';

/** Only admins pass; everyone else gets 403 on every page and API route, and an event is kept. */
export function requireAdmin(security: SecurityEventRecorder) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const identity = identityOf(req);
    if (identity.admin) {
      next();
      return;
    }
    security.record({
      kind: 'forbidden',
      reason: 'admin portal requires an admin',
      userId: identity.userId,
      userEmail: identity.email,
      requestId: req.requestId,
      details: { path: req.path },
    });
    next(new AppError('FORBIDDEN', 'The admin portal is for admins only'));
  };
}
