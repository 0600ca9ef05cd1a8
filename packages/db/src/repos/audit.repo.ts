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
