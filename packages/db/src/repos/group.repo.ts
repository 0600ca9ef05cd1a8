import type { Queryable } from '../db.js';

export interface Group {
  id: string;
  name: string;
  description: string;
  tenantId: string | null;
  isAdmin: boolean;
}

const COLUMNS = `id, name, description, tenant_id AS "tenantId", is_admin AS "isAdmin"`;

export interface NewGroup {
  name: string;
  description?: string;
  tenantId?: string | null;
  isAdmin?: boolean;
}

export function createGroupRepo(db: Queryable) {
  return {
    async create(group: NewGroup, q: Queryable = db): Promise<Group> {
      const { rows } = await q.query<Group>(
        `INSERT INTO groups (name, description, tenant_id, is_admin) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [group.name, group.description ?? '', group.tenantId ?? null, group.isAdmin ?? false],
      );
      return rows[0]!;
    },
    async findByName(name: string, q: Queryable = db): Promise<Group | null> {
      const { rows } = await q.query<Group>(`SELECT ${COLUMNS} FROM groups WHERE lower(name) = lower($1)`, [name]);
      return rows[0] ?? null;
    },
    async addMember(groupId: string, userId: string, q: Queryable = db): Promise<void> {
      await q.query('INSERT INTO group_memberships (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId]);
    },
    async removeMember(groupId: string, userId: string, q: Queryable = db): Promise<void> {
      await q.query('DELETE FROM group_memberships WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
    },
    async findById(id: string, q: Queryable = db): Promise<Group | null> {
      const { rows } = await q.query<Group>(`SELECT ${COLUMNS} FROM groups WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    /** Groups by name (case-insensitive substring), of some tenants only, with member counts; `total` for paging. */
    async list(
      filter: { query?: string; tenantIds?: readonly string[]; limit?: number; offset?: number } = {},
      q: Queryable = db,
    ): Promise<{ items: (Group & { members: number })[]; total: number }> {
      const like = filter.query ? `%${filter.query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const { rows } = await q.query<Group & { members: number; total: number }>(
        `SELECT ${COLUMNS}, (SELECT count(*)::int FROM group_memberships m WHERE m.group_id = groups.id) AS members,
           count(*) OVER ()::int AS total
         FROM groups WHERE ($1::text IS NULL OR lower(name) LIKE $1) AND ($4::text[] IS NULL OR tenant_id = ANY($4::text[]))
         ORDER BY lower(name) LIMIT $2 OFFSET $3`,
        [like, filter.limit ?? 100, filter.offset ?? 0, filter.tenantIds ?? null],
      );
      return { items: rows.map(({ total: _t, ...g }) => g), total: rows[0]?.total ?? 0 };
    },
    async update(id: string, changes: { name?: string; description?: string; tenantId?: string | null; isAdmin?: boolean }, q: Queryable = db): Promise<Group | null> {
      const { rows } = await q.query<Group>(
        `UPDATE groups SET name = coalesce($2, name), description = coalesce($3, description),
           tenant_id = CASE WHEN $4::boolean THEN $5 ELSE tenant_id END, is_admin = coalesce($6, is_admin), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.name ?? null, changes.description ?? null, changes.tenantId !== undefined, changes.tenantId ?? null, changes.isAdmin ?? null],
      );
      return rows[0] ?? null;
    },
    async remove(id: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM groups WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    /** A page of a group's members (id and email), ordered by email. */
    async listMembers(groupId: string, page: { limit?: number; offset?: number } = {}, q: Queryable = db): Promise<{ items: { id: string; email: string; name: string; enabled: boolean }[]; total: number }> {
      const { rows } = await q.query<{ id: string; email: string; name: string; enabled: boolean; total: number }>(
        `SELECT u.id, u.email, u.name, u.enabled, count(*) OVER ()::int AS total FROM group_memberships m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = $1 ORDER BY lower(u.email) LIMIT $2 OFFSET $3`,
        [groupId, page.limit ?? 100, page.offset ?? 0],
      );
      return { items: rows.map(({ total: _t, ...u }) => u), total: rows[0]?.total ?? 0 };
    },
    async listForUser(userId: string, q: Queryable = db): Promise<Group[]> {
      const { rows } = await q.query<Group>(
        `SELECT ${COLUMNS.replace(/(^|, )(\w)/g, '$1g.$2')} FROM groups g
         JOIN group_memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name`,
        [userId],
      );
      return rows;
    },
  };
}
export type GroupRepo = ReturnType<typeof createGroupRepo>;
