import express, { type Router } from 'express';
import { z } from 'zod';
import type { Keyring } from '@mcpgw/crypto';
import type { Db, Repos } from '@mcpgw/db';
import { AppError, type UrlPolicy } from '@mcpgw/http';
import { coversTenant, mustCoverTenant } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { refuseDeniedUrl } from './url-checks.js';
import { tenantKeyAad } from '@mcpgw/mcp-proxy';
import { auditedChange, SERVER_ID } from './identity-admin.js';
import { conflictOrMissing, parseInput } from './traffic-input.js';

const TENANT = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id (lower-case letters, digits, dashes)');
const NewTenant = z.object({ id: TENANT, name: z.string().trim().min(1).max(200) }).strict();
const KeyBody = z.object({ key: z.string().min(4, 'must be at least 4 characters').max(8192) }).strict();
const EndpointBody = z.object({ url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048) }).strict();
const Filter = z.object({ tenant: TENANT.optional(), server: SERVER_ID.optional() }).strict();
const filterOf = (f: z.infer<typeof Filter>) => ({ ...(f.tenant ? { tenantId: f.tenant } : {}), ...(f.server ? { serverId: f.server } : {}) });

/**
 * Tenants, their keys for upstream servers (write-only: set, replace, delete; lists show the last 4
 * characters and the update time; stored encrypted with MASTER_KEYS, bound to tenant and server)
 * and their tenant endpoints (dynamic routing). Audits never hold a key: only its last 4.
 */
export function registerTenantRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'tenants'>; keyring: Keyring | null; urlPolicy: UrlPolicy }): void {
  const json = express.json({ limit: '16kb' });
  /** The tenant and server of the path; another tenant's is as unknown to a tenant admin as a missing one. */
  const params = (req: express.Request) => {
    const tenant = parseInput(TENANT, req.params.tenant);
    mustCoverTenant(scopeOf(req), tenant, 'No such tenant');
    return { tenant, server: parseInput(SERVER_ID, req.params.server) };
  };
  const mustExist = async (repos: Pick<Repos, 'tenants' | 'servers'>, tenant: string, server: string) => {
    if (!(await repos.tenants.findById(tenant))) throw new AppError('NOT_FOUND', 'No such tenant');
    if (!(await repos.servers.findById(server))) throw new AppError('NOT_FOUND', 'No such server');
  };

  router.get('/mcp-admin/api/tenants', async (_req, res) => {
    res.json({ items: await deps.repos.tenants.list() });
  });

  router.post('/mcp-admin/api/tenants', json, async (req, res) => {
    const input = parseInput(NewTenant, req.body);
    const t = await auditedChange(deps.db, req, async (repos) => {
      const created = await repos.tenants.create(input).catch((err: unknown) => conflictOrMissing(err, 'A tenant with this id'));
      return { result: created, audit: { action: 'tenant.create', targetType: 'tenant', targetId: created.id, after: created } };
    });
    res.status(201).json(t);
  });

  router.get('/mcp-admin/api/tenant-keys', async (req, res) => {
    const f = parseInput(Filter, req.query);
    const scope = scopeOf(req);
    res.json({ items: (await deps.repos.tenants.listKeys(filterOf(f))).filter((k) => coversTenant(scope, k.tenantId)).map((k) => ({ tenant: k.tenantId, server: k.serverId, last4: k.last4, updatedAt: k.updatedAt })) });
  });

  router.put('/mcp-admin/api/tenant-keys/:tenant/:server', json, async (req, res) => {
    const { tenant, server } = params(req);
    const { key } = parseInput(KeyBody, req.body);
    if (!deps.keyring) throw new AppError('BAD_REQUEST', 'Tenant keys cannot be stored: MASTER_KEYS is not set in the admin portal');
    const keyring = deps.keyring;
    const ciphertext = keyring.encrypt(key, tenantKeyAad(tenant, server));
    const last4 = key.slice(-4);
    const replaced = await auditedChange(deps.db, req, async (repos) => {
      await mustExist(repos, tenant, server);
      const before = await repos.tenants.findKey(tenant, server);
      await repos.tenants.setKey({ tenantId: tenant, serverId: server, ciphertext, keyId: keyring.currentKeyId, last4 });
      return {
        result: !!before,
        audit: { action: before ? 'tenant-key.replace' : 'tenant-key.set', targetType: 'tenant-key', targetId: `${tenant}:${server}`, before: before ? { last4: before.last4 } : undefined, after: { last4 } },
      };
    });
    res.status(replaced ? 200 : 201).json({ tenant, server, last4, replaced });
  });

  router.delete('/mcp-admin/api/tenant-keys/:tenant/:server', async (req, res) => {
    const { tenant, server } = params(req);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.tenants.findKey(tenant, server);
      if (!before) throw new AppError('NOT_FOUND', 'No key is stored for this tenant and server');
      await repos.tenants.removeKey(tenant, server);
      return { result: null, audit: { action: 'tenant-key.delete', targetType: 'tenant-key', targetId: `${tenant}:${server}`, before: { last4: before.last4 } } };
    });
    res.status(204).end();
  });

  router.get('/mcp-admin/api/tenant-endpoints', async (req, res) => {
    const f = parseInput(Filter, req.query);
    const scope = scopeOf(req);
    res.json({ items: (await deps.repos.tenants.listEndpoints(filterOf(f))).filter((e) => coversTenant(scope, e.tenantId)).map((e) => ({ tenant: e.tenantId, server: e.serverId, url: e.url, updatedAt: e.updatedAt })) });
  });

  router.put('/mcp-admin/api/tenant-endpoints/:tenant/:server', json, async (req, res) => {
    const { tenant, server } = params(req);
    const { url } = parseInput(EndpointBody, req.body);
    await refuseDeniedUrl(url, deps.urlPolicy, 'url');
    await auditedChange(deps.db, req, async (repos) => {
      await mustExist(repos, tenant, server);
      const before = await repos.tenants.findEndpoint(tenant, server);
      await repos.tenants.setEndpoint(tenant, server, url);
      return { result: null, audit: { action: 'tenant-endpoint.set', targetType: 'tenant-endpoint', targetId: `${tenant}:${server}`, before: before ? { url: before } : undefined, after: { url } } };
    });
    res.json({ tenant, server, url });
  });

  router.delete('/mcp-admin/api/tenant-endpoints/:tenant/:server', async (req, res) => {
    const { tenant, server } = params(req);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.tenants.findEndpoint(tenant, server);
      if (!before) throw new AppError('NOT_FOUND', 'This tenant has no tenant endpoint for this server');
      await repos.tenants.removeEndpoint(tenant, server);
      return { result: null, audit: { action: 'tenant-endpoint.delete', targetType: 'tenant-endpoint', targetId: `${tenant}:${server}`, before: { url: before } } };
    });
    res.status(204).end();
  });
}
