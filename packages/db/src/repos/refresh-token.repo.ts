import type { Queryable } from '../db.js';

export interface RefreshToken {
  id: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `id, family_id AS "familyId", user_id AS "userId", expires_at AS "expiresAt", used_at AS "usedAt", revoked_at AS "revokedAt"`;

/** Rotating refresh tokens of local accounts, grouped in families (one per sign-in). */
export function createRefreshTokenRepo(db: Queryable) {
  return {
    async create(t: { familyId: string; userId: string; tokenHash: string; expiresAt: Date }, q: Queryable = db): Promise<RefreshToken> {
      const { rows } = await q.query<RefreshToken>(
        `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [t.familyId, t.userId, t.tokenHash, t.expiresAt],
      );
      return rows[0]!;
    },
    /** Locks the row (FOR UPDATE) so two concurrent refreshes of one token cannot both succeed. */
    async findByHashForUpdate(tokenHash: string, q: Queryable): Promise<RefreshToken | null> {
      const { rows } = await q.query<RefreshToken>(`SELECT ${COLUMNS} FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [tokenHash]);
      return rows[0] ?? null;
    },
    async markUsed(id: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
    },
    /** Revokes every token of the family; returns how many were still live. */
    async revokeFamily(familyId: string, q: Queryable = db): Promise<number> {
      const { rowCount } = await q.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [familyId]);
      return rowCount ?? 0;
    },
    async revokeAllForUser(userId: string, q: Queryable = db): Promise<number> {
      const { rowCount } = await q.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
      return rowCount ?? 0;
    },
    /** True while the sign-in (family) has not been logged out or revoked. */
    async isFamilyLive(familyId: string, q: Queryable = db): Promise<boolean> {
      const { rows } = await q.query('SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL LIMIT 1', [familyId]);
      return rows.length > 0;
    },
  };
}
export type RefreshTokenRepo = ReturnType<typeof createRefreshTokenRepo>;
