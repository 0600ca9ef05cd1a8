import type { NextFunction, Request, Response } from 'express';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { rateLimitHeaders, type RateLimiter } from '@mcpgw/rate-limit';
import { clientIp } from '../domain/client-ip.js';

export interface RateLimitOptions {
  /** Per authenticated user. */
  user: RateLimiter;
  /** Per client IP, for callers without a valid identity. */
  ip: RateLimiter;
  security: SecurityEventRecorder;
}

/**
 * Counts the request against the user's budget, or the client IP's when there is no identity,
 * and sets the RateLimit fields on the response; over budget → 429 with Retry-After.
 */
export function enforceRateLimit(options: RateLimitOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const limiter = req.identity ? options.user : options.ip;
    const key = req.identity ? req.identity.userId : clientIp(req);
    const result = await limiter.consume(key);
    const headers = rateLimitHeaders(limiter.name, limiter.durationSec, result);
    if (result.allowed) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      next();
      return;
    }
    options.security.record({
      kind: 'rate-limited',
      reason: `${limiter.name} limit of ${limiter.points}/${limiter.durationSec}s`,
      userId: req.identity?.userId ?? null,
      userEmail: req.identity?.email ?? null,
      clientIp: clientIp(req),
      requestId: req.requestId,
    });
    next(
      new AppError('RATE_LIMITED', `Rate limit exceeded: ${limiter.points} requests per ${limiter.durationSec} s; retry after ${headers['retry-after']} s`, {
        headers,
        extra: { violatedPolicies: [limiter.name] },
      }),
    );
  };
}
