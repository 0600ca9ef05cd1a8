import { describeDatabaseUrl, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { createLogger } from '@mcpgw/logger';
import { readConfigOrExit } from '@mcpgw/config';
import { readConfig } from './config.js';
import { buildGatewayDeps } from './deps.js';
import { createGatewayApp } from './app.js';

const config = readConfigOrExit(() => readConfig(process.env));

const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const deps = buildGatewayDeps(config, logger);
await runMigrations(deps.db, logger);
logger.info('database: PostgreSQL', { url: describeDatabaseUrl(config.DATABASE_URL), schema: config.DB_SCHEMA });
logger.info(config.REDIS_URL ? 'rate limits: Redis (shared by every gateway instance)' : 'rate limits: in-process counters (REDIS_URL not set; one instance only)');
const gateway = createGatewayApp(deps);
const server = await listen(gateway.app, { host: config.GATEWAY_HOST, port: config.GATEWAY_PORT });
logger.info('gateway listening', { url: server.url, mcpProxy: config.MCP_PROXY_URL, adminPortal: config.ADMIN_PORTAL_URL });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // A rolling restart loses nothing: /gateway/health and /gateway/ready answer 503 draining, so
    // Caddy's health checks (every second) and Kubernetes stop choosing this gateway; everything
    // is still served meanwhile, with Connection: close; GET streams end so their callers
    // reconnect through another gateway. After 1.5 s new connections are refused (Caddy retries
    // them elsewhere) and requests in flight finish (10 s at most from the signal). Then queued
    // analytics rows are written and the pools closed.
    const streams = gateway.startDraining();
    const drained = await server.drain({ graceMs: 10_000, announceMs: 1_500 });
    logger.info('drained', { ...drained, streamsEnded: streams });
    gateway.close();
    await deps.close();
    process.exit(0);
  });
}
