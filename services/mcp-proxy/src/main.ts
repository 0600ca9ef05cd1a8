import { ConfigError } from '@mcpgw/config';
import { createDb, runMigrations } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
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
const deps = createMcpProxyDeps(config, logger, db);
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
      // Stop accepting; close the sessions so their open SSE streams end and in-flight requests drain.
      const stopped = server.close(10_000);
      await deps.sessions.closeAll();
      await stopped;
      await deps.close();
      process.exit(0);
    })().catch((err: unknown) => {
      logger.error('mcp-proxy did not stop cleanly', { err });
      process.exit(1);
    });
  });
}
