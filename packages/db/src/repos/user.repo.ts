import type { Queryable } from '../db.js';
import { userTenantSql } from './tenant-scope.repo.js';

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
  description: string;
  /** The user's own server lists (null allow list: no narrowing). */
  allowServers: string[] | null;
  blockServers: string[];
  lastSeenAt: Date | null;
}

const COLUMNS = `id, email, name, source, tenant_id AS "tenantId", enabled, is_admin AS "isAdmin", created_at AS "createdAt",
  description, allow_servers AS "allowServers", block_servers AS "blockServers", last_seen_at AS "lastSeenAt"`;

export interface UserChanges {
  name?: string;
  description?: string;
  enabled?: boolean;
  isAdmin?: boolean;
  tenantId?: string | null;
  allowServers?: string[] | null;
  blockServers?: string[];
}

const CHANGE_COLUMNS: Record<keyof UserChanges, string> = {
  name: 'name',
  description: 'description',
  enabled: 'enabled',
  isAdmin: 'is_admin',
  tenantId: 'tenant_id',
  allowServers: 'allow_servers',
  blockServers: 'block_servers',
};

export interface NewUser {
  email: string;
  name?: string;
  source: UserSource;
  tenantId?: string | null;
  isAdmin?: boolean;
  enabled?: boolean;
  description?: string;
}

export function createUserRepo(db: Queryable) {
  return {
    async create(user: NewUser, q: Queryable = db): Promise<User> {
      const { rows } = await q.query<User>(
        `INSERT INTO users (email, name, source, tenant_id, is_admin, enabled, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [user.email, user.name ?? '', user.source, user.tenantId ?? null, user.isAdmin ?? false, user.enabled ?? true, user.description ?? ''],
      );
      return rows[0]!;
    },
    async findById(id: string, q: Queryable = db): Promise<User | null> {
      const { rows } = await q.query<User>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    /** Email is unique only among local accounts (SSO users may share one): a local account first. */
    async findByEmail(email: string, q: Queryable = db): Promise<User | null> {
      const { rows } = await q.query<User>(
        `SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1) ORDER BY (source = 'local') DESC, created_at LIMIT 1`,
        [email],
      );
      return rows[0] ?? null;
    },
    /** `tenantIds`: only users of these tenants (see userTenantSql); absent: every user. */
    async list(filter: { query?: string; source?: UserSource; tenantIds?: readonly string[]; limit?: number; offset?: number } = {}, q: Queryable = db): Promise<User[]> {
      const { rows } = await q.query<User>(
        `SELECT ${COLUMNS} FROM users
         WHERE ($1::text IS NULL OR lower(email) LIKE '%' || lower($1) || '%' OR lower(name) LIKE '%' || lower($1) || '%')
           AND ($2::text IS NULL OR source = $2)
           AND ($5::text[] IS NULL OR ${userTenantSql('users.id')} = ANY($5::text[]))
         ORDER BY created_at, id LIMIT $3 OFFSET $4`,
        [filter.query ?? null, filter.source ?? null, filter.limit ?? 100, filter.offset ?? 0, filter.tenantIds ?? null],
      );
      return rows;
    },
    /** Applies the given changes; returns the user as it is afterwards (null: no such user). */
    async update(id: string, changes: UserChanges, q: Queryable = db): Promise<User | null> {
      const sets: string[] = [];
      const values: unknown[] = [id];
      for (const [field, column] of Object.entries(CHANGE_COLUMNS) as [keyof UserChanges, string][]) {
        if (changes[field] === undefined) continue;
        values.push(changes[field]);
        sets.push(`${column} = $${values.length}`);
      }
      if (sets.length === 0) return this.findById(id, q);
      const { rows } = await q.query<User>(`UPDATE users SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, values);
      return rows[0] ?? null;
    },
    async remove(id: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM users WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
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
