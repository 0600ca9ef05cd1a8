import { createKeyring, type Keyring } from '@mcpgw/crypto';
import { createDb, createRepos, type Db, type Repos } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder, type UrlPolicy } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { createMetricsRegistry, matchedRoute, observeHttpRequests, type Registry } from '@mcpgw/metrics';
import type { RequestHandler } from 'express';
import type { AdminPortalConfig } from './config.js';

export interface AdminPortalDeps {
  config: {
    signingSecrets: string[];
    signatureMaxAgeMs: number;
    metricsToken?: string | undefined;
    gatewayUrl?: string | undefined;
    /** Which addresses server URLs and tenant endpoints may point at. */
    urlPolicy: UrlPolicy;
    sensitiveWritesPerMinute: number;
  };
  /** Encrypts tenant keys (and decrypts them for test connection); null without MASTER_KEYS. */
  keyring: Keyring | null;
  logger: Logger;
  db: Db;
  repos: Pick<
    Repos,
    'servers' | 'users' | 'groups' | 'audit' | 'tenantScope' | 'rateLimitRules' | 'accessBlocks' | 'securityEvents' | 'apiKeys' | 'm2mClients' | 'idpMappings' | 'signingKeys' | 'tenants' | 'access' | 'analyticsSummary'
  >;
  security: SecurityEventRecorder;
  /** Request metrics and the registry GET /metrics serves. */
  metrics: { registry: Registry; observe: RequestHandler };
  close(): Promise<void>;
}

/** Composition root of the admin portal. */
export function buildAdminPortalDeps(config: AdminPortalConfig, logger: Logger): AdminPortalDeps {
  const db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, poolMax: 5 }, logger);
  const repos = createRepos(db.pool);
  const security = createSecurityEventRecorder('admin-portal', repos.securityEvents, logger);
  return {
    config: {
      signingSecrets: [config.GATEWAY_SIGNING_SECRET, ...(config.GATEWAY_SIGNING_SECRET_PREVIOUS ? [config.GATEWAY_SIGNING_SECRET_PREVIOUS] : [])],
      signatureMaxAgeMs: config.SIGNATURE_MAX_AGE_SECONDS * 1000,
      metricsToken: config.METRICS_TOKEN,
      gatewayUrl: config.ADMIN_PORTAL_GATEWAY_URL,
      urlPolicy: { allowLoopback: config.SERVER_URL_ALLOW_LOOPBACK, allowPrivate: config.SERVER_URL_ALLOW_PRIVATE },
      sensitiveWritesPerMinute: config.ADMIN_SENSITIVE_WRITES_PER_MINUTE,
    },
    keyring: config.MASTER_KEYS ? createKeyring(config.MASTER_KEYS) : null,
    logger,
    db,
    repos,
    security,
    metrics: (() => {
      const registry = createMetricsRegistry('admin-portal');
      const pageOrApi = (path: string) => (path.startsWith('/mcp-admin/api') ? '/mcp-admin/api' : '/mcp-admin');
      return { registry, observe: observeHttpRequests(registry, (req) => matchedRoute(req, req.path.startsWith('/mcp-admin') ? pageOrApi(req.path) : 'other')) };
    })(),
    async close() {
      await security.flush();
      await db.close();
    },
  };
}
