import type { Request, RequestHandler } from 'express';
import { createBatchWriter, createRetentionPurger, type BatchWriter, type RetentionPurger } from '@mcpgw/analytics';
import type { AccessBlockRepo, ActiveBlocks, AnalyticsEvent, AnalyticsRepo, RateLimitRule, RateLimitRuleRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import {
  createMetricsRegistry,
  createRateLimitMetrics,
  observeHttpRequests,
  registerQueueMetrics,
  registerRedisMetrics,
  type Registry,
} from '@mcpgw/metrics';
import {
  createPolledSnapshot,
  createRateLimiter,
  createRuleLimiters,
  redisHealth,
  type PolledSnapshot,
  type RateLimiter,
  type RedisClient,
  type RuleLimiters,
} from '@mcpgw/rate-limit';
import { upstreamFor } from './domain/routing.js';

/** The gateway's traffic settings, already shaped (config.ts maps the variables). */
export interface TrafficConfig {
  perUserPerMinute: number;
  perIpPerMinute: number;
  rulesRefreshMs: number;
  analytics: {
    enabled: boolean;
    maxBuffered: number;
    batchSize: number;
    flushIntervalMs: number;
    /** 0: keep forever. */
    retentionDays: number;
  };
}

export interface GatewayTraffic {
  redis: RedisClient | null;
  userLimiter: RateLimiter;
  ipLimiter: RateLimiter;
  tenantLimiters: RuleLimiters;
  /** Enabled tenant rules by tenant id. */
  tenantRules(): ReadonlyMap<string, RateLimitRule>;
  blocks(): ActiveBlocks;
  rulesSnapshot: PolledSnapshot<RateLimitRule[]>;
  blocksSnapshot: PolledSnapshot<ActiveBlocks>;
  /** Null when ENABLE_API_ANALYTICS is false. */
  analytics: BatchWriter<AnalyticsEvent> | null;
  purger: RetentionPurger | null;
  registry: Registry;
  observeRequests: RequestHandler;
  /** Stops the timers and writes the analytics still queued (within `deadlineMs`); the Redis client is the caller's. */
  close(deadlineMs?: number): Promise<void>;
}

/** A small, fixed set of route names for the request metrics. */
export function routeLabel(req: Request): string {
  const path = req.path;
  if (path.startsWith('/gateway/') || path === '/metrics') return path.length <= 32 ? path : 'other';
  const upstream = upstreamFor(path);
  if (upstream === 'mcp-proxy') {
    if (path === '/mcp') return '/mcp';
    if (path.startsWith('/mcp/')) return '/mcp/:server';
    return '/servers';
  }
  return upstream === 'admin-portal' ? '/mcp-admin' : 'other';
}

/**
 * Limits, blocks, analytics and metrics of the gateway: built once by deps.ts, mounted by app.ts.
 */
export function buildGatewayTraffic(
  config: TrafficConfig,
  repos: { rateLimitRules: Pick<RateLimitRuleRepo, 'listEnabled'>; accessBlocks: Pick<AccessBlockRepo, 'loadActive'>; analytics: Pick<AnalyticsRepo, 'insertBatch' | 'purgeOlderThan'> },
  redis: RedisClient | null,
  logger: Logger,
): GatewayTraffic {
  const registry = createMetricsRegistry('gateway');
  const onDecision = createRateLimitMetrics(registry);
  if (redis) registerRedisMetrics(registry, () => redis.status === 'ready', () => redisHealth(redis).outages);

  const limiter = (name: string, points: number) => createRateLimiter({ name, points, durationSec: 60, redis, logger, onDecision });
  const tenantLimiters = createRuleLimiters({ kind: 'tenant-rule', redis, logger, onDecision });
  let byTenant = new Map<string, RateLimitRule>();
  const rulesSnapshot = createPolledSnapshot({
    name: 'tenant rate-limit rules',
    load: () => repos.rateLimitRules.listEnabled('tenant'),
    initial: [] as RateLimitRule[],
    intervalMs: config.rulesRefreshMs,
    logger,
    onLoad: (rules) => {
      byTenant = new Map(rules.filter((r) => r.tenantId).map((r) => [r.tenantId!, r]));
      tenantLimiters.retain(new Set(rules.map((r) => r.id)));
    },
  });
  const blocksSnapshot = createPolledSnapshot<ActiveBlocks>({
    name: 'access blocks',
    load: () => repos.accessBlocks.loadActive(),
    initial: { users: new Map(), keyHashes: new Map() },
    intervalMs: config.rulesRefreshMs,
    logger,
  });

  const a = config.analytics;
  const analytics = a.enabled
    ? createBatchWriter<AnalyticsEvent>({
        name: 'analytics',
        sink: repos.analytics,
        logger,
        maxBuffered: a.maxBuffered,
        batchSize: a.batchSize,
        flushIntervalMs: a.flushIntervalMs,
      })
    : null;
  if (analytics) registerQueueMetrics(registry, 'analytics', () => analytics.stats());
  const purger =
    a.enabled && a.retentionDays > 0
      ? createRetentionPurger({
          name: 'analytics',
          purge: (cutoff, batchSize) => repos.analytics.purgeOlderThan(cutoff, batchSize),
          retentionDays: a.retentionDays,
          intervalMs: 3_600_000,
          batchSize: 5_000,
          logger,
        })
      : null;

  return {
    redis,
    userLimiter: limiter('user', config.perUserPerMinute),
    ipLimiter: limiter('ip', config.perIpPerMinute),
    tenantLimiters,
    tenantRules: () => byTenant,
    blocks: () => blocksSnapshot.current(),
    rulesSnapshot,
    blocksSnapshot,
    analytics,
    purger,
    registry,
    observeRequests: observeHttpRequests(registry, routeLabel),
    async close(deadlineMs = 10_000) {
      rulesSnapshot.stop();
      blocksSnapshot.stop();
      purger?.stop();
      await analytics?.stop(deadlineMs);
    },
  };
}
