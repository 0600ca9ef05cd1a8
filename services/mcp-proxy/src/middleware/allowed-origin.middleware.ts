import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@mcpgw/http';

/**
 * DNS-rebinding guard the MCP transport spec requires: a request that carries an Origin header not
 * in `allowedOrigins` gets 403. No Origin (IDE agents, Open WebUI's server side, M2M jobs) is fine.
 */
export function requireAllowedOrigin(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins.map((o) => o.toLowerCase().replace(/\/+$/, '')));
  return (req: Request, _res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.has(origin.toLowerCase())) {
      next();
      return;
    }
    next(new AppError('FORBIDDEN', 'Origin not allowed'));
  };
}
