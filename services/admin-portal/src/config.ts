import { z } from 'zod';
import { env, loadConfig } from '@mcpgw/config';
import { parseMasterKeys, type MasterKey } from '@mcpgw/crypto';

/** MASTER_KEYS: `kid:base64-32-bytes[,kid:…]`; messages never echo key material. */
const masterKeys = () =>
  z.string().transform((value, ctx): MasterKey[] => {
    try {
      return parseMasterKeys(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is invalid: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

export const adminPortalEnv = z.object({
  ADMIN_PORTAL_HOST: env.host('127.0.0.1').describe('Address the admin portal listens on; only the gateway should reach it.'),
  ADMIN_PORTAL_PORT: env.port(8080).describe('Port of the admin portal.'),
  DATABASE_URL: env.postgresUrl().describe('PostgreSQL connection URL. `npm start` provides an embedded one when unset.'),
  DB_SCHEMA: env.dbSchema().describe('Schema holding mcpgw tables.'),
  GATEWAY_SIGNING_SECRET: env.secret(32).describe('HMAC secret the gateway signs identity headers with.'),
  GATEWAY_SIGNING_SECRET_PREVIOUS: env.secret(32).optional().describe('The previous signing secret, still accepted during a rotation.'),
  SIGNATURE_MAX_AGE_SECONDS: env.positiveInt(30).describe('Oldest (or furthest in the future) a signed request may be.'),
  METRICS_TOKEN: env.secret(32).optional().describe('Bearer token that GET /metrics requires (at least 32 characters); unset: no /metrics.'),
  MASTER_KEYS: masterKeys()
    .optional()
    .describe('Master keys that encrypt tenant keys set in the portal and decrypt them for "test connection"; the same value as mcp-proxy. Unset: tenant keys cannot be set and tests run without them.'),
  ADMIN_PORTAL_GATEWAY_URL: env
    .url()
    .optional()
    .describe('URL the admin portal reaches the gateway at, for the tool tester (e.g. http://gateway:3000); unset: no tool tester.'),
  SERVER_URL_ALLOW_LOOPBACK: env
    .bool(false)
    .describe('Allow upstream server URLs and tenant endpoints on loopback (127.0.0.0/8, ::1): for local development and tests only. Link-local and cloud metadata addresses are refused always.'),
  SERVER_URL_ALLOW_PRIVATE: env
    .bool(true)
    .describe('Allow upstream server URLs and tenant endpoints on private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), where enterprise MCP servers usually live.'),
  ADMIN_SENSITIVE_WRITES_PER_MINUTE: env
    .positiveInt(20)
    .describe('Most credential changes (create API key, create M2M client or rotate its secret, set a tenant key) one admin may make per minute; more get 429.'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type AdminPortalConfig = z.infer<typeof adminPortalEnv>;

export function readConfig(source: Record<string, string | undefined>): AdminPortalConfig {
  return loadConfig('admin-portal', adminPortalEnv, source);
}
