import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigOrExit } from '@mcpgw/config';
import { createDb, describeDatabaseUrl, runMigrations, startEmbeddedPostgres, type EmbeddedPostgres } from '@mcpgw/db';
import { createLogger } from '@mcpgw/logger';
import { readConfig, resolveFreePorts } from './config.js';
import { loadOrCreateSecrets } from './secrets.js';
import { bootstrap } from './bootstrap.js';
import { spawnService, stopAll, waitHealthy, type ServiceProcess } from './processes.js';
import { banner } from './banner.js';

/**
 * `npm start`: the whole stack on one machine.
 *  1. read config; secrets from the environment or <data>/secrets.json (generated once)
 *  2. database: DATABASE_URL, or an embedded Postgres persisted under <data>/postgres
 *  3. migrations and first-run bootstrap (admin, MCP-Admin group, demo server)
 *  4. start demo server, mcp-proxy, admin-portal, gateway; wait until each is healthy
 *  5. print URLs, the admin key (first run only) and a curl example
 *  6. Ctrl-C (or a service dying) stops every process and the embedded Postgres
 */
const root = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const config = await resolveFreePorts(readConfigOrExit(() => readConfig(process.env)));
const logger = createLogger({ service: 'stack', level: config.LOG_LEVEL });
const dataDir = path.resolve(config.MCPGW_DATA_DIR);
const { secrets, created } = await loadOrCreateSecrets(dataDir, {
  GATEWAY_SIGNING_SECRET: config.GATEWAY_SIGNING_SECRET,
  MASTER_KEYS: config.MASTER_KEYS,
});
if (created) logger.info('generated secrets for this machine', { file: path.join(dataDir, 'secrets.json') });

let embedded: EmbeddedPostgres | null = null;
let databaseUrl = config.DATABASE_URL;
let databaseLabel: string;
if (databaseUrl) {
  databaseLabel = `PostgreSQL at ${describeDatabaseUrl(databaseUrl)}`;
} else {
  embedded = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: config.EMBEDDED_POSTGRES_PORT, schema: config.DB_SCHEMA });
  databaseUrl = embedded.url;
  databaseLabel = `embedded Postgres (PGlite), data in ${path.join(dataDir, 'postgres')}`;
}
logger.info(`database: ${databaseLabel}`);
const rateLimits = config.REDIS_URL ? 'Redis (shared counters)' : 'in-process counters (REDIS_URL not set; one gateway instance)';
logger.info(`rate limits: ${rateLimits}`);

const db = createDb({ url: databaseUrl, schema: config.DB_SCHEMA, poolMax: 2 }, logger);
await runMigrations(db, logger);
const demoUrl = config.MCPGW_DEMO_SERVER ? `http://127.0.0.1:${config.DEMO_SERVER_PORT}/mcp` : null;
const boot = await bootstrap(db, { adminEmail: config.MCPGW_BOOTSTRAP_ADMIN_EMAIL, demoServerUrl: demoUrl });
await db.close();

const shared = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  DB_SCHEMA: config.DB_SCHEMA,
  GATEWAY_SIGNING_SECRET: secrets.GATEWAY_SIGNING_SECRET,
  MASTER_KEYS: secrets.MASTER_KEYS,
  LOG_LEVEL: config.LOG_LEVEL,
};
const local = (port: number) => `http://127.0.0.1:${port}`;
const plan: { name: string; entry: string; env: NodeJS.ProcessEnv; health: string }[] = [
  ...(config.MCPGW_DEMO_SERVER
    ? [{ name: 'demo-server', entry: 'services/demo-server/src/main.ts', env: { ...shared, DEMO_SERVER_PORT: String(config.DEMO_SERVER_PORT) }, health: `${local(config.DEMO_SERVER_PORT)}/health` }]
    : []),
  { name: 'mcp-proxy', entry: 'services/mcp-proxy/src/main.ts', env: { ...shared, MCP_PROXY_PORT: String(config.MCP_PROXY_PORT) }, health: `${local(config.MCP_PROXY_PORT)}/health` },
  { name: 'admin-portal', entry: 'services/admin-portal/src/main.ts', env: { SERVER_URL_ALLOW_LOOPBACK: 'true', ...shared, ADMIN_PORTAL_PORT: String(config.ADMIN_PORTAL_PORT), ADMIN_PORTAL_GATEWAY_URL: local(config.GATEWAY_PORT) }, health: `${local(config.ADMIN_PORTAL_PORT)}/health` },
  {
    name: 'gateway',
    entry: 'services/gateway/src/main.ts',
    env: {
      // The gateway's own tokens name it as issuer: its URL on this machine unless set.
      GATEWAY_PUBLIC_URL: local(config.GATEWAY_PORT),
      ...shared,
      GATEWAY_PORT: String(config.GATEWAY_PORT),
      MCP_PROXY_URL: local(config.MCP_PROXY_PORT),
      ADMIN_PORTAL_URL: local(config.ADMIN_PORTAL_PORT),
    },
    health: `${local(config.GATEWAY_PORT)}/gateway/health`,
  },
];

const services: ServiceProcess[] = [];
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    logger.info('stopping every service');
    await stopAll(services);
    await embedded?.stop();
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));

try {
  for (const step of plan) {
    const service = spawnService(step.name, step.entry, step.env, root, process.stdout);
    services.push(service);
    void service.exited.then((code) => {
      if (!stopping) {
        logger.error(`${step.name} stopped unexpectedly; stopping the stack`, { exitCode: code });
        void shutdown(1);
      }
    });
  }
  await Promise.all(plan.map((step, i) => waitHealthy(services[i]!, step.health)));
} catch (err) {
  logger.error('start-up failed', { err: (err as Error).message });
  await shutdown(1);
}

process.stdout.write(
  banner({
    gatewayUrl: local(config.GATEWAY_PORT),
    adminKey: boot.adminKey,
    adminEmail: boot.adminEmail,
    database: databaseLabel,
    rateLimits,
    demo: config.MCPGW_DEMO_SERVER,
  }),
);
