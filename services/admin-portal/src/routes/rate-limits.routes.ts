import express, { type Router } from 'express';
import { z } from 'zod';
import type { AuditRepo, RateLimitRuleRepo } from '@mcpgw/db';
import { AppError, identityOf } from '@mcpgw/http';
import { conflictOrMissing, parseInput, UUID } from './traffic-input.js';

const window = z.number().int().min(1).max(86_400);
const points = z.number().int().min(1).max(1_000_000_000);

const newRule = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('tenant'), tenantId: z.string().min(1), points, windowSeconds: window, enabled: z.boolean().optional(), description: z.string().max(500).optional() }).strict(),
  z
    .object({
      scope: z.literal('tool'),
      serverId: z.string().min(1),
      tool: z.string().min(1).max(128).nullable().optional(),
      tenantId: z.string().min(1).nullable().optional(),
      per: z.enum(['user', 'tenant']).optional(),
      points,
      windowSeconds: window,
      enabled: z.boolean().optional(),
      description: z.string().max(500).optional(),
    })
    .strict(),
]);

const patch = z
  .object({ points: points.optional(), windowSeconds: window.optional(), enabled: z.boolean().optional(), description: z.string().max(500).optional() })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change');

/**
 * /mcp-admin/api/rate-limit-rules: the per-tenant and per-tool limits (table rate_limit_rules).
 * The gateway and mcp-proxy read them again every LIMIT_RULES_CACHE_SECONDS. Every change is
 * written to the audit log.
 */
export function registerRateLimitRoutes(router: Router, deps: { rules: RateLimitRuleRepo; audit: Pick<AuditRepo, 'append'> }): void {
  const json = express.json({ limit: '16kb' });
  const audit = (req: express.Request, action: string, targetId: string, before: unknown, after: unknown) => {
    const actor = identityOf(req);
    return deps.audit.append({ actorUserId: actor.userId, actorEmail: actor.email, action, targetType: 'rate-limit-rule', targetId, before, after, requestId: req.requestId });
  };
  const idOf = (req: express.Request) => parseInput(UUID, req.params.id);

  router.get('/mcp-admin/api/rate-limit-rules', async (_req, res) => {
    res.json({ items: await deps.rules.list() });
  });

  router.post('/mcp-admin/api/rate-limit-rules', json, async (req, res) => {
    const input = parseInput(newRule, req.body);
    const rule = await deps.rules.create(input).catch((err: unknown) => conflictOrMissing(err, 'A rule for this target'));
    await audit(req, 'rate-limit-rule.create', rule.id, undefined, rule);
    res.status(201).json(rule);
  });

  router.patch('/mcp-admin/api/rate-limit-rules/:id', json, async (req, res) => {
    const id = idOf(req);
    const before = await deps.rules.findById(id);
    if (!before) throw new AppError('NOT_FOUND', 'No such rate-limit rule');
    const after = await deps.rules.update(id, parseInput(patch, req.body));
    await audit(req, 'rate-limit-rule.update', id, before, after);
    res.json(after);
  });

  router.delete('/mcp-admin/api/rate-limit-rules/:id', async (req, res) => {
    const removed = await deps.rules.remove(idOf(req));
    if (!removed) throw new AppError('NOT_FOUND', 'No such rate-limit rule');
    await audit(req, 'rate-limit-rule.delete', removed.id, removed, undefined);
    res.status(204).end();
  });
}
