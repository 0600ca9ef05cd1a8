-- Key check values of the master keys (MASTER_KEYS): HMAC-SHA256 of a fixed text under each key,
-- one row per key id, written by the first service that starts with the key. A service whose key
-- under the same id gives another value refuses to start (see packages/crypto key-check.ts).
CREATE TABLE master_key_checks (
  key_id       text PRIMARY KEY,
  check_value  text NOT NULL CHECK (check_value ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now()
);
