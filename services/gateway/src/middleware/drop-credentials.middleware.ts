import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';

/**
 * Internal services trust only the signed identity: the caller's own credential is removed so it
 * can never travel further (no token passthrough).
 */
export function dropCredentials() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    delete req.headers[HEADER.authorization];
    delete req.headers[HEADER.apiKey];
    next();
  };
}
