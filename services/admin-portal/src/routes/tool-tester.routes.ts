import express, { type Router } from 'express';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateApiKey } from '@mcpgw/crypto';
import type { Db, Repos } from '@mcpgw/db';
import { AppError, identityOf } from '@mcpgw/http';
import { mustManageUser } from '../domain/admin-scope.js';
import { scopeOf } from '../middleware/require-admin.middleware.js';
import { auditedChange, SERVER_ID } from './identity-admin.js';
import { parseInput, UUID } from './traffic-input.js';

const Call = z
  .object({
    server: SERVER_ID,
    tool: z.string().min(1).max(128),
    arguments: z.record(z.string(), z.unknown()).default({}),
    /** Call as this user (an impersonation, audited); absent: as the admin who asks. */
    asUser: UUID.optional(),
  })
  .strict();
const KEY_LIFETIME_MS = 2 * 60_000;

/**
 * POST /mcp-admin/api/tool-tester/call: calls one tool through the gateway as the admin or as a
 * chosen user, so the caller's real grants, server lists, rate limits, analytics and security
 * events all apply. It issues a temporary API key for that user, narrowed to the one server and
 * valid two minutes, calls `/mcp/{server}` with the SDK client, and revokes the key. The call and the
 * user it ran as are audited (`tool-tester.call`); the raw result or the exact error is answered.
 */
export function registerToolTesterRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'apiKeys'>; gatewayUrl: string }): void {
  const json = express.json({ limit: '256kb' });
  router.post('/mcp-admin/api/tool-tester/call', json, async (req, res) => {
    const input = parseInput(Call, req.body);
    const userId = input.asUser ?? identityOf(req).userId;
    const generated = generateApiKey();
    const { key, email } = await auditedChange(deps.db, req, async (repos) => {
      const user = await repos.users.findById(userId);
      if (!user) throw new AppError('BAD_REQUEST', 'Invalid input: asUser: no such user');
      // Calling as someone else: a tenant admin only as its tenant's users (another's: as if missing).
      if (input.asUser) {
        await mustManageUser(scopeOf(req), repos.tenantScope, userId).catch((err: AppError) => {
          throw err.code === 'NOT_FOUND' ? new AppError('BAD_REQUEST', 'Invalid input: asUser: no such user') : err;
        });
      }
      if (!(await repos.servers.findById(input.server))) throw new AppError('NOT_FOUND', 'No such server');
      const created = await repos.apiKeys.create({
        userId,
        name: 'tool tester (temporary)',
        keyHash: generated.hash,
        prefix: generated.prefix,
        expiresAt: new Date(Date.now() + KEY_LIFETIME_MS),
        allowServers: [input.server],
        blockServers: [],
      });
      return {
        result: { key: created, email: user.email },
        audit: { action: 'tool-tester.call', targetType: 'user', targetId: userId, after: { server: input.server, tool: input.tool, asUser: user.email, temporaryKeyId: created.id } },
      };
    });
    const started = Date.now();
    const client = new Client({ name: 'mcpgw-tool-tester', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${deps.gatewayUrl.replace(/\/+$/, '')}/mcp/${input.server}`), {
      requestInit: { headers: { authorization: `Bearer ${generated.key}` } },
    });
    let answer: Record<string, unknown>;
    try {
      await client.connect(transport);
      const result = await client.callTool({ name: input.tool, arguments: input.arguments });
      answer = { ok: true, asUser: email, latencyMs: Date.now() - started, result };
    } catch (err) {
      answer = { ok: false, asUser: email, latencyMs: Date.now() - started, error: (err as Error).message.split(generated.key).join('***') };
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
      await deps.repos.apiKeys.revoke(key.id);
    }
    res.json(answer);
  });
}
