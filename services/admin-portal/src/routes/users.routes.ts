import express, { type Router } from 'express';
import { z } from 'zod';
import { hashPassword } from '@mcpgw/crypto';
import type { Db, Repos, User } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { coversTenant, isGlobal, mustBeGlobal, mustCoverUser, mustManageUser, tenantFilter } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { auditedChange, SERVER_LIST } from './identity-admin.js';
import { conflictOrMissing, parseInput, UUID } from './traffic-input.js';

const NewUser = z
  .object({
    email: z.string().trim().min(3).max(320).regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address'),
    name: z.string().trim().max(200).optional(),
    description: z.string().max(1000).optional(),
    groups: z.array(z.string().min(1).max(128)).max(100).optional(),
    admin: z.boolean().optional(),
    password: z.string().min(12, 'must be at least 12 characters').max(1024).optional(),
  })
  .strict();

const UserChange = z
  .object({
    enabled: z.boolean().optional(),
    name: z.string().trim().max(200).optional(),
    description: z.string().max(1000).optional(),
    admin: z.boolean().optional(),
  })
  .strict();

/** Both spellings: mcpgw's (allowServers/blockServers) and the seed guide's (allowed_mcps/blocked_mcps). */
const McpAccess = z
  .object({
    allowServers: SERVER_LIST.nullable().optional(),
    blockServers: SERVER_LIST.optional(),
    allowed_mcps: SERVER_LIST.nullable().optional(),
    blocked_mcps: SERVER_LIST.optional(),
  })
  .strict()
  .transform((v) => ({
    // An empty allow list in the seed's shape means "no restriction"; null does in ours.
    allowServers: v.allowServers !== undefined ? v.allowServers : v.allowed_mcps === undefined || v.allowed_mcps === null || v.allowed_mcps.length === 0 ? null : v.allowed_mcps,
    blockServers: v.blockServers ?? v.blocked_mcps ?? [],
  }));

const Password = z.object({ password: z.string().min(12, 'must be at least 12 characters').max(1024) }).strict();
const ListQuery = z.object({
  query: z.string().max(200).optional(),
  source: z.enum(['entra', 'openwebui', 'local', 'm2m']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    description: u.description,
    source: u.source,
    enabled: u.enabled,
    admin: u.isAdmin,
    tenantId: u.tenantId,
    allowServers: u.allowServers,
    blockServers: u.blockServers,
    createdAt: u.createdAt,
    lastSeenAt: u.lastSeenAt,
  };
}

/**
 * /mcp-admin/api/users: create (local accounts, optionally with a password and groups), list,
 * read, change (disable: every key, token and sign-in of the user stops at once), delete, and
 * the per-user server lists (PUT …/mcp-access; block wins, keys can only narrow). Every write is
 * audited in its own transaction.
 */
export function registerUserRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'users' | 'groups' | 'apiKeys' | 'tenantScope'> }): void {
  const json = express.json({ limit: '16kb' });

  router.get('/mcp-admin/api/users', async (req, res) => {
    const q = parseInput(ListQuery, req.query);
    const tenants = tenantFilter(scopeOf(req));
    const users = await deps.repos.users.list({ limit: q.limit, offset: q.offset, ...(q.query ? { query: q.query } : {}), ...(q.source ? { source: q.source } : {}), ...(tenants ? { tenantIds: tenants } : {}) });
    res.json({ items: users.map(userView), limit: q.limit, offset: q.offset });
  });

  router.post('/mcp-admin/api/users', json, async (req, res) => {
    const input = parseInput(NewUser, req.body);
    const scope = scopeOf(req);
    if (input.admin !== undefined) mustBeGlobal(scope, 'Making an admin');
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const user = await auditedChange(deps.db, req, async (repos) => {
      const groups = await Promise.all((input.groups ?? []).map(async (name) => ({ name, group: await repos.groups.findByName(name) })));
      // Another tenant's group is reported exactly like a missing one.
      const missing = groups.filter((g) => !g.group || !coversTenant(scope, g.group.tenantId)).map((g) => g.name);
      if (missing.length > 0) throw new AppError('BAD_REQUEST', `No such group: ${missing.join(', ')}`);
      // A tenant admin's users belong to its tenant (the first group's, else its first tenant).
      const tenantId = isGlobal(scope) ? null : (groups[0]?.group?.tenantId ?? scope.tenants[0]!);
      const created = await repos.users
        .create({ email: input.email, name: input.name ?? '', description: input.description ?? '', source: 'local', isAdmin: input.admin ?? false, tenantId })
        .catch((err: unknown) => conflictOrMissing(err, 'A local account with this email'));
      for (const g of groups) await repos.groups.addMember(g.group!.id, created.id);
      if (passwordHash) await repos.localCredentials.setPassword(created.id, passwordHash);
      return {
        result: created,
        audit: { action: 'user.create', targetType: 'user', targetId: created.id, after: { ...userView(created), groups: input.groups ?? [], password: passwordHash ? 'set' : 'none' } },
      };
    });
    res.status(201).json({ ...userView(user), groups: input.groups ?? [] });
  });

  router.get('/mcp-admin/api/users/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    await mustCoverUser(scopeOf(req), deps.repos.tenantScope, id);
    const user = await deps.repos.users.findById(id);
    if (!user) throw new AppError('NOT_FOUND', 'No such user');
    const [groups, keys] = await Promise.all([deps.repos.groups.listForUser(id), deps.repos.apiKeys.listForUser(id)]);
    res.json({ ...userView(user), groups: groups.map((g) => g.name), apiKeys: keys.length });
  });

  router.patch('/mcp-admin/api/users/:id', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const change = parseInput(UserChange, req.body);
    const scope = scopeOf(req);
    if (change.admin !== undefined) mustBeGlobal(scope, 'Making or unmaking an admin');
    const after = await auditedChange(deps.db, req, async (repos) => {
      await mustManageUser(scope, repos.tenantScope, id);
      const before = await repos.users.findById(id);
      if (!before) throw new AppError('NOT_FOUND', 'No such user');
      const { admin, ...rest } = change;
      const updated = (await repos.users.update(id, { ...rest, ...(admin !== undefined ? { isAdmin: admin } : {}) }))!;
      // Disabling ends every local sign-in now; keys and tokens are refused on their next check.
      if (change.enabled === false) await repos.refreshTokens.revokeAllForUser(id);
      return { result: updated, audit: { action: 'user.update', targetType: 'user', targetId: id, before: userView(before), after: userView(updated) } };
    });
    res.json(userView(after));
  });

  router.delete('/mcp-admin/api/users/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    await auditedChange(deps.db, req, async (repos) => {
      await mustManageUser(scopeOf(req), repos.tenantScope, id);
      const before = await repos.users.findById(id);
      if (!before || !(await repos.users.remove(id))) throw new AppError('NOT_FOUND', 'No such user');
      return { result: null, audit: { action: 'user.delete', targetType: 'user', targetId: id, before: userView(before) } };
    });
    res.status(204).end();
  });

  router.put('/mcp-admin/api/users/:id/mcp-access', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const lists = parseInput(McpAccess, req.body);
    const after = await auditedChange(deps.db, req, async (repos) => {
      await mustManageUser(scopeOf(req), repos.tenantScope, id);
      const before = await repos.users.findById(id);
      if (!before) throw new AppError('NOT_FOUND', 'No such user');
      const updated = (await repos.users.update(id, { allowServers: lists.allowServers, blockServers: lists.blockServers }))!;
      return {
        result: updated,
        audit: {
          action: 'user.mcp-access',
          targetType: 'user',
          targetId: id,
          before: { allowServers: before.allowServers, blockServers: before.blockServers },
          after: { allowServers: updated.allowServers, blockServers: updated.blockServers },
        },
      };
    });
    res.json({ userId: id, allowServers: after.allowServers, blockServers: after.blockServers });
  });

  router.put('/mcp-admin/api/users/:id/password', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const { password } = parseInput(Password, req.body);
    const hash = await hashPassword(password);
    await auditedChange(deps.db, req, async (repos) => {
      await mustManageUser(scopeOf(req), repos.tenantScope, id);
      const user = await repos.users.findById(id);
      if (!user) throw new AppError('NOT_FOUND', 'No such user');
      if (user.source !== 'local') throw new AppError('BAD_REQUEST', 'Only local accounts have a password');
      await repos.localCredentials.setPassword(id, hash);
      await repos.refreshTokens.revokeAllForUser(id);
      return { result: null, audit: { action: 'user.password', targetType: 'user', targetId: id, after: { password: 'changed' } } };
    });
    res.status(204).end();
  });
}
