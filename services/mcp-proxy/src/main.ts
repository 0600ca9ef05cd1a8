import { checkConfigOrExit, ConfigError } from '@mcpgw/config';
import { verifyMasterKeys } from '@mcpgw/crypto';
import { createDb, createMasterKeyCheckRepo, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { waitUntilReady } from '@mcpgw/rate-limit';
import { createLogger } from '@mcpgw/logger';
import { createMcpProxyApp } from './app.js';
import { readConfig, type McpProxyConfig } from './config.js';
import { createMcpProxyDeps, SERVICE } from './deps.js';

let config: McpProxyConfig;
try {
  config = readConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78); // EX_CONFIG, like the other services
}

const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
const db = createDb({ url: config.DATABASE_URL, schema: config.DB_SCHEMA }, logger);
await runMigrations(db, logger);
// A key under a known id that differs from the one the others use would fail every decrypt: stop.
await checkConfigOrExit('mcp-proxy', () => verifyMasterKeys(config.MASTER_KEYS, createMasterKeyCheckRepo(db.pool)));
const deps = createMcpProxyDeps(config, logger, db);
// Sessions opened before Redis answers would be served by this replica only: give it a moment.
if (deps.traffic.redis) await waitUntilReady(deps.traffic.redis);
const app = createMcpProxyApp(deps);
const server = await listen(app, { host: config.MCP_PROXY_HOST, port: config.MCP_PROXY_PORT });
logger.info('mcp-proxy listening', { url: server.url });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info('mcp-proxy stopping', { signal });
    void (async () => {
      // A rolling restart loses nothing: /health says draining and new GET streams are refused
      // (the gateway sends them to another replica); open GET streams end so callers reconnect
      // elsewhere; every answer is marked draining, so the gateways stop choosing this replica;
      // after 1 s new connections are refused while requests in flight finish (10 s at most).
      // Sessions stay in the shared store for the other replicas; only what runs here closes.
      deps.lifecycle.draining = true;
      deps.sessions.drain();
      const drained = await server.drain({ graceMs: 10_000, announceMs: 1_000, markResponses: true });
      logger.info('mcp-proxy drained', { ...drained, sessionsHere: deps.sessions.size(), sharedSessions: deps.sessions.shared });
      await deps.close();
      process.exit(0);
    })().catch((err: unknown) => {
      logger.error('mcp-proxy did not stop cleanly', { err });
      process.exit(1);
    });
  });
}
