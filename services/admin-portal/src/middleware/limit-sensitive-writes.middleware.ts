import type { NextFunction, Request, Response } from 'express';
import { AppError, identityOf, type SecurityEventRecorder } from '@mcpgw/http';

/**
 * The admin API's sensitive flows: those that mint or replace a credential. Each is audited by its
 * route (api-key.create, m2m-client.create, m2m-client.rotate-secret, tenant-key.set); this limits
 * how many one admin may run per minute, so a stolen admin session cannot mint keys in bulk.
 */
export const SENSITIVE_WRITES: readonly (readonly ['post' | 'put', string])[] = [
  ['post', '/mcp-admin/api/users/:id/keys'],
  ['post', '/mcp-admin/api/m2m-clients'],
  ['post', '/mcp-admin/api/m2m-clients/:clientId/secret'],
  ['put', '/mcp-admin/api/tenant-keys/:tenant/:server'],
];

const WINDOW_MS = 60_000;

/**
 * A fixed one-minute window per admin (user id), in this process's memory: an admin portal is a
 * low-traffic service and a limit per instance is enough to stop bulk minting (with N replicas an
 * admin gets at most N times the limit). Over the limit: 429 problem+json with Retry-After and a
 * security event.
 */
export function limitSensitiveWrites(perMinute: number, security: SecurityEventRecorder, now: () => number = Date.now) {
  const windows = new Map<string, { start: number; count: number }>();
  return (req: Request, _res: Response, next: NextFunction): void => {
    const identity = identityOf(req);
    const t = now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= WINDOW_MS) windows.delete(k);
    let w = windows.get(identity.userId);
    if (!w || t - w.start >= WINDOW_MS) {
      w = { start: t, count: 0 };
      windows.set(identity.userId, w);
    }
    w.count += 1;
    if (w.count <= perMinute) {
      next();
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((w.start + WINDOW_MS - t) / 1000));
    security.record({
      kind: 'rate-limited',
      reason: `more than ${perMinute} sensitive admin writes in a minute`,
      userId: identity.userId,
      userEmail: identity.email,
      requestId: req.requestId,
      details: { method: req.method, path: req.path },
    });
    next(new AppError('RATE_LIMITED', `Too many credential changes: at most ${perMinute} a minute; try again in ${retryAfter} s`, { headers: { 'retry-after': String(retryAfter) } }));
  };
}
