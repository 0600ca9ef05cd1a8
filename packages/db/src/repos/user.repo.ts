import type { Queryable } from '../db.js';

export type UserSource = 'entra' | 'openwebui' | 'local' | 'm2m';

export interface User {
  id: string;
  email: string;
  name: string;
  source: UserSource;
  tenantId: string | null;
  enabled: boolean;
  isAdmin: boolean;
  createdAt: Date;
}

const COLUMNS = `id, email, name, source, tenant_id AS "tenantId", enabled, is_admin AS "isAdmin", created_at AS "createdAt"`;

export interface NewUser {
  email: string;
  name?: string;
  source: UserSource;
  tenantId?: string | null;
  isAdmin?: boolean;
  enabled?: boolean;
}

export function createUserRepo(db: Queryable) {
  return {
    async create(user: NewUser, q: Queryable = db): Promise<User> {
      const { rows } = await q.query<User>(
        `INSERT INTO users (email, name, source, tenant_id, is_admin, enabled)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [user.email, user.name ?? '', user.source, user.tenantId ?? null, user.isAdmin ?? false, user.enabled ?? true],
      );
      return rows[0]!;
    },
    async findById(id: string, q: Queryable = db): Promise<User | null> {
      const { rows } = await q.query<User>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    async findByEmail(email: string, q: Queryable = db): Promise<User | null> {
      const { rows } = await q.query<User>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
      return rows[0] ?? null;
    },
    async setEnabled(id: string, enabled: boolean, q: Queryable = db): Promise<void> {
      await q.query('UPDATE users SET enabled = $2, updated_at = now() WHERE id = $1', [id, enabled]);
    },
    /** Users who are admins directly or through an admin group. */
    async countAdmins(q: Queryable = db): Promise<number> {
      const { rows } = await q.query<{ n: number }>(
        `SELECT count(DISTINCT u.id)::int AS n FROM users u
         LEFT JOIN group_memberships m ON m.user_id = u.id
         LEFT JOIN groups g ON g.id = m.group_id
         WHERE u.enabled AND (u.is_admin OR g.is_admin)`,
      );
      return rows[0]?.n ?? 0;
    },
  };
}
export type UserRepo = ReturnType<typeof createUserRepo>;
