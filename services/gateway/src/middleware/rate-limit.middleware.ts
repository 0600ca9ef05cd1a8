import type { NextFunction, Request, Response } from 'express';
import type { RateLimitRule } from '@mcpgw/db';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { combineRateLimitHeaders, rateLimitHeaders, type RateLimiter, type RateLimitResult, type RuleLimiters } from '@mcpgw/rate-limit';
import { clientIp } from '../domain/client-ip.js';

export interface TenantLimits {
  /** The enabled tenant rules by tenant id (reloaded in the background). */
  rules(): ReadonlyMap<string, RateLimitRule>;
  limiters: RuleLimiters;
}

export interface RateLimitOptions {
  /** Per authenticated user. */
  user: RateLimiter;
  /** Per client IP, for callers without a valid identity. */
  ip: RateLimiter;
  /** Per tenant, for callers whose tenant has a rule (table rate_limit_rules, scope tenant). */
  tenant?: TenantLimits;
  security: SecurityEventRecorder;
}

interface Counted {
  policy: string;
  windowSec: number;
  result: RateLimitResult;
}

/**
 * Counts the request against the user's budget, or the client IP's when there is no identity, and
 * against the tenant's when its tenant has a rule; sets the RateLimit fields of every policy that
 * counted it. Over any budget → 429 with Retry-After (whole seconds); a fail-closed limiter whose
 * store failed → 503.
 */
export function enforceRateLimit(options: RateLimitOptions) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const identity = req.identity;
    const limiter = identity ? options.user : options.ip;
    const counted: Counted[] = [
      { policy: limiter.name, windowSec: limiter.durationSec, result: await limiter.consume(identity ? identity.userId : clientIp(req)) },
    ];
    const tenantRule = identity?.tenant ? options.tenant?.rules().get(identity.tenant) : undefined;
    if (tenantRule && identity?.tenant) {
      const rule = { id: tenantRule.id, policy: 'tenant', points: tenantRule.points, windowSec: tenantRule.windowSeconds };
      counted.push({ policy: 'tenant', windowSec: rule.windowSec, result: await options.tenant!.limiters.consume(rule, identity.tenant) });
    }

    const headers = combineRateLimitHeaders(counted.map((c) => rateLimitHeaders(c.policy, c.windowSec, c.result)));
    const refused = counted.filter((c) => !c.result.allowed);
    if (refused.length === 0) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      next();
      return;
    }
    if (refused.some((c) => c.result.unavailable)) {
      next(new AppError('SERVICE_UNAVAILABLE', 'Rate limiting is unavailable; try again shortly', { headers: { [HEADER.retryAfter]: '1' } }));
      return;
    }
    const policies = refused.map((c) => c.policy);
    options.security.record({
      kind: 'rate-limited',
      reason: refused.map((c) => `${c.policy} limit of ${c.result.limit}/${c.windowSec}s`).join(', '),
      userId: identity?.userId ?? null,
      userEmail: identity?.email ?? null,
      clientIp: clientIp(req),
      requestId: req.requestId,
      details: { path: req.path, tenant: identity?.tenant ?? null },
    });
    const first = refused[0]!;
    next(
      new AppError(
        'RATE_LIMITED',
        `Rate limit exceeded: ${first.result.limit} requests per ${first.windowSec} s (${policies.join(', ')}); retry after ${headers['retry-after']} s`,
        { headers, extra: { violatedPolicies: policies } },
      ),
    );
  };
}
