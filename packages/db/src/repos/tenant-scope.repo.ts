import type { Queryable } from '../db.js';

/**
 * SQL for the tenant a user belongs to: its own tenant, else the tenant of its first group (by
 * name) that has one. The same rule as the gateway's identity (findPrincipal's tenantId), so the
 * admin portal's idea of "a tenant's users" is the tenant the user's calls run as.
 */
export const userTenantSql = (userIdSql: string) =>
  `(SELECT COALESCE(u_t.tenant_id, (SELECT g_t.tenant_id FROM group_memberships m_t JOIN groups g_t ON g_t.id = m_t.group_id
     WHERE m_t.user_id = u_t.id AND g_t.tenant_id IS NOT NULL ORDER BY g_t.name LIMIT 1)) FROM users u_t WHERE u_t.id = ${userIdSql})`;

/**
 * The questions the admin portal asks to scope a tenant admin: which of the caller's groups make it
 * an admin and for which tenants, and to which tenant a user, an API key or an M2M client belongs.
 */
export function createTenantScopeRepo(db: Queryable) {
  return {
    /** The admin groups among `names` (case-insensitive), with their tenant (null: a global admin group). */
    async adminGroups(names: readonly string[], q: Queryable = db): Promise<{ name: string; tenantId: string | null }[]> {
      if (names.length === 0) return [];
      const { rows } = await q.query<{ name: string; tenantId: string | null }>(
        `SELECT name, tenant_id AS "tenantId" FROM groups WHERE is_admin AND lower(name) = ANY($1::text[])`,
        [names.map((n) => n.toLowerCase())],
      );
      return rows;
    },

    /** true/false: the user's own admin flag; null: no such user. */
    async directAdmin(userId: string, q: Queryable = db): Promise<boolean | null> {
      const { rows } = await q.query<{ isAdmin: boolean }>('SELECT is_admin AS "isAdmin" FROM users WHERE id = $1', [userId]);
      return rows[0]?.isAdmin ?? null;
    },

    /** Each existing user's tenant (null: none); users that do not exist are absent. */
    async userTenants(userIds: readonly string[], q: Queryable = db): Promise<Map<string, string | null>> {
      if (userIds.length === 0) return new Map();
      const { rows } = await q.query<{ id: string; tenantId: string | null }>(
        `SELECT u.id, ${userTenantSql('u.id')} AS "tenantId" FROM users u WHERE u.id = ANY($1::uuid[])`,
        [[...new Set(userIds)]],
      );
      return new Map(rows.map((r) => [r.id, r.tenantId]));
    },

    /** Those of `userIds` that are global admins: admin directly, or through an admin group of no tenant. */
    async globalAdmins(userIds: readonly string[], q: Queryable = db): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const { rows } = await q.query<{ id: string }>(
        `SELECT u.id FROM users u WHERE u.id = ANY($1::uuid[])
           AND (u.is_admin OR EXISTS (SELECT 1 FROM group_memberships m JOIN groups g ON g.id = m.group_id
                                      WHERE m.user_id = u.id AND g.is_admin AND g.tenant_id IS NULL))`,
        [[...new Set(userIds)]],
      );
      return new Set(rows.map((r) => r.id));
    },

    /** The user of each existing API key. */
    async keyUsers(keyIds: readonly string[], q: Queryable = db): Promise<Map<string, string>> {
      if (keyIds.length === 0) return new Map();
      const { rows } = await q.query<{ id: string; userId: string }>('SELECT id, user_id AS "userId" FROM api_keys WHERE id = ANY($1::uuid[])', [[...new Set(keyIds)]]);
      return new Map(rows.map((r) => [r.id, r.userId]));
    },
  };
}
export type TenantScopeRepo = ReturnType<typeof createTenantScopeRepo>;
