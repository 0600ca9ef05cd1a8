import { createDb, quoteIdent } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';

/** A user as Open WebUI stores it (table "user"); role is pending, user or admin. */
export interface OpenWebUiUser {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface OpenWebUiDirectory {
  findUser(id: string): Promise<OpenWebUiUser | null>;
  /** The owner of an Open WebUI API key (table api_key), with the key's expiry. */
  findByApiKey(key: string): Promise<{ user: OpenWebUiUser; expiresAt: number | null } | null>;
  close(): Promise<void>;
}

/**
 * Read-only lookups in Open WebUI's own database, through a connection of their own: every session
 * is set read-only, and only SELECTs are sent. Column names are Open WebUI's (v0.6.41 and later).
 */
export function createOpenWebUiDirectory(options: { url: string; schema: string; logger: Logger }): OpenWebUiDirectory {
  const db = createDb({ url: options.url, schema: options.schema, poolMax: 5, statementTimeoutMs: 3_000, connectTimeoutMs: 3_000 }, options.logger);
  db.pool.on('connect', (client) => {
    client.query('SET default_transaction_read_only = on').catch(() => undefined);
  });
  const schema = quoteIdent(options.schema);
  return {
    async findUser(id) {
      const { rows } = await db.query<OpenWebUiUser>(`SELECT id, email, name, role FROM ${schema}."user" WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    async findByApiKey(key) {
      const { rows } = await db.query<OpenWebUiUser & { expiresAt: string | number | null }>(
        `SELECT u.id, u.email, u.name, u.role, k.expires_at AS "expiresAt"
         FROM ${schema}.api_key k JOIN ${schema}."user" u ON u.id = k.user_id WHERE k.key = $1`,
        [key],
      );
      const row = rows[0];
      if (!row) return null;
      const { expiresAt, ...user } = row;
      return { user, expiresAt: expiresAt === null ? null : Number(expiresAt) };
    },
    close: () => db.close(),
  };
}
