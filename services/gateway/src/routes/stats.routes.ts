import type { Router } from 'express';
import { AppError, identityOf } from '@mcpgw/http';
import type { RateLimiter } from '@mcpgw/rate-limit';
import type { GatewayTraffic } from '../traffic.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function policy(limiter: RateLimiter) {
  return { name: limiter.name, limit: limiter.points, windowSeconds: limiter.durationSec, decisions: limiter.stats() };
}

async function usage(limiter: RateLimiter, key: string) {
  const now = await limiter.peek(key);
  return { policy: limiter.name, key, consumed: now?.consumed ?? 0, remaining: now?.remaining ?? limiter.points, resetSeconds: Math.ceil((now?.resetMs ?? 0) / 1000) };
}

/**
 * GET /gateway/stats (admins only): the limiters' state — policies and their decisions since start
 * (allowed, limited, answered by the insurance limiter), the Redis connection, tenant rules and
 * blocks in force, and the analytics queue. `?user=<user id>` or `?ip=<address>` adds that key's
 * count in the current window ("why is this caller limited?").
 */
export function registerStatsRoutes(router: Router, deps: { traffic: GatewayTraffic; rateLimitEnabled: boolean; retentionDays: number }): void {
  router.get('/gateway/stats', async (req, res) => {
    if (!identityOf(req).admin) throw new AppError('FORBIDDEN', '/gateway/stats is for admins only');
    const t = deps.traffic;
    const lookups = [];
    if (typeof req.query.user === 'string') {
      if (!UUID.test(req.query.user)) throw new AppError('BAD_REQUEST', 'user must be a user id (UUID)');
      lookups.push(await usage(t.userLimiter, req.query.user));
    }
    if (typeof req.query.ip === 'string') lookups.push(await usage(t.ipLimiter, req.query.ip.slice(0, 64)));
    const blocks = t.blocks();
    const analytics = t.analytics?.stats();
    res.setHeader('cache-control', 'no-store');
    res.json({
      rateLimits: {
        enabled: deps.rateLimitEnabled,
        store: t.redis ? 'redis' : 'memory',
        redis: t.redis === null ? 'not-configured' : t.redis.status === 'ready' ? 'ok' : 'degraded',
        policies: [policy(t.userLimiter), policy(t.ipLimiter)],
        tenantRules: { count: t.tenantRules().size, loadedAt: t.rulesSnapshot.loadedAt(), decisions: t.tenantLimiters.stats() },
        blocks: { users: blocks.users.size, apiKeys: blocks.keyHashes.size, loadedAt: t.blocksSnapshot.loadedAt() },
        ...(lookups.length > 0 ? { usage: lookups } : {}),
      },
      analytics: analytics
        ? { enabled: true, retentionDays: deps.retentionDays, ...analytics }
        : { enabled: false },
    });
  });
}
