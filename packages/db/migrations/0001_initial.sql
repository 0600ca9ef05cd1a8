-- mcpgw initial schema. Forward-only: never edit a merged migration; add a new file instead.
-- Tables live in the schema named by DB_SCHEMA (search_path is set by the pool).

CREATE TABLE tenants (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  name          text NOT NULL DEFAULT '',
  source        text NOT NULL CHECK (source IN ('entra', 'openwebui', 'local', 'm2m')),
  tenant_id     text REFERENCES tenants (id) ON DELETE SET NULL,
  enabled       boolean NOT NULL DEFAULT true,
  is_admin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE groups (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$'),
  description  text NOT NULL DEFAULT '',
  tenant_id    text REFERENCES tenants (id) ON DELETE SET NULL,
  -- Membership makes a user an admin (the bootstrap group MCP-Admin has this set).
  is_admin     boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_memberships (
  group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_memberships_user_idx ON group_memberships (user_id);

-- Upstream MCP servers. `id` is the name in /mcp/{server} and the prefix of aggregated tool names.
CREATE TABLE servers (
  id                 text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,47}$'),
  name               text NOT NULL,
  description        text NOT NULL DEFAULT '',
  transport          text NOT NULL CHECK (transport IN ('streamable-http', 'sse', 'stdio')),
  url                text,
  command            text,
  args               jsonb NOT NULL DEFAULT '[]',
  -- Non-secret environment for stdio servers; secrets come from tenant keys.
  env                jsonb NOT NULL DEFAULT '{}',
  -- How a tenant key is sent upstream: header name and value format ({key} is replaced).
  auth_header        text NOT NULL DEFAULT 'Authorization',
  auth_format        text NOT NULL DEFAULT 'Bearer {key}',
  enabled            boolean NOT NULL DEFAULT true,
  connect_timeout_ms integer NOT NULL DEFAULT 10000 CHECK (connect_timeout_ms > 0),
  call_timeout_ms    integer NOT NULL DEFAULT 60000 CHECK (call_timeout_ms > 0),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((transport = 'stdio' AND command IS NOT NULL) OR (transport <> 'stdio' AND url IS NOT NULL))
);

-- Group -> server access: every tool ('*') or the listed ones.
CREATE TABLE group_server_access (
  group_id      uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  server_id     text NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  tools         text[] NOT NULL DEFAULT '{*}',
  access_level  text NOT NULL DEFAULT 'execute' CHECK (access_level IN ('execute')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, server_id)
);
CREATE INDEX group_server_access_server_idx ON group_server_access (server_id);

-- A tenant's upstream credential for a server: ciphertext only (envelope, see packages/crypto).
CREATE TABLE tenant_keys (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  server_id   text NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  ciphertext  text NOT NULL,
  key_id      text NOT NULL,
  last4       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, server_id)
);

-- A tenant's endpoint for a server, replacing the server's default URL (dynamic routing).
CREATE TABLE tenant_endpoints (
  tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  server_id   text NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
  url         text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, server_id)
);

-- mcpgw_ API keys: SHA-256 hash and a display prefix only.
CREATE TABLE api_keys (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name           text NOT NULL DEFAULT '',
  key_hash       text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  prefix         text NOT NULL,
  allow_servers  text[],
  block_servers  text[] NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz,
  revoked_at     timestamptz,
  last_used_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE analytics_events (
  id           bigserial PRIMARY KEY,
  ts           timestamptz NOT NULL DEFAULT now(),
  request_id   text,
  user_id      uuid,
  user_email   text,
  tenant_id    text,
  method       text,
  endpoint     text,
  mcp_method   text,
  server_id    text,
  tool         text,
  status       integer,
  latency_ms   real,
  bytes_in     bigint,
  bytes_out    bigint,
  user_agent   text,
  client_ip    text
);
-- Append-only by time: BRIN keeps range scans and the retention purge cheap.
CREATE INDEX analytics_events_ts_brin ON analytics_events USING brin (ts);

CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  ts             timestamptz NOT NULL DEFAULT now(),
  actor_user_id  uuid,
  actor_email    text NOT NULL,
  action         text NOT NULL,
  target_type    text NOT NULL,
  target_id      text,
  before         jsonb,
  after          jsonb,
  request_id     text
);
CREATE INDEX audit_log_ts_idx ON audit_log (ts);

CREATE TABLE security_events (
  id          bigserial PRIMARY KEY,
  ts          timestamptz NOT NULL DEFAULT now(),
  kind        text NOT NULL,
  reason      text NOT NULL,
  service     text NOT NULL,
  user_id     uuid,
  user_email  text,
  client_ip   text,
  request_id  text,
  details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX security_events_ts_idx ON security_events (ts);
CREATE INDEX security_events_kind_ts_idx ON security_events (kind, ts);
