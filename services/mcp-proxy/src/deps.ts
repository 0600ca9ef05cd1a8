import { createKeyring } from '@mcpgw/crypto';
import { createDb, createRepos, type Db } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { McpProxyConfig } from './config.js';
import { createCatalogService, type CatalogService } from './domain/catalog.service.js';
import { withMetaTools } from './domain/meta-tools.js';
import { createServerAccess, type ServerAccess } from './domain/server-access.js';
import { createSubjectResolver } from './domain/subject.resolver.js';
import { createToolService, type ToolService } from './domain/tool.service.js';
import { createSessionHub, type SessionHub } from './mcp/session-hub.js';
import type { Lifecycle } from './middleware/draining.middleware.js';
import type { SessionAttachment } from './routes/mcp.routes.js';
import { createRedisSessionDirectory } from './sessions/redis-session-directory.js';
import { createLocalSessionDirectory } from './sessions/session-directory.js';
import { createSessionStore, type SessionStore } from './sessions/session-store.js';
import { createTrafficControl, type TrafficControl } from './limits/traffic.js';
import { createHealthMonitor, type HealthMonitor } from './upstream/health-monitor.js';
import { createUpstreamPool, type UpstreamPool } from './upstream/upstream-pool.js';

export const SERVICE = 'mcp-proxy';

/** Longest an open breaker waits before its next trial, however often trials failed. */
const MAX_BREAKER_COOLDOWN_MS = 60_000;

/** Everything createMcpProxyApp needs, built once. */
export interface McpProxyDeps {
  logger: Logger;
  db: Db;
  security: SecurityEventRecorder;
  sessions: SessionStore<SessionAttachment>;
  upstreams: UpstreamPool;
  access: ServerAccess;
  tools: ToolService;
  catalog: CatalogService;
  hub: SessionHub;
  health: HealthMonitor;
  /** Per-tool rate limits, argument inspection and metrics (limits/). */
  traffic: TrafficControl;
  /** requireGatewayIdentity's slice: accepted secrets (current first) and the maximum signature age. */
  gatewayIdentity: { secrets: readonly string[]; maxAgeMs: number };
  allowedOrigins: readonly string[];
  /** Whether a graceful stop is under way (main.ts sets it; /health and new GET streams read it). */
  lifecycle: Lifecycle;
  /** Closes sessions, upstream connections, pending security-event writes and the database pool. */
  close(): Promise<void>;
}

/**
 * The composition root: the one place that builds the pool, the keyring, the upstream pool, the
 * session store and the services. Pass `db` to reuse an existing pool (main.ts migrates with it
 * first); otherwise one is made from DATABASE_URL / DB_SCHEMA.
 */
export function createMcpProxyDeps(config: McpProxyConfig, logger: Logger, db: Db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA }, logger)): McpProxyDeps {
  const repos = createRepos(db.pool);
  const keyring = createKeyring(config.MASTER_KEYS);
  const security = createSecurityEventRecorder(SERVICE, repos.securityEvents, logger);
  const upstreams = createUpstreamPool({
    tenants: repos.tenants,
    keyring,
    logger,
    maxResponseBytes: config.UPSTREAM_MAX_RESPONSE_BYTES,
    listTimeoutMs: config.UPSTREAM_LIST_TIMEOUT_MS,
    listCacheMs: config.MCP_LIST_CACHE_SECONDS * 1000,
    breaker: {
      failureThreshold: config.UPSTREAM_BREAKER_FAILURES,
      cooldownMs: config.UPSTREAM_BREAKER_COOLDOWN_MS,
      maxCooldownMs: Math.max(config.UPSTREAM_BREAKER_COOLDOWN_MS, MAX_BREAKER_COOLDOWN_MS),
    },
  });
  const subjects = createSubjectResolver({ access: repos.access, ttlMs: config.MCP_GRANT_CACHE_SECONDS * 1000 });
  const access = createServerAccess({
    servers: repos.servers,
    subjects,
    upstreams,
    logger,
    listTimeoutMs: config.UPSTREAM_LIST_TIMEOUT_MS,
    nameMaxLength: config.MCP_TOOL_NAME_MAX_LENGTH,
  });
  const traffic = createTrafficControl({
    redisUrl: config.REDIS_URL,
    rulesRefreshMs: config.LIMIT_RULES_CACHE_SECONDS * 1000,
    metricsToken: config.METRICS_TOKEN,
    rules: repos.rateLimitRules,
    security,
    logger,
  });
  // With REDIS_URL, session records live in the same Redis, so any replica serves any session.
  const sessionLimits = { idleMs: config.MCP_SESSION_IDLE_SECONDS * 1000, maxPerUser: config.MCP_SESSIONS_PER_USER };
  const sessions = createSessionStore<SessionAttachment>({
    idleMs: sessionLimits.idleMs,
    directory: traffic.redis
      ? createRedisSessionDirectory(traffic.redis, { ...sessionLimits, prefix: `mcpgw:${config.DB_SCHEMA}:` })
      : createLocalSessionDirectory(sessionLimits),
    logger,
  });
  const realTools = createToolService({ access, upstreams, security, logger, guard: traffic.guard });
  const tools = config.META_TOOLS_MODE ? withMetaTools(realTools) : realTools;
  const catalog = createCatalogService({ access, upstreams, logger });
  const hub = createSessionHub({ upstreams, subjects, servers: repos.servers, logger, watchIntervalMs: config.MCP_GRANT_WATCH_SECONDS * 1000 });
  const health = createHealthMonitor({ servers: repos.servers, upstreams, logger, intervalMs: config.UPSTREAM_HEALTH_INTERVAL_SECONDS * 1000 });

  let closed: Promise<void> | undefined;
  return {
    logger,
    db,
    security,
    sessions,
    upstreams,
    access,
    tools,
    catalog,
    hub,
    health,
    traffic,
    gatewayIdentity: {
      secrets: [config.GATEWAY_SIGNING_SECRET, ...(config.GATEWAY_SIGNING_SECRET_PREVIOUS ? [config.GATEWAY_SIGNING_SECRET_PREVIOUS] : [])],
      maxAgeMs: config.SIGNATURE_MAX_AGE_SECONDS * 1000,
    },
    allowedOrigins: config.MCP_ALLOWED_ORIGINS,
    lifecycle: { draining: false },
    close() {
      closed ??= (async () => {
        health.close();
        hub.close();
        await sessions.closeAll();
        await upstreams.close();
        await traffic.close();
        await security.flush();
        await db.close();
      })();
      return closed;
    },
  };
}
