import { createKeyring } from '@mcpgw/crypto';
import { createDb, createRepos, type Db } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { McpProxyConfig } from './config.js';
import { createSubjectResolver } from './domain/subject.resolver.js';
import { createToolService, type ToolService } from './domain/tool.service.js';
import { createSessionStore, type SessionStore } from './sessions/session-store.js';
import { createUpstreamPool, type UpstreamPool } from './upstream/upstream-pool.js';

export const SERVICE = 'mcp-proxy';

/** Everything createMcpProxyApp needs, built once. */
export interface McpProxyDeps {
  logger: Logger;
  db: Db;
  security: SecurityEventRecorder;
  sessions: SessionStore;
  upstreams: UpstreamPool;
  tools: ToolService;
  /** requireGatewayIdentity's slice: accepted secrets (current first) and the maximum signature age. */
  gatewayIdentity: { secrets: readonly string[]; maxAgeMs: number };
  allowedOrigins: readonly string[];
  /** Closes sessions, upstream connections, pending security-event writes and the database pool. */
  close(): Promise<void>;
}

/**
 * The composition root: the one place that builds the pool, the keyring, the upstream pool and the
 * session store. Pass `db` to reuse an existing pool (main.ts migrates with it first); otherwise
 * one is made from DATABASE_URL / DB_SCHEMA.
 */
export function createMcpProxyDeps(config: McpProxyConfig, logger: Logger, db: Db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA }, logger)): McpProxyDeps {
  const repos = createRepos(db.pool);
  const keyring = createKeyring(config.MASTER_KEYS);
  const security = createSecurityEventRecorder(SERVICE, repos.securityEvents, logger);
  const sessions = createSessionStore({
    idleMs: config.MCP_SESSION_IDLE_SECONDS * 1000,
    maxPerUser: config.MCP_SESSIONS_PER_USER,
    logger,
  });
  const upstreams = createUpstreamPool({ tenants: repos.tenants, keyring, logger });
  const subjects = createSubjectResolver({ access: repos.access, ttlMs: config.MCP_GRANT_CACHE_SECONDS * 1000 });
  const tools = createToolService({
    servers: repos.servers,
    subjects,
    upstreams,
    security,
    logger,
    listTimeoutMs: config.UPSTREAM_LIST_TIMEOUT_MS,
  });

  let closed: Promise<void> | undefined;
  return {
    logger,
    db,
    security,
    sessions,
    upstreams,
    tools,
    gatewayIdentity: {
      secrets: [config.GATEWAY_SIGNING_SECRET, ...(config.GATEWAY_SIGNING_SECRET_PREVIOUS ? [config.GATEWAY_SIGNING_SECRET_PREVIOUS] : [])],
      maxAgeMs: config.SIGNATURE_MAX_AGE_SECONDS * 1000,
    },
    allowedOrigins: config.MCP_ALLOWED_ORIGINS,
    close() {
      closed ??= (async () => {
        await sessions.closeAll();
        await upstreams.close();
        await security.flush();
        await db.close();
      })();
      return closed;
    },
  };
}
