import type { Router } from 'express';

export interface HealthInfo {
  rateLimitStore: 'shared' | 'local';
  /** Redis connection state without a round trip; null when REDIS_URL is not set. */
  redisReady: (() => boolean) | null;
  /** True once a graceful stop began: both endpoints answer 503 `draining`, so balancers (Caddy's health checks, Kubernetes) stop sending new work. */
  draining?: () => boolean;
}

const DRAINING = { status: 'draining', service: 'gateway' } as const;

export interface ReadinessChecks {
  database: () => Promise<boolean>;
  /** Null when REDIS_URL is not set. */
  redis: (() => Promise<boolean>) | null;
  /** Longest a check may take before it counts as down. */
  timeoutMs?: number;
}

async function within(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([check().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GET /gateway/health: liveness, answered without touching any dependency (`redis` reports the
 * connection's last known state: `degraded` while limits run on in-process insurance counters).
 * GET /gateway/ready: 200 when the database answers, else 503. Redis is reported (`ok` or
 * `degraded`) but does not decide: without it the gateway keeps serving on the insurance counters,
 * so a Redis outage must not take every gateway out of the load balancer at once (R1). Both answer
 * 503 `draining` during a graceful stop.
 */
export function registerHealthRoutes(router: Router, info: HealthInfo, checks: ReadinessChecks): void {
  router.get('/gateway/health', (_req, res) => {
    if (info.draining?.()) {
      res.status(503).json(DRAINING);
      return;
    }
    const redis = info.redisReady === null ? 'not-configured' : info.redisReady() ? 'ok' : 'degraded';
    res.json({ status: 'ok', service: 'gateway', rateLimitStore: info.rateLimitStore, redis });
  });

  router.get('/gateway/ready', async (_req, res) => {
    if (info.draining?.()) {
      res.status(503).json(DRAINING);
      return;
    }
    const ms = checks.timeoutMs ?? 1_000;
    const [database, redis] = await Promise.all([within(checks.database, ms), checks.redis ? within(checks.redis, ms) : Promise.resolve(null)]);
    res.status(database ? 200 : 503).json({
      status: database ? 'ready' : 'not-ready',
      service: 'gateway',
      checks: { database: database ? 'ok' : 'down', redis: redis === null ? 'not-configured' : redis ? 'ok' : 'degraded' },
    });
  });
}
