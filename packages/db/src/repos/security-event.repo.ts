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
  };
}
export type SecurityEventRepo = ReturnType<typeof createSecurityEventRepo>;
