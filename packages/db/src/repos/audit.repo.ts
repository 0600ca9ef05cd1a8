import type { Queryable } from '../db.js';

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
      f: { actor?: string; action?: string; targetType?: string; targetId?: string; since?: Date; until?: Date; before?: number; limit?: number } = {},
      q: Queryable = db,
    ) {
      const { rows } = await q.query(
        `SELECT id::int AS id, ts, actor_user_id AS "actorUserId", actor_email AS "actorEmail", action, target_type AS "targetType",
           target_id AS "targetId", before, after, request_id AS "requestId"
         FROM audit_log
         WHERE ($1::text IS NULL OR lower(actor_email) = lower($1)) AND ($2::text IS NULL OR action LIKE $2 || '%')
           AND ($3::text IS NULL OR target_type = $3) AND ($4::text IS NULL OR target_id = $4)
           AND ($5::timestamptz IS NULL OR ts >= $5) AND ($6::timestamptz IS NULL OR ts < $6) AND ($7::bigint IS NULL OR id < $7)
         ORDER BY id DESC LIMIT $8`,
        [f.actor ?? null, f.action ?? null, f.targetType ?? null, f.targetId ?? null, f.since ?? null, f.until ?? null, f.before ?? null, f.limit ?? 100],
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
