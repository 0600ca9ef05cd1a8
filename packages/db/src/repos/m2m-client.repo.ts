import type { Queryable } from '../db.js';

export interface M2mClient {
  clientId: string;
  userId: string;
  secretPrefix: string;
  description: string;
  createdAt: Date;
  secretRotatedAt: Date;
  lastUsedAt: Date | null;
  enabled: boolean;
  groups: string[];
}

/** What the token endpoint needs to check a client's secret. */
export interface M2mClientSecret {
  clientId: string;
  userId: string;
  secretHash: string;
  enabled: boolean;
}

const SELECT = `SELECT c.client_id AS "clientId", c.user_id AS "userId", c.secret_prefix AS "secretPrefix", c.description,
    c.created_at AS "createdAt", c.secret_rotated_at AS "secretRotatedAt", c.last_used_at AS "lastUsedAt", u.enabled,
    COALESCE(array_agg(g.name ORDER BY g.name) FILTER (WHERE g.id IS NOT NULL), '{}') AS groups
  FROM m2m_clients c JOIN users u ON u.id = c.user_id
  LEFT JOIN group_memberships m ON m.user_id = u.id LEFT JOIN groups g ON g.id = m.group_id`;

/** M2M clients (client credentials) and the machine users they act as. */
export function createM2mClientRepo(db: Queryable) {
  return {
    async create(c: { clientId: string; userId: string; secretHash: string; secretPrefix: string; description: string }, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO m2m_clients (client_id, user_id, secret_hash, secret_prefix, description) VALUES ($1, $2, $3, $4, $5)`,
        [c.clientId, c.userId, c.secretHash, c.secretPrefix, c.description],
      );
    },
    async findById(clientId: string, q: Queryable = db): Promise<M2mClient | null> {
      const { rows } = await q.query<M2mClient>(`${SELECT} WHERE c.client_id = $1 GROUP BY c.client_id, u.id`, [clientId]);
      return rows[0] ?? null;
    },
    async list(q: Queryable = db): Promise<M2mClient[]> {
      const { rows } = await q.query<M2mClient>(`${SELECT} GROUP BY c.client_id, u.id ORDER BY c.client_id`);
      return rows;
    },
    async findSecret(clientId: string, q: Queryable = db): Promise<M2mClientSecret | null> {
      const { rows } = await q.query<M2mClientSecret>(
        `SELECT c.client_id AS "clientId", c.user_id AS "userId", c.secret_hash AS "secretHash", u.enabled
         FROM m2m_clients c JOIN users u ON u.id = c.user_id WHERE c.client_id = $1`,
        [clientId],
      );
      return rows[0] ?? null;
    },
    async setSecret(clientId: string, secretHash: string, secretPrefix: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query(
        'UPDATE m2m_clients SET secret_hash = $2, secret_prefix = $3, secret_rotated_at = now() WHERE client_id = $1',
        [clientId, secretHash, secretPrefix],
      );
      return (rowCount ?? 0) > 0;
    },
    async touchLastUsed(clientId: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE m2m_clients SET last_used_at = now() WHERE client_id = $1', [clientId]);
    },
  };
}
export type M2mClientRepo = ReturnType<typeof createM2mClientRepo>;
