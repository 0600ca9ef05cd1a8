import type { NextFunction, Request, Response } from 'express';
import { decodeIdentityHeaders, verifyIdentity, type Identity } from '@mcpgw/identity';
import { AppError } from './errors.js';
import type { SecurityEventRecorder } from './security-event.recorder.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The caller, as the gateway signed it. Set by requireGatewayIdentity. */
      identity?: Identity;
    }
  }
}

export interface GatewayIdentityOptions {
  /** Accepted HMAC secrets: the current one first, then any previous one during a rotation. */
  secrets: readonly string[];
  maxAgeMs: number;
  security: SecurityEventRecorder;
}

/**
 * For services behind the gateway: accept a request only with a valid, fresh gateway signature over
 * its identity headers; anything else is 403 and a security event. Reaching the service directly,
 * with forged or replayed-elsewhere headers, gains nothing.
 */
export function requireGatewayIdentity(options: GatewayIdentityOptions) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const verdict = verifyIdentity(options.secrets, req.method, req.originalUrl, req.headers, options.maxAgeMs);
    const identity = verdict.ok ? decodeIdentityHeaders(req.headers) : null;
    if (!identity) {
      const reason = verdict.ok ? 'malformed-identity' : verdict.reason;
      options.security.record({
        kind: 'bad-gateway-signature',
        reason,
        clientIp: req.socket.remoteAddress ?? null,
        requestId: req.requestId,
        details: { method: req.method, path: req.path },
      });
      next(new AppError('FORBIDDEN', 'Request did not come through the gateway'));
      return;
    }
    req.identity = identity;
    next();
  };
}

/** The identity set by requireGatewayIdentity; throws if a route forgot the middleware. */
export function identityOf(req: Request): Identity {
  if (!req.identity) throw new AppError('INTERNAL', 'identity middleware missing');
  return req.identity;
}
