import type { Queryable } from '../db.js';

export type MappedClaim = 'groups' | 'roles';

/** A value of the token's `groups` or `roles` claim that makes its user a member of an mcpgw group. */
export interface IdpGroupMapping {
  id: string;
  provider: 'entra';
  claim: MappedClaim;
  value: string;
  groupId: string;
  groupName: string;
  createdAt: Date;
}

const SELECT = `SELECT m.id, m.provider, m.claim, m.value, m.group_id AS "groupId", g.name AS "groupName", m.created_at AS "createdAt"
  FROM idp_group_mappings m JOIN groups g ON g.id = m.group_id`;

/** Admin-managed mappings from identity-provider group object ids and app roles to mcpgw groups. */
export function createIdpMappingRepo(db: Queryable) {
  return {
    async create(m: { claim: MappedClaim; value: string; groupId: string }, q: Queryable = db): Promise<IdpGroupMapping | null> {
      const { rows } = await q.query<{ id: string }>(
        `INSERT INTO idp_group_mappings (provider, claim, value, group_id) VALUES ('entra', $1, $2, $3)
         ON CONFLICT (provider, claim, value, group_id) DO NOTHING RETURNING id`,
        [m.claim, m.value, m.groupId],
      );
      return rows[0] ? this.findById(rows[0].id, q) : null;
    },
    async findById(id: string, q: Queryable = db): Promise<IdpGroupMapping | null> {
      const { rows } = await q.query<IdpGroupMapping>(`${SELECT} WHERE m.id = $1`, [id]);
      return rows[0] ?? null;
    },
    async list(q: Queryable = db): Promise<IdpGroupMapping[]> {
      const { rows } = await q.query<IdpGroupMapping>(`${SELECT} ORDER BY m.claim, m.value, g.name`);
      return rows;
    },
    async remove(id: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM idp_group_mappings WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    /** The mcpgw group ids the given claim values map to (values compared exactly, GUIDs case-insensitively). */
    async groupIdsFor(claims: { groups: readonly string[]; roles: readonly string[] }, q: Queryable = db): Promise<string[]> {
      if (claims.groups.length === 0 && claims.roles.length === 0) return [];
      const { rows } = await q.query<{ groupId: string }>(
        `SELECT DISTINCT group_id AS "groupId" FROM idp_group_mappings
         WHERE provider = 'entra' AND ((claim = 'groups' AND lower(value) = ANY($1::text[])) OR (claim = 'roles' AND value = ANY($2::text[])))`,
        [claims.groups.map((g) => g.toLowerCase()), [...claims.roles]],
      );
      return rows.map((r) => r.groupId);
    },
  };
}
export type IdpMappingRepo = ReturnType<typeof createIdpMappingRepo>;
