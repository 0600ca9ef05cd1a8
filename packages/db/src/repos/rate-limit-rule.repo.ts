import type { Queryable } from '../db.js';

export type RateLimitScope = 'tenant' | 'tool';
export type RateLimitPer = 'user' | 'tenant';

/** A limit beyond the configured per-user and per-IP budgets (table rate_limit_rules). */
export interface RateLimitRule {
  id: string;
  scope: RateLimitScope;
  /** scope tenant: the tenant; scope tool: one tenant, or null for every tenant. */
  tenantId: string | null;
  /** scope tool: the server. */
  serverId: string | null;
  /** scope tool: one tool, or null for any tool of the server. */
  tool: string | null;
  /** Whose budget: each user's own, or one shared by the tenant's users. */
  per: RateLimitPer;
  points: number;
  windowSeconds: number;
  enabled: boolean;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

export type NewRateLimitRule = Pick<RateLimitRule, 'scope' | 'points' | 'windowSeconds'> &
  Partial<Pick<RateLimitRule, 'tenantId' | 'serverId' | 'tool' | 'per' | 'enabled' | 'description'>>;

export type RateLimitRulePatch = Partial<Pick<RateLimitRule, 'points' | 'windowSeconds' | 'enabled' | 'description'>>;

const COLUMNS = `id, scope, tenant_id AS "tenantId", server_id AS "serverId", tool, per, points,
  window_seconds AS "windowSeconds", enabled, description, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Rate-limit rules: read whole by the gateway and mcp-proxy, edited by admins. */
export function createRateLimitRuleRepo(db: Queryable) {
  return {
    async create(r: NewRateLimitRule, q: Queryable = db): Promise<RateLimitRule> {
      const per = r.per ?? (r.scope === 'tenant' ? 'tenant' : 'user');
      const { rows } = await q.query<RateLimitRule>(
        `INSERT INTO rate_limit_rules (scope, tenant_id, server_id, tool, per, points, window_seconds, enabled, description)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [r.scope, r.tenantId ?? null, r.serverId ?? null, r.tool ?? null, per, r.points, r.windowSeconds, r.enabled ?? true, r.description ?? ''],
      );
      return rows[0]!;
    },
    async findById(id: string, q: Queryable = db): Promise<RateLimitRule | null> {
      const { rows } = await q.query<RateLimitRule>(`SELECT ${COLUMNS} FROM rate_limit_rules WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    async list(q: Queryable = db): Promise<RateLimitRule[]> {
      const { rows } = await q.query<RateLimitRule>(`SELECT ${COLUMNS} FROM rate_limit_rules ORDER BY scope, tenant_id, server_id, tool, per`);
      return rows;
    },
    /** The enabled rules of one scope, as the limiters load them. */
    async listEnabled(scope: RateLimitScope, q: Queryable = db): Promise<RateLimitRule[]> {
      const { rows } = await q.query<RateLimitRule>(`SELECT ${COLUMNS} FROM rate_limit_rules WHERE enabled AND scope = $1`, [scope]);
      return rows;
    },
    async update(id: string, patch: RateLimitRulePatch, q: Queryable = db): Promise<RateLimitRule | null> {
      const { rows } = await q.query<RateLimitRule>(
        `UPDATE rate_limit_rules SET
           points = COALESCE($2, points), window_seconds = COALESCE($3, window_seconds),
           enabled = COALESCE($4, enabled), description = COALESCE($5, description), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, patch.points ?? null, patch.windowSeconds ?? null, patch.enabled ?? null, patch.description ?? null],
      );
      return rows[0] ?? null;
    },
    async remove(id: string, q: Queryable = db): Promise<RateLimitRule | null> {
      const { rows } = await q.query<RateLimitRule>(`DELETE FROM rate_limit_rules WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      return rows[0] ?? null;
    },
  };
}
export type RateLimitRuleRepo = ReturnType<typeof createRateLimitRuleRepo>;
