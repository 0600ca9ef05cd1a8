import { createDb, createRepos, type Db } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { createRateLimiter, createRedisClient, type RateLimiter, type RedisClient } from '@mcpgw/rate-limit';
import type { GatewayConfig } from './config.js';
import { createApiKeyAuthenticator, type ApiKeyAuthenticator } from './domain/api-key-authenticator.js';
import { createKeyUsageRecorder, type KeyUsageRecorder } from './domain/key-usage.recorder.js';
import type { ProxyTargets } from './routes/proxy.routes.js';

/** The slice of configuration the app needs, already shaped (no env names below main/config). */
export interface GatewayAppConfig {
  targets: ProxyTargets;
  signingSecret: string;
  rateLimitEnabled: boolean;
  trustProxy: boolean | string[];
  maxBodyBytes: number;
}

export interface GatewayDeps {
  config: GatewayAppConfig;
  logger: Logger;
  db: Db;
  apiKeys: ApiKeyAuthenticator;
  keyUsage: KeyUsageRecorder;
  userLimiter: RateLimiter;
  ipLimiter: RateLimiter;
  security: SecurityEventRecorder;
  redis: RedisClient | null;
  close(): Promise<void>;
}

/** Composition root: the one place that builds pools, clients and limiters. */
export function buildGatewayDeps(config: GatewayConfig, logger: Logger): GatewayDeps {
  const db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: 10 }, logger);
  const repos = createRepos(db.pool);
  const redis = config.REDIS_URL ? createRedisClient({ url: config.REDIS_URL }, logger) : null;
  const keyUsage = createKeyUsageRecorder(repos.apiKeys, logger);
  const security = createSecurityEventRecorder('gateway', repos.securityEvents, logger);
  const limiter = (name: string, points: number) => createRateLimiter({ name, points, durationSec: 60, redis, logger });
  return {
    config: {
      targets: { 'mcp-proxy': config.MCP_PROXY_URL, 'admin-portal': config.ADMIN_PORTAL_URL, openwebui: config.OPENWEBUI_URL },
      signingSecret: config.GATEWAY_SIGNING_SECRET,
      rateLimitEnabled: config.RATE_LIMIT_ENABLED,
      trustProxy: config.TRUST_PROXY,
      maxBodyBytes: config.MAX_BODY_BYTES,
    },
    logger,
    db,
    apiKeys: createApiKeyAuthenticator({ repo: repos.apiKeys, usage: keyUsage, cacheTtlMs: config.API_KEY_CACHE_SECONDS * 1000 }),
    keyUsage,
    userLimiter: limiter('user', config.RATE_LIMIT_PER_MINUTE),
    ipLimiter: limiter('ip', config.RATE_LIMIT_PER_IP),
    security,
    redis,
    async close() {
      await keyUsage.stop();
      await security.flush();
      redis?.disconnect();
      await db.close();
    },
  };
}
