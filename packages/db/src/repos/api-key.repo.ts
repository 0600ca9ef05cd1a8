import type { Queryable } from '../db.js';
import type { UserSource } from './user.repo.js';

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  allowServers: string[] | null;
  blockServers: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** A key with everything the gateway needs to resolve its caller, read in one query. */
export interface ApiKeyPrincipal {
  keyId: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  allowServers: string[] | null;
  blockServers: string[];
  userId: string;
  email: string;
  name: string;
  source: UserSource;
  enabled: boolean;
  /** Admin directly or through an admin group. */
  admin: boolean;
  /** The user's tenant, else the tenant of its first group (by name) that has one. */
  tenantId: string | null;
  groups: string[];
  /** The user's own server lists; the key's lists can only narrow them. */
  userAllowServers: string[] | null;
  userBlockServers: string[];
}

const COLUMNS = `id, user_id AS "userId", name, prefix, allow_servers AS "allowServers", block_servers AS "blockServers",
  created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

export interface NewApiKey {
  userId: string;
  name?: string;
  keyHash: string;
  prefix: string;
  expiresAt?: Date | null;
  allowServers?: string[] | null;
  blockServers?: string[];
}

export function createApiKeyRepo(db: Queryable) {
  return {
    async create(k: NewApiKey, q: Queryable = db): Promise<ApiKey> {
      const { rows } = await q.query<ApiKey>(
        `INSERT INTO api_keys (user_id, name, key_hash, prefix, expires_at, allow_servers, block_servers)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [k.userId, k.name ?? '', k.keyHash, k.prefix, k.expiresAt ?? null, k.allowServers ?? null, k.blockServers ?? []],
      );
      return rows[0]!;
    },
    async listForUser(userId: string, q: Queryable = db): Promise<ApiKey[]> {
      const { rows } = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at`, [userId]);
      return rows;
    },
    async findById(id: string, q: Queryable = db): Promise<ApiKey | null> {
      const { rows } = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    async findByHash(keyHash: string, q: Queryable = db): Promise<ApiKey | null> {
      const { rows } = await q.query<ApiKey>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
      return rows[0] ?? null;
    },
    async revoke(id: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
      return (rowCount ?? 0) > 0;
    },
    async findPrincipalByHash(keyHash: string, q: Queryable = db): Promise<ApiKeyPrincipal | null> {
      const { rows } = await q.query<ApiKeyPrincipal>(
        `SELECT k.id AS "keyId", k.expires_at AS "expiresAt", k.revoked_at AS "revokedAt",
                k.allow_servers AS "allowServers", k.block_servers AS "blockServers",
                u.id AS "userId", u.email, u.name, u.source, u.enabled,
                (u.is_admin OR COALESCE(bool_or(g.is_admin), false)) AS admin,
                COALESCE(u.tenant_id, (array_agg(g.tenant_id ORDER BY g.name) FILTER (WHERE g.tenant_id IS NOT NULL))[1]) AS "tenantId",
                COALESCE(array_agg(g.name ORDER BY g.name) FILTER (WHERE g.id IS NOT NULL), '{}') AS groups,
                u.allow_servers AS "userAllowServers", u.block_servers AS "userBlockServers"
         FROM api_keys k
         JOIN users u ON u.id = k.user_id
         LEFT JOIN group_memberships m ON m.user_id = u.id
         LEFT JOIN groups g ON g.id = m.group_id
         WHERE k.key_hash = $1
         GROUP BY k.id, u.id`,
        [keyHash],
      );
      return rows[0] ?? null;
    },
    /** Records last use for many keys in one statement (the gateway batches these). */
    async touchLastUsed(uses: ReadonlyMap<string, Date>, q: Queryable = db): Promise<void> {
      if (uses.size === 0) return;
      await q.query(
        `UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, u.ts)
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, ts) WHERE k.id = u.id`,
        [[...uses.keys()], [...uses.values()]],
      );
    },
  };
}
export type ApiKeyRepo = ReturnType<typeof createApiKeyRepo>;
