import type { Queryable } from '../db.js';
import { userTenantSql } from './tenant-scope.repo.js';

/** The target id as a uuid, or null (CASE, not AND: Postgres does not promise to test before it casts). */
const TARGET_UUID = `(CASE WHEN target_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN target_id::uuid END)`;
/**
 * An audit row belongs to the tenants in $9 when its actor is one of their users, or its target is
 * one of their users, groups, API keys (by the key's user), tenant keys or tenant endpoints
 * (target id `tenant:server`). A global admin's change to a tenant's group shows in that tenant.
 */
const TENANT_ROW = `(
  (actor_user_id IS NOT NULL AND ${userTenantSql('audit_log.actor_user_id')} = ANY($9::text[]))
  OR (target_type = 'user' AND ${userTenantSql(TARGET_UUID)} = ANY($9::text[]))
  OR (target_type = 'group' AND (SELECT tenant_id FROM groups WHERE id = ${TARGET_UUID}) = ANY($9::text[]))
  OR (target_type = 'api-key' AND ${userTenantSql(`(SELECT user_id FROM api_keys WHERE id = ${TARGET_UUID})`)} = ANY($9::text[]))
  OR (target_type IN ('tenant-key', 'tenant-endpoint', 'tenant') AND split_part(target_id, ':', 1) = ANY($9::text[]))
)`;

export interface AuditEntry {
  actorUserId: string | null;
  actorEmail: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
  requestId?: string | null;
}

/** Append-only record of every change made through the portal, CLI or API. */
export function createAuditRepo(db: Queryable) {
  return {
    async append(e: AuditEntry, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO audit_log (actor_user_id, actor_email, action, target_type, target_id, before, after, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          e.actorUserId, e.actorEmail, e.action, e.targetType, e.targetId,
          e.before === undefined ? null : JSON.stringify(e.before),
          e.after === undefined ? null : JSON.stringify(e.after),
          e.requestId ?? null,
        ],
      );
    },
    /** Newest first, filtered by actor email, action prefix, target and time; `before` is the last id of the previous page. */
    async search(
      f: { actor?: string; action?: string; targetType?: string; targetId?: string; since?: Date; until?: Date; before?: number; limit?: number; tenantIds?: readonly string[] } = {},
      q: Queryable = db,
    ) {
      const { rows } = await q.query(
        `SELECT id::int AS id, ts, actor_user_id AS "actorUserId", actor_email AS "actorEmail", action, target_type AS "targetType",
           target_id AS "targetId", before, after, request_id AS "requestId"
         FROM audit_log
         WHERE ($1::text IS NULL OR lower(actor_email) = lower($1)) AND ($2::text IS NULL OR action LIKE $2 || '%')
           AND ($3::text IS NULL OR target_type = $3) AND ($4::text IS NULL OR target_id = $4)
           AND ($5::timestamptz IS NULL OR ts >= $5) AND ($6::timestamptz IS NULL OR ts < $6) AND ($7::bigint IS NULL OR id < $7)
           AND ($9::text[] IS NULL OR ${TENANT_ROW})
         ORDER BY id DESC LIMIT $8`,
        [f.actor ?? null, f.action ?? null, f.targetType ?? null, f.targetId ?? null, f.since ?? null, f.until ?? null, f.before ?? null, f.limit ?? 100, f.tenantIds ?? null],
      );
      return rows as { id: number; ts: Date; actorUserId: string | null; actorEmail: string; action: string; targetType: string; targetId: string | null; before: unknown; after: unknown; requestId: string | null }[];
    },
    async listRecent(limit = 100, q: Queryable = db) {
      const { rows } = await q.query(
        `SELECT id, ts, actor_email AS "actorEmail", action, target_type AS "targetType", target_id AS "targetId", before, after
         FROM audit_log ORDER BY id DESC LIMIT $1`,
        [limit],
      );
      return rows;
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
