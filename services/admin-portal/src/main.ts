import { readConfigOrExit } from '@mcpgw/config';
import { describeDatabaseUrl, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { createLogger } from '@mcpgw/logger';
import { readConfig } from './config.js';
import { buildAdminPortalDeps } from './deps.js';
import { createAdminPortalApp } from './app.js';

const config = readConfigOrExit(() => readConfig(process.env));

const logger = createLogger({ service: 'admin-portal', level: config.LOG_LEVEL });
const deps = buildAdminPortalDeps(config, logger);
await runMigrations(deps.db, logger);
logger.info('database: PostgreSQL', { url: describeDatabaseUrl(config.DATABASE_URL), schema: config.DB_SCHEMA });
const server = await listen(createAdminPortalApp(deps), { host: config.ADMIN_PORTAL_HOST, port: config.ADMIN_PORTAL_PORT });
logger.info('admin portal listening', { url: server.url });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await server.close(10_000);
    await deps.close();
    process.exit(0);
  });
}
