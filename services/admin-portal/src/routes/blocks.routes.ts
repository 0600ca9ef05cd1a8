import express, { type Router } from 'express';
import { z } from 'zod';
import type { AccessBlockRepo, AuditRepo } from '@mcpgw/db';
import { AppError, identityOf } from '@mcpgw/http';
import { conflictOrMissing, parseInput, UUID } from './traffic-input.js';

const newBlock = z
  .object({
    userId: UUID.optional(),
    apiKeyId: UUID.optional(),
    reason: z.string().max(500).optional(),
    expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()
  .refine((b) => (b.userId === undefined) !== (b.apiKeyId === undefined), 'give exactly one of userId and apiKeyId');

/**
 * /mcp-admin/api/blocks: block a user or one API key outright (403 at the gateway within
 * LIMIT_RULES_CACHE_SECONDS), list blocks, lift one. Every change is written to the audit log.
 */
export function registerBlockRoutes(router: Router, deps: { blocks: AccessBlockRepo; audit: Pick<AuditRepo, 'append'> }): void {
  const json = express.json({ limit: '16kb' });
  const audit = (req: express.Request, action: string, targetId: string, before: unknown, after: unknown) => {
    const actor = identityOf(req);
    return deps.audit.append({ actorUserId: actor.userId, actorEmail: actor.email, action, targetType: 'access-block', targetId, before, after, requestId: req.requestId });
  };

  router.get('/mcp-admin/api/blocks', async (_req, res) => {
    res.json({ items: await deps.blocks.list() });
  });

  router.post('/mcp-admin/api/blocks', json, async (req, res) => {
    const input = parseInput(newBlock, req.body);
    const target = input.userId ? { userId: input.userId } : { apiKeyId: input.apiKeyId! };
    const block = await deps.blocks
      .create(target, { reason: input.reason ?? '', createdBy: identityOf(req).email, expiresAt: input.expiresAt ? new Date(input.expiresAt) : null })
      .catch((err: unknown) => conflictOrMissing(err, 'The block'));
    await audit(req, 'access-block.create', block.id, undefined, block);
    res.status(201).json(block);
  });

  router.delete('/mcp-admin/api/blocks/:id', async (req, res) => {
    const removed = await deps.blocks.remove(parseInput(UUID, req.params.id));
    if (!removed) throw new AppError('NOT_FOUND', 'No such block');
    await audit(req, 'access-block.delete', removed.id, removed, undefined);
    res.status(204).end();
  });
}
