import type { Router } from 'express';
import { z } from 'zod';
import type { SecurityEventFilter, SecurityEventRepo } from '@mcpgw/db';
import { parseInput } from './traffic-input.js';

const query = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    /** A user id (UUID) or an email. */
    user: z.string().min(1).max(320).optional(),
    /** One kind or a comma list. */
    kind: z.string().regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, 'kinds are lower-case words with dashes, comma-separated').optional(),
    ip: z.string().min(1).max(64).optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET /mcp-admin/api/security-events: refused and suspicious requests, newest first, by time
 * (`since`, `until`, ISO 8601), user (`user`: id or email), kind (`kind=a,b`), client IP (`ip`);
 * `limit` (≤ 1000, default 100) and `before` (the last id of the previous page) to page.
 */
export function registerSecurityEventRoutes(router: Router, deps: { events: Pick<SecurityEventRepo, 'search'> }): void {
  router.get('/mcp-admin/api/security-events', async (req, res) => {
    const q = parseInput(query, req.query);
    const filter: SecurityEventFilter = {};
    if (q.since) filter.since = new Date(q.since);
    if (q.until) filter.until = new Date(q.until);
    if (q.user) {
      if (UUID.test(q.user)) filter.userId = q.user;
      else filter.userEmail = q.user;
    }
    if (q.kind) filter.kinds = q.kind.split(',');
    if (q.ip) filter.clientIp = q.ip;
    if (q.before) filter.beforeId = q.before;
    filter.limit = q.limit ?? 100;
    const items = await deps.events.search(filter);
    res.json({ items, next: items.length === filter.limit ? { before: items.at(-1)!.id } : null });
  });
}
