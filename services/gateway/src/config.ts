import { z } from 'zod';
import { ConfigError, env, loadConfig } from '@mcpgw/config';
import { parseMasterKeys, type MasterKey } from '@mcpgw/crypto';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A comma list of GUIDs (Entra tenant and application ids), lower-cased. */
const guidList = () =>
  env.list().transform((items, ctx): string[] => {
    const bad = items.filter((i) => !GUID.test(i));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `has entries that are not GUIDs: ${bad.join(', ')}` });
      return z.NEVER;
    }
    return items.map((i) => i.toLowerCase());
  });

/** MASTER_KEYS: `kid:base64-32-bytes[,kid:…]`, the first one current. Messages never echo key material. */
const masterKeys = () =>
  z.string().transform((value, ctx): MasterKey[] => {
    try {
      return parseMasterKeys(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is invalid: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

/** An origin-only http(s) URL (no path, query or fragment), returned without a trailing slash. */
const baseUrl = (fallback: string) =>
  env
    .url()
    .default(fallback)
    .refine((v) => {
      const u = new URL(v);
      return (u.pathname === '/' || u.pathname === '') && !u.search && !u.hash;
    }, 'must be scheme://host[:port] without a path')
    .transform((v) => new URL(v).origin);

/**
 * One or more http(s) base URLs, comma-separated: instances of one upstream service, which the
 * gateway balances and fails over between (routes/upstream-forwarder.ts). Unset or empty: `fallback`.
 */
const urlList = (fallback: string) =>
  env.list().transform((items, ctx): string[] => {
    if (items.length === 0) return [fallback];
    const bad = items.filter((item) => !env.url().safeParse(item).success);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `has entries that are not http(s) URLs: ${bad.join(', ')}` });
      return z.NEVER;
    }
    return items.map((item) => item.replace(/\/+$/, ''));
  });

export const gatewayEnv = z.object({
  GATEWAY_HOST: env.host('127.0.0.1').describe('Address the gateway listens on (0.0.0.0 in containers).'),
  GATEWAY_PORT: env.port(8085).describe('Port of the gateway, the only entry point for clients.'),
  MCP_PROXY_URL: urlList('http://127.0.0.1:8000').describe(
    'Where /mcp, /mcp/{server} and /servers are proxied: one URL, or a comma list of mcp-proxy replicas (requests of one MCP session go to the same replica while it is up).',
  ),
  ADMIN_PORTAL_URL: urlList('http://127.0.0.1:8080').describe('Where /mcp-admin is proxied: one URL, or a comma list of admin-portal instances.'),
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
  GATEWAY_HEADERS_TIMEOUT_MS: env
    .positiveInt(10_000)
    .describe("Time a client has to send a request's headers, in milliseconds; slower connections are closed (slowloris guard)."),
  GATEWAY_REQUEST_TIMEOUT_MS: env
    .positiveInt(30_000)
    .describe('Time a client has to send a whole request, body included, in milliseconds (slow-body guard); responses and SSE streams may last longer.'),
  GATEWAY_MAX_CONNECTIONS: env
    .positiveInt(10_000)
    .describe('Client connections open at once; beyond it new connections are closed on arrival (connection-flood guard). Keep below `ulimit -n` less about 1,000.'),
  API_KEY_GUESSES_PER_IP: env
    .positiveInt(20)
    .describe('Unknown API keys tried from one client IP per window before its further unknown keys get 429 (brute-force guard).'),
  API_KEY_GUESSES_PER_PREFIX: env
    .positiveInt(20)
    .describe('Unknown API keys tried with one key prefix (mcpgw_ and 6 characters) per window, from any address, before 429.'),
  API_KEY_GUESS_WINDOW_SECONDS: env.positiveInt(60).describe('Window of the API-key brute-force counters, in seconds.'),
  LIMIT_RULES_CACHE_SECONDS: env
    .positiveInt(5)
    .describe('How often rate-limit rules and blocks are read again from the database, in seconds; a change takes effect within this time.'),
  ENABLE_API_ANALYTICS: env.bool(true).describe('Record one analytics row per request (table analytics_events), written in batches off the request path.'),
  ANALYTICS_RETENTION_DAYS: env.nonNegativeInt(90).describe('Analytics rows older than this many days are deleted by an hourly purge (0: kept forever).'),
  ANALYTICS_BUFFER_MAX: env
    .positiveInt(50_000)
    .describe('Analytics rows held in memory while the database is slow or down; beyond this, rows are dropped and counted.'),
  ANALYTICS_BATCH_SIZE: env.positiveInt(500).describe('Analytics rows written per INSERT.'),
  ANALYTICS_FLUSH_MS: env.positiveInt(1000).describe('Longest a recorded analytics row waits before it is written, in milliseconds.'),
  METRICS_TOKEN: env.secret(32).optional().describe('Bearer token that GET /metrics requires (at least 32 characters); unset: no /metrics.'),
  GATEWAY_PUBLIC_URL: baseUrl('http://127.0.0.1:8085').describe(
    "The gateway's external URL (scheme://host[:port]): issuer and audience of its own tokens, base of the OAuth metadata and resource_metadata URLs.",
  ),
  MASTER_KEYS: masterKeys()
    .optional()
    .describe("Master keys wrapping the gateway's token-signing keys: kid:base64-32-bytes[,kid:…], first current. Unset: no tokens are issued (M2M and local sign-in answer 503)."),
  JWT_CLOCK_SKEW_SECONDS: env.nonNegativeInt(60).describe('Clock difference tolerated when checking exp and nbf of any JWT, in seconds.'),
  IDENTITY_CACHE_SECONDS: env
    .nonNegativeInt(30)
    .describe("How long an identity resolved from a JWT is reused before the user (enabled, groups) is read again; 0: every request."),
  TOKEN_VERIFY_CACHE: env
    .bool(true)
    .describe('Keep a verified JWT (by its SHA-256) until it expires, so its signature is checked once; false: checked on every request (for measurements).'),
  ENTRA_TENANT_IDS: guidList().describe('Entra tenant ids whose tokens are accepted (comma list of GUIDs). Empty: Entra tokens are refused.'),
  ENTRA_AUDIENCES: env.list().describe("Accepted `aud` values of Entra tokens: the API app's client id and its api:// App ID URIs (with and without trailing slash)."),
  ENTRA_AUTHORITY: baseUrl('https://login.microsoftonline.com').describe('Entra sign-in host; v2 issuers are {authority}/{tenant}/v2.0.'),
  ENTRA_JWKS_URI: env.url().default('https://login.microsoftonline.com/common/discovery/v2.0/keys').describe("Where Entra's signing keys (JWKS) are fetched."),
  ENTRA_ACCEPT_V1_TOKENS: env.bool(false).describe('Also accept v1.0 tokens (issuer https://sts.windows.net/{tenant}/).'),
  ENTRA_ALLOWED_CLIENT_APP_IDS: guidList().describe('Client application ids (azp/appid) whose app-only tokens (client credentials) are accepted. Empty: none.'),
  OPENWEBUI_SECRET_KEY: env.secret(8).optional().describe("Open WebUI's WEBUI_SECRET_KEY, to verify its session JWTs (HS256). Unset: Open WebUI sessions are refused."),
  OPENWEBUI_DATABASE_URL: env.postgresUrl().optional().describe("Open WebUI's PostgreSQL database, read only, to look up session users (and sk- API keys)."),
  OPENWEBUI_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .default('public')
    .describe('Schema of Open WebUI\'s "user" and api_key tables.'),
  OPENWEBUI_ALLOW_TOKENS_WITHOUT_EXP: env.bool(false).describe('Accept Open WebUI session tokens without exp (JWT_EXPIRES_IN=-1).'),
  OPENWEBUI_API_KEYS_ENABLED: env.bool(false).describe("Accept Open WebUI API keys (sk-…), looked up in its api_key table."),
  ACCESS_TOKEN_TTL_SECONDS: env.positiveInt(900).describe('Lifetime of access tokens the gateway issues (local sign-in, M2M), in seconds.'),
  REFRESH_TOKEN_TTL_SECONDS: env.positiveInt(1_209_600).describe('Lifetime of a local sign-in (its refresh tokens), in seconds.'),
  SIGNING_KEY_ALG: z.enum(['ES256', 'RS256']).default('ES256').describe('Algorithm of new token-signing keys.'),
  SIGNING_KEY_ROTATION_DAYS: env.nonNegativeInt(90).describe('A signing key older than this is replaced by a new one (0: only on request).'),
  LOGIN_THROTTLE_SECONDS: env.positiveInt(900).describe('Window of the sign-in throttles (local sign-in and the token endpoint), in seconds.'),
  LOGIN_ATTEMPTS_PER_USER: env.positiveInt(10).describe('Sign-in attempts per account (or M2M client) per window.'),
  LOGIN_ATTEMPTS_PER_IP: env.positiveInt(50).describe('Sign-in attempts per client IP per window.'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

/** Rules between variables, reported like the schema's own problems. */
function crossCheck(c: GatewayConfig): string[] {
  const problems: string[] = [];
  if (c.ENTRA_TENANT_IDS.length > 0 && c.ENTRA_AUDIENCES.length === 0) {
    problems.push('ENTRA_AUDIENCES is required when ENTRA_TENANT_IDS is set (the API app client id and App ID URIs)');
  }
  if (c.OPENWEBUI_SECRET_KEY && !c.OPENWEBUI_DATABASE_URL) {
    problems.push('OPENWEBUI_DATABASE_URL is required when OPENWEBUI_SECRET_KEY is set (session users are looked up there)');
  }
  if (c.GATEWAY_HEADERS_TIMEOUT_MS > c.GATEWAY_REQUEST_TIMEOUT_MS) {
    problems.push('GATEWAY_HEADERS_TIMEOUT_MS must not exceed GATEWAY_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (c.OPENWEBUI_API_KEYS_ENABLED && !c.OPENWEBUI_DATABASE_URL) {
    problems.push('OPENWEBUI_DATABASE_URL is required when OPENWEBUI_API_KEYS_ENABLED is true');
  }
  return problems;
}

export function readConfig(source: Record<string, string | undefined>): GatewayConfig {
  const config = loadConfig('gateway', gatewayEnv, source);
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError('gateway', problems);
  return config;
}
