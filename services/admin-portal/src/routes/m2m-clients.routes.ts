import express, { type Router } from 'express';
import { z } from 'zod';
import { hashSecret, randomSecret } from '@mcpgw/crypto';
import type { Db, M2mClient, Repos } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { coversTenant, isGlobal, keepCoveredUsers, mustManageUser } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { auditedChange } from './identity-admin.js';
import { conflictOrMissing, parseInput } from './traffic-input.js';

const CLIENT_ID = z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'must be 3-64 of a-z 0-9 . _ - (starting with a letter or digit)');
const NewClient = z
  .object({
    name: CLIENT_ID,
    groups: z.array(z.string().min(1).max(128)).min(1).max(100),
    description: z.string().max(1000).optional(),
  })
  .strict();

function clientView(c: M2mClient) {
  return {
    clientId: c.clientId,
    userId: c.userId,
    description: c.description,
    groups: c.groups,
    enabled: c.enabled,
    secretPrefix: c.secretPrefix,
    createdAt: c.createdAt,
    secretRotatedAt: c.secretRotatedAt,
    lastUsedAt: c.lastUsedAt,
  };
}

function newSecret() {
  const secret = randomSecret(32);
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, 6) };
}

/**
 * M2M service accounts (client credentials): create a client (its name is the client id) with
 * groups; the secret is shown once and stored as SHA-256; rotate the secret; list; delete (the
 * machine user goes with it). Tokens come from the gateway's POST /oauth/token.
 */
export function registerM2mClientRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'm2mClients' | 'tenantScope'> }): void {
  const json = express.json({ limit: '16kb' });
  const note = 'Save the client secret now: it is shown only once. Get tokens with POST /oauth/token (grant_type=client_credentials).';

  // A client belongs to the tenant of its machine user: tenant admins see and change only theirs.
  router.get('/mcp-admin/api/m2m-clients', async (req, res) => {
    res.json({ items: (await keepCoveredUsers(scopeOf(req), deps.repos.tenantScope, await deps.repos.m2mClients.list(), (c) => c.userId)).map(clientView) });
  });

  router.get('/mcp-admin/api/m2m-clients/:clientId', async (req, res) => {
    const client = await deps.repos.m2mClients.findById(parseInput(CLIENT_ID, req.params.clientId));
    if (!client) throw new AppError('NOT_FOUND', 'No such client');
    await mustManageUser(scopeOf(req), deps.repos.tenantScope, client.userId, 'No such client');
    res.json(clientView(client));
  });

  router.post('/mcp-admin/api/m2m-clients', json, async (req, res) => {
    const input = parseInput(NewClient, req.body);
    const s = newSecret();
    const scope = scopeOf(req);
    const client = await auditedChange(deps.db, req, async (repos) => {
      const groups = await Promise.all(input.groups.map(async (name) => ({ name, group: await repos.groups.findByName(name) })));
      // Another tenant's group is reported exactly like a missing one.
      const missing = groups.filter((g) => !g.group || !coversTenant(scope, g.group.tenantId)).map((g) => g.name);
      if (missing.length > 0) throw new AppError('BAD_REQUEST', `No such group: ${missing.join(', ')}`);
      if (await repos.m2mClients.findById(input.name)) throw new AppError('CONFLICT', 'A client with this name already exists');
      // A tenant admin's client is bound to its tenant (that of its first group, else the admin's first).
      const tenantId = isGlobal(scope) ? null : (groups[0]!.group!.tenantId ?? scope.tenants[0]!);
      const user = await repos.users.create({ email: `${input.name}@clients.mcpgw.invalid`, name: input.name, source: 'm2m', description: input.description ?? '', tenantId });
      for (const g of groups) await repos.groups.addMember(g.group!.id, user.id);
      await repos.m2mClients
        .create({ clientId: input.name, userId: user.id, secretHash: s.hash, secretPrefix: s.prefix, description: input.description ?? '' })
        .catch((err: unknown) => conflictOrMissing(err, 'A client with this name'));
      const created = (await repos.m2mClients.findById(input.name))!;
      return { result: created, audit: { action: 'm2m-client.create', targetType: 'm2m-client', targetId: created.clientId, after: clientView(created) } };
    });
    res.status(201).json({ ...clientView(client), client_id: client.clientId, client_secret: s.secret, note });
  });

  router.post('/mcp-admin/api/m2m-clients/:clientId/secret', async (req, res) => {
    const clientId = parseInput(CLIENT_ID, req.params.clientId);
    const s = newSecret();
    await auditedChange(deps.db, req, async (repos) => {
      const client = await repos.m2mClients.findById(clientId);
      if (!client) throw new AppError('NOT_FOUND', 'No such client');
      await mustManageUser(scopeOf(req), repos.tenantScope, client.userId, 'No such client');
      if (!(await repos.m2mClients.setSecret(clientId, s.hash, s.prefix))) throw new AppError('NOT_FOUND', 'No such client');
      return { result: null, audit: { action: 'm2m-client.rotate-secret', targetType: 'm2m-client', targetId: clientId, after: { secretPrefix: s.prefix } } };
    });
    res.json({ client_id: clientId, client_secret: s.secret, note });
  });

  router.delete('/mcp-admin/api/m2m-clients/:clientId', async (req, res) => {
    const clientId = parseInput(CLIENT_ID, req.params.clientId);
    await auditedChange(deps.db, req, async (repos) => {
      const client = await repos.m2mClients.findById(clientId);
      if (!client) throw new AppError('NOT_FOUND', 'No such client');
      await mustManageUser(scopeOf(req), repos.tenantScope, client.userId, 'No such client');
      await repos.users.remove(client.userId);
      return { result: null, audit: { action: 'm2m-client.delete', targetType: 'm2m-client', targetId: clientId, before: clientView(client) } };
    });
    res.status(204).end();
  });
}
