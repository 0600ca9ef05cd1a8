import { z } from 'zod';
import { env, loadConfig } from '@mcpgw/config';

/** What the one-machine launcher reads. Service variables pass through to the services unchanged. */
export const stackEnv = z.object({
  MCPGW_DATA_DIR: z.string().default('./data').describe('Folder for the embedded Postgres and generated secrets (npm start).'),
  MCPGW_BOOTSTRAP_ADMIN_EMAIL: z.string().email().default('admin@mcpgw.local').describe('Email of the admin created on first start.'),
  MCPGW_DEMO_SERVER: env.bool(true).describe('Start the demo MCP server and register it as "demo" (npm start).'),
  EMBEDDED_POSTGRES_PORT: env.port(0).describe('Port of the embedded Postgres when DATABASE_URL is unset (0: a free port).'),
  DATABASE_URL: env.postgresUrl().optional().describe('PostgreSQL connection URL. `npm start` provides an embedded one when unset.'),
  DB_SCHEMA: env.dbSchema().describe('Schema holding mcpgw tables.'),
  REDIS_URL: env.redisUrl().optional().describe('Redis for shared rate-limit counters; unset: in-process counters (one instance only).'),
  GATEWAY_PORT: env.port(8085).describe('Port of the gateway, the only entry point for clients.'),
  MCP_PROXY_PORT: env.port(8000).describe('Port of mcp-proxy.'),
  ADMIN_PORTAL_PORT: env.port(8080).describe('Port of the admin portal.'),
  DEMO_SERVER_PORT: env.port(8090).describe('Port of the demo MCP server (0 picks a free one).'),
  GATEWAY_SIGNING_SECRET: env.secret(32).optional().describe('HMAC secret for the signed identity headers; shared with mcp-proxy and admin-portal.'),
  MASTER_KEYS: z.string().optional().describe('Master keys for tenant-key encryption: kid:base64-32-bytes[,kid:…], the first current.'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type StackConfig = z.infer<typeof stackEnv>;

export function readConfig(source: Record<string, string | undefined>): StackConfig {
  return loadConfig('stack', stackEnv, source);
}
