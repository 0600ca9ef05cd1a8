import type { Queryable } from '../db.js';

/** One request as the gateway saw it (table analytics_events). */
export interface AnalyticsEvent {
  ts: Date;
  requestId: string | null;
  userId: string | null;
  userEmail: string | null;
  tenantId: string | null;
  method: string;
  endpoint: string;
  mcpMethod: string | null;
  serverId: string | null;
  tool: string | null;
  status: number;
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
  userAgent: string | null;
  clientIp: string | null;
}

const COLUMNS = [
  ['ts', 'timestamptz'],
  ['request_id', 'text'],
  ['user_id', 'uuid'],
  ['user_email', 'text'],
  ['tenant_id', 'text'],
  ['method', 'text'],
  ['endpoint', 'text'],
  ['mcp_method', 'text'],
  ['server_id', 'text'],
  ['tool', 'text'],
  ['status', 'integer'],
  ['latency_ms', 'real'],
  ['bytes_in', 'bigint'],
  ['bytes_out', 'bigint'],
  ['user_agent', 'text'],
  ['client_ip', 'text'],
] as const;

const INSERT = `INSERT INTO analytics_events (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;

export function createAnalyticsRepo(db: Queryable) {
  return {
    /**
     * Writes a batch in one statement with a fixed parameter count (one array per column), so
     * any batch size costs one round trip and one plan.
     */
    async insertBatch(events: readonly AnalyticsEvent[], q: Queryable = db): Promise<void> {
      if (events.length === 0) return;
      const columns: unknown[][] = COLUMNS.map(() => new Array(events.length));
      events.forEach((e, i) => {
        const values = [
          e.ts, e.requestId, e.userId, e.userEmail, e.tenantId, e.method, e.endpoint, e.mcpMethod, e.serverId, e.tool,
          e.status, e.latencyMs, e.bytesIn, e.bytesOut, e.userAgent, e.clientIp,
        ];
        values.forEach((v, c) => (columns[c]![i] = v));
      });
      await q.query(INSERT, columns);
    },
    /**
     * Deletes up to `batchSize` rows older than `cutoff`; returns how many. The BRIN index on ts
     * finds old block ranges without reading the rest, and each call is one short transaction.
     */
    async purgeOlderThan(cutoff: Date, batchSize: number, q: Queryable = db): Promise<number> {
      const { rowCount } = await q.query(
        `DELETE FROM analytics_events WHERE id IN (SELECT id FROM analytics_events WHERE ts < $1 LIMIT $2)`,
        [cutoff, batchSize],
      );
      return rowCount ?? 0;
    },
  };
}
export type AnalyticsRepo = ReturnType<typeof createAnalyticsRepo>;
