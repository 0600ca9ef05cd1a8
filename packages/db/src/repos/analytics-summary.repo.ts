import type { Queryable } from '../db.js';

/** Which slice of analytics_events a summary covers. */
export interface AnalyticsWindow {
  since: Date;
  until: Date;
  serverId?: string;
  tenantId?: string;
}

export interface AnalyticsSeriesPoint {
  minute: Date;
  requests: number;
  errors: number;
  p50: number;
  p95: number;
}

const WHERE = `ts >= $1 AND ts < $2 AND ($3::text IS NULL OR server_id = $3) AND ($4::text IS NULL OR tenant_id = $4)`;
const params = (w: AnalyticsWindow) => [w.since, w.until, w.serverId ?? null, w.tenantId ?? null];

/** Read-only summaries of analytics_events for the admin portal (the BRIN index on ts bounds each scan). */
export function createAnalyticsSummaryRepo(db: Queryable) {
  return {
    /** Per minute (or per `bucketSeconds`): requests, errors (status ≥ 400), p50 and p95 latency in ms. */
    async series(w: AnalyticsWindow, bucketSeconds = 60, q: Queryable = db): Promise<AnalyticsSeriesPoint[]> {
      const { rows } = await q.query<AnalyticsSeriesPoint>(
        `SELECT to_timestamp(floor(extract(epoch FROM ts) / $5) * $5) AS minute, count(*)::int AS requests,
           count(*) FILTER (WHERE status >= 400)::int AS errors,
           coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 0)::float AS p50,
           coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), 0)::float AS p95
         FROM analytics_events WHERE ${WHERE} GROUP BY 1 ORDER BY 1`,
        [...params(w), bucketSeconds],
      );
      return rows;
    },
    async totals(w: AnalyticsWindow, q: Queryable = db): Promise<{ requests: number; errors: number; p50: number; p95: number }> {
      const { rows } = await q.query<{ requests: number; errors: number; p50: number; p95: number }>(
        `SELECT count(*)::int AS requests, count(*) FILTER (WHERE status >= 400)::int AS errors,
           coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), 0)::float AS p50,
           coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), 0)::float AS p95
         FROM analytics_events WHERE ${WHERE}`,
        params(w),
      );
      return rows[0]!;
    },
    /** The most called tools or the busiest users in the window. */
    async top(w: AnalyticsWindow, by: 'tool' | 'user', limit = 10, q: Queryable = db): Promise<{ key: string; serverId: string | null; requests: number; errors: number }[]> {
      const key = by === 'tool' ? 'tool' : 'user_email';
      const server = by === 'tool' ? 'server_id' : 'NULL::text';
      const { rows } = await q.query<{ key: string; serverId: string | null; requests: number; errors: number }>(
        `SELECT ${key} AS key, ${server} AS "serverId", count(*)::int AS requests, count(*) FILTER (WHERE status >= 400)::int AS errors
         FROM analytics_events WHERE ${WHERE} AND ${key} IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT $5`,
        [...params(w), limit],
      );
      return rows;
    },
    /** The newest requests (live activity): those with an id above `afterId`, newest first. */
    async recent(filter: { afterId?: number; limit?: number; serverId?: string; tenantId?: string } = {}, q: Queryable = db) {
      const { rows } = await q.query(
        `SELECT id::int AS id, ts, user_email AS "userEmail", tenant_id AS "tenantId", method, endpoint, mcp_method AS "mcpMethod",
           server_id AS "serverId", tool, status, latency_ms AS "latencyMs"
         FROM analytics_events WHERE ($1::bigint IS NULL OR id > $1) AND ($3::text IS NULL OR server_id = $3) AND ($4::text IS NULL OR tenant_id = $4)
         ORDER BY id DESC LIMIT $2`,
        [filter.afterId ?? null, filter.limit ?? 50, filter.serverId ?? null, filter.tenantId ?? null],
      );
      return rows as { id: number; ts: Date; userEmail: string | null; tenantId: string | null; method: string; endpoint: string; mcpMethod: string | null; serverId: string | null; tool: string | null; status: number; latencyMs: number }[];
    },
  };
}
export type AnalyticsSummaryRepo = ReturnType<typeof createAnalyticsSummaryRepo>;
