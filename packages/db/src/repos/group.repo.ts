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
