import { verifyMasterKeys } from '@mcpgw/crypto';
import { createMasterKeyCheckRepo, describeDatabaseUrl, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { waitUntilReady } from '@mcpgw/rate-limit';
import { createLogger } from '@mcpgw/logger';
import { checkConfigOrExit, readConfigOrExit } from '@mcpgw/config';
import { readConfig } from './config.js';
import { buildGatewayDeps } from './deps.js';
import { createGatewayApp } from './app.js';
import { listenOptionsOf } from './server-options.js';

const config = readConfigOrExit(() => readConfig(process.env));

const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const deps = buildGatewayDeps(config, logger);
await runMigrations(deps.db, logger);
// A different key under a known id would wrap token-signing keys no other gateway can unwrap: stop.
const masterKeys = config.MASTER_KEYS;
if (masterKeys) await checkConfigOrExit('gateway', () => verifyMasterKeys(masterKeys, createMasterKeyCheckRepo(deps.db.pool)));
logger.info('database: PostgreSQL', { url: describeDatabaseUrl(config.DATABASE_URL), schema: config.DB_SCHEMA });
logger.info(config.REDIS_URL ? 'rate limits: Redis (shared by every gateway instance)' : 'rate limits: in-process counters (REDIS_URL not set; one instance only)');
// The security limiters (sign-in, API-key guesses) fail closed while Redis is not connected: give
// it a moment before serving, so a fresh gateway does not answer 503 to its first callers.
if (deps.redis) await waitUntilReady(deps.redis);
const gateway = createGatewayApp(deps);
const server = await listen(gateway.app, { ...listenOptionsOf(config), httpClasses: gateway.httpClasses });
logger.info('gateway listening', {
  url: server.url,
  mcpProxy: config.MCP_PROXY_URL,
  adminPortal: config.ADMIN_PORTAL_URL,
  maxConnections: config.GATEWAY_MAX_CONNECTIONS,
});

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
