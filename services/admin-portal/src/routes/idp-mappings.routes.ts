import express, { type Router } from 'express';
import { z } from 'zod';
import type { Db, Repos } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import { auditedChange } from './identity-admin.js';
import { parseInput, UUID } from './traffic-input.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NewMapping = z
  .object({
    claim: z.enum(['groups', 'roles']),
    value: z.string().trim().min(1).max(256),
    group: z.string().min(1).max(128),
  })
  .strict()
  .refine((m) => m.claim !== 'groups' || GUID.test(m.value), { message: 'a groups value is an Entra group object id (GUID)', path: ['value'] });

/**
 * /mcp-admin/api/idp-mappings: which Entra group object ids (`groups` claim) and app roles
 * (`roles` claim) make a user a member of which mcpgw group. Applied at each user's next sign-in
 * (within IDENTITY_CACHE_SECONDS for a token already in use).
 */
export function registerIdpMappingRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'idpMappings'> }): void {
  const json = express.json({ limit: '16kb' });

  router.get('/mcp-admin/api/idp-mappings', async (_req, res) => {
    res.json({ items: await deps.repos.idpMappings.list() });
  });

  router.post('/mcp-admin/api/idp-mappings', json, async (req, res) => {
    const input = parseInput(NewMapping, req.body);
    const mapping = await auditedChange(deps.db, req, async (repos) => {
      const group = await repos.groups.findByName(input.group);
      if (!group) throw new AppError('BAD_REQUEST', `No such group: ${input.group}`);
      const created = await repos.idpMappings.create({ claim: input.claim, value: input.value, groupId: group.id });
      if (!created) throw new AppError('CONFLICT', 'This mapping already exists');
      return { result: created, audit: { action: 'idp-mapping.create', targetType: 'idp-mapping', targetId: created.id, after: created } };
    });
    res.status(201).json(mapping);
  });

  router.delete('/mcp-admin/api/idp-mappings/:id', async (req, res) => {
    const id = parseInput(UUID, req.params.id);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.idpMappings.findById(id);
      if (!before || !(await repos.idpMappings.remove(id))) throw new AppError('NOT_FOUND', 'No such mapping');
      return { result: null, audit: { action: 'idp-mapping.delete', targetType: 'idp-mapping', targetId: id, before } };
    });
    res.status(204).end();
  });
}
