import { createServer, type AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseMasterKeys } from '@mcpgw/crypto';
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
  GATEWAY_PORT: env.port(8085).describe('Port of the gateway, the only entry point for clients (0 picks a free one).'),
  MCP_PROXY_PORT: env.port(8000).describe('Port of mcp-proxy (0 picks a free one).'),
  ADMIN_PORTAL_PORT: env.port(8080).describe('Port of the admin portal (0 picks a free one).'),
  DEMO_SERVER_PORT: env.port(8090).describe('Port of the demo MCP server (0 picks a free one).'),
  GATEWAY_SIGNING_SECRET: env.secret(32).optional().describe('HMAC secret for the signed identity headers; shared with mcp-proxy and admin-portal.'),
  MASTER_KEYS: z
    .string()
    .optional()
    .refine((v) => v === undefined || validMasterKeys(v), { message: 'must be kid:base64-32-bytes[,kid:…] (see docs/configuration.md)' })
    .describe('Master keys for tenant-key encryption: kid:base64-32-bytes[,kid:…], the first current.'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type StackConfig = z.infer<typeof stackEnv>;

function validMasterKeys(value: string): boolean {
  try {
    parseMasterKeys(value);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Replaces every service port given as 0 with a free one, so URLs and health checks are known. */
export async function resolveFreePorts(config: StackConfig): Promise<StackConfig> {
  const resolved = { ...config };
  for (const key of ['GATEWAY_PORT', 'MCP_PROXY_PORT', 'ADMIN_PORTAL_PORT', 'DEMO_SERVER_PORT'] as const) {
    if (resolved[key] === 0) resolved[key] = await freePort();
  }
  return resolved;
}

export function readConfig(source: Record<string, string | undefined>): StackConfig {
  return loadConfig('stack', stackEnv, source);
}
