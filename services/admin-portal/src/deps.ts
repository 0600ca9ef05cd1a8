import { createDb, createRepos, type Db, type Repos } from '@mcpgw/db';
import { createSecurityEventRecorder, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { AdminPortalConfig } from './config.js';

export interface AdminPortalDeps {
  config: { signingSecrets: string[]; signatureMaxAgeMs: number };
  logger: Logger;
  db: Db;
  repos: Pick<Repos, 'servers' | 'users' | 'groups' | 'audit'>;
  security: SecurityEventRecorder;
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
    },
    logger,
    db,
    repos,
    security,
    async close() {
      await security.flush();
      await db.close();
    },
  };
}
