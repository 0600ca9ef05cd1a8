import { checkConfigOrExit, readConfigOrExit } from '@mcpgw/config';
import { verifyMasterKeys } from '@mcpgw/crypto';
import { createMasterKeyCheckRepo, describeDatabaseUrl, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { createLogger } from '@mcpgw/logger';
import { readConfig } from './config.js';
import { buildAdminPortalDeps } from './deps.js';
import { createAdminPortalApp } from './app.js';

const config = readConfigOrExit(() => readConfig(process.env));

const logger = createLogger({ service: 'admin-portal', level: config.LOG_LEVEL });
const deps = buildAdminPortalDeps(config, logger);
await runMigrations(deps.db, logger);
// A different key under a known id would encrypt tenant keys mcp-proxy cannot read: stop.
const masterKeys = config.MASTER_KEYS;
if (masterKeys) await checkConfigOrExit('admin-portal', () => verifyMasterKeys(masterKeys, createMasterKeyCheckRepo(deps.db.pool)));
logger.info('database: PostgreSQL', { url: describeDatabaseUrl(config.DATABASE_URL), schema: config.DB_SCHEMA });
const server = await listen(createAdminPortalApp(deps), { host: config.ADMIN_PORTAL_HOST, port: config.ADMIN_PORTAL_PORT });
logger.info('admin portal listening', { url: server.url });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Every answer marked draining (the gateways stop choosing this instance), after 1 s new
    // connections refused (the gateway sends them to another instance), requests in flight finish
    // (10 s at most).
    const drained = await server.drain({ graceMs: 10_000, announceMs: 1_000, markResponses: true });
    logger.info('drained', drained);
    await deps.close();
    process.exit(0);
  });
}
