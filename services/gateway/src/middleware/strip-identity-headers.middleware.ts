import type { NextFunction, Request, Response } from 'express';
import { isReservedHeader } from '@mcpgw/identity';

/**
 * Deletes every inbound header of the identity contract, in any spelling (case, `_` for `-`),
 * before anything reads them. Only the gateway's own signed values ever travel downstream.
 */
export function stripIdentityHeaders() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    for (const name of Object.keys(req.headers)) {
      if (isReservedHeader(name)) delete req.headers[name];
    }
    next();
  };
}
