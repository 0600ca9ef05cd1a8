import express, { type Router } from 'express';
import { z } from 'zod';
import type { Keyring } from '@mcpgw/crypto';
import type { Db, Repos, Server } from '@mcpgw/db';
import { AppError, type UrlPolicy } from '@mcpgw/http';
import { refuseDeniedUrl } from './url-checks.js';
import type { Logger } from '@mcpgw/logger';
import { probeUpstream, type ProbeResult } from '@mcpgw/mcp-proxy';
import { auditedChange, SERVER_ID } from './identity-admin.js';
import { conflictOrMissing, parseInput } from './traffic-input.js';

const HTTP_URL = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const Fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  transport: z.enum(['streamable-http', 'sse', 'stdio']),
  url: HTTP_URL.nullable(),
  command: z.string().min(1).max(1024).nullable(),
  args: z.array(z.string().max(1024)).max(100),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string().max(4096)),
  authHeader: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'must be a header (or, for stdio, environment variable) name'),
  authFormat: z.string().max(256).refine((f) => f.includes('{key}'), 'must contain {key}'),
  enabled: z.boolean(),
  connectTimeoutMs: z.number().int().min(100).max(300_000),
  callTimeoutMs: z.number().int().min(100).max(3_600_000),
};
const byTransport = (s: { transport?: string | undefined; url?: string | null | undefined; command?: string | null | undefined }) =>
  s.transport === undefined || (s.transport === 'stdio' ? !!s.command : !!s.url);
const NewServer = z
  .object({ id: SERVER_ID, ...Fields, name: Fields.name, transport: Fields.transport })
  .partial({ description: true, url: true, command: true, args: true, env: true, authHeader: true, authFormat: true, enabled: true, connectTimeoutMs: true, callTimeoutMs: true })
  .strict()
  .refine(byTransport, { message: 'stdio servers need a command; the others need a url', path: ['url'] });
const ServerChange = z.object(Fields).partial().strict();
const TestQuery = z.object({ tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id').optional() }).strict();

/** A server as the API shows it (no secrets are stored on it), with the last test's outcome. */
export function serverView(s: Server, health?: HealthNote) {
  return {
    id: s.id, name: s.name, description: s.description, transport: s.transport, url: s.url, command: s.command, args: s.args, env: s.env,
    authHeader: s.authHeader, authFormat: s.authFormat, enabled: s.enabled, connectTimeoutMs: s.connectTimeoutMs, callTimeoutMs: s.callTimeoutMs,
    health: health ?? null,
  };
}
interface HealthNote { ok: boolean; checkedAt: string; error: string | null; tools: number | null; latencyMs: number }

/**
 * /mcp-admin/api/servers: upstream servers of every transport (create, change, enable/disable,
 * remove) and "test connection": the portal connects to the server itself with mcp-proxy's own
 * rules (probeUpstream: tenant endpoint and tenant key when `tenant` is given) and answers its tools
 * or the exact error. The last test's outcome per server is kept in memory as its health status.
 */
export function registerServerRoutes(
  router: Router,
  deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'servers' | 'tenants'>; keyring: Keyring | null; logger: Logger; urlPolicy: UrlPolicy },
): void {
  const json = express.json({ limit: '64kb' });
  const health = new Map<string, HealthNote>();
  const noKeys: Pick<Keyring, 'decrypt'> = { decrypt: () => { throw new Error('MASTER_KEYS is not set in the admin portal'); } };

  const probe = async (s: Server, tenant: string | null): Promise<ProbeResult> => {
    // Checked again at connect time: the name may resolve elsewhere now than at registration.
    if (s.transport !== 'stdio') {
      const endpoint = tenant ? await deps.repos.tenants.findEndpoint(tenant, s.id) : null;
      await refuseDeniedUrl(endpoint ?? s.url, deps.urlPolicy, endpoint ? 'tenant endpoint' : 'url');
    }
    const result = await probeUpstream(s, tenant, { tenants: deps.repos.tenants, keyring: deps.keyring ?? noKeys, logger: deps.logger });
    health.set(s.id, { ok: result.ok, checkedAt: new Date().toISOString(), error: result.ok ? null : result.error, tools: result.ok ? result.tools.length : null, latencyMs: result.latencyMs });
    return result;
  };
  const serverOr404 = async (id: string) => {
    const s = await deps.repos.servers.findById(id);
    if (!s) throw new AppError('NOT_FOUND', 'No such server');
    return s;
  };

  router.get('/mcp-admin/api/servers', async (_req, res) => {
    res.json({ items: (await deps.repos.servers.list()).map((s) => serverView(s, health.get(s.id))) });
  });

  router.post('/mcp-admin/api/servers', json, async (req, res) => {
    const input = parseInput(NewServer, req.body);
    if (input.url) await refuseDeniedUrl(input.url, deps.urlPolicy, 'url');
    const created = await auditedChange(deps.db, req, async (repos) => {
      const s = await repos.servers.create(input).catch((err: unknown) => conflictOrMissing(err, 'A server with this id'));
      return { result: s, audit: { action: 'server.create', targetType: 'server', targetId: s.id, after: serverView(s) } };
    });
    res.status(201).json(serverView(created));
  });

  router.get('/mcp-admin/api/servers/:id', async (req, res) => {
    const s = await serverOr404(parseInput(SERVER_ID, req.params.id));
    res.json(serverView(s, health.get(s.id)));
  });

  router.patch('/mcp-admin/api/servers/:id', json, async (req, res) => {
    const id = parseInput(SERVER_ID, req.params.id);
    const change = parseInput(ServerChange, req.body);
    if (change.url) await refuseDeniedUrl(change.url, deps.urlPolicy, 'url');
    const after = await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.servers.findById(id);
      if (!before) throw new AppError('NOT_FOUND', 'No such server');
      const merged = { transport: change.transport ?? before.transport, url: change.url !== undefined ? change.url : before.url, command: change.command !== undefined ? change.command : before.command };
      if (!byTransport(merged)) throw new AppError('BAD_REQUEST', 'Invalid input: url: stdio servers need a command; the others need a url');
      const updated = (await repos.servers.update(id, change))!;
      const action = Object.keys(change).length === 1 && change.enabled !== undefined ? (change.enabled ? 'server.enable' : 'server.disable') : 'server.update';
      return { result: updated, audit: { action, targetType: 'server', targetId: id, before: serverView(before), after: serverView(updated) } };
    });
    res.json(serverView(after, health.get(id)));
  });

  router.delete('/mcp-admin/api/servers/:id', async (req, res) => {
    const id = parseInput(SERVER_ID, req.params.id);
    await auditedChange(deps.db, req, async (repos) => {
      const before = await repos.servers.findById(id);
      if (!before || !(await repos.servers.remove(id))) throw new AppError('NOT_FOUND', 'No such server');
      return { result: null, audit: { action: 'server.delete', targetType: 'server', targetId: id, before: serverView(before) } };
    });
    health.delete(id);
    res.status(204).end();
  });

  /** Test connection: the tools, or the exact error (200 either way; `ok` tells which). */
  router.post('/mcp-admin/api/servers/:id/test', async (req, res) => {
    const s = await serverOr404(parseInput(SERVER_ID, req.params.id));
    const { tenant } = parseInput(TestQuery, req.query);
    res.json({ serverId: s.id, tenant: tenant ?? null, ...(await probe(s, tenant ?? null)) });
  });

  /** The server's tools, fetched live (for choosing tools in a grant and for the tool tester). */
  router.get('/mcp-admin/api/servers/:id/tools', async (req, res) => {
    const s = await serverOr404(parseInput(SERVER_ID, req.params.id));
    const { tenant } = parseInput(TestQuery, req.query);
    const result = await probe(s, tenant ?? null);
    if (!result.ok) throw new AppError('UPSTREAM_UNAVAILABLE', `Could not list the tools of ${s.id}: ${result.error}`);
    res.json({ serverId: s.id, items: result.tools });
  });
}
