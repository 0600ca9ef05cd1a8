import type { NextFunction, Request, Response } from 'express';
import { encodeIdentityHeaders, signIdentity } from '@mcpgw/identity';

/**
 * Writes the caller's identity into signed X-User-* / X-Gateway-* headers on the request that is
 * about to be proxied. The signature covers method, path, timestamp and every identity header.
 */
export function injectIdentityHeaders(secret: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.identity) {
      const headers = signIdentity(secret, req.method, req.originalUrl, encodeIdentityHeaders(req.identity, req.requestId));
      Object.assign(req.headers, headers);
    }
    next();
  };
}
