import type { Router } from 'express';
import type { ServerRepo } from '@mcpgw/db';

/** GET /mcp-admin/api/servers: the registered upstream servers (no secrets are stored here). */
export function registerServerRoutes(router: Router, servers: Pick<ServerRepo, 'list'>): void {
  router.get('/mcp-admin/api/servers', async (_req, res) => {
    const list = await servers.list();
    res.json({
      items: list.map((s) => ({ id: s.id, name: s.name, description: s.description, transport: s.transport, url: s.url, enabled: s.enabled })),
    });
  });
}
