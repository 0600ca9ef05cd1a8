import { createDb, createRepos, type Db } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { createRedisClient, type RateLimiter, type RedisClient } from '@mcpgw/rate-limit';
import type { GatewayConfig } from './config.js';
import { buildAuthDeps, type AuthDeps } from './auth.deps.js';
import { createKeyUsageRecorder, type KeyUsageRecorder } from './domain/key-usage.recorder.js';
import type { ProxyTargets } from './routes/proxy.routes.js';
import { buildGatewayTraffic, type GatewayTraffic } from './traffic.js';

/** The slice of configuration the app needs, already shaped (no env names below main/config). */
export interface GatewayAppConfig {
  targets: ProxyTargets;
  signingSecret: string;
  rateLimitEnabled: boolean;
  trustProxy: boolean | string[];
  maxBodyBytes: number;
  /** Bearer token of GET /metrics; unset: no /metrics. */
  metricsToken?: string | undefined;
  analyticsRetentionDays: number;
}

export interface GatewayDeps {
  config: GatewayAppConfig;
  logger: Logger;
  db: Db;
  /** Every identity method behind one authenticator, plus sign-in, token issuance and discovery. */
  auth: AuthDeps;
  keyUsage: KeyUsageRecorder;
  userLimiter: RateLimiter;
  ipLimiter: RateLimiter;
  security: SecurityEventRecorder;
  redis: RedisClient | null;
  /** Limits beyond user/IP, blocks, analytics, metrics (traffic.ts). */
  traffic: GatewayTraffic;
  close(): Promise<void>;
}

/** Composition root: the one place that builds pools, clients and limiters. */
export function buildGatewayDeps(config: GatewayConfig, logger: Logger): GatewayDeps {
  const db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: 10 }, logger);
  const repos = createRepos(db.pool);
  const redis = config.REDIS_URL ? createRedisClient({ url: config.REDIS_URL }, logger) : null;
  const keyUsage = createKeyUsageRecorder(repos.apiKeys, logger);
  const security = createSecurityEventRecorder('gateway', repos.securityEvents, logger);
  const auth = buildAuthDeps(config, { db, repos, redis, logger, security, keyUsage });
  const traffic = buildGatewayTraffic(
    {
      perUserPerMinute: config.RATE_LIMIT_PER_MINUTE,
      perIpPerMinute: config.RATE_LIMIT_PER_IP,
      rulesRefreshMs: config.LIMIT_RULES_CACHE_SECONDS * 1000,
      analytics: {
        enabled: config.ENABLE_API_ANALYTICS,
        maxBuffered: config.ANALYTICS_BUFFER_MAX,
        batchSize: config.ANALYTICS_BATCH_SIZE,
        flushIntervalMs: config.ANALYTICS_FLUSH_MS,
        retentionDays: config.ANALYTICS_RETENTION_DAYS,
      },
    },
    repos,
    redis,
    logger,
  );
  return {
    config: {
      targets: { 'mcp-proxy': config.MCP_PROXY_URL, 'admin-portal': config.ADMIN_PORTAL_URL, openwebui: config.OPENWEBUI_URL },
      signingSecret: config.GATEWAY_SIGNING_SECRET,
      rateLimitEnabled: config.RATE_LIMIT_ENABLED,
      trustProxy: config.TRUST_PROXY,
      maxBodyBytes: config.MAX_BODY_BYTES,
      metricsToken: config.METRICS_TOKEN,
      analyticsRetentionDays: config.ANALYTICS_RETENTION_DAYS,
    },
    logger,
    db,
    auth,
    keyUsage,
    userLimiter: traffic.userLimiter,
    ipLimiter: traffic.ipLimiter,
    security,
    redis,
    traffic,
    async close() {
      await keyUsage.stop();
      await security.flush();
      await auth.close();
      await traffic.close();
      redis?.disconnect();
      await db.close();
    },
  };
}
