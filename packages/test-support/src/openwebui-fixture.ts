import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { uniqueId } from './util.js';

export interface OpenWebUiFixture {
  /** Database URL and schema holding the fixture's "user" and api_key tables. */
  url: string;
  schema: string;
  /** The WEBUI_SECRET_KEY its session tokens are signed with. */
  secret: string;
  addUser(user?: { email?: string; name?: string; role?: 'pending' | 'user' | 'admin' }): Promise<{ id: string; email: string; name: string }>;
  setRole(id: string, role: string): Promise<void>;
  /** An sk- API key for the user in table api_key; expiresAt in epoch seconds. */
  addApiKey(userId: string, options?: { expiresAt?: number | null }): Promise<string>;
  /** A session token as Open WebUI makes it: HS256 over {id, exp, jti, iat} (override or drop claims). */
  session(userId: string, overrides?: Record<string, unknown>, options?: { secret?: string; alg?: string }): string;
  cleanup(): Promise<void>;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Open WebUI's tables (v0.6.41 and later: "user" without api_key/oauth_sub, table api_key) in a
 * schema of their own, with Open WebUI's column names, in the test Postgres.
 */
export async function createOpenWebUiFixture(url: string): Promise<OpenWebUiFixture> {
  const schema = uniqueId('owui_');
  const secret = randomBytes(12).toString('base64');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  await pool.query(`CREATE TABLE "${schema}"."user" (
    id varchar PRIMARY KEY, email varchar NOT NULL, username varchar(50), role varchar NOT NULL DEFAULT 'pending',
    name varchar NOT NULL, profile_image_url text, profile_banner_image_url text, bio text, gender text,
    date_of_birth date, timezone varchar, presence_state varchar, status_emoji varchar, status_message text,
    status_expires_at bigint, info json, settings json, oauth json, scim json,
    last_active_at bigint, updated_at bigint, created_at bigint)`);
  await pool.query(`CREATE TABLE "${schema}".api_key (
    id text PRIMARY KEY, user_id text NOT NULL, key text NOT NULL UNIQUE, data json,
    expires_at bigint, last_used_at bigint, created_at bigint, updated_at bigint)`);
  await pool.query(`CREATE TABLE "${schema}".auth (id varchar PRIMARY KEY, email varchar, password text, active boolean)`);
  const now = () => Math.floor(Date.now() / 1000);

  return {
    url,
    schema,
    secret,
    async addUser(user = {}) {
      const id = randomUUID();
      const email = user.email ?? `${uniqueId('owui')}@example.test`;
      const name = user.name ?? 'Open WebUI User';
      await pool.query(
        `INSERT INTO "${schema}"."user" (id, email, role, name, profile_image_url, last_active_at, updated_at, created_at, oauth)
         VALUES ($1, $2, $3, $4, '/user.png', $5, $5, $5, $6)`,
        [id, email, user.role ?? 'user', name, now(), JSON.stringify({ microsoft: { sub: randomUUID() } })],
      );
      return { id, email, name };
    },
    async setRole(id, role) {
      await pool.query(`UPDATE "${schema}"."user" SET role = $2 WHERE id = $1`, [id, role]);
    },
    async addApiKey(userId, options = {}) {
      const key = `sk-${randomBytes(16).toString('hex')}`;
      await pool.query(`INSERT INTO "${schema}".api_key (id, user_id, key, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`, [
        randomUUID(),
        userId,
        key,
        options.expiresAt ?? null,
        now(),
      ]);
      return key;
    },
    session(userId, overrides = {}, options = {}) {
      const claims: Record<string, unknown> = { id: userId, exp: now() + 3600, jti: randomUUID(), iat: now(), ...overrides };
      for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
      const head = b64url({ alg: options.alg ?? 'HS256', typ: 'JWT' });
      const body = b64url(claims);
      return `${head}.${body}.${createHmac('sha256', options.secret ?? secret).update(`${head}.${body}`).digest('base64url')}`;
    },
    async cleanup() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}
