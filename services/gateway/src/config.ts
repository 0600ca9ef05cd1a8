import { z } from 'zod';
import { env, loadConfig } from '@mcpgw/config';

export const gatewayEnv = z.object({
  GATEWAY_HOST: env.host('127.0.0.1').describe('Address the gateway listens on (0.0.0.0 in containers).'),
  GATEWAY_PORT: env.port(8085).describe('Port of the gateway, the only entry point for clients.'),
  MCP_PROXY_URL: env.url().default('http://127.0.0.1:8000').describe('Where /mcp, /mcp/{server} and /servers are proxied.'),
  ADMIN_PORTAL_URL: env.url().default('http://127.0.0.1:8080').describe('Where /mcp-admin is proxied.'),
  OPENWEBUI_URL: env.url().optional().describe('Optional upstream for every other path (Open WebUI); unset: 404.'),
  DATABASE_URL: env.postgresUrl().describe('PostgreSQL connection URL. `npm start` provides an embedded one when unset.'),
  DB_SCHEMA: env.dbSchema().describe('Schema holding mcpgw tables.'),
  REDIS_URL: env.redisUrl().optional().describe('Redis for shared rate-limit counters; unset: in-process counters (one instance only).'),
  GATEWAY_SIGNING_SECRET: env.secret(32).describe('HMAC secret for the signed identity headers; shared with mcp-proxy and admin-portal.'),
  RATE_LIMIT_ENABLED: env.bool(true).describe('Turns the per-user and per-IP rate limits on or off.'),
  RATE_LIMIT_PER_MINUTE: env.positiveInt(100).describe('Requests per minute per authenticated user.'),
  RATE_LIMIT_PER_IP: env.positiveInt(1000).describe('Requests per minute per client IP without valid credentials.'),
  API_KEY_CACHE_SECONDS: env.nonNegativeInt(30).describe('How long a verified API key is trusted without a database read (revocation delay).'),
  TRUST_PROXY: env
    .trustProxy()
    .describe('Proxies whose X-Forwarded-For is believed: loopback, linklocal, uniquelocal, addresses or CIDR ranges (comma list). Empty: none.'),
  MAX_BODY_BYTES: env.positiveInt(1_048_576).describe('Largest request body accepted on proxied paths (413 above it).'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function readConfig(source: Record<string, string | undefined>): GatewayConfig {
  return loadConfig('gateway', gatewayEnv, source);
}
