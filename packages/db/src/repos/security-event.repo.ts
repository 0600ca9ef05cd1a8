import type { Queryable } from '../db.js';

export interface SecurityEvent {
  kind: string;
  reason: string;
  service: string;
  userId?: string | null;
  userEmail?: string | null;
  clientIp?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export interface StoredSecurityEvent extends Required<Omit<SecurityEvent, 'details'>> {
  id: number;
  ts: Date;
  details: Record<string, unknown>;
}

export interface SecurityEventFilter {
  since?: Date;
  until?: Date;
  userId?: string;
  userEmail?: string;
  kinds?: string[];
  clientIp?: string;
  beforeId?: number;
  /** 1 to 1000; default 100. */
  limit?: number;
}

export function createSecurityEventRepo(db: Queryable) {
  return {
    async insert(e: SecurityEvent, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO security_events (kind, reason, service, user_id, user_email, client_ip, request_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [e.kind, e.reason, e.service, e.userId ?? null, e.userEmail ?? null, e.clientIp ?? null, e.requestId ?? null, JSON.stringify(e.details ?? {})],
      );
    },
    async list(filter: { kind?: string; requestId?: string; since?: Date; limit?: number } = {}, q: Queryable = db) {
      const { rows } = await q.query<StoredSecurityEvent>(
        `SELECT id, ts, kind, reason, service, user_id AS "userId", user_email AS "userEmail", client_ip AS "clientIp",
                request_id AS "requestId", details
         FROM security_events
         WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR request_id = $2) AND ($3::timestamptz IS NULL OR ts >= $3)
         ORDER BY id DESC LIMIT $4`,
        [filter.kind ?? null, filter.requestId ?? null, filter.since ?? null, filter.limit ?? 100],
      );
      return rows;
    },
    /**
     * Events newest first, filtered by time range, user (id or email, case-insensitive) and kind,
     * paged with `beforeId` (the smallest id of the previous page).
     */
    async search(filter: SecurityEventFilter = {}, q: Queryable = db): Promise<StoredSecurityEvent[]> {
      const { rows } = await q.query<StoredSecurityEvent>(
        `SELECT id, ts, kind, reason, service, user_id AS "userId", user_email AS "userEmail", client_ip AS "clientIp",
                request_id AS "requestId", details
         FROM security_events
         WHERE ($1::timestamptz IS NULL OR ts >= $1) AND ($2::timestamptz IS NULL OR ts < $2)
           AND ($3::uuid IS NULL OR user_id = $3) AND ($4::text IS NULL OR lower(user_email) = lower($4))
           AND ($5::text[] IS NULL OR kind = ANY($5)) AND ($6::bigint IS NULL OR id < $6)
           AND ($7::text IS NULL OR client_ip = $7)
         ORDER BY id DESC LIMIT $8`,
        [
          filter.since ?? null, filter.until ?? null, filter.userId ?? null, filter.userEmail ?? null,
          filter.kinds && filter.kinds.length > 0 ? filter.kinds : null, filter.beforeId ?? null, filter.clientIp ?? null,
          Math.min(Math.max(filter.limit ?? 100, 1), 1000),
        ],
      );
      return rows;
    },
  };
}
export type SecurityEventRepo = ReturnType<typeof createSecurityEventRepo>;
