import type { Router } from 'express';
import { identityOf } from '@mcpgw/http';

/** GET /mcp-admin/api/me: who the gateway says the caller is (any signed-in user). */
export function registerMeRoutes(router: Router): void {
  router.get('/mcp-admin/api/me', (req, res) => {
    const i = identityOf(req);
    res.json({ userId: i.userId, email: i.email, name: i.name, groups: i.groups, admin: i.admin, tenant: i.tenant, authMethod: i.authMethod });
  });
}
