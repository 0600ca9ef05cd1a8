import express, { type Router } from 'express';
import { z } from 'zod';
import type { AccessBlock, AccessBlockRepo, AuditRepo, TenantScopeRepo } from '@mcpgw/db';
import { isGlobal, keepCoveredUsers, mustManageUser, type AdminScope } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
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
export function registerBlockRoutes(router: Router, deps: { blocks: AccessBlockRepo; audit: Pick<AuditRepo, 'append'>; tenantScope: Pick<TenantScopeRepo, 'userTenants' | 'globalAdmins' | 'keyUsers'> }): void {
  const json = express.json({ limit: '16kb' });
  /** A tenant admin sees and lifts only blocks of its tenant's users and of their keys. */
  const covered = async (scope: AdminScope, blocks: readonly AccessBlock[]) => {
    if (isGlobal(scope)) return [...blocks];
    const keyUsers = await deps.tenantScope.keyUsers(blocks.map((b) => b.apiKeyId).filter((id): id is string => id !== null));
    return keepCoveredUsers(scope, deps.tenantScope, blocks, (b) => b.userId ?? keyUsers.get(b.apiKeyId!) ?? null);
  };
  const audit = (req: express.Request, action: string, targetId: string, before: unknown, after: unknown) => {
    const actor = identityOf(req);
    return deps.audit.append({ actorUserId: actor.userId, actorEmail: actor.email, action, targetType: 'access-block', targetId, before, after, requestId: req.requestId });
  };

  router.get('/mcp-admin/api/blocks', async (req, res) => {
    res.json({ items: await covered(scopeOf(req), await deps.blocks.list()) });
  });

  router.post('/mcp-admin/api/blocks', json, async (req, res) => {
    const input = parseInput(newBlock, req.body);
    const target = input.userId ? { userId: input.userId } : { apiKeyId: input.apiKeyId! };
    const scope = scopeOf(req);
    if (!isGlobal(scope)) {
      // Another tenant's user or key: the same 400 as one that does not exist.
      const userId = input.userId ?? (await deps.tenantScope.keyUsers([input.apiKeyId!])).get(input.apiKeyId!);
      const missing = new AppError('BAD_REQUEST', 'The block refers to a tenant, server, user or key that does not exist');
      if (!userId) throw missing;
      await mustManageUser(scope, deps.tenantScope, userId).catch((err: AppError) => {
        throw err.code === 'NOT_FOUND' ? missing : err;
      });
    }
    const block = await deps.blocks
      .create(target, { reason: input.reason ?? '', createdBy: identityOf(req).email, expiresAt: input.expiresAt ? new Date(input.expiresAt) : null })
      .catch((err: unknown) => conflictOrMissing(err, 'The block'));
    await audit(req, 'access-block.create', block.id, undefined, block);
    res.status(201).json(block);
  });

  router.delete('/mcp-admin/api/blocks/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const scope = scopeOf(req);
    if (!isGlobal(scope) && !(await covered(scope, await deps.blocks.list())).some((b) => b.id === id)) throw new AppError('NOT_FOUND', 'No such block');
    const removed = await deps.blocks.remove(id);
    if (!removed) throw new AppError('NOT_FOUND', 'No such block');
    await audit(req, 'access-block.delete', removed.id, removed, undefined);
    res.status(204).end();
  });
}
