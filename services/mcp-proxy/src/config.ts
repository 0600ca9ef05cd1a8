import { z } from 'zod';
import { env, loadConfig } from '@mcpgw/config';
import { parseMasterKeys, type MasterKey } from '@mcpgw/crypto';

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** DATABASE_URL is required here; `npm start` runs an embedded Postgres and sets it. */
const databaseUrl = () =>
  z
    .string()
    .optional()
    .transform((value, ctx): string => {
      if (value === undefined) {
        ctx.addIssue({ code: 'custom', message: 'is required (`npm start` provides an embedded Postgres and sets it)' });
        return z.NEVER;
      }
      if (!POSTGRES_URL.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be a postgres:// URL' });
        return z.NEVER;
      }
      return value;
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

/** The environment of mcp-proxy. Keys are the variable names; docs/configuration.md lists the same. */
export const mcpProxyEnv = z.object({
  MCP_PROXY_HOST: env.host('127.0.0.1').describe('Address mcp-proxy listens on.'),
  MCP_PROXY_PORT: env.port(8000).describe('Port mcp-proxy listens on (0 picks a free one).'),
  DATABASE_URL: databaseUrl().describe('PostgreSQL URL (postgres://…). Required; `npm start` provides an embedded one.'),
  DB_SCHEMA: env.dbSchema().describe("Postgres schema holding mcpgw's tables."),
  GATEWAY_SIGNING_SECRET: env
    .secret(32)
    .describe('Shared HMAC secret the gateway signs identity headers with (at least 32 characters, no default).'),
  GATEWAY_SIGNING_SECRET_PREVIOUS: env
    .secret(32)
    .optional()
    .describe('The previous signing secret, still accepted while a rotation is under way.'),
  SIGNATURE_MAX_AGE_SECONDS: env.positiveInt(30).describe('How old (or how far in the future) a gateway signature may be, in seconds.'),
  MASTER_KEYS: masterKeys().describe(
    'Master keys for tenant-key decryption: kid:base64-32-bytes[,kid:…], the first one current (no default).',
  ),
  MCP_SESSION_IDLE_SECONDS: env.positiveInt(1800).describe('An MCP session unused for this many seconds is closed.'),
  MCP_SESSIONS_PER_USER: env
    .positiveInt(50)
    .describe("Open MCP sessions per user; opening one more closes that user's least recently used session."),
  UPSTREAM_LIST_TIMEOUT_MS: env
    .positiveInt(5000)
    .describe('Time allowed for one upstream server to list its tools (all pages), in ms; slower servers are left out.'),
  MCP_ALLOWED_ORIGINS: env
    .list()
    .describe('Comma list of browser origins allowed to call the MCP endpoints; a request with any other Origin gets 403.'),
  MCP_GRANT_CACHE_SECONDS: env
    .nonNegativeInt(5)
    .describe("How long a group list's grants are cached, in seconds (0: not cached). Grant changes take effect within this time."),
  MCP_LIST_CACHE_SECONDS: env
    .nonNegativeInt(10)
    .describe(
      "How long an upstream server's tool, prompt and resource lists are kept, in seconds (0: asked every time). A server's list_changed notification or a failure ends it sooner; callers' filtering is applied after it.",
    ),
  MCP_TOOL_NAME_MAX_LENGTH: z.coerce
    .number()
    .int()
    .min(32)
    .max(64)
    .default(64)
    .describe('Longest tool and prompt name on /mcp (32-64); lower it so a client prefix (Open WebUI: `{connection id}_`) still fits in 64.'),
  MCP_GRANT_WATCH_SECONDS: env
    .nonNegativeInt(5)
    .describe('How often open MCP sessions are checked for grant changes, in seconds; a change sends them list_changed (0: never).'),
  UPSTREAM_HEALTH_INTERVAL_SECONDS: env
    .nonNegativeInt(30)
    .describe('How often every enabled upstream server is pinged for GET /servers, in seconds (0: no periodic check).'),
  UPSTREAM_BREAKER_FAILURES: env
    .positiveInt(3)
    .describe('Consecutive failures (unreachable, timed out) of one upstream server that open its circuit breaker: requests then fail at once.'),
  UPSTREAM_BREAKER_COOLDOWN_MS: env
    .positiveInt(5000)
    .describe('How long an open circuit breaker fails fast before one trial request may go, in ms; doubled after each failed trial, up to 60 s.'),
  UPSTREAM_MAX_RESPONSE_BYTES: env
    .positiveInt(10 * 1024 * 1024)
    .describe('Largest answer of an HTTP upstream server to one request, in bytes; a larger one is cut off and the caller gets an error.'),
  META_TOOLS_MODE: env
    .bool(false)
    .describe('true: tools/list and the OpenAPI documents offer two meta tools, search_tools and call_tool, instead of every tool.'),
  REDIS_URL: env
    .redisUrl()
    .optional()
    .describe(
      'Redis for the counters of per-tool rate-limit rules (shared with the gateway) and the MCP session records (shared by every mcp-proxy replica); unset: both in process (one instance only).',
    ),
  LIMIT_RULES_CACHE_SECONDS: env
    .positiveInt(5)
    .describe('How often the rate-limit rules are read again from the database, in seconds; a change takes effect within this time.'),
  METRICS_TOKEN: env
    .secret(32)
    .optional()
    .describe('Bearer token that GET /metrics requires (at least 32 characters); unset: no /metrics.'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type McpProxyConfig = z.infer<typeof mcpProxyEnv>;

/** Parses and validates the whole environment; throws a ConfigError naming every bad variable. */
export function readConfig(source: Record<string, string | undefined>): McpProxyConfig {
  return loadConfig('mcp-proxy', mcpProxyEnv, source);
}
