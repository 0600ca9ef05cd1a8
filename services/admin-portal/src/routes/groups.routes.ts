import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db, Group, Repos } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { GROUP_NAME, GroupDefinition, parseMembershipCsv, TOOL_LIST } from '../domain/group-definition.js';
import { coversTenant, coversUser, isGlobal, mustBeGlobal, mustCoverTenant, tenantFilter, type AdminScope } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { auditedChange, SERVER_ID } from './identity-admin.js';
import { conflictOrMissing, parseInput, UUID } from './traffic-input.js';

const TENANT = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id');
const GUID = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be an Entra group object id (GUID)');
const NewGroup = z
  .object({
    name: GROUP_NAME,
    description: z.string().max(1000).optional(),
    tenant: TENANT.nullable().optional(),
    admin: z.boolean().optional(),
    entraGroupIds: z.array(GUID).max(100).optional(),
  })
  .strict();
const GroupChange = z.object({ name: GROUP_NAME.optional(), description: z.string().max(1000).optional(), tenant: TENANT.nullable().optional(), admin: z.boolean().optional() }).strict();
const Page = z.object({ query: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).default(0) }).strict();
const Member = z.object({ userId: UUID.optional(), email: z.string().trim().min(3).max(320).optional() }).strict().refine((m) => m.userId || m.email, { message: 'give userId or email', path: ['userId'] });
const Grant = z.object({ tools: TOOL_LIST }).strict();
const BulkCsv = z.object({ csv: z.string().min(1, 'is empty').max(2_000_000), remove: z.boolean().optional() }).strict();

export const groupView = (g: Group) => ({ id: g.id, name: g.name, description: g.description, tenant: g.tenantId, admin: g.isAdmin });

/** The group, if the admin's scope covers it: another tenant's group is as missing as a missing one. */
async function groupOr404(repos: Pick<Repos, 'groups'>, id: string, scope: AdminScope): Promise<Group> {
  const g = await repos.groups.findById(id);
  if (!g || !coversTenant(scope, g.tenantId)) throw new AppError('NOT_FOUND', 'No such group');
  return g;
}

/**
 * The tenant a group is created in or moved to. A tenant admin's groups stay in its tenants: no
 * tenant given means its (first) tenant, null (a global group) is refused, another tenant is as
 * unknown as a missing one.
 */
function groupTenant(scope: AdminScope, wanted: string | null | undefined): string | null | undefined {
  if (isGlobal(scope)) return wanted;
  if (wanted === undefined) return scope.tenants[0];
  if (wanted === null) throw new AppError('BAD_REQUEST', "Invalid input: tenant: a tenant admin's groups belong to its tenant");
  mustCoverTenant(scope, wanted, 'No such tenant');
  return wanted;
}

async function definitionOf(repos: Pick<Repos, 'access' | 'idpMappings'>, g: Group): Promise<GroupDefinition> {
  const [grants, mappings] = await Promise.all([repos.access.grantsForGroup(g.id), repos.idpMappings.list()]);
  return {
    scope_name: g.name,
    description: g.description,
    servers: grants.map((a) => ({ server_name: a.serverId, tools: a.tools, access_level: 'execute' as const })),
    group_mappings: mappings.filter((m) => m.groupId === g.id && m.claim === 'groups').map((m) => m.value),
    tenant: g.tenantId,
  };
}

/**
 * /mcp-admin/api/groups: groups (name, description, tenant, Entra group object ids that map to it),
 * members one by one and in bulk (CSV "email,group"), grants of servers with every tool or chosen
 * tools, and import/export in the registry guide's group JSON. Every write is one audited transaction.
 */
export function registerGroupRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'groups' | 'access' | 'idpMappings' | 'tenantScope'> }): void {
  const json = express.json({ limit: '2mb' });

  router.get('/mcp-admin/api/groups', async (req, res) => {
    const q = parseInput(Page, req.query);
    const tenants = tenantFilter(scopeOf(req));
    const { items, total } = await deps.repos.groups.list({ limit: q.limit, offset: q.offset, ...(q.query ? { query: q.query } : {}), ...(tenants ? { tenantIds: tenants } : {}) });
    res.json({ items: items.map((g) => ({ ...groupView(g), members: g.members })), total, limit: q.limit, offset: q.offset });
  });

  router.post('/mcp-admin/api/groups', json, async (req, res) => {
    const input = parseInput(NewGroup, req.body);
    const scope = scopeOf(req);
    // Mapping identity-provider groups decides who lands in a group: a deployment-wide setting.
    if (input.entraGroupIds?.length) mustBeGlobal(scope, 'Mapping Entra groups');
    const tenantId = groupTenant(scope, input.tenant);
    const group = await auditedChange(deps.db, req, async (repos) => {
      const created = await repos.groups
        .create({ name: input.name, description: input.description ?? '', tenantId: tenantId ?? null, isAdmin: input.admin ?? false })
        .catch((err: unknown) => conflictOrMissing(err, 'A group with this name'));
      for (const value of input.entraGroupIds ?? []) await repos.idpMappings.create({ claim: 'groups', value, groupId: created.id });
      return { result: created, audit: { action: 'group.create', targetType: 'group', targetId: created.id, after: { ...groupView(created), entraGroupIds: input.entraGroupIds ?? [] } } };
    });
    res.status(201).json({ ...groupView(group), entraGroupIds: input.entraGroupIds ?? [] });
  });

  router.post('/mcp-admin/api/groups/import', json, async (req, res) => {
    const def = parseInput(GroupDefinition, req.body);
    const scope = scopeOf(req);
    if (def.group_mappings?.length) mustBeGlobal(scope, 'Mapping Entra groups');
    const result = await auditedChange(deps.db, req, async (repos) => {
      const existing = await repos.groups.findByName(def.scope_name);
      // Names are unique across tenants: another tenant's group of this name is a conflict, not a target.
      if (existing && !coversTenant(scope, existing.tenantId)) throw new AppError('CONFLICT', 'A group with this name already exists');
      const tenantId = existing && def.tenant === undefined ? undefined : groupTenant(scope, def.tenant);
      const before = existing ? await definitionOf(repos, existing) : undefined;
      const group = existing
        ? (await repos.groups.update(existing.id, { description: def.description, ...(tenantId !== undefined ? { tenantId } : {}) }))!
        : await repos.groups.create({ name: def.scope_name, description: def.description, tenantId: tenantId ?? null });
      for (const old of await repos.access.grantsForGroup(group.id)) await repos.access.removeGrant(group.id, old.serverId);
      for (const s of def.servers) {
        if (!(await repos.servers.findById(s.server_name))) throw new AppError('BAD_REQUEST', `Invalid input: servers: no such server: ${s.server_name}`);
        await repos.access.setGrant(group.id, s.server_name, s.tools);
      }
      const mapped = new Set((await repos.idpMappings.list()).filter((m) => m.groupId === group.id && m.claim === 'groups').map((m) => m.value.toLowerCase()));
      for (const value of def.group_mappings ?? []) if (!mapped.has(value.toLowerCase())) await repos.idpMappings.create({ claim: 'groups', value, groupId: group.id });
      const after = await definitionOf(repos, group);
      return { result: { group, created: !existing, definition: after }, audit: { action: 'group.import', targetType: 'group', targetId: group.id, before, after } };
    });
    res.status(result.created ? 201 : 200).json({ ...groupView(result.group), created: result.created, definition: result.definition });
  });

  router.get('/mcp-admin/api/groups/:id', async (req, res) => {
    const g = await groupOr404(deps.repos, parseInput(UUID, req.params.id), scopeOf(req));
    const [grants, mappings] = await Promise.all([deps.repos.access.grantsForGroup(g.id), deps.repos.idpMappings.list()]);
    res.json({ ...groupView(g), grants, idpMappings: mappings.filter((m) => m.groupId === g.id) });
  });

  router.get('/mcp-admin/api/groups/:id/export', async (req, res) => {
    const g = await groupOr404(deps.repos, parseInput(UUID, req.params.id), scopeOf(req));
    res.setHeader('content-disposition', `attachment; filename="${g.name.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`);
    res.json(await definitionOf(deps.repos, g));
  });

  router.patch('/mcp-admin/api/groups/:id', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const change = parseInput(GroupChange, req.body);
    const scope = scopeOf(req);
    const tenantId = change.tenant === undefined ? undefined : groupTenant(scope, change.tenant);
    const after = await auditedChange(deps.db, req, async (repos) => {
      const before = await groupOr404(repos, id, scope);
      const updated = (await repos.groups
        .update(id, { ...(change.name ? { name: change.name } : {}), ...(change.description !== undefined ? { description: change.description } : {}), ...(tenantId !== undefined ? { tenantId } : {}), ...(change.admin !== undefined ? { isAdmin: change.admin } : {}) })
        .catch((err: unknown) => conflictOrMissing(err, 'A group with this name')))!;
      return { result: updated, audit: { action: 'group.update', targetType: 'group', targetId: id, before: groupView(before), after: groupView(updated) } };
    });
    res.json(groupView(after));
  });

  router.delete('/mcp-admin/api/groups/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await groupOr404(repos, id, scopeOf(req));
      const definition = await definitionOf(repos, before);
      await repos.groups.remove(id);
      return { result: null, audit: { action: 'group.delete', targetType: 'group', targetId: id, before: { ...groupView(before), definition } } };
    });
    res.status(204).end();
  });

  router.get('/mcp-admin/api/groups/:id/members', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const q = parseInput(Page.omit({ query: true }), req.query);
    await groupOr404(deps.repos, id, scopeOf(req));
    res.json({ ...(await deps.repos.groups.listMembers(id, q)), limit: q.limit, offset: q.offset });
  });

  router.post('/mcp-admin/api/groups/:id/members', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const m = parseInput(Member, req.body);
    const scope = scopeOf(req);
    const user = await auditedChange(deps.db, req, async (repos) => {
      const g = await groupOr404(repos, id, scope);
      const u = m.userId ? await repos.users.findById(m.userId) : await repos.users.findByEmail(m.email!);
      // Another tenant's user is reported exactly like a missing one.
      if (!u || !(await coversUser(scope, repos.tenantScope, u.id))) throw new AppError('BAD_REQUEST', `Invalid input: ${m.userId ? 'userId' : 'email'}: no such user`);
      await repos.groups.addMember(g.id, u.id);
      return { result: u, audit: { action: 'group.member-add', targetType: 'group', targetId: g.id, after: { userId: u.id, email: u.email } } };
    });
    res.status(201).json({ groupId: id, userId: user.id, email: user.email });
  });

  router.delete('/mcp-admin/api/groups/:id/members/:userId', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const userId = parseInput(UUID, req.params.userId);
    await auditedChange(deps.db, req, async (repos) => {
      const g = await groupOr404(repos, id, scopeOf(req));
      await repos.groups.removeMember(g.id, userId);
      return { result: null, audit: { action: 'group.member-remove', targetType: 'group', targetId: g.id, before: { userId } } };
    });
    res.status(204).end();
  });

  /** Bulk: CSV "email,group" lines; all or nothing (any unknown user or group: 400 naming the lines). */
  router.post('/mcp-admin/api/group-members/bulk', json, async (req, res) => {
    const input = parseInput(BulkCsv, req.body);
    const { rows, problems } = parseMembershipCsv(input.csv);
    if (problems.length > 0) throw new AppError('BAD_REQUEST', `Invalid input: csv: ${problems.slice(0, 20).join('; ')}`, { extra: { problems } });
    const scope = scopeOf(req);
    const count = await auditedChange(deps.db, req, async (repos) => {
      const missing: string[] = [];
      const pairs: { groupId: string; userId: string; email: string; group: string }[] = [];
      for (const r of rows) {
        const [found, u] = await Promise.all([repos.groups.findByName(r.group), repos.users.findByEmail(r.email)]);
        const g = found && coversTenant(scope, found.tenantId) ? found : null;
        if (!g) missing.push(`line ${r.line}: no such group ${r.group}`);
        if (!u || !(await coversUser(scope, repos.tenantScope, u.id))) missing.push(`line ${r.line}: no such user ${r.email}`);
        if (g && u) pairs.push({ groupId: g.id, userId: u.id, email: u.email, group: g.name });
      }
      if (missing.length > 0) throw new AppError('BAD_REQUEST', `Invalid input: csv: ${missing.slice(0, 20).join('; ')}`, { extra: { problems: missing } });
      for (const p of pairs) await (input.remove ? repos.groups.removeMember(p.groupId, p.userId) : repos.groups.addMember(p.groupId, p.userId));
      return {
        result: pairs.length,
        audit: { action: input.remove ? 'group.member-bulk-remove' : 'group.member-bulk-add', targetType: 'group', targetId: null, after: { rows: pairs.map((p) => `${p.email},${p.group}`) } },
      };
    });
    res.json({ [input.remove ? 'removed' : 'added']: count });
  });

  router.put('/mcp-admin/api/groups/:id/grants/:serverId', json, async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const serverId = parseInput(SERVER_ID, req.params.serverId);
    const { tools } = parseInput(Grant, req.body);
    await auditedChange(deps.db, req, async (repos) => {
      const g = await groupOr404(repos, id, scopeOf(req));
      if (!(await repos.servers.findById(serverId))) throw new AppError('NOT_FOUND', 'No such server');
      const before = (await repos.access.grantsForGroup(g.id)).find((a) => a.serverId === serverId);
      await repos.access.setGrant(g.id, serverId, tools);
      return { result: null, audit: { action: 'group.grant', targetType: 'group', targetId: g.id, before: before ? { serverId, tools: before.tools } : undefined, after: { serverId, tools } } };
    });
    res.json({ groupId: id, serverId, tools });
  });

  router.delete('/mcp-admin/api/groups/:id/grants/:serverId', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    const serverId = parseInput(SERVER_ID, req.params.serverId);
    await auditedChange(deps.db, req, async (repos) => {
      const g = await groupOr404(repos, id, scopeOf(req));
      const before = (await repos.access.grantsForGroup(g.id)).find((a) => a.serverId === serverId);
      if (!before) throw new AppError('NOT_FOUND', 'This group has no grant for this server');
      await repos.access.removeGrant(g.id, serverId);
      return { result: null, audit: { action: 'group.revoke', targetType: 'group', targetId: g.id, before: { serverId, tools: before.tools } } };
    });
    res.status(204).end();
  });
}
