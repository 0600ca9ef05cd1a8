import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';

const SAFE = /^[A-Za-z0-9._:-]{1,64}$/;

export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE.test(value);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** This request's id: the inbound one when short and safe, else a new UUID. */
      requestId: string;
    }
  }
}

/** Accepts an inbound X-Request-Id only if short and safe; echoes the id on the response. */
export function assignRequestId() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const inbound = req.headers[HEADER.requestId];
    req.requestId = isSafeRequestId(inbound) ? inbound : randomUUID();
    res.setHeader(HEADER.requestId, req.requestId);
    next();
  };
}
