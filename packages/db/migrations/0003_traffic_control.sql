-- Traffic control and records: rate-limit rules and blocks an admin changes at run time, indexes
-- for reading security events by user, and a cheaper retention purge of analytics_events.
-- Depends only on 0001. Forward-only: never edit once merged; add a new file instead.

-- Limits beyond the per-user and per-IP budgets of the configuration. Read by the gateway and
-- mcp-proxy every LIMIT_RULES_CACHE_SECONDS, so a change takes effect within that time.
--   scope 'tenant': every request of the tenant's users, counted together, at the gateway.
--   scope 'tool':   tools/call of one server (tool NULL: any of its tools) or one tool, in
--                   mcp-proxy; for every tenant (tenant_id NULL) or one; counted per user or per
--                   tenant (`per`).
CREATE TABLE rate_limit_rules (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scope           text NOT NULL CHECK (scope IN ('tenant', 'tool')),
  tenant_id       text REFERENCES tenants (id) ON DELETE CASCADE,
  server_id       text REFERENCES servers (id) ON DELETE CASCADE,
  tool            text CHECK (tool IS NULL OR length(tool) BETWEEN 1 AND 128),
  per             text NOT NULL DEFAULT 'user' CHECK (per IN ('user', 'tenant')),
  points          integer NOT NULL CHECK (points > 0),
  window_seconds  integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
  enabled         boolean NOT NULL DEFAULT true,
  description     text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (scope <> 'tenant' OR (tenant_id IS NOT NULL AND server_id IS NULL AND tool IS NULL AND per = 'tenant')),
  CHECK (scope <> 'tool' OR server_id IS NOT NULL)
);
-- One rule per target: a second one for the same tenant/server/tool/per is a conflict.
CREATE UNIQUE INDEX rate_limit_rules_target_key
  ON rate_limit_rules (scope, coalesce(tenant_id, ''), coalesce(server_id, ''), coalesce(tool, ''), per);

-- An admin's block of a user or of one API key: the gateway refuses it with 403 until the row is
-- deleted or expires_at passes (read every LIMIT_RULES_CACHE_SECONDS).
CREATE TABLE access_blocks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
  api_key_id  uuid REFERENCES api_keys (id) ON DELETE CASCADE,
  reason      text NOT NULL DEFAULT '',
  created_by  text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  CHECK ((user_id IS NULL) <> (api_key_id IS NULL))
);
CREATE UNIQUE INDEX access_blocks_user_key ON access_blocks (user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX access_blocks_api_key_key ON access_blocks (api_key_id) WHERE api_key_id IS NOT NULL;

-- Security events by user (id or email) and time, besides the existing (ts) and (kind, ts).
CREATE INDEX security_events_user_ts_idx ON security_events (user_id, ts) WHERE user_id IS NOT NULL;
CREATE INDEX security_events_email_ts_idx ON security_events (lower(user_email), ts) WHERE user_email IS NOT NULL;

-- The retention purge finds old rows through the BRIN index on ts; summarise new block ranges as
-- they fill, so the purge never has to read recent, unsummarised ranges.
ALTER INDEX analytics_events_ts_brin SET (autosummarize = on);
