import type { Queryable } from '../db.js';

export interface AccessGrant {
  group: string;
  serverId: string;
  tools: string[];
  accessLevel: string;
}

/** Group -> server access (the grants policy decisions are made from). */
export function createAccessRepo(db: Queryable) {
  return {
    /** Creates or replaces a group's access to a server. `tools` is ['*'] or tool names. */
    async setGrant(groupId: string, serverId: string, tools: readonly string[], accessLevel = 'execute', q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO group_server_access (group_id, server_id, tools, access_level) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, server_id) DO UPDATE SET tools = EXCLUDED.tools, access_level = EXCLUDED.access_level, updated_at = now()`,
        [groupId, serverId, tools, accessLevel],
      );
    },
    async removeGrant(groupId: string, serverId: string, q: Queryable = db): Promise<void> {
      await q.query('DELETE FROM group_server_access WHERE group_id = $1 AND server_id = $2', [groupId, serverId]);
    },
    /** One group's grants, by server id. */
    async grantsForGroup(groupId: string, q: Queryable = db): Promise<{ serverId: string; tools: string[]; accessLevel: string; updatedAt: Date }[]> {
      const { rows } = await q.query<{ serverId: string; tools: string[]; accessLevel: string; updatedAt: Date }>(
        `SELECT server_id AS "serverId", tools, access_level AS "accessLevel", updated_at AS "updatedAt"
         FROM group_server_access WHERE group_id = $1 ORDER BY server_id`,
        [groupId],
      );
      return rows;
    },
    /** Every grant of the named groups (names compared case-insensitively). */
    async grantsForGroups(groupNames: readonly string[], q: Queryable = db): Promise<AccessGrant[]> {
      if (groupNames.length === 0) return [];
      const { rows } = await q.query<AccessGrant>(
        `SELECT g.name AS "group", a.server_id AS "serverId", a.tools, a.access_level AS "accessLevel"
         FROM group_server_access a JOIN groups g ON g.id = a.group_id
         WHERE lower(g.name) = ANY($1::text[]) ORDER BY g.name, a.server_id`,
        [groupNames.map((n) => n.toLowerCase())],
      );
      return rows;
    },
  };
}
export type AccessRepo = ReturnType<typeof createAccessRepo>;
