import type { Router } from 'express';
import { z } from 'zod';
import type { Repos } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { mustCoverTenant, tenantFilter, type AdminScope } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { SERVER_ID } from './identity-admin.js';
import { parseInput } from './traffic-input.js';

const TENANT = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id');
const Window = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    server: SERVER_ID.optional(),
    tenant: TENANT.optional(),
    bucket: z.coerce.number().int().min(60).max(86_400).optional(),
  })
  .strict();
const Recent = z.object({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(500).default(50), server: SERVER_ID.optional(), tenant: TENANT.optional() }).strict();
const AuditQuery = z
  .object({
    actor: z.string().max(320).optional(),
    action: z.string().regex(/^[a-z0-9.-]+$/, 'is an action or its prefix, e.g. group. or user.create').optional(),
    targetType: z.string().max(64).optional(),
    targetId: z.string().max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/**
 * The tenant analytics are read for: a tenant admin's own (the one asked for must be one of them;
 * with several, one must be named), anything for a global admin.
 */
function analyticsTenant(scope: AdminScope, asked: string | undefined): string | undefined {
  if (scope.kind === 'global') return asked;
  if (asked !== undefined) {
    mustCoverTenant(scope, asked, 'No such tenant');
    return asked;
  }
  if (scope.tenants.length === 1) return scope.tenants[0];
  throw new AppError('BAD_REQUEST', `Invalid input: tenant: name one of your tenants (${scope.tenants.join(', ')})`);
}

/**
 * Read-only views: analytics summaries from analytics_events (per-minute series with p50/p95 and
 * errors, totals, top tools and users, per server and tenant, over a time range; at most 31 days),
 * live activity (the newest requests after an id, for polling) and the audit log.
 */
export function registerActivityRoutes(router: Router, deps: { repos: Pick<Repos, 'analyticsSummary' | 'audit'> }): void {
  router.get('/mcp-admin/api/analytics/summary', async (req, res) => {
    const q = parseInput(Window, req.query);
    const tenant = analyticsTenant(scopeOf(req), q.tenant);
    const until = q.until ? new Date(q.until) : new Date();
    const since = q.since ? new Date(q.since) : new Date(until.getTime() - 3_600_000);
    if (since >= until) throw new AppError('BAD_REQUEST', 'Invalid input: since: must be before until');
    if (until.getTime() - since.getTime() > 31 * 86_400_000) throw new AppError('BAD_REQUEST', 'Invalid input: since: the range is at most 31 days');
    const w = { since, until, ...(q.server ? { serverId: q.server } : {}), ...(tenant ? { tenantId: tenant } : {}) };
    const bucket = q.bucket ?? Math.max(60, Math.ceil((until.getTime() - since.getTime()) / 1000 / 120 / 60) * 60);
    const [totals, series, topTools, topUsers] = await Promise.all([
      deps.repos.analyticsSummary.totals(w),
      deps.repos.analyticsSummary.series(w, bucket),
      deps.repos.analyticsSummary.top(w, 'tool'),
      deps.repos.analyticsSummary.top(w, 'user'),
    ]);
    res.json({ since, until, bucketSeconds: bucket, server: q.server ?? null, tenant: tenant ?? null, totals, series, topTools, topUsers });
  });

  router.get('/mcp-admin/api/activity', async (req, res) => {
    const q = parseInput(Recent, req.query);
    const tenant = analyticsTenant(scopeOf(req), q.tenant);
    const items = await deps.repos.analyticsSummary.recent({ limit: q.limit, ...(q.after !== undefined ? { afterId: q.after } : {}), ...(q.server ? { serverId: q.server } : {}), ...(tenant ? { tenantId: tenant } : {}) });
    res.setHeader('cache-control', 'no-store');
    res.json({ items, last: items[0]?.id ?? q.after ?? 0 });
  });

  router.get('/mcp-admin/api/audit', async (req, res) => {
    const q = parseInput(AuditQuery, req.query);
    const tenants = tenantFilter(scopeOf(req));
    const items = await deps.repos.audit.search({
      limit: q.limit,
      ...(tenants ? { tenantIds: tenants } : {}),
      ...(q.actor ? { actor: q.actor } : {}), ...(q.action ? { action: q.action } : {}), ...(q.targetType ? { targetType: q.targetType } : {}),
      ...(q.targetId ? { targetId: q.targetId } : {}), ...(q.since ? { since: new Date(q.since) } : {}), ...(q.until ? { until: new Date(q.until) } : {}),
      ...(q.before ? { before: q.before } : {}),
    });
    res.json({ items, next: items.length === q.limit ? { before: items.at(-1)!.id } : null });
  });
}
