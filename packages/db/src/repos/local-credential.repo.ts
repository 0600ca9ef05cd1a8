import type { Queryable } from '../db.js';

/** A local account as sign-in needs it: the user and its password hash. */
export interface LocalAccount {
  userId: string;
  email: string;
  enabled: boolean;
  passwordHash: string;
}

/** Passwords of local accounts (hashes only). */
export function createLocalCredentialRepo(db: Queryable) {
  return {
    async findByEmail(email: string, q: Queryable = db): Promise<LocalAccount | null> {
      const { rows } = await q.query<LocalAccount>(
        `SELECT u.id AS "userId", u.email, u.enabled, c.password_hash AS "passwordHash"
         FROM users u JOIN local_credentials c ON c.user_id = u.id
         WHERE u.source = 'local' AND lower(u.email) = lower($1)`,
        [email],
      );
      return rows[0] ?? null;
    },
    async setPassword(userId: string, passwordHash: string, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO local_credentials (user_id, password_hash) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()`,
        [userId, passwordHash],
      );
    },
  };
}
export type LocalCredentialRepo = ReturnType<typeof createLocalCredentialRepo>;
