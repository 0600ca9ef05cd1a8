import type { Queryable } from '../db.js';

/** An admin's block of a user or of one API key (table access_blocks). */
export interface AccessBlock {
  id: string;
  userId: string | null;
  apiKeyId: string | null;
  reason: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** The blocks in force, as the gateway holds them: user ids, and key hashes to compare with. */
export interface ActiveBlocks {
  users: Map<string, AccessBlock>;
  keyHashes: Map<string, AccessBlock>;
}

export type NewAccessBlock = { userId: string; apiKeyId?: undefined } | { apiKeyId: string; userId?: undefined };

const COLUMNS = `b.id, b.user_id AS "userId", b.api_key_id AS "apiKeyId", b.reason, b.created_by AS "createdBy",
  b.created_at AS "createdAt", b.expires_at AS "expiresAt"`;

export function createAccessBlockRepo(db: Queryable) {
  return {
    /** Blocks a user or a key; blocking it again replaces reason and expiry. */
    async create(target: NewAccessBlock, opts: { reason?: string; createdBy?: string; expiresAt?: Date | null } = {}, q: Queryable = db): Promise<AccessBlock> {
      const conflict = target.userId ? '(user_id) WHERE user_id IS NOT NULL' : '(api_key_id) WHERE api_key_id IS NOT NULL';
      const { rows } = await q.query<AccessBlock>(
        `INSERT INTO access_blocks AS b (user_id, api_key_id, reason, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ${conflict} DO UPDATE
           SET reason = EXCLUDED.reason, created_by = EXCLUDED.created_by, created_at = now(), expires_at = EXCLUDED.expires_at
         RETURNING ${COLUMNS}`,
        [target.userId ?? null, target.apiKeyId ?? null, opts.reason ?? '', opts.createdBy ?? '', opts.expiresAt ?? null],
      );
      return rows[0]!;
    },
    async list(q: Queryable = db): Promise<AccessBlock[]> {
      const { rows } = await q.query<AccessBlock>(`SELECT ${COLUMNS} FROM access_blocks b ORDER BY b.created_at DESC`);
      return rows;
    },
    async remove(id: string, q: Queryable = db): Promise<AccessBlock | null> {
      const { rows } = await q.query<AccessBlock>(`DELETE FROM access_blocks b WHERE b.id = $1 RETURNING ${COLUMNS}`, [id]);
      return rows[0] ?? null;
    },
    /** Every block not yet expired, keyed for the gateway's per-request check. */
    async loadActive(q: Queryable = db): Promise<ActiveBlocks> {
      const { rows } = await q.query<AccessBlock & { keyHash: string | null }>(
        `SELECT ${COLUMNS}, k.key_hash AS "keyHash"
         FROM access_blocks b LEFT JOIN api_keys k ON k.id = b.api_key_id
         WHERE b.expires_at IS NULL OR b.expires_at > now()`,
      );
      const active: ActiveBlocks = { users: new Map(), keyHashes: new Map() };
      for (const { keyHash, ...block } of rows) {
        if (block.userId) active.users.set(block.userId, block);
        else if (keyHash) active.keyHashes.set(keyHash, block);
      }
      return active;
    },
  };
}
export type AccessBlockRepo = ReturnType<typeof createAccessBlockRepo>;
