import express, { type Router } from 'express';
import { z } from 'zod';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '@mcpgw/crypto';
import type { ApiKey, Db, Repos } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { mustCoverUser, mustManageUser } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { auditedChange, SERVER_LIST } from './identity-admin.js';
import { parseInput, UUID } from './traffic-input.js';

const NewKey = z
  .object({
    name: z.string().trim().max(100).optional(),
    /** The seed guide's spelling of `name`. */
    key_name: z.string().trim().max(100).optional(),
    ttl_days: z.number().int().min(1).max(3650).nullable().optional(),
    allowServers: SERVER_LIST.nullable().optional(),
    blockServers: SERVER_LIST.optional(),
  })
  .strict();

const RevokeByKey = z.object({ api_key: z.string().min(1).max(200) }).strict();

/** A key as listed: never the key itself, only its display prefix. */
export function keyView(k: ApiKey) {
  return {
    id: k.id,
    userId: k.userId,
    name: k.name,
    prefix: k.prefix,
    allowServers: k.allowServers,
    blockServers: k.blockServers,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}

/**
 * API keys: create for a user (`mcpgw_` + 256 random bits, shown once; only SHA-256 and a display
 * prefix are stored; optional TTL in days; optional server lists that narrow the user's access),
 * list without the key, revoke by id or by the key itself. Audited in the same transaction.
 */
export function registerApiKeyRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'users' | 'apiKeys' | 'tenantScope'> }): void {
  const json = express.json({ limit: '16kb' });

  router.post('/mcp-admin/api/users/:id/keys', json, async (req, res) => {
    const userId = parseInput(UUID, req.params.id);
    const input = parseInput(NewKey, req.body);
    const generated = generateApiKey();
    const expiresAt = input.ttl_days ? new Date(Date.now() + input.ttl_days * 86_400_000) : null;
    const key = await auditedChange(deps.db, req, async (repos) => {
      await mustManageUser(scopeOf(req), repos.tenantScope, userId);
      const user = await repos.users.findById(userId);
      if (!user) throw new AppError('NOT_FOUND', 'No such user');
      const created = await repos.apiKeys.create({
        userId,
        name: input.name ?? input.key_name ?? '',
        keyHash: generated.hash,
        prefix: generated.prefix,
        expiresAt,
        allowServers: input.allowServers ?? null,
        blockServers: input.blockServers ?? [],
      });
      return { result: created, audit: { action: 'api-key.create', targetType: 'api-key', targetId: created.id, after: keyView(created) } };
    });
    res.status(201).json({ ...keyView(key), key: generated.key, note: 'Save this key now: it is shown only once.' });
  });

  router.get('/mcp-admin/api/users/:id/keys', async (req, res) => {
    const userId = parseInput(UUID, req.params.id);
    await mustCoverUser(scopeOf(req), deps.repos.tenantScope, userId);
    if (!(await deps.repos.users.findById(userId))) throw new AppError('NOT_FOUND', 'No such user');
    res.json({ items: (await deps.repos.apiKeys.listForUser(userId)).map(keyView) });
  });

  router.delete('/mcp-admin/api/keys/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.apiKeys.findById(id);
      if (!before) throw new AppError('NOT_FOUND', 'No such key');
      await mustManageUser(scopeOf(req), repos.tenantScope, before.userId, 'No such key');
      await repos.apiKeys.revoke(id);
      return { result: null, audit: before.revokedAt ? null : { action: 'api-key.revoke', targetType: 'api-key', targetId: id, before: keyView(before) } };
    });
    res.status(204).end();
  });

  router.post('/mcp-admin/api/keys/revoke', json, async (req, res) => {
    const { api_key: apiKey } = parseInput(RevokeByKey, req.body);
    if (!looksLikeApiKey(apiKey)) throw new AppError('NOT_FOUND', 'No such key');
    const key = await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.apiKeys.findByHash(hashApiKey(apiKey));
      if (!before) throw new AppError('NOT_FOUND', 'No such key');
      await mustManageUser(scopeOf(req), repos.tenantScope, before.userId, 'No such key');
      await repos.apiKeys.revoke(before.id);
      return { result: before, audit: before.revokedAt ? null : { action: 'api-key.revoke', targetType: 'api-key', targetId: before.id, before: keyView(before) } };
    });
    res.json({ id: key.id, prefix: key.prefix, status: 'revoked' });
  });
}
