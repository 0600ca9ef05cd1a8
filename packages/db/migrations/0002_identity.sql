-- Identity at the edge: external identities (Entra, Open WebUI), IdP group and app-role mappings,
-- local accounts with refresh tokens, the gateway's own signing keys, M2M clients, and per-user
-- server lists. Forward-only: never edit once merged; add a new file instead.

-- Per-user allow/block server lists (an API key may narrow them further, never widen them).
-- allow_servers NULL: no narrowing; block_servers always wins.
ALTER TABLE users ADD COLUMN allow_servers text[];
ALTER TABLE users ADD COLUMN block_servers text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN description text NOT NULL DEFAULT '';

-- Email is display data for SSO users (Entra's email/UPN claims are mutable and never used to
-- authorise), so two users may share one; it stays unique among local accounts, whose sign-in
-- name it is.
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_local_email_key ON users (lower(email)) WHERE source = 'local';
CREATE INDEX users_email_idx ON users (lower(email));

-- Where a membership comes from: set by an admin ('manual') or derived from the identity
-- provider's groups/roles claims through idp_group_mappings ('idp'). Sign-in replaces only 'idp' rows.
ALTER TABLE group_memberships ADD COLUMN origin text NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'idp'));

-- An external identity bound to a user: Entra (issuer = tenant id, subject = object id `oid`) or
-- Open WebUI (issuer = '', subject = Open WebUI user id).
CREATE TABLE user_identities (
  provider      text NOT NULL CHECK (provider IN ('entra', 'openwebui')),
  issuer        text NOT NULL,
  subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- Admin-managed: a value of the token's `groups` (group object id) or `roles` (app role) claim
-- makes its user a member of an mcpgw group.
CREATE TABLE idp_group_mappings (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider    text NOT NULL DEFAULT 'entra' CHECK (provider IN ('entra')),
  claim       text NOT NULL CHECK (claim IN ('groups', 'roles')),
  value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 256),
  group_id    uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, claim, value, group_id)
);

-- Local accounts: a password hash (scrypt, parameters in the stored string).
CREATE TABLE local_credentials (
  user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Rotating refresh tokens: SHA-256 only. Each refresh marks its row used and adds one to the same
-- family; presenting a used token again revokes the whole family.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Keys the gateway signs its own access tokens with. The private key is envelope ciphertext
-- (packages/crypto, MASTER_KEYS); the public half is published at /.well-known/jwks.json until
-- the tokens it signed have expired after retirement.
CREATE TABLE signing_keys (
  kid          text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
  alg          text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
  public_jwk   jsonb NOT NULL,
  private_key  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  retired_at   timestamptz
);
CREATE INDEX signing_keys_created_idx ON signing_keys (created_at);

-- M2M clients (client credentials): one machine user each; the secret is stored as SHA-256 only.
CREATE TABLE m2m_clients (
  client_id          text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  user_id            uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  secret_hash        text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  secret_prefix      text NOT NULL,
  description        text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  secret_rotated_at  timestamptz NOT NULL DEFAULT now(),
  last_used_at       timestamptz
);
